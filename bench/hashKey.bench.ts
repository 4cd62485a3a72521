/**
 * The one map-key encoding (primitives/hashKey.ts) against the encodings it replaced and the ones it was chosen over:
 * for 32-byte hashes, make the key and look it up in a Map of 100,000 keys (the mempool's byTxid, the block index), and
 * make an outpoint key and test it in a Set (the mempool's spenders, a block's coin view). One core; figures in
 * operations per second and same-run ratios to hashKey.
 * Comparators: display hex (hashToHex, the block index's and mempool's key before), plain hex (Buffer), base64
 * (Buffer), String.fromCharCode over the bytes, TextDecoder('latin1').
 */
import { randomBytes } from 'node:crypto';
import { hashKey } from '../src/primitives/hashKey.js';
import { hashToHex } from '../src/primitives/hex.js';
import { formatRate, measure, type BenchResult } from './harness.js';

/** How many distinct hashes each map holds. */
const HASHES = 100_000;

type Encode = (hash: Uint8Array) => string;

const latin1Decoder = new TextDecoder('latin1');

/** The encodings compared; the first is cairn's hashKey. */
const ENCODINGS: readonly (readonly [string, Encode])[] = [
  ['hashKey (latin1, 32 chars)', (h) => hashKey(h)],
  ['display hex (hashToHex, 64 chars)', (h) => hashToHex(h)],
  ['hex (Buffer, 64 chars)', (h) => Buffer.from(h.buffer, h.byteOffset, 32).toString('hex')],
  ['base64 (Buffer, 44 chars)', (h) => Buffer.from(h.buffer, h.byteOffset, 32).toString('base64')],
  ['String.fromCharCode (32 chars)', (h) => String.fromCharCode(...h)],
  ["TextDecoder('latin1') (32 chars)", (h) => latin1Decoder.decode(h)],
];

/** Runs the map-key comparison and returns its results (also printed). */
export function runHashKeyBench(seconds: number): Record<string, BenchResult> {
  const hashes = Array.from({ length: HASHES }, () => new Uint8Array(randomBytes(32)));
  const results: Record<string, BenchResult> = {};
  const rows: string[] = [];
  let base: { lookup: number; outpoint: number } | undefined;
  for (const [name, encode] of ENCODINGS) {
    const map = new Map<string, number>(hashes.map((h, i) => [encode(h), i]));
    const outpoints = new Set<string>(hashes.map((h, i) => `${encode(h)}:${i & 3}`));
    if (map.size !== HASHES) throw new Error(`${name}: keys collide`);
    let k = 0;
    // A fresh key per lookup, as every caller makes one from the bytes it holds.
    const lookup = measure(`${name}: key + Map.get`, (n) => {
      for (let i = 0; i < n; i++) {
        const index = k++ % HASHES;
        if (map.get(encode(hashes[index]!)) !== index) throw new Error(`${name}: lookup missed`);
      }
    }, seconds);
    const outpoint = measure(`${name}: outpoint key + Set.has`, (n) => {
      for (let i = 0; i < n; i++) {
        const index = k++ % HASHES;
        if (!outpoints.has(`${encode(hashes[index]!)}:${index & 3}`)) throw new Error(`${name}: outpoint missed`);
      }
    }, seconds);
    base ??= { lookup: lookup.opsPerSec, outpoint: outpoint.opsPerSec };
    results[name] = lookup;
    results[`${name} outpoint`] = outpoint;
    rows.push(
      `  ${name.padEnd(36)} ${formatRate(lookup.opsPerSec, 'lookups').padStart(18)} (${(lookup.opsPerSec / base.lookup).toFixed(2)} x)` +
        `   ${formatRate(outpoint.opsPerSec, 'lookups').padStart(18)} (${(outpoint.opsPerSec / base.outpoint).toFixed(2)} x)`,
    );
  }
  console.log(`\n## map keys of 32-byte hashes (one core; Map of ${HASHES.toLocaleString('en-US')} keys; ratios to hashKey)`);
  console.log(`  ${'encoding'.padEnd(36)} ${'key + Map.get'.padStart(18)}            ${'outpoint key + Set.has'.padStart(18)}`);
  for (const row of rows) console.log(row);
  return results;
}
