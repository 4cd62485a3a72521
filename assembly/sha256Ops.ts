/**
 * SHA-256 building blocks (FIPS 180-4 section 4.1.2) for the miner kernel: the scalar u32 forms, used once per job,
 * and the i32x4 forms, which hash four headers at once (one header per 32-bit lane).
 * Every helper is inlined, so the generated rounds compile to straight-line SIMD code with no calls.
 */

// Each function XORs six (or five) shifted copies of x. They are written as two chains, right shifts and left shifts,
// each feeding the next shift with the previous result (for Σ1: ((x >>> 14 ^ x) >>> 5 ^ x) >>> 6 = x >>> 25 ^
// x >>> 11 ^ x >>> 6), not as three independent rotations: the same 11 (or 9) operations, but at most a few
// temporaries live at once, so V8 spills fewer SIMD registers in the unrolled rounds (measured ~1.3x faster).

/** Σ0 of each lane: ROTR^2 ^ ROTR^13 ^ ROTR^22. */
// @ts-ignore: decorator
@inline export function bsig0(x: v128): v128 {
  const r = i32x4.shr_u(v128.xor(i32x4.shr_u(v128.xor(i32x4.shr_u(x, 9), x), 11), x), 2);
  const l = i32x4.shl(v128.xor(i32x4.shl(v128.xor(i32x4.shl(x, 11), x), 9), x), 10);
  return v128.xor(r, l);
}

/** Σ1 of each lane: ROTR^6 ^ ROTR^11 ^ ROTR^25. */
// @ts-ignore: decorator
@inline export function bsig1(x: v128): v128 {
  const r = i32x4.shr_u(v128.xor(i32x4.shr_u(v128.xor(i32x4.shr_u(x, 14), x), 5), x), 6);
  const l = i32x4.shl(v128.xor(i32x4.shl(v128.xor(i32x4.shl(x, 5), x), 14), x), 7);
  return v128.xor(r, l);
}

/** σ0 of each lane: ROTR^7 ^ ROTR^18 ^ SHR^3. */
// @ts-ignore: decorator
@inline export function ssig0(x: v128): v128 {
  const r = i32x4.shr_u(v128.xor(i32x4.shr_u(v128.xor(i32x4.shr_u(x, 11), x), 4), x), 3);
  const l = i32x4.shl(v128.xor(i32x4.shl(x, 11), x), 14);
  return v128.xor(r, l);
}

/** σ1 of each lane: ROTR^17 ^ ROTR^19 ^ SHR^10. */
// @ts-ignore: decorator
@inline export function ssig1(x: v128): v128 {
  const r = i32x4.shr_u(v128.xor(i32x4.shr_u(v128.xor(i32x4.shr_u(x, 2), x), 7), x), 10);
  const l = i32x4.shl(v128.xor(i32x4.shl(x, 2), x), 13);
  return v128.xor(r, l);
}

/** Σ0 of one word. */
// @ts-ignore: decorator
@inline export function bsig0s(x: u32): u32 {
  return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22);
}

/** Σ1 of one word. */
// @ts-ignore: decorator
@inline export function bsig1s(x: u32): u32 {
  return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25);
}

/** σ0 of one word. */
// @ts-ignore: decorator
@inline export function ssig0s(x: u32): u32 {
  return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);
}

/** σ1 of one word. */
// @ts-ignore: decorator
@inline export function ssig1s(x: u32): u32 {
  return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10);
}
