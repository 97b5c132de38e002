import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

/** What the pool gives a thread when it starts it. */
export interface ThreadData {
  /** Added to the thread's nice value before it runs a task. */
  niceness: number;
}

/** What the pool sends a thread: one task's input. */
export interface ToThread {
  input: unknown;
}

/** What a thread sends back: progress, then the result or the error. */
export type FromThread =
  | { kind: 'progress'; fraction: number }
  | { kind: 'done'; result: unknown }
  | { kind: 'error'; name: string; message: string; fields: Record<string, unknown> };

/**
 * The body of a pool thread's script: runs `task` for each input the pool sends, one at a
 * time, and sends back its progress and its result (or error).
 * @see ThreadPool
 */
export function serveThreadTasks(
  task: (input: unknown, progress: (fraction: number) => Promise<void>) => Promise<unknown>,
): void {
  const port = parentPort;
  if (!port) throw new Error('serveThreadTasks runs only on a worker thread of a ThreadPool');
  lowerPriority((workerData as ThreadData | undefined)?.niceness ?? 0);
  const send = (message: FromThread): void => port.postMessage(message);
  port.on('message', ({ input }: ToThread) => {
    const progress = (fraction: number): Promise<void> => {
      send({ kind: 'progress', fraction });
      return Promise.resolve();
    };
    task(input, progress).then(
      (result) => send({ kind: 'done', result }),
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        const fields = Object.fromEntries(
          Object.entries(e).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)),
        );
        send({ kind: 'error', name: e.name, message: e.message, fields });
      },
    );
  });
}

/**
 * Lowers this thread's scheduling priority, not the process's: on Linux a nice value belongs
 * to a thread, and `setPriority` without a pid sets the calling one's. Where the system
 * refuses, the thread runs at the process's priority.
 */
function lowerPriority(niceness: number): void {
  if (niceness <= 0) return;
  try {
    setPriority(Math.min(19, getPriority() + niceness));
  } catch {
    // Not permitted here: nothing is lost but the preference.
  }
}
