/**
 * cairn's miner kernel: searches a nonce range for a block header whose sha256d is at or below the target.
 * Compiled by `npm run build` (asc --enable simd -O3 --runtime stub) to build/sha256d.wasm; loaded by
 * src/mining/sha256dKernel.ts.
 *
 * Per job (setJob) the first 64 header bytes are hashed once (the midstate) and everything that does not depend on
 * the nonce is precomputed (setJobConstants, generated). scan() then hashes four nonces per pass, one per i32x4 lane
 * (sha256dTopWord, generated): it computes only the hash's most significant 32 bits, and a lane whose top word is at
 * or below the target's top word is checked again in full (a scalar sha256d and a 256-bit compare), so the answer is
 * exact.
 *
 * Memory layout (byte offsets given by the exported *Ptr functions; all words little-endian u32):
 *   headerPtr()  80 bytes  the job's block header as serialized (the nonce bytes 76..79 are ignored by scan)
 *   targetPtr()  32 bytes  the target as 8 u32 words, most significant word first: word i = target >> (32 * (7 - i))
 *   outPtr()    128 bytes  results: hashHeader writes one 32-byte digest, hashLanes four (lane i at 32 * i);
 *                          digests in SHA-256 output byte order (internal byte order, as node:crypto returns them)
 */
import { bsig0s, bsig1s, ssig0s, ssig1s } from './sha256Ops';
import { setJobConstants, sha256dLanes, sha256dTopWord } from './sha256dRounds';

const HEADER: usize = memory.data(80, 16);
const TARGET: usize = memory.data(32, 16);
const OUT: usize = memory.data(128, 16);
/** 8 v128 written by sha256dLanes: vector k holds digest word k of the four lanes. */
const LANES: usize = memory.data(128, 16);
/** Scalar scratch: the 64-word message schedule, a working state and the first hash of a header. */
const SCHEDULE: usize = memory.data(256, 16);
const STATE: usize = memory.data(32, 16);
const HASH1: usize = memory.data(32, 16);
/** The job's midstate (8 words), set by setJob. */
const MIDSTATE: usize = memory.data(32, 16);

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV: StaticArray<u32> = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** Lane i scans nonce start + i. */
const LANE_OFFSETS: v128 = i32x4(0, 1, 2, 3);
/** Byte-swaps each 32-bit lane (SHA-256 reads big-endian words; the header and the hash are little-endian). */
const BSWAP_LANES: v128 = i8x16(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);

/** The target's most significant 32 bits, set by setJob. */
let targetTop: u32 = 0;
/** Header words 16..18 (big-endian): merkle root tail, time, bits; set by setJob. */
let jobW16: u32 = 0;
let jobW17: u32 = 0;
let jobW18: u32 = 0;

/** Address of the 80-byte header buffer. */
export function headerPtr(): usize {
  return HEADER;
}

/** Address of the 8-word target buffer. */
export function targetPtr(): usize {
  return TARGET;
}

/** Address of the 128-byte result buffer. */
export function outPtr(): usize {
  return OUT;
}

// @ts-ignore: decorator
@inline function headerWord(i: usize): u32 {
  return bswap<u32>(load<u32>(HEADER + (i << 2)));
}

