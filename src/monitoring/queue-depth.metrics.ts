import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import { TaskQueueRepository } from '../queues/task-queue.repository';

/**
 * Queue depths as gauges, read from Redis when Prometheus scrapes the API (one count per queue
 * and shard, as `GET /api/v1/queues` reads them), not kept up to date between scrapes. A shard
 * that does not answer has `threadline_queue_shard_up` 0 and no depths in that scrape.
 */
@Injectable()
export class QueueDepthMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly queue: TaskQueueRepository,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.metrics.enabled) return;
    // Both gauges come from one read of the counts per scrape.
    let counts: ReturnType<TaskQueueRepository['counts']> | undefined;
    const read = (): ReturnType<TaskQueueRepository['counts']> => {
      counts ??= this.queue.counts().finally(() => setImmediate(() => (counts = undefined)));
      return counts;
    };
    this.metrics.gauge(
      'threadline_queue_depth',
      'Tasks per queue, shard and state, as BullMQ counts them (read at scrape time).',
      ['queue', 'shard', 'state'],
      async (gauge) => {
        const { shards } = await read().catch(() => ({ shards: [] }));
        for (const shard of shards) {
          for (const [queue, states] of Object.entries(shard.queues ?? {})) {
            for (const [state, n] of Object.entries(states)) {
              gauge.set({ queue, shard: shard.prefix, state }, n);
            }
          }
        }
      },
    );
    this.metrics.gauge(
      'threadline_queue_shard_up',
      'Whether a shard answered the depth count of this scrape (1) or not (0).',
      ['shard'],
      async (gauge) => {
        // When no shard answers, the counts fail as a whole: every shard is down.
        const shards = await read().then(
          (all) => all.shards,
          () => this.config.shards.served.map((prefix) => ({ prefix, queues: undefined })),
        );
        for (const shard of shards) gauge.set({ shard: shard.prefix }, shard.queues ? 1 : 0);
      },
    );
  }
}
