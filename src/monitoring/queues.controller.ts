import { Controller, Get } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ProblemView } from '../problem/problem.dto';
import { TASK_QUEUES } from '../queues/queue-names';
import { TaskQueueRepository, type QueueCounts } from '../queues/task-queue.repository';
import { WorkerRegistryRepository, type WorkerInfo } from '../workers/worker-registry.repository';

class QueueCountsView {
  @ApiProperty() waiting!: number;
  @ApiProperty({ description: 'Waiting with a priority.' }) prioritized!: number;
  @ApiProperty({ description: 'Waiting for a retry backoff.' }) delayed!: number;
  @ApiProperty({ description: 'Parents waiting for their children.' }) 'waiting-children'!: number;
  @ApiProperty() active!: number;
  @ApiProperty({ description: 'Kept for RESULT_TTL_S.' }) completed!: number;
  @ApiProperty({ description: 'Kept for RESULT_TTL_S.' }) failed!: number;
}

class WorkerView {
  @ApiProperty() id!: string;
  @ApiProperty() host!: string;
  @ApiProperty() pid!: number;
  @ApiProperty({ enum: TASK_QUEUES, isArray: true, description: 'Served in this order.' })
  queues!: string[];
  @ApiProperty() concurrency!: number;
  @ApiProperty({ description: 'Tasks running now.' }) active!: number;
  @ApiProperty({ format: 'date-time' }) started_at!: string;
  @ApiProperty({ format: 'date-time' }) last_seen!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      "The worker's log shipper: state and counts of lines shipped, spooled, replayed, dead-lettered and dropped.",
  })
  log_shipping?: Record<string, unknown>;
}

class QueuesView {
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/QueueCountsView' },
    example: {
      high: {
        waiting: 0,
        prioritized: 3,
        delayed: 0,
        'waiting-children': 0,
        active: 1,
        completed: 12,
        failed: 0,
      },
    },
  })
  queues!: Record<string, QueueCountsView>;

  @ApiProperty({ type: [WorkerView] })
  workers!: WorkerView[];
}

/** What Flower showed: queue depths per state and the workers alive. */
@ApiTags('queues')
@ApiExtraModels(QueueCountsView)
@Controller('api/v1/queues')
export class QueuesController {
  constructor(
    private readonly queue: TaskQueueRepository,
    private readonly workers: WorkerRegistryRepository,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Queue depths and workers',
    description: 'Counts per queue and state, and every worker heard from in the last 15 s.',
  })
  @ApiOkResponse({ type: QueuesView })
  @ApiServiceUnavailableResponse({ type: ProblemView })
  async list(): Promise<{ queues: Record<string, QueueCounts>; workers: WorkerInfo[] }> {
    const [queues, workers] = await Promise.all([this.queue.counts(), this.workers.list()]);
    return { queues, workers };
  }
}
