import { holderOf, parseApiKeys, presentedKey, API_KEYS_PATTERN } from './api-keys';

const ALICE = 'alice-key-0123456789abcdefghij';
const BOB = 'bob-key-0123456789abcdefghijklm';

describe('API keys', () => {
  const keys = parseApiKeys(`alice:${ALICE},bob:${BOB}`);

  it('names the holder of a listed key, and no one for any other string', () => {
    expect(holderOf(keys, ALICE)).toBe('alice');
    expect(holderOf(keys, BOB)).toBe('bob');
    expect(holderOf(keys, `${ALICE}x`)).toBeUndefined();
    expect(holderOf(keys, '')).toBeUndefined();
    expect(holderOf([], ALICE)).toBeUndefined();
  });

  it('keeps digests, never the keys themselves', () => {
    expect(JSON.stringify(keys)).not.toContain(ALICE);
  });

  it('accepts name:key lists and refuses short keys, bad names and stray separators', () => {
    expect(API_KEYS_PATTERN.test('')).toBe(true);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE}`)).toBe(true);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE},bob:${BOB}`)).toBe(true);
    expect(API_KEYS_PATTERN.test('alice:short')).toBe(false);
    expect(API_KEYS_PATTERN.test(`Alice:${ALICE}`)).toBe(false);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE},`)).toBe(false);
    expect(API_KEYS_PATTERN.test(ALICE)).toBe(false);
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
