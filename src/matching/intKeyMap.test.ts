import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntKeyMap } from './intKeyMap.js';

/**
 * Ops on ids from one of several shapes. Small ids hash to their low bits (sequential ids never collide), so the
 * clustered shape uses 16 ids ≡ 14..17 mod 64: few live at once, so the table stays at 8..32 slots, where they share
 * the last and first homes and their probe runs wrap around the table's end — the case backward-shift deletion gets
 * wrong most easily.
 */
const arbIdOf = (shape: number): fc.Arbitrary<number> =>
  shape === 0
    ? fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 14, max: 17 })).map(([x, c]) => x * 64 + c)
    : fc.integer({ min: 1, max: shape });
const arbOps = (shape: number): fc.Arbitrary<Array<['set' | 'delete' | 'get', number]>> => {
  const arbId = arbIdOf(shape);
  return fc.array(
    fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.constant('set' as const), arbId) },
      { weight: 3, arbitrary: fc.tuple(fc.constant('delete' as const), arbId) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('get' as const), arbId) },
    ),
    { maxLength: 2000, size: 'max' },
  );
};
const arbCase = fc
  .constantFrom(0, 0, 12, 3000, Number.MAX_SAFE_INTEGER) // 0: clustered; the last: ids beyond 2^32 (high bits hashed too)
  .chain((shape) => fc.tuple(arbOps(shape), fc.constantFrom(2, 4, 8, 16, 1024)));

test('IntKeyMap behaves as a Map under any sequence of set, delete and get, from any starting capacity', () => {
  fc.assert(
    fc.property(arbCase, ([ops, capacity]) => {
      const index = new IntKeyMap<number>(capacity);
      const map = new Map<number, number>();
      ops.forEach(([op, id], step) => {
        if (op === 'set') {
          index.set(id, step);
          map.set(id, step);
        } else if (op === 'delete') {
          assert.equal(index.delete(id), map.delete(id));
        } else {
          assert.equal(index.get(id), map.get(id));
        }
        assert.equal(index.size, map.size);
      });
      for (const [id, v] of map) assert.equal(index.get(id), v);
      const seen = new Map<number, number>();
      index.forEach((v, id) => seen.set(id, v));
      assert.deepEqual(new Map([...seen].sort((a, b) => a[0] - b[0])), new Map([...map].sort((a, b) => a[0] - b[0])));
    }),
    { numRuns: 300 },
  );
});

test('IntKeyMap: sequential ids through growth and a sliding window of deletes, and junk keys answer undefined', () => {
  const index = new IntKeyMap<string>();
  for (let id = 1; id <= 50_000; id++) {
    index.set(id, `o${id}`);
    if (id > 1000) assert.equal(index.delete(id - 1000), true);
  }
  assert.equal(index.size, 1000);
  assert.equal(index.get(49_001), 'o49001');
  assert.equal(index.get(49_000), undefined);
  for (const junk of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
    assert.equal(index.get(junk), undefined);
    assert.equal(index.delete(junk), false);
  }
  for (const bad of [0, 1, 3, 1000, 2.5]) assert.throws(() => new IntKeyMap(bad), RangeError);
});
