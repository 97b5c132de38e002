import { buildTrace, type TraceLine } from '../trace';
import { criticalPath, flowCriticalPath } from './critical-path.mjs';
import { bars } from './waterfall-rows.mjs';

describe('criticalPath', () => {
  it('without structure, goes back by time from the last bar to the request that started the flow', () => {
    const spans = [
      { start: 0, end: 20 }, // nginx
      { start: 2, end: 18 }, // API, inside nginx
      { start: 10, end: 50 }, // queue wait, queued during the API's handling
      { start: 50, end: 80 }, // attempt 1, retried
      { start: 30, end: 35 }, // a status poll, off the path
      { start: 120, end: 200 }, // attempt 2, after the back-off
    ];
    expect([...criticalPath(spans)].sort()).toEqual([0, 1, 2, 3, 5]);
  });

  it('follows what a bar waited on where the structure names it', () => {
    const spans = [
      { start: 0, end: 10 }, // attempt 1
      { start: 20, end: 90 }, // unrelated work in the back-off, ended last before attempt 2
      { start: 100, end: 120, waitsOn: [0] }, // attempt 2
    ];
    expect([...criticalPath(spans)].sort()).toEqual([0, 2]);
  });

  it('is empty for no bars, and the bar itself for one', () => {
    expect(criticalPath([]).size).toBe(0);
    expect([...criticalPath([{ start: 5, end: 5 }])]).toEqual([0]);
  });
});

describe('flowCriticalPath', () => {
  const T = Date.UTC(2024, 0, 1);
  const line = (ms: number, fields: Partial<TraceLine>): TraceLine => ({
    '@timestamp': new Date(T + ms).toISOString(),
    correlation_id: 'flow',
    ...fields,
  });
  const request = (ms: number, id: string, method: string): TraceLine =>
    line(ms, {
      request_id: id,
      'service.name': 'threadline-api',
      'event.action': 'http-request',
      'http.request.method': method,
      'event.duration': 5_000_000,
    });
  const task = (ms: number, id: string, action: string, request_id: string): TraceLine =>
    line(ms, {
      request_id,
      task_id: id,
      'service.name': action === 'task-queued' ? 'threadline-api' : 'threadline-worker',
      'event.action': action,
      'task.type': 'echo',
    });

  it('marks the retried task back to its request, not other work or a status poll', () => {
    const lines = [
      task(1, 'a', 'task-queued', 'r1'),
      request(5, 'r1', 'POST'),
      task(10, 'a', 'task-started', 'r1'),
      task(20, 'a', 'task-retried', 'r1'),
      task(30, 'b', 'task-queued', 'r2'),
      request(32, 'r2', 'POST'),
      task(40, 'b', 'task-started', 'r2'),
      task(900, 'b', 'task-completed', 'r2'),
      request(950, 'poll', 'GET'),
      task(1000, 'a', 'task-started', 'r1'),
      task(1010, 'a', 'task-completed', 'r1'),
    ].sort((x, y) => (x['@timestamp'] < y['@timestamp'] ? -1 : 1));
    const trace = buildTrace('flow', ['correlation_id'], lines, false);
    const rows = bars(trace);
    const marked = [...flowCriticalPath(trace, rows)].map((i) => {
      const row = rows[i];
      return `${row?.kind} ${row?.ids[0]}`;
    });
    expect(marked.sort()).toEqual(['api r1', 'attempt a', 'attempt a', 'queue a']);
  });

  it('marks a batch through the child that ended last, back to the request that queued it', () => {
    const child = (ms: number, id: string, action: string): TraceLine => ({
      ...task(ms, id, action, 'r1'),
      'task.parent_id': 'p',
    });
    const lines = [
      task(1, 'p', 'task-queued', 'r1'),
      child(2, 'c1', 'task-queued'),
      child(3, 'c2', 'task-queued'),
      request(5, 'r1', 'POST'),
      child(10, 'c1', 'task-started'),
      child(12, 'c2', 'task-started'),
      child(100, 'c1', 'task-completed'),
      child(200, 'c2', 'task-completed'),
      task(210, 'p', 'task-started', 'r1'),
      task(220, 'p', 'task-completed', 'r1'),
    ];
    const trace = buildTrace('flow', ['correlation_id'], lines, false);
    const rows = bars(trace);
    const marked = [...flowCriticalPath(trace, rows)].map((i) => {
      const row = rows[i];
      return `${row?.kind} ${row?.ids[0]}`;
    });
    expect(marked.sort()).toEqual(['api r1', 'attempt c2', 'attempt p', 'queue c2', 'queue p']);
  });
});
