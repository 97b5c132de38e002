import { buildTrace, isFinished, type TraceLine } from './trace';

const at = (ms: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();
const line = (ms: number, fields: Partial<TraceLine>): TraceLine => ({
  '@timestamp': at(ms),
  'service.name': 'threadline-worker',
  correlation_id: 'flow-1',
  ...fields,
});

describe('buildTrace', () => {
  const lines: TraceLine[] = [
    line(0, {
      'service.name': 'threadline-api',
      'event.action': 'task-queued',
      request_id: 'r1',
      task_id: 'p',
    }),
    line(1, {
      'service.name': 'nginx',
      'event.action': 'http-request',
      request_id: 'r1',
      'http.request.method': 'POST',
      'url.path': '/api/v1/tasks',
      'http.response.status_code': 202,
      'nginx.request_time_s': 0.012,
    }),
    line(2, {
      'service.name': 'threadline-api',
      'event.action': 'http-request',
      request_id: 'r1',
      'event.duration': 9_400_000,
    }),
    line(5, {
      'event.action': 'task-started',
      task_id: 'c',
      'task.parent_id': 'p',
      'task.attempt': 1,
      'task.queue_wait_ms': 3,
    }),
    line(9, { 'event.action': 'task-retried', task_id: 'c', 'task.attempt': 1, 'task.run_ms': 4 }),
    line(300, { 'event.action': 'task-started', task_id: 'c', 'task.attempt': 2 }),
    line(310, {
      'event.action': 'task-completed',
      task_id: 'c',
      'task.attempt': 2,
      'task.run_ms': 10,
    }),
    line(311, {
      'event.action': 'task-started',
      task_id: 'p',
      'task.type': 'batch_var',
      'task.attempt': 1,
      'task.queue_wait_ms': 311,
    }),
    line(320, {
      'event.action': 'task-completed',
      task_id: 'p',
      'task.attempt': 1,
      'task.run_ms': 9,
    }),
  ];

  it('joins requests to tasks, tasks to children, and attempts to their outcomes', () => {
    const trace = buildTrace('flow-1', ['correlation_id'], lines, false);
    expect(trace.requests).toEqual([
      expect.objectContaining({
        request_id: 'r1',
        method: 'POST',
        status: 202,
        nginx_ms: 12,
        api_ms: 9.4,
        tasks: ['p'],
      }),
    ]);
    const parent = trace.tasks.find((t) => t.task_id === 'p');
    expect(parent).toMatchObject({
      type: 'batch_var',
      children: ['c'],
      status: 'completed',
      request_id: 'r1',
    });
    const child = trace.tasks.find((t) => t.task_id === 'c');
    expect(child?.retries).toBe(1);
    expect(child?.attempts).toEqual([
      {
        attempt: 1,
        started_at: at(5),
        finished_at: at(9),
        queue_wait_ms: 3,
        run_ms: 4,
        outcome: 'retried',
      },
      {
        attempt: 2,
        started_at: at(300),
        finished_at: at(310),
        queue_wait_ms: null,
        run_ms: 10,
        outcome: 'completed',
      },
    ]);
    expect(trace.summary).toMatchObject({
      total_ms: 320,
      lines: 9,
      retries: 1,
      status: 'completed',
    });
    expect(isFinished(trace)).toBe(true);
  });

  it('calls a flow whose root task still runs unfinished', () => {
    const trace = buildTrace('flow-1', ['correlation_id'], lines.slice(0, 8), false);
    expect(trace.summary.status).toBe('running');
    expect(isFinished(trace)).toBe(false);
  });
});
