import { API_KEYS_PATTERN } from './api-keys.setting';

const ALICE = 'alice-key-0123456789abcdefghij';
const BOB = 'bob-key-0123456789abcdefghijklm';

describe('API_KEYS setting', () => {
  it('accepts name:key[:grant[+grant]] lists and refuses short keys, bad names, unknown grants and stray separators', () => {
    expect(API_KEYS_PATTERN.test('')).toBe(true);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE}`)).toBe(true);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE},bob:${BOB}`)).toBe(true);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE}:high,bob:${BOB}:admin+high`)).toBe(true);
    expect(API_KEYS_PATTERN.test('alice:short')).toBe(false);
    expect(API_KEYS_PATTERN.test(`Alice:${ALICE}`)).toBe(false);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE},`)).toBe(false);
    expect(API_KEYS_PATTERN.test(ALICE)).toBe(false);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE}:`)).toBe(false);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE}:root`)).toBe(false);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE}:high+`)).toBe(false);
    expect(API_KEYS_PATTERN.test(`alice:${ALICE}:high,admin`)).toBe(false);
  });
});
