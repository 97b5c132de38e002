// What a task run tells the tools around it: its OpenTelemetry span, and its type as a metric label.
import { SpanKind } from '@opentelemetry/api';
import type { Job } from 'bullmq';
import type { FlowContext } from '../context/flow-context';
import { type HopSpan, startHopSpan } from '../context/otel';
import type { TaskEnvelope } from '../queues/task';
import { isTaskType } from '../tasks/task-registry';

/**
 * The run's span, a consumer span of the submitting request's, when the host process has an
 * OpenTelemetry SDK (attributes after OpenTelemetry's messaging conventions); else undefined.
 */
export function consumerSpan(job: Job<TaskEnvelope>, context: FlowContext): HopSpan | undefined {
  if (!context.trace) return undefined;
  return startHopSpan(
    `process ${job.queueName}`,
    SpanKind.CONSUMER,
    context.trace,
    context.tracestate,
    {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': job.queueName,
      'messaging.message.id': job.id ?? '',
      'threadline.task.type': job.name,
      'threadline.task.attempt': job.attemptsStarted,
    },
  );
}

/** A job's task type as a metric label: `unknown` for a name that is none (a job added by hand). */
export function typeLabel(job: Job<TaskEnvelope>): string {
  return isTaskType(job.name) ? job.name : 'unknown';
}
