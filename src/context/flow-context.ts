import { AsyncLocalStorage } from 'node:async_hooks';

/** W3C Trace Context of the current hop. */
export interface TraceContext {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  flags: string;
}

/** The task a worker is running. */
export interface TaskFields {
  type: string;
  queue: string;
  attempt: number;
  parent_id?: string;
}

/**
 * What every log line written in a request or a task run is stamped with.
 * @see docs/correlation.md
 */
export interface FlowContext {
  request_id?: string;
  correlation_id?: string;
  task_id?: string;
  task?: TaskFields;
  trace?: TraceContext;
  /** The name of the API key the flow was submitted with (API_KEYS), stamped as `user.name`. */
  owner?: string;
  /**
   * Whom the per-client quotas and shares count against: `key:<name>` with API keys on, else
   * `addr:<client address>`. Never logged as such (`user.name` and `client.address` say it).
   */
  client?: string;
  /**
   * What the flow's API key is granted beyond its own tasks (`high`, `admin`; see API_KEYS).
   * Unset when API keys are off: then everything is allowed (local use).
   */
  grants?: readonly string[];
  /** Bumped by every `assign`, so that whoever caches what it derived from the context knows. */
  version?: number;
  /** Updates a response header when a request joins another flow (a poll of a task). */
  setHeader?: (name: string, value: string) => void;
}

const storage = new AsyncLocalStorage<FlowContext>();

/** The one context store: AsyncLocalStorage, filled by the HTTP middleware and the worker. */
export const flowContext = {
  run<T>(context: FlowContext, fn: () => T): T {
    return storage.run(context, fn);
  },

  get(): FlowContext | undefined {
    return storage.getStore();
  },

  /** Adds fields to the current context, e.g. `task_id` once a task exists. */
  assign(fields: Partial<FlowContext>): void {
    const current = storage.getStore();
    if (current) Object.assign(current, fields, { version: (current.version ?? 0) + 1 });
  },
};
