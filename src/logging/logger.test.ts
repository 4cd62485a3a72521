import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, moduleLogger } from './logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('module logger writes one JSON object per line with module, level, time and msg', () => {
  const { stream, lines } = capture();
  const root = createLogger({ stream, base: { network: 'regtest' } });
  moduleLogger(root, 'chain').info({ height: 5 }, 'block connected');
  moduleLogger(root, 'mempool').debug('not written at info level');
  const out = lines();
  assert.equal(out.length, 1);
  const [line] = out;
  assert.equal(line?.['module'], 'chain');
  assert.equal(line?.['msg'], 'block connected');
  assert.equal(line?.['height'], 5);
  assert.equal(line?.['network'], 'regtest');
  assert.equal(line?.['level'], 30);
  assert.equal(typeof line?.['time'], 'number');
});

test('secrets are redacted', () => {
  const { stream, lines } = capture();
  const log = moduleLogger(createLogger({ stream }), 'wallet');
  log.info({ password: 'hunter2', wallet: { mnemonic: 'abandon abandon' } }, 'unlock');
  const text = JSON.stringify(lines());
  assert.ok(!text.includes('hunter2'));
  assert.ok(!text.includes('abandon'));
  assert.ok(text.includes('[redacted]'));
});
