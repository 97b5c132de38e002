import type { FlowMeta } from '../context/flow-fields';
import type { TaskQueue } from './queue-names';

/** What a client sees of a task's life. */
export const TASK_STATUSES = ['queued', 'active', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Priority within a queue: 1 runs first, 100 last. */
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 100;
export const DEFAULT_PRIORITY = 50;

/**
 * What is stored in a BullMQ job's `data`: the client's input, and beside it (never mixed
 * into it) what Threadline knows about the submission.
 */
export interface TaskEnvelope {
  /**
   * The client's input as JSON text (see taskInput); null once the task has ended, and on a
   * batch's parent, whose children hold it. Tasks queued by earlier versions hold it parsed.
   */
  input: unknown;
  /**
   * The flow the task was submitted in (`request_id`, `correlation_id`, `traceparent`,
   * `owner`: see FLOW_FIELDS), then what Threadline itself needs of the task.
   */
  meta: FlowMeta & {
    submitted_at: string;
    /** Position of a child among its parent's children. */
    index?: number;
    /** The API key (its name) that submitted the task; only it may see the task. */
    owner?: string;
    /** Whose quota the task counts against (FlowContext.client); set on the submitted task. */
    client?: string;
    /** The priority the client gave; the job's own is the fair-rotation one (fairPriority). */
    priority?: number;
    /** A batch's parent: how many children carry its input (it keeps none itself). */
    children?: number;
  };
}

/** A task about to be queued. */
export interface NewTask {
  id: string;
  type: string;
  queue: TaskQueue;
  priority: number;
  input: unknown;
  /** Submission time, epoch ms: the task's `created_at`. */
  createdAt: number;
  index?: number;
  /** Place in the fair rotation between clients (see fairPriority). Default: 0. */
  rank?: number;
  /** Whose quota it counts against; set on the submitted task, not on its children. */
  client?: string;
  /** A batch's parent: the number of its children, which carry the input. */
  children?: number;
}

/** Why a task failed, without a stack trace. */
export interface TaskError {
  type: string;
  message: string;
}

/** A task as read back from the queue. */
export interface TaskSnapshot {
  id: string;
  type: string;
  queue: TaskQueue;
  priority: number;
  status: TaskStatus;
  progress: number;
  attempts: number;
  max_attempts: number;
  result?: unknown;
  error?: TaskError;
  created_at: string;
  started_at?: string;
  finished_at?: string;
  parent_id?: string;
  correlation_id?: string;
  /** The API key that submitted it (internal: never in a response). */
  owner?: string;
  /** Whose quota it counts against (internal: never in a response). */
  client?: string;
}

/** A task's input, parsed: stored as JSON text (TaskEnvelope.input), or parsed by older versions. */
export function taskInput(envelope: TaskEnvelope): unknown {
  return typeof envelope.input === 'string'
    ? (JSON.parse(envelope.input) as unknown)
    : envelope.input;
}
