import { Worker } from 'node:worker_threads';
import type { FromThread, ThreadData, ToThread } from './thread-protocol';

export interface ThreadPoolOptions {
  /** The threads' script: a module that calls `serveThreadTasks`. */
  readonly filename: string | URL;
  /** Most threads at once; tasks beyond it wait for a free thread. */
  readonly size: number;
  /** Longest one task may run on its thread (waiting for a thread does not count), in ms. */
  readonly timeoutMs: number;
  /** The setting that holds `timeoutMs`, named in the error when a task runs past it. */
  readonly timeoutSetting: string;
  /** `filename` is the script's source rather than its path (tests). */
  readonly eval?: boolean;
  /**
   * How much lower than the process's own the threads' scheduling priority is (added to its
   * nice value, up to 19), so that a busy thread leaves the core to the event loop.
   */
  readonly niceness?: number;
  /**
   * How long a thread may wait for its next task before it exits, in ms; the task after that
   * starts a new one. An idle thread holds its own V8 heap and the modules its script loaded
   * (tens of MB). Default: `THREAD_IDLE_MS`.
   */
  readonly idleMs?: number;
}

/** How long an idle thread is kept for the next task by default, in ms. */
export const THREAD_IDLE_MS = 30_000;

/** A task ran past the pool's time budget; its thread was stopped. */
export class ThreadTimeoutError extends Error {
  override readonly name = this.constructor.name;
}

/**
 * An error thrown by the task on its thread, carried back by name, message and its own
 * fields (e.g. a `pointer`), since an Error's class does not cross the thread boundary.
 */
export class ThreadTaskError extends Error {
  override readonly name = this.constructor.name;

  constructor(
    /** The name of the error class thrown on the thread, e.g. `VarInputError`. */
    readonly thrownName: string,
    message: string,
    readonly fields: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }
}

interface Job {
  readonly input: unknown;
  readonly onProgress: (fraction: number) => Promise<void>;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A small pool of `worker_threads` for CPU-heavy task code, so that it never blocks the
 * event loop that renews a worker's BullMQ locks and runs its other tasks. Threads start on
 * first use and stay for the next task until they have been idle for `idleMs`; one that runs
 * past `timeoutMs` is terminated (V8 stops it mid-computation) and replaced.
 * @see docs/queues.md#cpu-heavy-tasks
 */
export class ThreadPool {
  private readonly live = new Set<Worker>();
  private readonly idle: Worker[] = [];
  /** The exit timer of each idle thread. */
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>();
  private readonly waiting: Job[] = [];
  private running = 0;
  private closed = false;

  constructor(private readonly options: ThreadPoolOptions) {}

  /** Runs one task on a thread; `onProgress` gets what the task reports, in order. */
  run<T>(
    input: unknown,
    onProgress: (fraction: number) => Promise<void> = () => Promise.resolve(),
  ): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the thread pool is closed'));
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ input, onProgress, resolve: resolve as (r: unknown) => void, reject });
      this.next();
    });
  }

  /** Tasks waiting for a free thread. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Threads now running a task. */
  get busy(): number {
    return this.running;
  }

  /** Threads alive now, busy or idle. */
  get threads(): number {
    return this.live.size;
  }

  /** Stops every thread; tasks still running or waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('the thread pool is closed'));
    for (const thread of this.idle.splice(0)) this.wake(thread);
    await Promise.all([...this.live].map((thread) => thread.terminate()));
  }

  private next(): void {
    while (this.waiting.length > 0 && (this.idle.length > 0 || this.running < this.options.size)) {
      const job = this.waiting.shift() as Job;
      const idle = this.idle.pop();
      if (idle) this.wake(idle);
      const thread = idle ?? this.spawn();
      this.running++;
      this.start(thread, job);
    }
  }

  private spawn(): Worker {
    const thread = new Worker(this.options.filename, {
      eval: this.options.eval ?? false,
      workerData: { niceness: this.options.niceness ?? 0 } satisfies ThreadData,
    });
    // An idle thread must not keep the process alive.
    thread.unref();
    this.live.add(thread);
    thread.once('exit', () => {
      this.live.delete(thread);
      // A thread that ended while idle must not be handed the next task.
      const at = this.idle.indexOf(thread);
      if (at !== -1) {
        this.idle.splice(at, 1);
        this.wake(thread);
      }
    });
    return thread;
  }

  /** Keeps a thread for the next task, until it has waited `idleMs` for one. */
  private rest(thread: Worker): void {
    this.idle.push(thread);
    // Its 'exit' handler takes it out of the idle list.
    const timer = setTimeout(() => void thread.terminate(), this.options.idleMs ?? THREAD_IDLE_MS);
    timer.unref();
    this.idleTimers.set(thread, timer);
  }

  /** Takes a thread out of its rest: it is about to run a task, or the pool closes. */
  private wake(thread: Worker): void {
    clearTimeout(this.idleTimers.get(thread));
    this.idleTimers.delete(thread);
  }

  private start(thread: Worker, job: Job): void {
    let progress = Promise.resolve();
    let settled = false;
    const finish = (keep: boolean, outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      thread.off('message', onMessage);
      thread.off('error', onError);
      thread.off('exit', onExit);
      this.running--;
      if (keep && !this.closed) this.rest(thread);
      else void thread.terminate();
      // Progress already reported reaches the caller before the outcome does.
      void progress.then(outcome);
      this.next();
    };
    const onMessage = (message: FromThread): void => {
      if (message.kind === 'progress') {
        progress = progress.then(() => job.onProgress(message.fraction)).catch(() => undefined);
      } else if (message.kind === 'done') {
        finish(true, () => job.resolve(message.result));
      } else {
        const error = new ThreadTaskError(message.name, message.message, message.fields);
        finish(true, () => job.reject(error));
      }
    };
    const onError = (error: Error): void =>
      finish(false, () =>
        job.reject(new ThreadTaskError(error.name, `its thread failed: ${error.message}`, {})),
      );
    const onExit = (code: number): void =>
      finish(false, () =>
        job.reject(new ThreadTaskError('Error', `its thread exited with code ${code}`, {})),
      );
    const { timeoutMs, timeoutSetting } = this.options;
    const timer = setTimeout(
      () =>
        finish(false, () =>
          job.reject(
            new ThreadTimeoutError(
              `stopped after ${timeoutMs} ms of computing, the limit set by ${timeoutSetting}; make the task smaller or raise ${timeoutSetting}`,
            ),
          ),
        ),
      timeoutMs,
    );
    thread.on('message', onMessage);
    thread.on('error', onError);
    thread.on('exit', onExit);
    thread.postMessage({ input: job.input } satisfies ToThread);
  }
}
