import type { Job, Worker } from 'bullmq';
import type { TaskEnvelope } from '../queues/task';

/**
 * Keeps the locks of the tasks a worker process is running: one timer, every lock length / 2,
 * extends all of them with one call per queue (BullMQ's extendLocks), as BullMQ's own
 * LockManager does, rather than a timer and a round trip per task. A task's lock is set when
 * it is taken, so it is first renewed within half a lock length of that, as before.
 * @see docs/queues.md#cpu-heavy-tasks
 */
export class LockRenewal {
  /** The tasks held now, with the lock token each was taken with. */
  readonly held = new Map<Job<TaskEnvelope>, string>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param workers the BullMQ worker of each served queue, by qualified name (`<prefix>:<queue>`)
   * @param lockMs how long each renewal extends a lock by
   */
  constructor(
    private readonly workers: ReadonlyMap<string, Worker<TaskEnvelope>>,
    private readonly lockMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.renew(), this.lockMs / 2);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Extends every held lock now. A lock that is no longer this worker's (its task ended
   * meanwhile, or was handed to another worker as stalled) is left as it is, as BullMQ's
   * extendLock leaves it; only a failed call is said.
   */
  async renew(): Promise<void> {
    const byQueue = new Map<string, Job<TaskEnvelope>[]>();
    for (const job of this.held.keys()) {
      const queue = job.queueQualifiedName;
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), job]);
    }
    await Promise.all([...byQueue].map(([queue, jobs]) => this.renewQueue(queue, jobs)));
  }

  private async renewQueue(queue: string, jobs: Job<TaskEnvelope>[]): Promise<void> {
    const worker = this.workers.get(queue);
    if (!worker) return;
    const ids = jobs.map((job) => job.id ?? '');
    const tokens = jobs.map((job) => this.held.get(job) ?? '');
    await worker.extendJobLocks(ids, tokens, this.lockMs).catch((error: Error) => {
      for (const id of ids) this.warn(`task ${id}: lock renewal failed: ${error.message}`);
    });
  }
}
