import { keyOf, parseApiKeys, presentedKey } from './api-keys';

const ALICE = 'alice-key-0123456789abcdefghij';
const BOB = 'bob-key-0123456789abcdefghijklm';
const CAROL = 'carol-key-0123456789abcdefghijk';

describe('API keys', () => {
  const keys = parseApiKeys(`alice:${ALICE},bob:${BOB}:high,carol:${CAROL}:admin+high`);

  it('names the holder of a listed key, and no one for any other string', () => {
    expect(keyOf(keys, ALICE)?.name).toBe('alice');
    expect(keyOf(keys, BOB)?.name).toBe('bob');
    expect(keyOf(keys, `${ALICE}x`)).toBeUndefined();
    expect(keyOf(keys, '')).toBeUndefined();
    expect(keyOf([], ALICE)).toBeUndefined();
  });

  it('keeps digests, never the keys themselves', () => {
    expect(JSON.stringify(keys)).not.toContain(ALICE);
    expect(JSON.stringify(keys)).not.toContain(CAROL);
  });

  it("reads each key's grants, none when it lists none", () => {
    expect(keyOf(keys, ALICE)?.grants).toEqual([]);
    expect(keyOf(keys, BOB)?.grants).toEqual(['high']);
    expect(keyOf(keys, CAROL)?.grants).toEqual(['admin', 'high']);
    expect(parseApiKeys(`dave:${ALICE}:high+high`)[0]?.grants).toEqual(['high']);
  });

  it('reads a Bearer token first, then X-API-Key', () => {
    expect(presentedKey(`Bearer ${ALICE}`, BOB)).toBe(ALICE);
    expect(presentedKey(`bearer  ${ALICE} `, undefined)).toBe(ALICE);
    expect(presentedKey(undefined, BOB)).toBe(BOB);
    expect(presentedKey('Basic abc', undefined)).toBeUndefined();
    expect(presentedKey(undefined, ['a', 'b'])).toBeUndefined();
    expect(presentedKey(undefined, undefined)).toBeUndefined();
  });
});
