import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { TASK_QUEUES, type TaskQueue } from '../../queues/queue-names';
import { TASK_STATUSES, type TaskSnapshot, type TaskStatus } from '../../queues/task';
import { discoverLink } from '../../traces/trace-format.mjs';

export class TaskErrorView {
  @ApiProperty({
    example: 'InjectedFailureError',
    description: 'Class of the error; WorkerLost when the task kept losing its worker.',
  })
  type!: string;

  @ApiProperty({ example: 'injected retryable failure on attempt 3' })
  message!: string;
}

export class TaskLinks {
  @ApiProperty({ example: '/api/v1/tasks/0b8c0c9e-7d0f-4a51-9d4c-3f1b7f2a9e11' })
  self!: string;

  @ApiProperty({
    example: '/api/v1/traces/0b8c0c9e-7d0f-4a51-9d4c-3f1b7f2a9e11',
    description: "The task's flow: every log line from nginx to the worker, and a summary.",
  })
  trace!: string;

  @ApiPropertyOptional({
    description: "The task's lifecycle in Kibana's Discover (when KIBANA_URL is set).",
  })
  kibana?: string;
}

/** A task as the API shows it. */
export class TaskView {
  @ApiProperty({ format: 'uuid' })
  task_id!: string;

  @ApiProperty({ example: 'calculate_var' })
  type!: string;

  @ApiProperty({ enum: TASK_QUEUES })
  queue!: TaskQueue;

  @ApiProperty({ example: 50 })
  priority!: number;

  @ApiProperty({ enum: TASK_STATUSES })
  status!: TaskStatus;

  @ApiProperty({ minimum: 0, maximum: 100 })
  progress!: number;

  @ApiProperty({ description: 'Runs started so far: 2 after one retry or one lost worker.' })
  attempts!: number;

  @ApiProperty()
  max_attempts!: number;

  @ApiPropertyOptional({ description: 'The result, once completed; its form depends on the type.' })
  result?: unknown;

  @ApiPropertyOptional({ type: TaskErrorView })
  error?: TaskErrorView;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiPropertyOptional({ format: 'date-time' })
  started_at?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  finished_at?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The parent task of a child task (batch_var).',
  })
  parent_id?: string;

  @ApiPropertyOptional({
    example: 'trace-demo-123',
    description:
      'The flow the task belongs to: search the logs by it to see submit, runs and polls.',
  })
  correlation_id?: string;

  @ApiProperty({ type: TaskLinks })
  links!: TaskLinks;
}

/** The 202 of a submit: what the client needs to poll the task (the rest comes with a poll). */
export class TaskAcceptedView extends PickType(TaskView, [
  'task_id',
  'type',
  'queue',
  'priority',
  'status',
  'created_at',
  'links',
] as const) {}

export function taskLink(id: string): string {
  return `/api/v1/tasks/${id}`;
}

/** A task's links; `kibanaUrl` (KIBANA_URL) adds one to its saved search in Discover. */
export function taskLinks(id: string, kibanaUrl = ''): TaskLinks {
  const links: TaskLinks = { self: taskLink(id), trace: `/api/v1/traces/${id}` };
  if (kibanaUrl) {
    links.kibana = discoverLink(kibanaUrl, 'threadline-task-lifecycle-by-task-id', 'task_id', [id]);
  }
  return links;
}

export function toTaskView(task: TaskSnapshot, kibanaUrl = ''): TaskView {
  // The owner and client stay inside: a response names no API key or address.
  const { id, owner, client, ...rest } = task;
  return { task_id: id, ...rest, links: taskLinks(id, kibanaUrl) };
}
