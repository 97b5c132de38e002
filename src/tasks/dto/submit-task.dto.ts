import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsInt, IsObject, IsOptional, Max, Min } from 'class-validator';
import { DEFAULT_QUEUE, TASK_QUEUES, type TaskQueue } from '../../queues/queue-names';
import { DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY } from '../../queues/task';
import { TASK_TYPE_LIST, TASK_TYPES, type TaskType } from '../types';

/** Fields a client may not set: the server owns them. */
export const SERVER_OWNED_FIELDS = [
  'task_id',
  'id',
  'status',
  'result',
  'error',
  'progress',
  'attempts',
  'created_at',
  'started_at',
  'finished_at',
  'links',
  'opts',
  'options',
  'job_id',
  'jobId',
  'delay',
  'backoff',
  'removeOnComplete',
  'removeOnFail',
  'lifo',
  'repeat',
] as const;

/** The body of `POST /api/v1/tasks`. */
export class SubmitTaskDto {
  @ApiProperty({ enum: TASK_TYPES, example: 'calculate_var' })
  @IsIn(TASK_TYPES, { message: `must be one of ${TASK_TYPES.join(', ')}` })
  type!: TaskType;

  @ApiProperty({
    description: "The task's input; its form depends on `type` (see docs/tasks.md).",
    oneOf: TASK_TYPE_LIST.map((type) => ({ $ref: getSchemaPath(type.data) })),
    example: {
      method: 'parametric',
      positions: [{ asset: 'AAPL', value: 1000000 }],
      covariance: [[0.0004]],
      confidence: 0.99,
    },
  })
  @IsObject({ message: 'must be a JSON object' })
  data!: Record<string, unknown>;

  @ApiPropertyOptional({
    enum: TASK_QUEUES,
    default: DEFAULT_QUEUE,
    description: 'Workers empty `high` before `medium` before `low`.',
  })
  @IsOptional()
  @IsIn(TASK_QUEUES, { message: `must be one of ${TASK_QUEUES.join(', ')}` })
  queue: TaskQueue = DEFAULT_QUEUE;

  @ApiPropertyOptional({
    minimum: MIN_PRIORITY,
    maximum: MAX_PRIORITY,
    default: DEFAULT_PRIORITY,
    description:
      'Order within the queue: 1 runs first, 100 last; equal priorities run in submission order.',
  })
  @IsOptional()
  @IsInt({ message: `must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}` })
  @Min(MIN_PRIORITY, { message: `must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}` })
  @Max(MAX_PRIORITY, { message: `must be a whole number from ${MIN_PRIORITY} to ${MAX_PRIORITY}` })
  priority: number = DEFAULT_PRIORITY;
}
