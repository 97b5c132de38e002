// End-to-end latency at a fixed rate: an open-loop client sends POST /api/v1/tasks on a
// fixed schedule (it never waits for an answer before the next send, so a slow server cannot
// slow the load down), remembers when each task was sent, and afterwards asks the task store
// when each task started and when it completed.
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './processes.mts';

export interface Sent {
  id: string;
  /** Epoch ms when the request was sent. */
  at: number;
}

export type TaskTimes = { started: number; completed: number } | undefined;

export interface LatencyFigures {
  tasks: number;
  started: { p50: number; p99: number };
  completed: { p50: number; p99: number };
}

/** Sends `rate` requests a second for `seconds`; resolves with every accepted task. */
export async function openLoop(url: string, rate: number, seconds: number): Promise<Sent[]> {
  const body = JSON.stringify({ type: 'echo', data: { message: 'latency' } });
  const total = rate * seconds;
  const interval = 1000 / rate;
  const start = performance.now();
  const answers: Promise<Sent>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const at = Date.now();
    answers.push(
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
        async (response) => {
          if (response.status !== 202) {
            throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
          }
          return { id: ((await response.json()) as { task_id: string }).task_id, at };
        },
      ),
    );
  }
  return Promise.all(answers);
}

/** Polls `times` until every task has completed (or `timeoutMs` passed), then summarizes. */
export async function latencies(
  sent: Sent[],
  times: (ids: string[]) => Promise<TaskTimes[]>,
  timeoutMs = 120_000,
): Promise<LatencyFigures> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await times(sent.map((s) => s.id));
    const missing = found.filter((t) => t === undefined).length;
    if (missing === 0) {
      const started = found.map((t, i) => (t?.started ?? 0) - sent[i].at);
      const completed = found.map((t, i) => (t?.completed ?? 0) - sent[i].at);
      const figures = (xs: number[]) => ({ p50: percentile(xs, 0.5), p99: percentile(xs, 0.99) });
      return { tasks: sent.length, started: figures(started), completed: figures(completed) };
    }
    if (Date.now() > deadline) {
      throw new Error(`${missing} of ${sent.length} tasks had not completed after ${timeoutMs} ms`);
    }
    await sleep(200);
  }
}
