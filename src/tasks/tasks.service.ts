import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { AppLogger as Logger } from '../logging/logger';
import { isGranted } from '../auth/grants';
import { flowContext } from '../context/flow-context';
import { PINO } from '../logging/logging.module';
import { redactDeep } from '../logging/redact';
import { createHash, randomUUID } from 'node:crypto';
import { IdempotencyRepository, type StoredResponse } from '../idempotency/idempotency.repository';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from '../idempotency/idempotency-key';
import { ProblemException } from '../problem/problem.exception';
import { TaskQueueRepository } from '../queues/task-queue.repository';
import { QuotaRepository } from '../quotas/quota.repository';
import { quotaProblem } from '../quotas/quota-problem';
import { AppConfig } from '../config/app-config';
import { taskLink, taskLinks, toTaskView, type TaskView } from './dto/task-view.dto';
import type { NewTask, TaskSnapshot } from './task';
import { type CheckedSubmission } from './submission/submission-check';
import { SubmissionChecker } from './submission/submission-checker';

/** The answer to a submission: fresh, or replayed for an Idempotency-Key seen before. */
export interface SubmitOutcome {
  status: number;
  body: string;
  location: string;
  replayed: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Submits, reads and cancels tasks. */
@Injectable()
export class TasksService {
  constructor(
    private readonly queue: TaskQueueRepository,
    private readonly checker: SubmissionChecker,
    private readonly idempotency: IdempotencyRepository,
    private readonly quotas: QuotaRepository,
    @Inject(PINO) private readonly log: Logger,
    private readonly config: AppConfig,
  ) {}

  /**
   * Validates and queues a task. With an Idempotency-Key, the same key and body always give
   * the same task and the first response; nothing is stored for a request that fails validation.
   */
  async submit(body: string, idempotencyKey: string | undefined): Promise<SubmitOutcome> {
    if (idempotencyKey !== undefined && !isValidIdempotencyKey(idempotencyKey)) {
      throw badRequest(
        'Invalid Idempotency-Key',
        `Idempotency-Key must be ${IDEMPOTENCY_KEY_RULE}.`,
      );
    }
    const submission = await this.checker.check({
      body,
      highAllowed: isGranted(this.config.API_KEYS !== '', 'high'),
      fingerprint: idempotencyKey !== undefined,
    });
    if (idempotencyKey === undefined) {
      return this.enqueue(randomUUID(), submission);
    }
    const fingerprint = submission.fingerprint ?? '';
    // Each API key has keys of its own: another's same key neither replays nor blocks it.
    const owner = flowContext.get()?.owner;
    if (owner) idempotencyKey = `${owner}/${idempotencyKey}`;
    const claim = await this.idempotency.claim(idempotencyKey, fingerprint, randomUUID());
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
      flowContext.get()?.setHeader?.('X-Task-ID', record.task_id);
      this.log.info(
        { 'event.action': 'task-replayed' },
        `Idempotency-Key seen before: replaying the response for task ${record.task_id}`,
      );
      return { ...replay(record.response), replayed: true };
    }
    if (claim.kind === 'taken-over') {
      // An earlier request with this key died after claiming it. If it queued the task, answer
      // for that task rather than queueing it again (it may have run, or been cancelled).
      const existing = await this.queue.find(record.task_id);
      if (existing) {
        joinFlow(existing);
        const body = acceptedBody(existing, this.config.KIBANA_URL);
        const location = taskLink(existing.id);
        const response = { status: HttpStatus.ACCEPTED, body, location };
        await this.idempotency.complete(idempotencyKey, record, response).catch(() => undefined);
        return { ...response, replayed: true };
      }
    }
    let outcome: SubmitOutcome;
    try {
      outcome = await this.enqueue(record.task_id, submission);
    } catch (error) {
      await this.idempotency.abandon(idempotencyKey, record).catch(() => undefined);
      throw error;
    }
    await this.idempotency
      .complete(idempotencyKey, record, {
        status: outcome.status,
        body: outcome.body,
        location: outcome.location,
      })
      .catch(() => undefined); // The lease runs out and a retry completes it, with the same task.
    return outcome;
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

