import { HttpStatus } from '@nestjs/common';
import { HIGH_QUEUE_FORBIDDEN } from '../../auth/grants';
import { requestFingerprint } from '../../idempotency/idempotency-key';
import type { ProblemFields } from '../../problem/problem.exception';
import { validatePlain } from '../../validation/validate-plain';
import type { TaskQueue } from '../../queues/queue-names';
import { SERVER_OWNED_FIELDS, SubmitTaskDto } from '../dto/submit-task.dto';
import { TaskCostError } from '../task-cost';
import { TaskDataError } from '../task-data.error';
import type { ChildTask } from '../task-handler';
import { isTaskType, type TaskRegistry, TaskRegistryError } from '../task-registry';
import type { TaskType } from '../types';

/** Largest task input copied into the "task queued" line, as JSON; larger inputs give their size. */
export const MAX_LOGGED_INPUT = 2048;

/** Deepest JSON nesting a request body may have. */
export const MAX_BODY_DEPTH = 32;

/** The path whose body is checked here, as the idempotency fingerprint names it. */
export const SUBMIT_PATH = '/api/v1/tasks';

/** What the API's event loop gives a check: the body as received, and what only it knows. */
export interface SubmissionInput {
  /** The request body, as text. */
  body: string;
  /** Whether this request's key may submit to the high queue (see requireHighQueue). */
  highAllowed: boolean;
  /** Compute the Idempotency-Key fingerprint of the body (only when a key was sent). */
  fingerprint: boolean;
}

/** A submission that passed every check: what the API queues. */
export interface CheckedSubmission {
  ok: true;
  type: TaskType;
  queue: TaskQueue;
  priority: number;
  /**
   * The task's `data`, validated, as JSON text: it crosses from a thread as one string, and is
   * stored as it is (see TaskEnvelope), so that the API's event loop never walks a large input.
   */
  dataJson: string;
  /** `data` itself when it is small enough to be written in the `task-queued` line. */
  logged?: unknown;
  /** A parent's children (batch_var), each with its own input as JSON text. */
  children?: { type: TaskType; inputJson: string }[];
  /** Bytes of `data` as JSON: what the task's input keeps in Redis. */
  bytes: number;
  /** Set when asked: the hash that ties an Idempotency-Key to this body. */
  fingerprint?: string;
}

/** A submission refused: the problem document to answer with (it crosses threads as data). */
export interface RefusedSubmission {
  ok: false;
  status: number;
  problem: ProblemFields;
}

export type SubmissionVerdict = CheckedSubmission | RefusedSubmission;

/**
 * Every check a submission's body must pass before it is queued: JSON, depth, the envelope's
 * fields, the high-queue grant, the type's data and its own checks, its declared cost. Pure and
 * synchronous, so that it can run on the API's event loop for a small body and on a thread for
 * a large one (SubmissionChecker) with the same outcome.
 */
export function checkSubmission(registry: TaskRegistry, input: SubmissionInput): SubmissionVerdict {
  let body: unknown;
  try {
    body = JSON.parse(input.body);
  } catch (error) {
    return refused(HttpStatus.BAD_REQUEST, {
      title: 'Bad Request',
      detail: `The request body is not valid JSON: ${(error as Error).message}.`,
    });
  }
  if (nestedDeeperThan(body, MAX_BODY_DEPTH)) {
    return refused(HttpStatus.BAD_REQUEST, {
      title: 'Request body nested too deeply',
      detail: `The request body nests JSON more than ${MAX_BODY_DEPTH} levels deep; flatten it.`,
    });
  }
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const owned = SERVER_OWNED_FIELDS.filter((field) => field in body);
    if (owned.length > 0) {
      const one = owned.length === 1;
      return refused(HttpStatus.BAD_REQUEST, {
        title: 'Server-owned fields in the request',
        detail: `${owned.join(', ')} ${one ? 'is' : 'are'} set by the server; remove ${one ? 'it' : 'them'} from the request body.`,
        extensions: {
          errors: owned.map((field) => ({ pointer: `/${field}`, detail: 'is set by the server' })),
        },
      });
    }
  }
  const { value, problems } = validatePlain(SubmitTaskDto, body, '');
  if (!value) {
    return refused(HttpStatus.BAD_REQUEST, {
      title: 'Invalid task submission',
      detail: problems.map((p) => `${p.pointer} ${p.detail}`).join('; '),
      extensions: { errors: problems },
    });
  }
  // Before the task's data is checked: a key without the grant costs the API nothing more.
  if (value.queue === 'high' && !input.highAllowed) return highQueueRefused();
  let data: object;
  try {
    data = registry.admit(value.type, value.data);
  } catch (error) {
    return dataRefused(value.type, error);
  }
  const handler = registry.handler(value.type);
  const children = handler.children?.(data);
  const dataJson = JSON.stringify(value.data);
  const bytes = Buffer.byteLength(dataJson);
  return {
    ok: true,
    type: value.type,
    queue: value.queue,
    priority: value.priority,
    dataJson,
    ...(bytes <= MAX_LOGGED_INPUT ? { logged: value.data } : {}),
    ...(children ? { children: children.map(childJson) } : {}),
    bytes,
    ...(input.fingerprint ? { fingerprint: requestFingerprint('POST', SUBMIT_PATH, body) } : {}),
  };
}

function highQueueRefused(): RefusedSubmission {
  return refused(HttpStatus.FORBIDDEN, HIGH_QUEUE_FORBIDDEN);
}

function dataRefused(type: TaskType, error: unknown): RefusedSubmission {
  if (error instanceof TaskDataError) {
    return refused(HttpStatus.UNPROCESSABLE_ENTITY, {
      title: `Invalid data for task type ${type}`,
      detail: error.problems.map((p) => `${p.pointer}: ${p.detail}`).join('; '),
      extensions: { errors: error.problems },
    });
  }
  if (error instanceof TaskCostError) {
    const { amount, unit, limit, setting, pointer } = error.cost;
    return refused(HttpStatus.UNPROCESSABLE_ENTITY, {
      title: `Task over its cost limit`,
      detail: `${error.message}.`,
      extensions: {
        cost: { amount, unit, limit, setting },
        ...(pointer ? { errors: [{ pointer: `/data${pointer}`, detail: error.message }] } : {}),
      },
    });
  }
  throw error;
}

function childJson(child: ChildTask): { type: TaskType; inputJson: string } {
  if (!isTaskType(child.type)) {
    throw new TaskRegistryError(
      `a handler made a child task of type "${child.type}", which is not in TASK_TYPE_LIST`,
    );
  }
  return { type: child.type, inputJson: JSON.stringify(child.input) };
}

function refused(status: number, problem: ProblemFields): RefusedSubmission {
  return { ok: false, status, problem };
}

/** True when `value` nests deeper than `limit` (checked without recursion). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    if (depth >= limit) return true;
    // Only objects and arrays go on the stack: a million numbers cost a loop, not a million pushes.
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}
