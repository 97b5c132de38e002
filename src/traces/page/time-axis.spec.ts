import { tickStep, ticks } from './time-axis.mjs';

describe('time axis', () => {
  it('steps by 1, 2 or 5 times a power of ten', () => {
    expect(tickStep(1000, 5)).toBe(200);
    expect(tickStep(1100, 5)).toBe(500);
    expect(tickStep(8000, 6)).toBe(2000);
    expect(tickStep(0, 5)).toBe(1);
  });

  it('ticks from 0 to the span, never more than asked', () => {
    expect(ticks(1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(ticks(8000, 6)).toEqual([0, 2000, 4000, 6000, 8000]);
  });
});
