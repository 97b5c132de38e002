import type { FlowSummary } from '../traces/flows/flow-search';
import { cut, errorWidth, flowRow, tasksCell } from './flows-render';
import { PLAIN } from './render';

const FLOW: FlowSummary = {
  correlation_id: '0b7e1c2a-58d4-4c47-9d7e-1f5a3c2b9e10',
  first_at: '2026-01-31T09:00:00.000Z',
  last_at: '2026-01-31T09:00:07.500Z',
  duration_ms: 7500,
  status: 'failed',
  slow: true,
  services: ['nginx', 'threadline-api', 'threadline-worker'],
  task_types: ['batch_var'],
  queues: ['medium'],
  tasks: { total: 3, running: 0, completed: 2, failed: 1 },
  retries: 2,
  lines: 12,
  first_error: {
    at: '2026-01-31T09:00:05.000Z',
    message: 'boom\n  at x',
    type: 'Error',
    task_id: 't',
  },
  links: { trace: '/api/v1/traces/x', page: '/trace/x' },
};

describe('the flows table', () => {
  it('says tasks as done of all, then failed and running', () => {
    expect(tasksCell(FLOW.tasks)).toBe('2/3 done, 1 failed');
    expect(tasksCell({ total: 2, running: 1, completed: 1, failed: 0 })).toBe(
      '1/2 done, 1 running',
    );
    expect(tasksCell({ total: 0, running: 0, completed: 0, failed: 0 })).toBe('-');
  });

  it('shows a flow in one row: status in words, the correlation ID whole, the error on one line', () => {
    const row = flowRow(FLOW, PLAIN, 60);
    expect(row).not.toContain('\n');
    for (const text of [
      '2026-01-31T09:00:07Z',
      'failed slow',
      '7500 ms',
      FLOW.correlation_id,
      'nginx,api,worker',
      '2/3 done, 1 failed',
      'boom at x',
    ]) {
      expect(row).toContain(text);
    }
  });

  it('cuts the first error to the room left, with …', () => {
    expect(cut('a'.repeat(30), 10)).toBe(`${'a'.repeat(9)}…`);
    expect(cut('short', 10)).toBe('short');
    expect(errorWidth(undefined)).toBe(60);
    expect(errorWidth(80)).toBe(20);
    expect(errorWidth(200)).toBeGreaterThan(40);
  });
});
