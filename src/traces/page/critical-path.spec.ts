import { criticalPath } from './critical-path.mjs';

describe('criticalPath', () => {
  it('goes back from the last bar to the request that started the flow', () => {
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

  it('is empty for no bars, and the bar itself for one', () => {
    expect(criticalPath([]).size).toBe(0);
    expect([...criticalPath([{ start: 5, end: 5 }])]).toEqual([0]);
  });
});
