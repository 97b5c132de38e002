import { AsyncLocalStorage } from 'node:async_hooks';
import type { FlowFields } from './flow-fields';

/**
 * What every log line written in a request or a task run is stamped with: the flow-wide
 * fields of the table in flow-fields.ts (`request_id`, `correlation_id`, `task_id`, `trace`,
 * `owner`, `task`), and what the API needs of the request that is not written anywhere.
 * @see docs/correlation.md
 */
export interface FlowContext extends FlowFields {
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
