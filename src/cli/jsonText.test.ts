import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonNumberText, parseJsonText, writeJsonText } from './jsonText.js';

test('parseJsonText keeps number literals; writeJsonText prints them as received', () => {
  const text = '{"result":{"value":50.00000000,"n":0,"d":4.656542373906925e-10,"a":[],"o":{},"s":"x\\"y","b":[true,null]},"error":null}';
  const parsed = parseJsonText(text) as Record<string, any>;
  assert.ok(parsed['result'].value instanceof JsonNumberText);
  assert.equal(parsed['result'].value.text, '50.00000000');
  assert.equal(
    writeJsonText(parsed['result']),
    '{\n  "value": 50.00000000,\n  "n": 0,\n  "d": 4.656542373906925e-10,\n  "a": [\n  ],\n  "o": {\n  },\n  "s": "x\\"y",\n' +
      '  "b": [\n    true,\n    null\n  ]\n}',
  );
  // Same structure as JSON.parse when numbers are read back.
  const back = JSON.parse(writeJsonText(parsed));
  assert.deepEqual(back, JSON.parse(text));
});

test('parseJsonText refuses malformed JSON', () => {
  for (const bad of ['', '{', '{"a" 1}', '[1,]', '01', 'tru', '"unterminated', '{"a":1} x', '[1 2]']) {
    assert.throws(() => parseJsonText(bad), SyntaxError, bad);
  }
  assert.deepEqual(parseJsonText(' [ ] '), []);
});
