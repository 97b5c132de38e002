import { MAX_PRIORITY, MIN_PRIORITY } from './task';
import { fairPriority, ROTATION_PLACES } from './fair-priority';

describe(fairPriority.name, () => {
  it('keeps the given priority first: 1 before 2 whatever the rotation', () => {
    expect(fairPriority(1, ROTATION_PLACES * 10)).toBeLessThan(fairPriority(2, 0));
    expect(fairPriority(MAX_PRIORITY - 1, ROTATION_PLACES)).toBeLessThan(
      fairPriority(MAX_PRIORITY, 0),
    );
  });

  it("puts a client's next task behind every other client's task of the same rank", () => {
    const busy = [0, 1, 2, 3].map((rank) => fairPriority(50, rank));
    const newcomer = fairPriority(50, 0);
    expect(busy.filter((p) => p < newcomer)).toHaveLength(0);
    expect(busy.filter((p) => p > newcomer)).toHaveLength(3);
  });

  it('stays within BullMQ priorities (1 to 2^21) at the extremes', () => {
    expect(fairPriority(MIN_PRIORITY, -5)).toBe(1);
    expect(fairPriority(MAX_PRIORITY, Number.MAX_SAFE_INTEGER)).toBeLessThanOrEqual(2 ** 21);
  });
});
