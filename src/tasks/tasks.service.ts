import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { isGranted } from '../auth/grants';
import { AppConfig } from '../config/app-config';
import { flowContext } from '../context/flow-context';
import type { AppLogger as Logger } from '../logging/logger';
import { PINO } from '../logging/logging.module';
import { Metrics } from '../metrics/metrics';
import { redactDeep } from '../logging/redact';
import { ProblemException } from '../problem/problem.exception';
import { TaskQueueRepository } from '../queues/task-queue.repository';
import { quotaProblem } from '../quotas/quota-problem';
import { type QuotaClaim, type QuotaDecision, QuotaRepository } from '../quotas/quota.repository';
import { toTaskView, type TaskView } from './dto/task-view.dto';
import { checkIdempotencyKey, IdempotentSubmit, type Seen } from './idempotent-submit';
import { type CheckedSubmission } from './submission/submission-check';
import { SubmissionChecker } from './submission/submission-checker';
import { accepted, stored, type SubmitOutcome } from './submit-outcome';
import { ShardRouter } from './shard-router';
import { SubmitScript } from './submit-script';
import type { NewTask } from '../queues/task';
import { joinFlow, visible } from './task-flow';
import { EVENT_ACTION } from '../logging/event-actions.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Submits, reads and cancels tasks. */
@Injectable()
export class TasksService {
  constructor(
    private readonly queue: TaskQueueRepository,
    private readonly checker: SubmissionChecker,
    private readonly idempotent: IdempotentSubmit,
    private readonly quotas: QuotaRepository,
    private readonly submitScript: SubmitScript,
    private readonly router: ShardRouter,
    @Inject(PINO) private readonly log: Logger,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Validates and queues a task. With an Idempotency-Key, the same key and body always give
   * the same task and the first response (IdempotentSubmit); nothing is stored for a request
   * that fails validation.
   */
  async submit(body: string, idempotencyKey: string | undefined): Promise<SubmitOutcome> {
    checkIdempotencyKey(idempotencyKey);
    const submission = await this.checker.check({
      body,
      highAllowed: isGranted(this.config.API_KEYS !== '', 'high'),
      fingerprint: idempotencyKey !== undefined,
    });
    if (idempotencyKey === undefined) return this.enqueue(this.router.newTaskId(), submission);
    return this.idempotent.submit(idempotencyKey, submission.fingerprint ?? '', {
      queue: (id) => this.place(id, submission).then(unseen).catch(asProblem),
      ...(submission.children
        ? {}
        : { queueKeyed: (id, keyed) => this.place(id, submission, keyed).catch(asProblem) }),
    });
  }

  async get(id: string): Promise<TaskView> {
    checkId(id);
    const task = await this.queue.find(id);
    if (!task || !visible(task)) throw notFound(id);
    joinFlow(task);
    return toTaskView(task, this.config.KIBANA_URL);
  }

  async cancel(id: string): Promise<TaskView> {
    checkId(id);
    // With API keys on, only the owner may cancel: one more lookup, only then.
    if (flowContext.get()?.owner !== undefined) {
      const before = await this.queue.find(id);
      if (before && !visible(before)) throw notFound(id);
    }
    const outcome = await this.queue.cancel(id);
    const task = await this.queue.find(id);
    if (task) joinFlow(task);
    if (outcome === 'cancelled' && task?.client) {
      // What is kept now is the cancelled record, for RESULT_TTL_S.
      await this.quotas
        .settle(task.client, id, {
          bytes: Buffer.byteLength(JSON.stringify(task)),
          bytesPerTask: 0,
        })
        .catch(() => undefined);
    }
    if (outcome === 'child-of-flow') {
      throw new ProblemException(HttpStatus.CONFLICT, {
        title: 'Task is part of a batch',
        detail: `Task ${id} is a child of task ${task?.parent_id ?? 'unknown'}; cancel the parent instead.`,
      });
    }
    if (outcome === 'not-found') {
      // Cancelling twice is not an error: the task is cancelled either way.
      if (task?.status === 'cancelled') return toTaskView(task, this.config.KIBANA_URL);
      throw notFound(id);
    }
    if (outcome === 'already-started' || !task) {
      throw new ProblemException(HttpStatus.CONFLICT, {
        title: 'Task already started',
        detail: `Task ${id} has already started or finished (status ${task?.status ?? 'unknown'}); only queued tasks can be cancelled.`,
      });
    }
    return toTaskView(task, this.config.KIBANA_URL);
  }

  /**
   * Queues a submission no Idempotency-Key pins, under `id` or, when that shard's share of the
   * client's quota is full, on the next shard with room (QuotaRepository.tasksPerShard).
   */
  private async enqueue(id: string, dto: CheckedSubmission): Promise<SubmitOutcome> {
    const { shards } = this.config;
    for (let tried = 1; ; tried++) {
      try {
        return unseen(await this.place(id, dto));
      } catch (error) {
        this.router.failed(id, error);
        if (!(error instanceof QuotaRefused)) throw error;
        if (tried >= shards.count) asProblem(error);
        id = shards.place(id, (shards.ofTask(id) + 1) % shards.count);
      }
    }
  }

  /**
   * Queues the task under `id` against its client's quota; with `keyed`, claims the key in the
   * same round trip and records the answer for it (SubmitScript), or answers that it was seen.
   */
  private async place(
    id: string,
    dto: CheckedSubmission,
    keyed?: { key: string; fingerprint: string },
  ): Promise<SubmitOutcome | Seen> {
    const createdAt = Date.now();
    const children = dto.children;
    const client = flowContext.get()?.client ?? 'addr:unknown';
    const claim: QuotaClaim = {
      client,
      taskId: id,
      tasks: 1 + (children?.length ?? 0),
      bytes: dto.bytes,
    };
    const task: NewTask = {
      createdAt,
      id,
      type: dto.type,
      queue: dto.queue,
      priority: dto.priority,
      // A batch's input lives in its children: the parent keeps none (it would double it).
      input: children ? null : dto.dataJson,
      client,
      ...(children ? { children: children.length } : {}),
    };
    // Known before the task is queued, so that the key's record is written with it.
    const outcome = accepted(
      {
        id,
        type: dto.type,
        queue: dto.queue,
        priority: dto.priority,
        status: 'queued',
        created_at: new Date(createdAt).toISOString(),
      },
      this.config.KIBANA_URL,
      false,
    );
    let refused: Extract<QuotaDecision, { granted: false }> | undefined;
    try {
      if (children) {
        const decision = await this.quotas.claim(claim);
        if (decision.granted) {
          await this.queue.addFlow(
            { ...task, rank: decision.backlog },
            children.map((child, index) => ({
              // Derived from the parent's id, so that a retried submission re-adds the same
              // children instead of new ones.
              // On the parent's shard: a BullMQ flow lives in one hash slot.
              id: this.config.shards.place(childTaskId(id, index), this.config.shards.ofTask(id)),
              type: child.type,
              queue: dto.queue,
              priority: dto.priority,
              input: child.inputJson,
              createdAt,
              index,
              rank: decision.backlog + index,
            })),
          );
        } else refused = decision;
      } else {
        const reply = await this.submitScript.run(
          task,
          claim,
          keyed && { ...keyed, response: stored(outcome) },
        );
        if (reply.kind === 'seen') return { seen: reply.claim };
        if (reply.kind === 'refused') refused = reply.decision;
        else if (reply.behind) throw reply.behind;
      }
    } catch (error) {
      await this.quotas.release(client, id).catch(() => undefined);
      throw error;
    }
    if (refused) throw new QuotaRefused(refused, client);
    flowContext.assign({ task_id: id });
    this.metrics.taskSubmitted(dto.type, dto.queue);
    for (const child of children ?? []) this.metrics.taskSubmitted(child.type, dto.queue);
    this.log.info(
      {
        'event.action': EVENT_ACTION.taskQueued,
        'task.type': dto.type,
        'task.queue': dto.queue,
        'task.priority': dto.priority,
        ...(dto.logged === undefined
          ? { 'task.input_bytes': dto.bytes }
          : { 'task.input': redactDeep(dto.logged) }),
        ...(children ? { 'task.children': children.length } : {}),
      },
      `task ${id} queued on ${dto.queue}${children ? ` with ${children.length} child tasks` : ''}`,
    );
    return outcome;
  }
}

/** A submission its shard's share of the client's quota refused (QuotaRepository). */
class QuotaRefused extends Error {
  constructor(
    readonly decision: Extract<QuotaDecision, { granted: false }>,
    readonly client: string,
  ) {
    super(`quota ${decision.quota} refused ${client}`);
  }
}

/** The answer to `error`: the quota's problem (429, 422) for a refusal, else itself. */
function asProblem(error: unknown): never {
  if (error instanceof QuotaRefused) throw quotaProblem(error.decision, error.client);
  throw error;
}

/** The outcome of a submission without an Idempotency-Key, which cannot have been seen. */
function unseen(outcome: SubmitOutcome | Seen): SubmitOutcome {
  if ('seen' in outcome) throw new Error('a submission without an Idempotency-Key was seen');
  return outcome;
}

/** A UUID (version 5 form) for the `index`-th child of a parent task. */
export function childTaskId(parentId: string, index: number): string {
  const hex = createHash('sha1').update(`${parentId}:${index}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function checkId(id: string): void {
  if (!UUID.test(id)) {
    throw new ProblemException(HttpStatus.BAD_REQUEST, {
      title: 'Malformed task id',
      detail: `"${id.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}" is not a task id; task ids are UUIDs such as 0b8c0c9e-7d0f-4a51-9d4c-3f1b7f2a9e11.`,
    });
  }
}

function notFound(id: string): ProblemException {
  return new ProblemException(HttpStatus.NOT_FOUND, {
    title: 'Task not found',
    detail: `No task ${id}: it never existed, or it finished more than the result retention (RESULT_TTL_S) ago.`,
  });
}
