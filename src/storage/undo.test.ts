import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Coin } from '../consensus/utxoView.js';
import { DecodeError } from '../primitives/decodeError.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import { arbSats, arbVarBytes } from '../testing/arbitraries.js';
import { StorageError } from './storageError.js';
import { decodeUndo, encodeUndo, MAX_UNDO_HEIGHT } from './undo.js';

const arbCoin: fc.Arbitrary<Coin> = fc
  .tuple(arbSats, arbVarBytes(), fc.integer({ min: 0, max: MAX_UNDO_HEIGHT }), fc.boolean())
  .map(([value, scriptPubKey, height, isCoinbase]) => ({ output: { value, scriptPubKey }, height, isCoinbase }));

describe('undo data codec', () => {
  test('decodeUndo(encodeUndo(coins)) round-trips and the encoding is canonical', () => {
    fc.assert(
      fc.property(fc.array(arbCoin, { maxLength: 12 }), (coins) => {
        const bytes = encodeUndo(coins);
        const decoded = decodeUndo(bytes);
        assert.deepStrictEqual(decoded, coins);
        assert.deepStrictEqual(encodeUndo(decoded), bytes);
      }),
    );
  });

  test('bytes follow the documented layout: count, then u32 (height*2+coinbase), i64 value, var-bytes script', () => {
    const coins: Coin[] = [
      { output: { value: 1n, scriptPubKey: Uint8Array.of(0xab) }, height: 5, isCoinbase: true },
      { output: { value: -2n, scriptPubKey: new Uint8Array(0) }, height: MAX_UNDO_HEIGHT, isCoinbase: false },
    ];
    const expected =
      '02' +
      '0b000000' + '0100000000000000' + '01ab' + // height 5 * 2 + 1 = 11
      'feffffff' + 'feffffffffffffff' + '00'; // height (2^31 - 1) * 2 + 0, value -2
    assert.equal(bytesToHex(encodeUndo(coins)), expected);
    assert.deepStrictEqual(decodeUndo(hexToBytes(expected)), coins);
    assert.equal(bytesToHex(encodeUndo([])), '00');
  });

  test('every truncation and any trailing byte is a DecodeError', () => {
    fc.assert(
      fc.property(fc.array(arbCoin, { minLength: 1, maxLength: 4 }), (coins) => {
        const bytes = encodeUndo(coins);
        for (let n = 0; n < bytes.length; n++) {
          assert.throws(() => decodeUndo(bytes.subarray(0, n)), DecodeError);
        }
        assert.throws(
          () => decodeUndo(Uint8Array.of(...bytes, 0)),
          (err: unknown) => err instanceof DecodeError && err.code === 'trailing-bytes',
        );
      }),
      { numRuns: 30 },
    );
    // A count larger than the bytes can hold fails before allocating.
    assert.throws(() => decodeUndo(hexToBytes('fe00000001')), DecodeError);
  });

  test('out-of-range coins are refused with StorageError bad-undo', () => {
    const good: Coin = { output: { value: 1n, scriptPubKey: Uint8Array.of(0x51) }, height: 1, isCoinbase: false };
    const bad: Coin[] = [
      { ...good, height: -1 },
      { ...good, height: MAX_UNDO_HEIGHT + 1 },
      { ...good, height: 1.5 },
      { ...good, output: { ...good.output, value: 2n ** 63n } },
      { ...good, output: { ...good.output, value: -(2n ** 63n) - 1n } },
    ];
    for (const coin of bad) {
      assert.throws(
        () => encodeUndo([good, coin]),
        (err: unknown) => err instanceof StorageError && err.code === 'bad-undo',
      );
    }
  });
});