/** SHA-256 compression of the 16 words at SCHEDULE into the 8-word state at `state` (scalar). */
function compress(state: usize): void {
  for (let i: usize = 16; i < 64; i++) {
    const w = ssig1s(load<u32>(SCHEDULE + ((i - 2) << 2))) + load<u32>(SCHEDULE + ((i - 7) << 2)) +
      ssig0s(load<u32>(SCHEDULE + ((i - 15) << 2))) + load<u32>(SCHEDULE + ((i - 16) << 2));
    store<u32>(SCHEDULE + (i << 2), w);
  }
  let a = load<u32>(state, 0);
  let b = load<u32>(state, 4);
  let c = load<u32>(state, 8);
  let d = load<u32>(state, 12);
  let e = load<u32>(state, 16);
  let f = load<u32>(state, 20);
  let g = load<u32>(state, 24);
  let h = load<u32>(state, 28);
  for (let i: i32 = 0; i < 64; i++) {
    const t1 = h + bsig1s(e) + ((e & f) ^ (~e & g)) + unchecked(K[i]) + load<u32>(SCHEDULE + (<usize>i << 2));
    const t2 = bsig0s(a) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  store<u32>(state, load<u32>(state, 0) + a, 0);
  store<u32>(state, load<u32>(state, 4) + b, 4);
  store<u32>(state, load<u32>(state, 8) + c, 8);
  store<u32>(state, load<u32>(state, 12) + d, 12);
  store<u32>(state, load<u32>(state, 16) + e, 16);
  store<u32>(state, load<u32>(state, 20) + f, 20);
  store<u32>(state, load<u32>(state, 24) + g, 24);
  store<u32>(state, load<u32>(state, 28) + h, 28);
}

function loadIv(state: usize): void {
  for (let k = 0; k < 8; k++) store<u32>(state + (<usize>k << 2), unchecked(IV[k]));
}

/**
 * Scalar sha256d of a header given its midstate and the big-endian words 16..19; the digest words (big-endian
 * values, H0..H7) are left at STATE.
 */
function sha256dFromMidstate(mid: usize, w16: u32, w17: u32, w18: u32, w19: u32): void {
  memory.copy(HASH1, mid, 32);
  store<u32>(SCHEDULE, w16, 0);
  store<u32>(SCHEDULE, w17, 4);
  store<u32>(SCHEDULE, w18, 8);
  store<u32>(SCHEDULE, w19, 12);
  store<u32>(SCHEDULE, 0x80000000, 16);
  for (let i: usize = 5; i < 15; i++) store<u32>(SCHEDULE + (i << 2), 0);
  store<u32>(SCHEDULE, 640, 60);
  compress(HASH1);
  memory.copy(SCHEDULE, HASH1, 32);
  store<u32>(SCHEDULE, 0x80000000, 32);
  for (let i: usize = 9; i < 15; i++) store<u32>(SCHEDULE + (i << 2), 0);
  store<u32>(SCHEDULE, 256, 60);
  loadIv(STATE);
  compress(STATE);
}

/** The midstate of the header at HEADER, written at `mid`. */
function computeMidstate(mid: usize): void {
  for (let i: usize = 0; i < 16; i++) store<u32>(SCHEDULE + (i << 2), headerWord(i));
  loadIv(mid);
  compress(mid);
}

/** Whether the digest at STATE, read as a little-endian 256-bit number, is at or below the target (full compare). */
function digestMeetsTarget(): bool {
  for (let i: usize = 0; i < 8; i++) {
    // Word i of the number from the top is digest word 7 - i, byte-swapped.
    const h = bswap<u32>(load<u32>(STATE + ((7 - i) << 2)));
    const t = load<u32>(TARGET + (i << 2));
    if (h != t) return h < t;
  }
  return true;
}

/**
 * Sets the job from the header and target buffers: computes the midstate and the per-job constants.
 * Call again whenever the header (other than its nonce) or the target changes.
 */
export function setJob(): void {
  computeMidstate(MIDSTATE);
  jobW16 = headerWord(16);
  jobW17 = headerWord(17);
  jobW18 = headerWord(18);
  targetTop = load<u32>(TARGET);
  setJobConstants(
    load<u32>(MIDSTATE, 0), load<u32>(MIDSTATE, 4), load<u32>(MIDSTATE, 8), load<u32>(MIDSTATE, 12),
    load<u32>(MIDSTATE, 16), load<u32>(MIDSTATE, 20), load<u32>(MIDSTATE, 24), load<u32>(MIDSTATE, 28),
    jobW16, jobW17, jobW18,
  );
}

/** Whether the job's header with this nonce meets the target: a scalar sha256d and a full 256-bit compare. */
function nonceMeetsTarget(nonce: u32): bool {
  sha256dFromMidstate(MIDSTATE, jobW16, jobW17, jobW18, bswap<u32>(nonce));
  return digestMeetsTarget();
}

/**
 * Returns the first nonce in [start, start + count) whose header hash is at or below the target, or -1.
 * Precondition: setJob was called; start + count <= 2^32 (the caller splits the range).
 */
export function scan(start: u32, count: u32): i64 {
  const end: u64 = <u64>start + <u64>count;
  const top = i32x4.splat(targetTop);
  for (let n: u64 = start; n < end; n += 4) {
    const nonces = i32x4.add(i32x4.splat(<i32>n), LANE_OFFSETS);
    const h7 = sha256dTopWord(i8x16.swizzle(nonces, BSWAP_LANES));
    const candidates = i32x4.le_u(i8x16.swizzle(h7, BSWAP_LANES), top);
    if (v128.any_true(candidates)) {
      v128.store(LANES, candidates);
      for (let lane: u64 = 0; lane < 4; lane++) {
        const nonce = n + lane;
        if (nonce >= end) break;
        if (load<u32>(LANES + (<usize>lane << 2)) != 0 && nonceMeetsTarget(<u32>nonce)) return <i64>nonce;
      }
    }
  }
  return -1;
}

/**
 * Debug/test export: the sha256d digests of the job's header with nonces start .. start + 3 through the SIMD path,
 * written at OUT (lane i at OUT + 32 * i, SHA-256 output byte order). Precondition: setJob was called.
 */
export function hashLanes(start: u32): void {
  const nonces = i32x4.add(i32x4.splat(start), LANE_OFFSETS);
  sha256dLanes(i8x16.swizzle(nonces, BSWAP_LANES), LANES);
  for (let lane: usize = 0; lane < 4; lane++) {
    for (let k: usize = 0; k < 8; k++) {
      store<u32>(OUT + (lane << 5) + (k << 2), bswap<u32>(load<u32>(LANES + (k << 4) + (lane << 2))));
    }
  }
}

/**
 * The sha256d digest of the header at HEADER (its own nonce) through the scalar path, written at OUT. Does not change
 * the job set by setJob.
 */
export function hashHeader(): void {
  computeMidstate(STATE);
  sha256dFromMidstate(STATE, headerWord(16), headerWord(17), headerWord(18), headerWord(19));
  for (let k: usize = 0; k < 8; k++) store<u32>(OUT + (k << 2), bswap<u32>(load<u32>(STATE + (k << 2))));
}
