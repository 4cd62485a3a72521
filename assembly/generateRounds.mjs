#!/usr/bin/env node
/**
 * Generates assembly/sha256dRounds.ts, the unrolled SIMD rounds of the miner kernel, by running sha256d of an 80-byte
 * header symbolically. Each 32-bit word is a compile-time number, a per-job scalar (known once the job is set: the
 * midstate and header words 16..18) or a per-lane vector (anything that depends on the nonce). Operations on numbers
 * are folded here, operations on per-job scalars are emitted into `setJobConstants` (run once per job), and only what
 * depends on the nonce is emitted as i32x4 code. Identical operations are shared (so Maj reuses the previous round's
 * a ^ b), and only what the outputs need is emitted (so the top-word variant stops after the e of round 60).
 *
 *   node assembly/generateRounds.mjs           rewrites assembly/sha256dRounds.ts
 *   node assembly/generateRounds.mjs --check   exits 1 when the file differs from what this script generates
 *
 * The output is committed; `npm run build` compiles it with asc and does not run this script.
 */
import { readFileSync, writeFileSync } from 'node:fs';

// FIPS 180-4 section 4.2.2 and 5.3.3.
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const rotr = (x, n) => ((x >>> n) | (x << (32 - n))) >>> 0;
const FOLD = {
  add: (a, b) => (a + b) >>> 0,
  xor: (a, b) => (a ^ b) >>> 0,
  and: (a, b) => (a & b) >>> 0,
  bsig0: (x) => (rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22)) >>> 0,
  bsig1: (x) => (rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25)) >>> 0,
  ssig0: (x) => (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) >>> 0,
  ssig1: (x) => (rotr(x, 17) ^ rotr(x, 19) ^ (x >>> 10)) >>> 0,
};
const COMMUTATIVE = new Set(['add', 'xor', 'and']);

/**
 * The expression graph. A node is { id, kind: 'j' (per-job scalar) | 'v' (vector), op, args, label }; a scalar operand
 * is a number or a 'j' node. Nodes are hash-consed, so building the same operation twice returns one node.
 */
class Graph {
  nodes = [];
  memo = new Map();
  label = '';

  node(kind, op, args, name) {
    const keys = args.map((a) => (typeof a === 'number' ? `#${a}` : `n${a.id}`));
    if (COMMUTATIVE.has(op)) keys.sort();
    const key = `${kind}:${op}:${name ?? ''}:${keys.join(',')}`;
    let n = this.memo.get(key);
    if (n === undefined) {
      n = { id: this.nodes.length, kind, op, args, name, label: this.label };
      this.nodes.push(n);
      this.memo.set(key, n);
    }
    return n;
  }

  /** A scalar operation: folded when every operand is a number, else a per-job node. */
  scalar(op, ...args) {
    if (args.every((a) => typeof a === 'number')) return FOLD[op](...args);
    if (op === 'add' || op === 'xor') {
      if (args[0] === 0) return args[1];
      if (args[1] === 0) return args[0];
    }
    if (op === 'and' && (args[0] === 0 || args[1] === 0)) return 0;
    return this.node('j', op, args);
  }

  /** An operation on scalars and vectors: scalar when no operand is a vector, else a vector node (scalars splatted). */
  op(op, ...args) {
    if (args.every((a) => typeof a === 'number' || a.kind === 'j')) return this.scalar(op, ...args);
    if (op === 'and' && args.some((a) => a === 0)) return 0;
    const vargs = args.map((a) => (typeof a === 'number' || a.kind === 'j' ? this.node('v', 'splat', [a]) : a));
    if ((op === 'add' || op === 'xor') && args.some((a) => a === 0)) return args.find((a) => a !== 0);
    return this.node('v', op, vargs);
  }
}

/**
 * A 32-bit word as vector part + scalar part ({ v: vector node | null, s: number | job node }): additions keep the
 * scalar part aside, so constants and per-job terms of a sum are folded into one before they reach a vector.
 */
function word(g) {
  const value = (v, s) => ({ v, s });
  const add = (x, y) => value(
    x.v !== null && y.v !== null ? g.op('add', x.v, y.v) : (x.v ?? y.v),
    g.scalar('add', x.s, y.s),
  );
  const mat = (x) => (x.v === null ? x.s : x.s === 0 ? x.v : g.op('add', x.v, x.s));
  const fromOperand = (r) => (typeof r === 'number' || r.kind === 'j' ? value(null, r) : value(r, 0));
  const op = (name, ...xs) => fromOperand(g.op(name, ...xs.map(mat)));
  /** Materialized: the scalar part added in, so later nonlinear uses do not each add it again. */
  const solid = (x) => fromOperand(mat(x));
  return { value, add, mat, op, solid };
}

