import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeBlockHeader, computeBlockHash } from '../primitives/blockHeader.js';
import { hexToBytes } from '../primitives/hex.js';
import { readVectorText, VectorTally } from '../testing/vectors.js';
import {
  bitsToTarget,
  checkProofOfWork,
  computeWork,
  deriveTarget,
  hashToBigInt,
  targetToBits,
  targetToHex,
} from './pow.js';

/** Bitcoin mainnet powLimit, Core kernel/chainparams.cpp: uint256{"00000000ffff...ff"}. */
const BITCOIN_POW_LIMIT = BigInt('0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff');

/** A 256-bit number as a hash in internal (little-endian) byte order, like Core's ArithToUint256. */
function bigIntToHash(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/**
 * bitcoin/bitcoin @ 03b645bfdbae164bc1f9157b505255eb68af1c02 src/test/arith_uint256_tests.cpp, BOOST_AUTO_TEST_CASE(bignum_SetCompact):
 * [nCompact, GetHex() after SetCompact, GetCompact(negative) round trip, negative flag given to GetCompact, fNegative, fOverflow].
 */
const CORE_SET_COMPACT: [number, string, number, boolean, boolean, boolean][] = [
  [0x00000000, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x00123456, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x01003456, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x02000056, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x03000000, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x04000000, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x00923456, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x01803456, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x02800056, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x03800000, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x04800000, '0000000000000000000000000000000000000000000000000000000000000000', 0, false, false, false],
  [0x01123456, '0000000000000000000000000000000000000000000000000000000000000012', 0x01120000, false, false, false],
  [0x01fedcba, '000000000000000000000000000000000000000000000000000000000000007e', 0x01fe0000, true, true, false],
  [0x02123456, '0000000000000000000000000000000000000000000000000000000000001234', 0x02123400, false, false, false],
  [0x03123456, '0000000000000000000000000000000000000000000000000000000000123456', 0x03123456, false, false, false],
  [0x04123456, '0000000000000000000000000000000000000000000000000000000012345600', 0x04123456, false, false, false],
  [0x04923456, '0000000000000000000000000000000000000000000000000000000012345600', 0x04923456, true, true, false],
  [0x05009234, '0000000000000000000000000000000000000000000000000000000092340000', 0x05009234, false, false, false],
  [0x20123456, '1234560000000000000000000000000000000000000000000000000000000000', 0x20123456, false, false, false],
];

test('bitsToTarget/targetToBits match Core arith_uint256 bignum_SetCompact', () => {
  for (const [bits, hex, back, askNegative, negative, overflow] of CORE_SET_COMPACT) {
    const d = bitsToTarget(bits);
    const label = `0x${bits.toString(16)}`;
    assert.equal(targetToHex(d.target), hex, label);
    assert.equal(d.negative, negative, `${label} negative`);
    assert.equal(d.overflow, overflow, `${label} overflow`);
    assert.equal(targetToBits(d.target, askNegative), back, `${label} GetCompact`);
  }
  // "Make sure that we don't generate compacts with the 0x00800000 bit set": num = 0x80 -> 0x02008000.
  assert.equal(targetToBits(0x80n), 0x02008000);
  const big = bitsToTarget(0xff123456);
  assert.equal(big.negative, false);
  assert.equal(big.overflow, true);
});

test('bits/target cases from bcoin test/consensus-test.js', () => {
  // bcoin-org/bcoin test/consensus-test.js: 'should convert bits to target' / 'target to bits' / toCompact(1).
  const t = BigInt('0x0000000000000000896c00000000000000000000000000000000000000000000');
  assert.equal(bitsToTarget(0x1900896c).target, t);
  assert.equal(targetToBits(t), 0x1900896c);
  assert.equal(targetToBits(1n), 16842752);
  assert.equal(bitsToTarget(0x01000000).target, 0n);
  assert.equal(targetToBits(0n), 0);
  // 'should verify proof-of-work': hash bytes as given (internal order) meet bits 0x1900896c.
  const hash = hexToBytes('672b3f1bb11a994267ea4171069ba0aa4448a840f38e8f340000000000000000');
  assert.equal(checkProofOfWork(hash, 0x1900896c, BITCOIN_POW_LIMIT), true);
  assert.equal(checkProofOfWork(hash, 0, BITCOIN_POW_LIMIT), false);
  assert.equal(checkProofOfWork(hash, (0x1d00ffff * 2) >>> 0, BITCOIN_POW_LIMIT), false);
});

test('checkProofOfWork matches Core pow_tests CheckProofOfWork_test_*', () => {
  // bitcoin/bitcoin @ 01a06a19ac701a19b01de51e2b2f0e452e819a8b src/test/pow_tests.cpp, mainnet consensus.
  const one = bigIntToHash(1n);
  assert.equal(checkProofOfWork(one, targetToBits(BITCOIN_POW_LIMIT, true), BITCOIN_POW_LIMIT), false, 'negative_target');
  assert.equal(checkProofOfWork(one, ~0x00800000 >>> 0, BITCOIN_POW_LIMIT), false, 'overflow_target');
  assert.equal(checkProofOfWork(one, targetToBits(BITCOIN_POW_LIMIT * 2n), BITCOIN_POW_LIMIT), false, 'too_easy_target');
  const limitBits = targetToBits(BITCOIN_POW_LIMIT);
  assert.equal(checkProofOfWork(bigIntToHash(BITCOIN_POW_LIMIT * 2n), limitBits, BITCOIN_POW_LIMIT), false, 'biger_hash');
  assert.equal(checkProofOfWork(one, targetToBits(0n), BITCOIN_POW_LIMIT), false, 'zero_target');
  assert.equal(deriveTarget(~0x00800000 >>> 0, BITCOIN_POW_LIMIT), undefined);
  assert.equal(deriveTarget(0x1d00ffff, BITCOIN_POW_LIMIT), bitsToTarget(0x1d00ffff).target);
});

test('checkProofOfWork on the real mainnet headers 0..255', (t) => {
  const file = 'mainnet/headers-0-255.hex';
  const lines = readVectorText(file).split('\n').filter((l) => l.trim() !== '');
  const tally = new VectorTally(`${file} (proof of work)`);
  lines.forEach((line, height) => {
    const header = decodeBlockHeader(hexToBytes(line.trim()));
    const hash = computeBlockHash(header);
    // Each real header meets its own bits, and fails a target 2^16 times harder.
    const harder = targetToBits(bitsToTarget(header.bits).target >> 16n);
    tally.check(`height ${height}`, {
      'meets its bits': [checkProofOfWork(hash, header.bits, BITCOIN_POW_LIMIT), true],
      'meets bits 2^16 times harder': [checkProofOfWork(hash, harder, BITCOIN_POW_LIMIT), false],
    });
  });
  tally.report(t, 256);
});

test('computeWork is Core GetBlockProof', () => {
  // Genesis chainwork shown by Core's getblockheader: 0000...0100010001.
  assert.equal(computeWork(0x1d00ffff), 0x100010001n);
  assert.equal(computeWork(0), 0n);
  assert.equal(computeWork(0x04923456), 0n, 'negative bits');
  assert.equal(computeWork(0xff123456), 0n, 'overflowing bits');
  // Core computes (~target / (target + 1)) + 1 in 256 bits; the bigint 2^256 / (target + 1) must agree.
  const mask = (1n << 256n) - 1n;
  fc.assert(
    fc.property(fc.integer({ min: 0x03000001, max: 0x207fffff }), (bits) => {
      const { target, negative } = bitsToTarget(bits);
      fc.pre(!negative && target > 0n);
      assert.equal(computeWork(bits), ((mask ^ target) / (target + 1n)) + 1n);
    }),
    { numRuns: 2000 },
  );
});

test('hashToBigInt reads the hash little-endian', () => {
  const h = new Uint8Array(32);
  h[0] = 1;
  h[31] = 0x80;
  assert.equal(hashToBigInt(h), (0x80n << 248n) | 1n);
  assert.throws(() => hashToBigInt(new Uint8Array(31)), RangeError);
});

test('property: compact round trips', () => {
  const target = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
  fc.assert(
    fc.property(target, (t) => {
      const bits = targetToBits(t);
      const d = bitsToTarget(bits);
      assert.equal(d.negative, false);
      assert.equal(d.overflow, false);
      assert.ok(d.target <= t, 'compact encoding truncates, never rounds up');
      // Keeping only the top 3 significant bytes loses less than one unit of the 3rd byte's place.
      const size = bits >>> 24;
      const unit = size > 3 ? 1n << BigInt(8 * (size - 3)) : 1n;
      assert.ok(t - d.target < unit);
      assert.equal(targetToBits(d.target), bits, 'decode then encode is the identity on canonical bits');
    }),
    { numRuns: 2000 },
  );
  // Canonical bits (mantissa top byte non-zero, sign bit clear, size 3..32) decode and re-encode to themselves.
  const canonical = fc
    .tuple(fc.integer({ min: 3, max: 32 }), fc.integer({ min: 0x010000, max: 0x7fffff }))
    .map(([size, mantissa]) => ((size << 24) | mantissa) >>> 0);
  fc.assert(
    fc.property(canonical, (bits) => {
      assert.equal(targetToBits(bitsToTarget(bits).target), bits);
    }),
    { numRuns: 2000 },
  );
});

test('targetToBits and targetToHex refuse out-of-range targets', () => {
  assert.throws(() => targetToBits(-1n), RangeError);
  assert.throws(() => targetToBits(1n << 256n), RangeError);
  assert.throws(() => targetToHex(1n << 256n), RangeError);
  assert.throws(() => bitsToTarget(2 ** 32), RangeError);
});
