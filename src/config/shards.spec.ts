import { randomUUID } from 'node:crypto';
import { CLUSTER_SLOTS, hashSlot, shardPrefixes, Shards } from './shards';

describe(hashSlot.name, () => {
  it.each([
    // The cluster specification's CRC16 check value, and CLUSTER KEYSLOT examples of its docs.
    ['123456789', 12739],
    ['somekey', 11058],
    ['foo{hash_tag}', 2515],
    ['bar{hash_tag}', 2515],
  ])('puts %s in slot %d, as Redis does', (key, slot) => {
    expect(hashSlot(key)).toBe(slot);
  });

  it('hashes only the tag of a tagged key', () => {
    expect(hashSlot('{threadline:1}:high:wait')).toBe(hashSlot('threadline:1'));
    // An empty tag is no tag: the whole key is hashed.
    expect(hashSlot('{}x')).not.toBe(hashSlot('x'));
  });
});

describe(shardPrefixes.name, () => {
  it('keeps the unsharded prefix as it is for one shard', () => {
    expect(shardPrefixes('{threadline}', 1)).toEqual(['{threadline}']);
    expect(shardPrefixes('threadline', 1)).toEqual(['threadline']);
  });

  it.each([2, 3, 5, 16])(
    'gives each of %d shards its own tag, in its own equal range of slots',
    (count) => {
      const prefixes = shardPrefixes('{threadline}', count);
      expect(new Set(prefixes).size).toBe(count);
      prefixes.forEach((prefix, shard) => {
        expect(prefix).toMatch(new RegExp(`^\\{threadline:${shard}(\\.\\d+)?\\}$`));
        const slot = hashSlot(prefix);
        expect(slot).toBeGreaterThanOrEqual(Math.floor((shard * CLUSTER_SLOTS) / count));
        expect(slot).toBeLessThan(Math.floor(((shard + 1) * CLUSTER_SLOTS) / count));
      });
    },
  );
});

describe(Shards.name, () => {
  const shards = new Shards(shardPrefixes('tl', 3));

  it('places a task id on the shard asked, keeping all but its first 32 bits', () => {
    for (let i = 0; i < 200; i++) {
      const id = randomUUID();
      for (let shard = 0; shard < 3; shard++) {
        const placed = shards.place(id, shard);
        expect(shards.ofTask(placed)).toBe(shard);
        expect(placed.slice(8)).toBe(id.slice(8));
        expect(
          Math.abs(parseInt(placed.slice(0, 8), 16) - parseInt(id.slice(0, 8), 16)),
        ).toBeLessThan(3);
      }
    }
  });

  it('stays within 32 bits at the top of the range', () => {
    const placed = shards.place('ffffffff-0000-4000-8000-000000000000', 2);
    expect(placed).toMatch(/^[0-9a-f]{8}-0000-4000-8000-000000000000$/);
    expect(shards.ofTask(placed)).toBe(2);
  });

  it('spreads random ids and strings over every shard', () => {
    const tasks = [0, 0, 0];
    const strings = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      tasks[shards.ofTask(randomUUID())]++;
      strings[shards.ofString(`key-${i}`)]++;
    }
    for (const count of [...tasks, ...strings]) expect(count).toBeGreaterThan(800);
  });

  it('leaves everything on shard 0 with one shard', () => {
    const one = new Shards(['{threadline}']);
    const id = randomUUID();
    expect([one.ofTask(id), one.place(id, 0), one.ofString('k')]).toEqual([0, id, 0]);
  });

  it('serves a drained legacy prefix after the shards', () => {
    const draining = new Shards(['{a:0}', '{a:1}'], '{a}');
    expect(draining.served).toEqual(['{a:0}', '{a:1}', '{a}']);
    // A task is looked for on its shard, then on the drained layout.
    const id = draining.place('00000000-0000-4000-8000-000000000000', 1);
    expect(draining.lookupsOfTask(id)).toEqual(['{a:1}', '{a}']);
    expect(new Shards(['{a:0}', '{a:1}']).lookupsOfTask(id)).toEqual(['{a:1}']);
    expect(() => new Shards([])).toThrow(/1 to 64 shards/);
  });
});
