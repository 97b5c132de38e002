import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { flowContext } from '../context/flow-context';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from '../idempotency/idempotency-key';
import {
  abandoned,
  type Claim,
  IdempotencyRepository,
} from '../idempotency/idempotency.repository';
import type { AppLogger as Logger } from '../logging/logger';
import { PINO } from '../logging/logging.module';
import { ProblemException } from '../problem/problem.exception';
import { TaskQueueRepository } from '../queues/task-queue.repository';
import { accepted, replayed, stored, type SubmitOutcome } from './submit-outcome';
import { joinFlow } from './task-flow';
import { EVENT_ACTION } from '../logging/event-actions.mjs';

/** Refuses an Idempotency-Key that breaks the rule, before the body is even read. */
export function checkIdempotencyKey(key: string | undefined): void {
  if (key === undefined || isValidIdempotencyKey(key)) return;
  throw new ProblemException(HttpStatus.BAD_REQUEST, {
    title: 'Invalid Idempotency-Key',
    detail: `Idempotency-Key must be ${IDEMPOTENCY_KEY_RULE}.`,
  });
}

/** An Idempotency-Key found already claimed, instead of a task queued. */
export interface Seen {
  seen: Claim & { kind: 'existing' | 'taken-over' };
}

/** How IdempotentSubmit has the submission's task queued. */
export interface Enqueuer {
  /** Queues the task under `taskId`. */
  queue(taskId: string): Promise<SubmitOutcome>;
  /**
   * Claims the key and queues the task under `taskId` in one round trip (SubmitScript),
   * recording the outcome for the key; answers `seen` instead when the key was claimed before.
   * Absent where the submission cannot be queued so (a batch).
   */
  queueKeyed?(
    taskId: string,
    keyed: { key: string; fingerprint: string },
  ): Promise<SubmitOutcome | Seen>;
}

/**
 * A submission with an Idempotency-Key: the same key and body always give the same task and
 * the first response; the same key with another body, or while the first request is still
 * running, is refused. Records live in Redis (IdempotencyRepository) for IDEMPOTENCY_TTL_S.
 * @see docs/api.md
 */
@Injectable()
export class IdempotentSubmit {
  constructor(
    private readonly idempotency: IdempotencyRepository,
    private readonly queue: TaskQueueRepository,
    @Inject(PINO) private readonly log: Logger,
    private readonly config: AppConfig,
  ) {}

  /**
   * Answers for `key`: replays the response first given for it, or queues the task with
   * `enqueuer` under the task id the key's record holds, and records its response.
   * `fingerprint` names the checked body.
   */
  async submit(key: string, fingerprint: string, enqueuer: Enqueuer): Promise<SubmitOutcome> {
    // Each API key has keys of its own: another's same key neither replays nor blocks it.
    const owner = flowContext.get()?.owner;
    if (owner) key = `${owner}/${key}`;
    let claim: Claim;
    if (enqueuer.queueKeyed) {
      // The usual case in one round trip: a new key is claimed, the task queued and the
      // response recorded together; only a key seen before goes on below.
      const taskId = this.idempotency.newTaskId(key);
      let answer: SubmitOutcome | Seen;
      try {
        answer = await enqueuer.queueKeyed(taskId, { key, fingerprint });
      } catch (error) {
        // Whatever the script wrote for the key, a retry takes it over with this task id.
        const record = {
          state: 'in-flight' as const,
          fingerprint,
          task_id: taskId,
          lease_until: 0,
        };
        await this.idempotency.abandon(key, abandoned(record)).catch(() => undefined);
        throw error;
      }
      if (!('seen' in answer)) return answer;
      claim = answer.seen;
    } else {
      claim = await this.idempotency.claim(key, fingerprint, this.idempotency.newTaskId(key));
    }
    const record = claim.record;
    if (claim.kind === 'existing') {
      if (record.fingerprint !== fingerprint) {
        throw new ProblemException(HttpStatus.UNPROCESSABLE_ENTITY, {
          title: 'Idempotency-Key reused',
          detail:
            'This Idempotency-Key was first used with a different request body. Use a new key for a new request.',
        });
      }
      if (record.state === 'in-flight' || !record.response) {
        throw new ProblemException(HttpStatus.CONFLICT, {
          title: 'Request in progress',
          detail:
            'A request with this Idempotency-Key is still being processed. Retry after it completes.',
          headers: { 'Retry-After': '1' },
        });
      }
      flowContext.assign({ task_id: record.task_id });
      this.log.info(
        { 'event.action': EVENT_ACTION.taskReplayed },
        `Idempotency-Key seen before: replaying the response for task ${record.task_id}`,
      );
      return replayed(record.response);
    }
    if (claim.kind === 'taken-over') {
      // An earlier request with this key died after claiming it. If it queued the task, answer
      // for that task rather than queueing it again (it may have run, or been cancelled).
      const existing = await this.queue.find(record.task_id);
      if (existing) {
        joinFlow(existing);
        const outcome = accepted(existing, this.config.KIBANA_URL, true);
        await this.idempotency.complete(key, record, stored(outcome)).catch(() => undefined);
        return outcome;
      }
    }
    let outcome: SubmitOutcome;
    try {
      outcome = await enqueuer.queue(record.task_id);
    } catch (error) {
      await this.idempotency.abandon(key, record).catch(() => undefined);
      throw error;
    }
    await this.idempotency.complete(key, record, stored(outcome)).catch(() => undefined); // The lease runs out and a retry completes it, with the same task.
    return outcome;
  }
}
