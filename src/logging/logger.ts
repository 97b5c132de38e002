import { ecsFormat } from '@elastic/ecs-pino-format';
import pino, { type DestinationStream, type Logger } from 'pino';
import { flowContext } from '../context/flow-context';

export type ServiceName = 'threadline-api' | 'threadline-worker';

export interface LoggerOptions {
  service: ServiceName;
  level: string;
  /** Stamp lines with the flow context (default true; off only to measure its cost). */
  stamp?: boolean;
  destination?: DestinationStream;
}

/**
 * Fields of the current flow for a log line: the IDs as top-level keyword fields, trace and
 * task fields in ECS dotted form. Empty outside a request or a task run.
 */
export function contextFields(): Record<string, unknown> {
  const ctx = flowContext.get();
  if (!ctx) return {};
  const fields: Record<string, unknown> = {
    request_id: ctx.request_id ?? null,
    correlation_id: ctx.correlation_id ?? null,
    task_id: ctx.task_id ?? null,
  };
  if (ctx.request_id) fields['http.request.id'] = ctx.request_id;
  if (ctx.trace) {
    fields['trace.id'] = ctx.trace.trace_id;
    fields['span.id'] = ctx.trace.span_id;
  }
  if (ctx.task) {
    fields['task.type'] = ctx.task.type;
    fields['task.queue'] = ctx.task.queue;
    fields['task.attempt'] = ctx.task.attempt;
    if (ctx.task.parent_id) fields['task.parent_id'] = ctx.task.parent_id;
  }
  return fields;
}

/**
 * The process's logger: pino writing ECS JSON lines to stdout, each stamped with the flow
 * context. Secrets never reach it: headers and task data go through `redact.ts` first.
 * @see docs/logging.md
 */
export function createLogger(options: LoggerOptions): Logger {
  const ecs = ecsFormat({
    serviceName: options.service,
    eventDataset: options.service,
    apmIntegration: false,
    convertErr: true,
  });
  return pino(
    {
      ...ecs,
      level: options.level,
      mixin: options.stamp === false ? undefined : contextFields,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
