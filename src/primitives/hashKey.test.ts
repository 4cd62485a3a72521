import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { arbHash256, arbOutpoint, arbTxid } from '../testing/arbitraries.js';
import { DecodeError } from './decodeError.js';
import { hashKey, latin1Decode } from './hashKey.js';
import { blockHashFromHex, bytesEqual, hashToHex, txidFromHex, wtxidFromHex } from './hex.js';
import { decodeBlockHash, decodeTxid, decodeWtxid } from './identity.js';
import { outpointKey, outpointKeyOf, txidKeyOf } from './outpoint.js';

describe('hashKey: one map key per hash', () => {
  it('is 32 characters, one per byte in internal order', () => {
    fc.assert(
      fc.property(arbHash256, (hash) => {
        const key = hashKey(hash);
        assert.equal(key.length, 32);
        for (let i = 0; i < 32; i++) assert.equal(key.charCodeAt(i), hash[i], `character ${i}`);
      }),
    );
  });

  it('two hashes get the same key exactly when their bytes are equal', () => {
    fc.assert(
      fc.property(arbHash256, arbHash256, (a, b) => {
        assert.equal(hashKey(a) === hashKey(b), bytesEqual(a, b));
      }),
    );
  });

  it('reads a view at its offset (a hash inside a larger buffer) and refuses anything but 32 bytes', () => {
    const buffer = Uint8Array.from({ length: 64 }, (_, i) => i);
    assert.equal(hashKey(buffer.subarray(16, 48)), hashKey(Uint8Array.from({ length: 32 }, (_, i) => i + 16)));
    assert.throws(() => hashKey(new Uint8Array(31)), RangeError);
    assert.throws(() => hashKey(new Uint8Array(33)), RangeError);
  });

  it('gives the same key for the same bytes in a Buffer, a plain view and shared memory (the workers\' hash buffers)', () => {
    fc.assert(
      fc.property(arbHash256, fc.integer({ min: 0, max: 40 }), (hash, offset) => {
        const shared = new Uint8Array(new SharedArrayBuffer(offset + 32), offset, 32);
        shared.set(hash);
        const plain = new Uint8Array(offset + 32).subarray(offset);
        plain.set(hash);
        const expected = Buffer.from(hash).toString('latin1');
        assert.equal(hashKey(shared), expected);
        assert.equal(hashKey(plain), expected);
        assert.equal(hashKey(Buffer.from(hash)), expected);
      }),
    );
  });
});

describe('latin1Decode', () => {
  it('is Buffer#toString(\'latin1\') of the same bytes, for any length and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 20 }), (bytes, offset) => {
        const view = new Uint8Array(offset + bytes.length).subarray(offset);
        view.set(bytes);
        const decoded = latin1Decode(view);
        assert.equal(decoded, Buffer.from(bytes).toString('latin1'));
        assert.equal(decoded.length, bytes.length);
      }),
    );
  });
});

describe('outpointKey', () => {
  it('equal keys exactly for equal outpoints; the first 32 characters are the txid key', () => {
    fc.assert(
      fc.property(arbOutpoint, arbOutpoint, (a, b) => {
        const same = bytesEqual(a.txid, b.txid) && a.index === b.index;
        assert.equal(outpointKey(a) === outpointKey(b), same);
        assert.equal(txidKeyOf(outpointKey(a)), hashKey(a.txid));
        assert.equal(outpointKey(a), `${hashKey(a.txid)}:${a.index}`);
        assert.equal(outpointKeyOf(hashKey(a.txid), a.index), outpointKey(a));
      }),
    );
  });

  it('a txid whose bytes spell ":<digits>" cannot collide with another index (the txid part has a fixed length)', () => {
    fc.assert(
      fc.property(arbTxid, fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (txid, i, j) => {
        assert.equal(outpointKey({ txid, index: i }) === outpointKey({ txid, index: j }), i === j);
      }),
    );
  });
});

describe('identities at the edges', () => {
  it('txidFromHex / blockHashFromHex / wtxidFromHex reverse the display hex; hashToHex gives it back', () => {
    const hex = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    for (const parse of [txidFromHex, wtxidFromHex, blockHashFromHex]) {
      const hash = parse(hex);
      assert.equal(hash[0], 0x1f);
      assert.equal(hash[31], 0x00);
      assert.equal(hashToHex(hash), hex);
      assert.equal(hashToHex(parse(hex.toUpperCase())), hex);
    }
    for (const bad of ['', '00', 'zz'.repeat(32), '0'.repeat(63), '0'.repeat(65)]) {
      assert.throws(() => txidFromHex(bad), (err: unknown) => err instanceof DecodeError && err.code === 'bad-hash', bad);
    }
  });

  it('decodeTxid / decodeWtxid / decodeBlockHash copy exactly 32 bytes and refuse other lengths', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i);
    for (const decode of [decodeTxid, decodeWtxid, decodeBlockHash]) {
      const hash = decode(bytes);
      assert.deepEqual(hash, bytes);
      assert.notEqual(hash.buffer, bytes.buffer, 'a copy, not a view');
      for (const length of [0, 31, 33]) {
        assert.throws(() => decode(new Uint8Array(length)), (err: unknown) => err instanceof DecodeError && err.code === 'bad-hash-length');
      }
    }
  });
});
