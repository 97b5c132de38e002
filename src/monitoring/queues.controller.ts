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
import { createHash } from 'node:crypto';
import { isGranted } from '../auth/grants';
import { AppConfig } from '../config/app-config';
import { ProblemView } from '../problem/problem.dto';
import { TASK_QUEUES } from '../config/queue-names';
import type { QueueCounts, ShardCounts } from '../queues/queue-counts';
import { TaskQueueRepository } from '../queues/task-queue.repository';
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
  @ApiProperty({
    description:
      'The worker process: `host:pid:token` for an admin key, else an opaque id of the same worker.',
  })
  id!: string;
  @ApiPropertyOptional({ description: 'Shown to an API key with the admin grant only.' })
  host?: string;
  @ApiPropertyOptional({ description: 'Shown to an API key with the admin grant only.' })
  pid?: number;
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

class ShardCountsView {
  @ApiProperty({ description: "The shard's key prefix: its hash tag on a Redis Cluster." })
  prefix!: string;
  @ApiPropertyOptional({
    description:
      'The shard (0 to REDIS_SHARDS - 1); absent for the unsharded layout being drained.',
  })
  shard?: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/QueueCountsView' },
    description: 'Absent when the shard did not answer.',
  })
  queues?: Record<string, QueueCountsView>;
  @ApiPropertyOptional({
    description:
      'Why the shard did not answer (its master failing over, say): it is left out of the sums.',
  })
  unavailable?: string;
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

  @ApiProperty({
    type: [ShardCountsView],
    description: 'The same counts shard by shard (REDIS_SHARDS); `queues` is their sum.',
  })
  shards!: ShardCountsView[];

  @ApiProperty({ type: [WorkerView] })
  workers!: WorkerView[];

  @ApiPropertyOptional({
    description:
      'Why the workers could not be listed (with REDIS_SHARDS, their registry is on one master, which may be failing over); `workers` is then empty.',
  })
  workers_unavailable?: string;
}

/** What Flower showed: queue depths per state and the workers alive. */
@ApiTags('queues')
@ApiExtraModels(QueueCountsView, ShardCountsView)
@Controller('api/v1/queues')
export class QueuesController {
  constructor(
    private readonly queue: TaskQueueRepository,
    private readonly workers: WorkerRegistryRepository,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Queue depths and workers',
    description:
      "Counts per queue and state, summed over the shards and shard by shard, and every worker heard from in the last 15 s. Workers' hosts and pids only for an API key with the admin grant (or with API keys off).",
  })
  @ApiOkResponse({ type: QueuesView })
  @ApiServiceUnavailableResponse({ type: ProblemView })
  async list(): Promise<{
    queues: Record<string, QueueCounts>;
    shards: ShardCounts[];
    workers: ListedWorker[];
    workers_unavailable?: string;
  }> {
    // The counts answer for the shards that can; the workers may be listed or not, apart.
    const [counts, workers] = await Promise.all([
      this.queue.counts(),
      this.workers.list().then(
        (list): { list: WorkerInfo[]; error?: string } => ({ list }),
        (error: Error) => ({ list: [], error: error.message }),
      ),
    ]);
    const shown = isGranted(this.config.API_KEYS !== '', 'admin')
      ? workers.list
      : workers.list.map(withoutWhereabouts);
    return {
      ...counts,
      workers: shown,
      ...(workers.error === undefined ? {} : { workers_unavailable: workers.error }),
    };
  }
}

/** A worker as listed: without host and pid unless the caller may see them. */
type ListedWorker = Omit<WorkerInfo, 'host' | 'pid'> & Partial<Pick<WorkerInfo, 'host' | 'pid'>>;

/** A worker as a key without the admin grant sees it: no host, no pid, an id that names neither. */
function withoutWhereabouts({ id, host: _host, pid: _pid, ...rest }: WorkerInfo): ListedWorker {
  return { id: createHash('sha256').update(id).digest('hex').slice(0, 16), ...rest };
}
