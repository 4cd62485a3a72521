import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { bytesToHex } from '../primitives/hex.js';
import { sha256d64Into, sha256Of32Into } from './sha256dSmall.js';

/** sha256d by node:crypto (OpenSSL), the reference. */
function reference(bytes: Uint8Array): string {
  return bytesToHex(hash('sha256', hash('sha256', bytes, 'buffer'), 'buffer'));
}

test('sha256d64Into matches node:crypto on 64-byte messages, at any offset', () => {
  let seed = 7;
  for (let n = 0; n < 200; n++) {
    const buf = new Uint8Array(200);
    for (let i = 0; i < buf.length; i++) buf[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const at = n % 100;
    const out = new Uint8Array(40);
    sha256d64Into(buf, at, out, 8);
    assert.equal(bytesToHex(out.subarray(8, 40)), reference(buf.subarray(at, at + 64)), `message ${n} at ${at}`);
    assert.deepEqual([...out.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0], 'writes only its 32 bytes');
  }
});

test('sha256d64Into: the known merkle node of two all-zero hashes, and all-0xff bytes', () => {
  assert.equal(reference(new Uint8Array(64)), 'e2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9');
  for (const fill of [0, 0xff]) {
    const msg = new Uint8Array(64).fill(fill);
    const out = new Uint8Array(32);
    sha256d64Into(msg, 0, out, 0);
    assert.equal(bytesToHex(out), reference(msg));
  }
});

test('sha256d64Into may write over its own input (a merkle level in place)', () => {
  const buf = new Uint8Array(64);
  for (let i = 0; i < 64; i++) buf[i] = i;
  const expected = reference(buf.slice());
  sha256d64Into(buf, 0, buf, 16);
  assert.equal(bytesToHex(buf.subarray(16, 48)), expected);
});

test('sha256Of32Into on node:crypto\'s inner digest gives sha256d, for messages of any length', () => {
  for (let n = 0; n <= 300; n += 7) {
    const msg = new Uint8Array(n);
    for (let i = 0; i < n; i++) msg[i] = (i * 13 + n) & 0xff;
    const inner = hash('sha256', msg, 'buffer');
    const out = new Uint8Array(36);
    sha256Of32Into(inner, 0, out, 4);
    assert.equal(bytesToHex(out.subarray(4)), reference(msg), `length ${n}`);
    const inPlace = Uint8Array.from(inner);
    sha256Of32Into(inPlace, 0, inPlace, 0);
    assert.equal(bytesToHex(inPlace), reference(msg), `length ${n}, in place`);
  }
});
