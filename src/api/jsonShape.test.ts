import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { inspectJsonShape, MAX_JSON_DEPTH } from './jsonShape.js';

/** Depth of a parsed JSON value (0 for a scalar), computed on the value itself as an oracle. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

test('inspectJsonShape: depth at and over the limit, brackets in strings ignored', () => {
  const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  assert.deepEqual(inspectJsonShape(nested(MAX_JSON_DEPTH)), { tooDeep: false, topLevelArrayItems: 1 });
  assert.equal(inspectJsonShape(nested(MAX_JSON_DEPTH + 1)).tooDeep, true);
  assert.equal(inspectJsonShape('{"a":'.repeat(600) + '1' + '}'.repeat(600)).tooDeep, true);
  assert.equal(inspectJsonShape('['.repeat(10_000_000)).tooDeep, true, 'a bomb without its closing half');
  assert.deepEqual(inspectJsonShape(JSON.stringify({ id: '['.repeat(5000), s: '\\"[[' })), { tooDeep: false, topLevelArrayItems: undefined });
});

test('inspectJsonShape: top-level array item counts', () => {
  const cases: [string, number | undefined][] = [
    ['[]', 0],
    [' [ \n ] ', 0],
    ['[0]', 1],
    ['[0,1,2]', 3],
    ['[[1,2],{"a":[3,4]},"x,y"]', 3],
    ['[{}, []]', 2],
    ['{"a":[1,2,3]}', undefined],
    ['42', undefined],
  ];
  for (const [text, items] of cases) assert.equal(inspectJsonShape(text).topLevelArrayItems, items, `items of ${text}`);
});

test('inspectJsonShape agrees with JSON.parse on any JSON value', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 10 }), (value, limit) => {
      const text = JSON.stringify(value);
      const shape = inspectJsonShape(text, limit);
      assert.equal(shape.tooDeep, depthOf(value) > limit, `depth of ${text}`);
      if (!shape.tooDeep) assert.equal(shape.topLevelArrayItems, Array.isArray(value) ? value.length : undefined, `items of ${text}`);
    }),
    { numRuns: 2000 },
  );
});
