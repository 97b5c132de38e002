import { isoNow } from './logger';

describe(isoNow.name, () => {
  it.each([
    0, 1, 9, 10, 99, 100, 999, 1_000, 1_795_883_673_310, 1_795_883_673_005, 4_102_444_799_999,
  ])('equals Date#toISOString at %p', (ms) => {
    expect(isoNow(ms)).toBe(new Date(ms).toISOString());
  });

  it('stays right when the second changes between calls', () => {
    expect(isoNow(1_795_883_673_999)).toBe(new Date(1_795_883_673_999).toISOString());
    expect(isoNow(1_795_883_674_000)).toBe(new Date(1_795_883_674_000).toISOString());
    expect(isoNow(1_795_883_673_500)).toBe(new Date(1_795_883_673_500).toISOString());
  });
});
