import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedMutex } from './keyedMutex.js';

test('KeyedMutex: one at a time per key in FIFO order, errors passed through, other keys concurrent', async () => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const a1 = mutex.runExclusive('a', async () => {
    log.push('a1 start');
    await gate;
    log.push('a1 end');
    return 1;
  });
  const a2 = mutex.runExclusive('a', async () => {
    log.push('a2');
    throw new Error('boom');
  });
  const a3 = mutex.runExclusive('a', async () => {
    log.push('a3');
    return 3;
  });
  const b = mutex.runExclusive('b', async () => {
    log.push('b');
    return 'b';
  });
  assert.equal(await b, 'b');
  assert.equal(mutex.isLocked('a'), true);
  open();
  assert.equal(await a1, 1);
  await assert.rejects(a2, /boom/);
  assert.equal(await a3, 3);
  assert.deepEqual(log, ['a1 start', 'b', 'a1 end', 'a2', 'a3']);
  assert.equal(mutex.isLocked('a'), false);
  assert.equal(mutex.isLocked('b'), false);
});