/** One SHA-256 round on state [a..h] with schedule word w; returns the next state. */
function round(g, W, st, i, w) {
  const [a, b, c, d, e, f, gg, h] = st;
  g.label = `round ${i}`;
  const ch = W.op('xor', gg, W.op('and', e, W.op('xor', f, gg)));
  // Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)); b ^ c is the previous round's a ^ b (shared by the graph).
  const maj = W.op('xor', b, W.op('and', W.op('xor', a, b), W.op('xor', b, c)));
  const t1 = W.solid(W.add(W.add(W.add(W.add(h, w), W.value(null, K[i])), ch), W.op('bsig1', e)));
  const t2 = W.add(W.op('bsig0', a), maj);
  return [W.solid(W.add(t1, t2)), a, b, c, W.solid(W.add(d, t1)), e, f, gg];
}

/** Runs one compression of `block` (16 words) from `state`; the schedule words are built as the rounds need them. */
function compress(g, W, state, block) {
  const w = block.slice();
  let st = state;
  for (let i = 0; i < 64; i++) {
    if (i >= 16) {
      g.label = `schedule ${i}`;
      w[i] = W.add(W.add(W.add(w[i - 16], w[i - 7]), W.op('ssig0', w[i - 15])), W.op('ssig1', w[i - 2]));
    }
    st = round(g, W, st, i, w[i]);
  }
  return st;
}

/** Builds sha256d of the header's second chunk and returns the graph with the two output sets. */
function build() {
  const g = new Graph();
  const W = word(g);
  const num = (n) => W.value(null, n);
  const mid = Array.from({ length: 8 }, (_, k) => W.value(null, g.node('j', 'in', [], `mid${k}`)));
  // Second chunk of the header: merkle root tail, time, bits, nonce (big-endian words), then padding for 80 bytes.
  const block1 = [
    W.value(null, g.node('j', 'in', [], 'w0')),
    W.value(null, g.node('j', 'in', [], 'w1')),
    W.value(null, g.node('j', 'in', [], 'w2')),
    W.value(g.node('v', 'in', [], 'nonceWords'), 0),
    num(0x80000000), num(0), num(0), num(0), num(0), num(0), num(0), num(0), num(0), num(0), num(0), num(640),
  ];
  const st1 = compress(g, W, mid, block1);
  g.label = 'first hash output';
  const hash1 = st1.map((x, k) => W.add(x, mid[k]));
  // Second hash: one chunk, the 32-byte first hash then padding for 32 bytes.
  const block2 = [...hash1, num(0x80000000), num(0), num(0), num(0), num(0), num(0), num(0), num(256)];
  const st2 = compress(g, W, IV.map(num), block2);
  g.label = 'output';
  const digest = st2.map((x, k) => W.mat(W.add(x, num(IV[k]))));
  return { g, top: digest[7], digest };
}

const hex = (n) => `0x${n.toString(16).padStart(8, '0')}`;
const V_OPS = { add: 'i32x4.add', xor: 'v128.xor', and: 'v128.and', bsig0: 'bsig0', bsig1: 'bsig1', ssig0: 'ssig0', ssig1: 'ssig1' };
const S_OPS = { bsig0: 'bsig0s', bsig1: 'bsig1s', ssig0: 'ssig0s', ssig1: 'ssig1s' };

/** Nodes reachable from the outputs, in creation order (operands before users). */
function reachable(g, outputs) {
  const seen = new Set();
  const stack = outputs.filter((o) => typeof o !== 'number');
  while (stack.length > 0) {
    const n = stack.pop();
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    for (const a of n.args) if (typeof a !== 'number') stack.push(a);
  }
  return g.nodes.filter((n) => seen.has(n.id));
}

/**
 * Emits the vector nodes that the outputs need as the statements of one function body: a node used more than once
 * becomes a local, one used once is written inline.
 */
function emitVector(nodes, outputs, splatExpr) {
  const uses = new Map();
  for (const n of nodes) for (const a of n.args) if (typeof a !== 'number') uses.set(a.id, (uses.get(a.id) ?? 0) + 1);
  for (const o of outputs) uses.set(o.id, (uses.get(o.id) ?? 0) + 2);
  const lines = [];
  let label = '';
  const expr = (n) => {
    if (n.op === 'in') return n.name;
    if (n.op === 'splat') return splatExpr(n);
    if ((uses.get(n.id) ?? 0) > 1) return `x${n.id}`;
    return `${V_OPS[n.op]}(${n.args.map(expr).join(', ')})`;
  };
  for (const n of nodes) {
    if (n.kind !== 'v' || n.op === 'in' || n.op === 'splat' || (uses.get(n.id) ?? 0) <= 1) continue;
    if (n.label !== label) {
      label = n.label;
      lines.push(`  // ${label}`);
    }
    lines.push(`  const x${n.id} = ${V_OPS[n.op]}(${n.args.map(expr).join(', ')});`);
  }
  return { lines, expr };
}

