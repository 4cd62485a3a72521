import type { Hash256 } from '../primitives/types.js';

/** 2^256: one more than the largest 256-bit number. */
const TWO_256 = 1n << 256n;
/** Mask that reduces a bigint modulo 2^256, as arith_uint256's fixed width does. */
const MASK_256 = TWO_256 - 1n;

/** A decoded compact target: the 256-bit magnitude and Core's two range flags. */
export interface DecodedBits {
  /** The target magnitude, 0 <= target < 2^256 (already reduced modulo 2^256 as arith_uint256 does). */
  readonly target: bigint;
  /** The sign bit 0x00800000 is set and the mantissa is non-zero. */
  readonly negative: boolean;
  /** The mantissa shifted by the exponent does not fit in 256 bits. */
  readonly overflow: boolean;
}

function assertU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be a u32, got ${value}`);
  }
}

/**
 * Decodes compact `bits` (u32: exponent byte, sign bit 0x00800000, 23-bit mantissa) into a target, bit-exact with
 * Core, including its 256-bit truncation of the shifted mantissa and its negative/overflow flags.
 * @throws RangeError when bits is not a u32 (a caller bug: decoded headers always hold a u32)
 * @see Bitcoin Core arith_uint256.cpp arith_uint256::SetCompact
 */
export function bitsToTarget(bits: number): DecodedBits {
  assertU32(bits, 'bits');
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  let target: bigint;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    target = BigInt(word);
  } else {
    // Core shifts inside a fixed 256-bit integer: bits pushed past the top are lost.
    target = (BigInt(word) << BigInt(8 * (size - 3))) & MASK_256;
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0;
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
  return { target, negative, overflow };
}

/**
 * Encodes a target as compact `bits`, bit-exact with Core: the mantissa keeps the top 3 significant bytes (truncating)
 * and never has the sign bit set unless `negative` is asked for (and the mantissa is non-zero).
 * @param target 0 <= target < 2^256
 * @throws RangeError when target is outside [0, 2^256) (a caller bug)
 * @see Bitcoin Core arith_uint256.cpp arith_uint256::GetCompact
 */
export function targetToBits(target: bigint, negative = false): number {
  if (target < 0n || target >= TWO_256) throw new RangeError(`target out of 256-bit range: ${target}`);
  let size = Math.ceil(target.toString(2).length / 8);
  if (target === 0n) size = 0;
  let compact: number;
  if (size <= 3) {
    compact = Number(target << BigInt(8 * (3 - size)));
  } else {
    compact = Number((target >> BigInt(8 * (size - 3))) & 0xffffffffn);
  }
  // The 0x00800000 bit is the sign: move the mantissa down a byte rather than let it read as negative.
  if ((compact & 0x00800000) !== 0) {
    compact >>>= 8;
    size++;
  }
  compact = (compact | (size << 24)) >>> 0;
  if (negative && (compact & 0x007fffff) !== 0) compact = (compact | 0x00800000) >>> 0;
  return compact;
}

/**
 * The expected number of hashes to find a block at these bits: floor(2^256 / (target + 1)). Zero when the bits are
 * negative, overflow or decode to a zero target (such headers fail proof of work anyway). Does not check powLimit.
 * @see Bitcoin Core chain.cpp GetBlockProof
 */
export function computeWork(bits: number): bigint {
  const { target, negative, overflow } = bitsToTarget(bits);
  if (negative || overflow || target === 0n) return 0n;
  return TWO_256 / (target + 1n);
}

/**
 * The target of `bits` when it is in range for a chain with this powLimit, else undefined
 * (negative, zero, overflowing, or easier than powLimit).
 * @see Bitcoin Core pow.cpp DeriveTarget
 */
export function deriveTarget(bits: number, powLimit: bigint): bigint | undefined {
  const { target, negative, overflow } = bitsToTarget(bits);
  if (negative || target === 0n || overflow || target > powLimit) return undefined;
  return target;
}

/**
 * Reads a 32-byte hash in internal byte order as the little-endian 256-bit number Core compares against targets.
 * @throws RangeError when the hash is not 32 bytes (a caller bug)
 * @see Bitcoin Core arith_uint256.cpp UintToArith256
 */
export function hashToBigInt(hash: Hash256): bigint {
  if (hash.length !== 32) throw new RangeError(`hash must be 32 bytes, got ${hash.length}`);
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(hash[i] as number);
  return n;
}

/**
 * Whether the block hash satisfies the proof of work claimed by `bits`: the bits are in range (not negative, not zero,
 * no overflow, not above powLimit) and the hash, as a little-endian number, is <= the target.
 * A failure is Core's `high-hash`.
 * @param blockHash sha256d of the header, internal byte order
 * @see Bitcoin Core pow.cpp CheckProofOfWork / CheckProofOfWorkImpl
 */
export function checkProofOfWork(blockHash: Hash256, bits: number, powLimit: bigint): boolean {
  const target = deriveTarget(bits, powLimit);
  if (target === undefined) return false;
  return hashToBigInt(blockHash) <= target;
}

/**
 * A target as 64 lower-case hex digits, most significant first (the way Core prints arith_uint256 and
 * `getblockheader` shows a target).
 * @throws RangeError when target is outside [0, 2^256)
 * @see Bitcoin Core arith_uint256::GetHex
 */
export function targetToHex(target: bigint): string {
  if (target < 0n || target >= TWO_256) throw new RangeError(`target out of 256-bit range: ${target}`);
  return target.toString(16).padStart(64, '0');
}