  private async enqueue(id: string, dto: CheckedSubmission): Promise<SubmitOutcome> {
    const createdAt = Date.now();
    const children = dto.children;
    const client = flowContext.get()?.client ?? 'addr:unknown';
    const decision = await this.quotas.claim({
      client,
      taskId: id,
      tasks: 1 + (children?.length ?? 0),
      bytes: dto.bytes,
    });
    if (!decision.granted) throw quotaProblem(decision, client);
    const task: NewTask = {
      createdAt,
      id,
      type: dto.type,
      queue: dto.queue,
      priority: dto.priority,
      // A batch's input lives in its children: the parent keeps none (it would double it).
      input: children ? null : dto.dataJson,
      rank: decision.backlog,
      client,
      ...(children ? { children: children.length } : {}),
    };
    try {
      if (children) {
        await this.queue.addFlow(
          task,
          children.map((child, index) => ({
            // Derived from the parent's id, so that a retried submission re-adds the same
            // children instead of new ones.
            id: childTaskId(id, index),
            type: child.type,
            queue: dto.queue,
            priority: dto.priority,
            input: child.inputJson,
            createdAt,
            index,
            rank: decision.backlog + index,
          })),
        );
      } else {
        await this.queue.add(task);
      }
    } catch (error) {
      await this.quotas.release(client, id).catch(() => undefined);
      throw error;
    }
    const body = acceptedBody(
      {
        id,
        type: dto.type,
        queue: dto.queue,
        priority: dto.priority,
        status: 'queued',
        created_at: new Date(createdAt).toISOString(),
      },
      this.config.KIBANA_URL,
    );
    flowContext.assign({ task_id: id });
    flowContext.get()?.setHeader?.('X-Task-ID', id);
    this.log.info(
      {
        'event.action': 'task-queued',
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
    return { status: HttpStatus.ACCEPTED, body, location: taskLink(id), replayed: false };
  }
}

/** The body of a 202 for a task: what the client needs to poll it. */
function acceptedBody(
  task: Pick<TaskSnapshot, 'id' | 'type' | 'queue' | 'priority' | 'status' | 'created_at'>,
  kibanaUrl: string,
): string {
  const { id, type, queue, priority, status, created_at } = task;
  return JSON.stringify({
    task_id: id,
    type,
    queue,
    priority,
    status,
    created_at,
    links: taskLinks(id, kibanaUrl),
  });
}

/**
 * Whether the request may see `task`: with API keys on, only the key that submitted it may;
 * to any other the task does not exist (404, so that ids cannot be probed).
 */
function visible(task: TaskSnapshot): boolean {
  const owner = flowContext.get()?.owner;
  return owner === undefined || task.owner === owner;
}

/**
 * A request about a task joins that task's flow: its lines (the access line too) carry the
 * task's `correlation_id` and `task_id` beside the request's own `request_id`.
 */
function joinFlow(task: TaskSnapshot): void {
  const context = flowContext.get();
  if (!context) return;
  const correlation_id = task.correlation_id ?? context.correlation_id;
  flowContext.assign({ task_id: task.id, correlation_id });
  context.setHeader?.('X-Task-ID', task.id);
  if (correlation_id) context.setHeader?.('X-Correlation-ID', correlation_id);
}

/** A UUID (version 5 form) for the `index`-th child of a parent task. */
export function childTaskId(parentId: string, index: number): string {
  const hex = createHash('sha1').update(`${parentId}:${index}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function replay(response: StoredResponse): Omit<SubmitOutcome, 'replayed'> {
  return { status: response.status, body: response.body, location: response.location ?? '' };
}

function checkId(id: string): void {
  if (!UUID.test(id)) {
    throw badRequest(
      'Malformed task id',
      `"${id.slice(0, 64).replace(/[^\x20-\x7e]/g, '?')}" is not a task id; task ids are UUIDs such as 0b8c0c9e-7d0f-4a51-9d4c-3f1b7f2a9e11.`,
    );
  }
}

function notFound(id: string): ProblemException {
  return new ProblemException(HttpStatus.NOT_FOUND, {
    title: 'Task not found',
    detail: `No task ${id}: it never existed, or it finished more than the result retention (RESULT_TTL_S) ago.`,
  });
}

function badRequest(
  title: string,
  detail: string,
  errors?: readonly { pointer: string; detail: string }[],
): ProblemException {
  return new ProblemException(HttpStatus.BAD_REQUEST, {
    title,
    detail,
    ...(errors ? { extensions: { errors } } : {}),
  });
}
