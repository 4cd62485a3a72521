import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSerialQueue, SerialQueue } from './serialQueue.js';

test('KeyedSerialQueue: one at a time per key in FIFO order, errors passed through, other keys concurrent', async () => {
  const mutex = new KeyedSerialQueue();
  const log: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const a1 = mutex.run('a', async () => {
    log.push('a1 start');
    await gate;
    log.push('a1 end');
    return 1;
  });
  const a2 = mutex.run('a', async () => {
    log.push('a2');
    throw new Error('boom');
  });
  const a3 = mutex.run('a', async () => {
    log.push('a3');
    return 3;
  });
  const b = mutex.run('b', async () => {
    log.push('b');
    return 'b';
  });
  assert.equal(await b, 'b');
  assert.equal(mutex.isBusy('a'), true);
  open();
  assert.equal(await a1, 1);
  await assert.rejects(a2, /boom/);
  assert.equal(await a3, 3);
  assert.deepEqual(log, ['a1 start', 'b', 'a1 end', 'a2', 'a3']);
  assert.equal(mutex.isBusy('a'), false);
  assert.equal(mutex.isBusy('b'), false);
});

test('SerialQueue: tasks run one at a time in arrival order; a failure rejects only its own promise; idle waits for all', async () => {
  const queue = new SerialQueue();
  const log: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const first = queue.run(async () => {
    log.push('first start');
    await gate;
    log.push('first end');
    return 1;
  });
  const second = queue.run(() => {
    log.push('second');
    throw new Error('boom');
  });
  const third = queue.run(() => {
    log.push('third');
    return 3;
  });
  assert.equal(queue.pending, 3);
  let idle = false;
  const idled = queue.idle().then(() => (idle = true));
  assert.deepEqual(log, []);
  open();
  assert.equal(await first, 1);
  await assert.rejects(second, /boom/);
  assert.equal(await third, 3);
  await idled;
  assert.equal(idle, true);
  assert.equal(queue.pending, 0);
  assert.deepEqual(log, ['first start', 'first end', 'second', 'third']);
});