function generate() {
  const { g, top, digest } = build();
  const topNodes = reachable(g, [top]);
  const fullNodes = reachable(g, digest);
  // Every splatted operand (a number or a per-job scalar) gets a v128 slot in the CONSTANTS table, filled by
  // setJobConstants, so the rounds read it with one load instead of building the vector each time.
  const slotOf = new Map();
  const splats = [];
  for (const n of [...topNodes, ...fullNodes]) {
    if (n.op === 'splat' && !slotOf.has(n.id)) {
      slotOf.set(n.id, splats.length);
      splats.push(n.args[0]);
    }
  }
  const splatExpr = (n) => `v128.load(CONSTANTS, ${16 * slotOf.get(n.id)})`;
  const jobNodes = reachable(g, splats.filter((a) => typeof a !== 'number')).filter((n) => n.kind === 'j');
  const sexpr = (a) => (typeof a === 'number' ? `<u32>${hex(a)}` : a.op === 'in' ? a.name : `j${a.id}`);
  const scalarExpr = (n) => {
    if (n.op === 'add') return `${sexpr(n.args[0])} + ${sexpr(n.args[1])}`;
    if (n.op === 'xor') return `${sexpr(n.args[0])} ^ ${sexpr(n.args[1])}`;
    if (n.op === 'and') return `${sexpr(n.args[0])} & ${sexpr(n.args[1])}`;
    return `${S_OPS[n.op]}(${sexpr(n.args[0])})`;
  };

  const out = [];
  out.push('// GENERATED by assembly/generateRounds.mjs: do not edit; change the generator and rerun it.');
  out.push('// sha256d of an 80-byte block header, four nonces at a time (one per i32x4 lane), from the midstate.');
  out.push('// Words that do not depend on the nonce were folded by the generator (numbers) or are computed once per job');
  out.push('// by setJobConstants; the rest is straight-line SIMD code.');
  out.push("import { bsig0, bsig0s, bsig1, bsig1s, ssig0, ssig0s, ssig1, ssig1s } from './sha256Ops';");
  out.push('');
  out.push('/** The splatted operands of the rounds (numbers and per-job words), one v128 each, set by setJobConstants. */');
  out.push(`const CONSTANTS: usize = memory.data(${16 * splats.length}, 16);`);
  out.push('');
  out.push('/**');
  out.push(' * Computes the per-job constants from the midstate (the state after the header\'s first 64 bytes) and header words');
  out.push(' * 16..18 (merkle root tail, time, bits as big-endian words). Call before sha256dTopWord / sha256dLanes.');
  out.push(' */');
  out.push('export function setJobConstants(');
  out.push('  mid0: u32, mid1: u32, mid2: u32, mid3: u32, mid4: u32, mid5: u32, mid6: u32, mid7: u32,');
  out.push('  w0: u32, w1: u32, w2: u32,');
  out.push('): void {');
  for (const n of jobNodes) {
    if (n.op === 'in') continue;
    out.push(`  const j${n.id}: u32 = ${scalarExpr(n)};`);
  }
  splats.forEach((a, k) => out.push(`  v128.store(CONSTANTS, i32x4.splat(${sexpr(a)}), ${16 * k});`));
  out.push('}');
  out.push('');

  const topBody = emitVector(topNodes, [top], splatExpr);
  out.push('/**');
  out.push(' * The last digest word (H7, big-endian as SHA-256 outputs it) of sha256d for the four nonces whose byte-swapped');
  out.push(' * values are the lanes of nonceWords. H7 holds the hash\'s most significant 32 bits, so it alone can rule a');
  out.push(' * nonce out; the final rounds that only feed H0..H6 are not computed.');
  out.push(' */');
  out.push('export function sha256dTopWord(nonceWords: v128): v128 {');
  out.push(...topBody.lines);
  out.push(`  return ${topBody.expr(top)};`);
  out.push('}');
  out.push('');

  const fullBody = emitVector(fullNodes, digest, splatExpr);
  out.push('/**');
  out.push(' * The whole sha256d digest for the four nonces of nonceWords (as sha256dTopWord), written at `out` as 8 v128:');
  out.push(' * vector k holds digest word k (big-endian) of lane 0..3.');
  out.push(' */');
  out.push('export function sha256dLanes(nonceWords: v128, out: usize): void {');
  out.push(...fullBody.lines);
  digest.forEach((d, k) => out.push(`  v128.store(out, ${fullBody.expr(d)}, ${16 * k});`));
  out.push('}');
  out.push('');
  return out.join('\n');
}

const target = new URL('./sha256dRounds.ts', import.meta.url);
const text = generate();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as different
  }
  if (current !== text) {
    console.error('assembly/sha256dRounds.ts is out of date: run `node assembly/generateRounds.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
