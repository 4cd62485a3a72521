/**
 * The regtest node the `rest`, `websocket` and `rpc` targets send their requests to: an in-process FullNode in a temp dir with a
 * chain of 111 blocks, two confirmed spends, a spend in the mempool and three valid spends not yet broadcast, and the
 * identifiers that exist on it (block hashes, txids, addresses, raw hex), which the request generators mix with
 * mutated and random ones so that requests reach the handlers' deep paths, not only their input validation.
 */
import http from 'node:http';
import fc from 'fast-check';
import { openRestTestNode, type RestTestNode } from '../../test/fixtures/restTestNode.js';
import { encodeBlock } from '../../src/primitives/block.js';
import { computeBlockHash } from '../../src/primitives/blockHeader.js';
import { bytesToHex, hashToHex } from '../../src/primitives/hex.js';
import { computeTxid, encodeTx } from '../../src/primitives/tx.js';
import type { Tx } from '../../src/primitives/types.js';
import { spendableCoinbases } from '../../src/testing/chainFactory.js';
import { buildSpend, makeTestKey, testKeyAddress } from '../../src/testing/txFactory.js';
import { mutatedBytes, mutatedString } from '../mutate.js';

const MINER = makeTestKey('fuzz/miner', 'p2wpkh');
const ALICE = makeTestKey('fuzz/alice', 'p2tr');

/** Identifiers that exist on the fixture node, as the APIs print them. */
export interface KnownValues {
  /** Display-hex block hashes of the whole chain, genesis to tip. */
  readonly blockHashes: readonly string[];
  /** Display-hex txids: three coinbases, the two confirmed spends, the mempool spend, the unbroadcast spends. */
  readonly txids: readonly string[];
  readonly heights: readonly number[];
  /** Addresses with history (miner, alice) and one without. */
  readonly addresses: readonly string[];
  /** Raw hex of valid txs: one in a block, one in the mempool, three never sent (the first POST of each is accepted). */
  readonly rawTxs: readonly string[];
  /** Raw hex of the last two blocks of the chain. */
  readonly rawBlocks: readonly string[];
}

/** A running fixture node. */
export interface FuzzNode {
  readonly env: RestTestNode;
  readonly known: KnownValues;
  close(): Promise<void>;
}

/** Opens the fixture node with its REST server (no rate limit: the fuzzer is one client sending a million requests). */
export async function openFuzzNode(): Promise<FuzzNode> {
  const env = await openRestTestNode({ rest: { rateLimit: false } });
  try {
    const blocks = await env.mine(110, MINER);
    const coins = spendableCoinbases(env.node.chain, MINER);
    const spends: Tx[] = coins.slice(0, 6).map((coin) => buildSpend([coin], { key: ALICE, valueSats: 10_000_000n }, 5_000n).tx);
    const [confirmed, alsoConfirmed, inMempool, ...unsent] = spends as [Tx, Tx, Tx, ...Tx[]];
    const submit = async (tx: Tx): Promise<void> => void (await env.node.submitTransaction(tx)); // throws when refused
    await submit(confirmed);
    await submit(alsoConfirmed);
    blocks.push(...(await env.mine(1, MINER)));
    await submit(inMempool);
    const known: KnownValues = {
      blockHashes: [env.params.genesis, ...blocks].map((b) => hashToHex(computeBlockHash(b.header))),
      txids: [...blocks.slice(0, 3).map((b) => b.txs[0]!), confirmed, alsoConfirmed, inMempool, ...unsent].map((tx) => hashToHex(computeTxid(tx))),
      heights: [0, 1, 2, 50, 100, blocks.length - 1, blocks.length, blocks.length + 1],
      addresses: [testKeyAddress(MINER, env.params.bech32Hrp), testKeyAddress(ALICE, env.params.bech32Hrp), testKeyAddress(makeTestKey('fuzz/nobody'), env.params.bech32Hrp)],
      rawTxs: [confirmed, inMempool, ...unsent].map((tx) => bytesToHex(encodeTx(tx))),
      rawBlocks: blocks.slice(-2).map((b) => bytesToHex(encodeBlock(b))),
    };
    return { env, known, close: () => env.close() };
  } catch (err) {
    await env.close();
    throw err;
  }
}

const HEX = '0123456789abcdefABCDEF';

/** Hashes: known ones, their mutations (case, length, non-hex), random 64-hex, and odd strings. */
export function arbHashText(known: KnownValues): fc.Arbitrary<string> {
  const valid = fc.constantFrom(...known.blockHashes, ...known.txids);
  return fc.oneof(
    { weight: 4, arbitrary: valid },
    { weight: 3, arbitrary: mutatedString(valid, { alphabet: HEX, maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b)) },
  );
}

/** Decimal-ish numbers in text: known heights, u32 limits, signs, exponents, hex, huge digit runs. */
export function arbNumberText(known: KnownValues): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known.heights).map(String) },
    { weight: 2, arbitrary: fc.nat({ max: 300 }).map(String) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('0', '-0', '-1', '4294967295', '4294967296', '9007199254740993', '1e3', '0x10', '1.5', ' 1', '+1', '', 'NaN', 'Infinity', '9'.repeat(400), '00000000001'),
    },
    { weight: 1, arbitrary: mutatedString(fc.nat({ max: 1000 }).map(String), { alphabet: '0123456789-+.e', maxLength: 40 }) },
  );
}

/** Addresses: known ones, their mutations, other networks' addresses, odd strings. */
export function arbAddressText(known: KnownValues): fc.Arbitrary<string> {
  const valid = fc.constantFrom(...known.addresses, 'crn1qw508d6qejxtdg4y5r3zarvary0c5xw7kxp0k5z', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 3, arbitrary: mutatedString(valid, { alphabet: 'qpzry9x8gf2tvdw0s3jn54khce6mua7l1', maxLength: 200 }) },
  );
}

/** Raw tx hex: valid txs (some accepted once), hex of mutated txs, mutated hex text, odd strings. */
export function arbRawTxText(known: KnownValues): fc.Arbitrary<string> {
  const valid = fc.constantFrom(...known.rawTxs);
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 4, arbitrary: mutatedBytes(valid.map((h) => new Uint8Array(Buffer.from(h, 'hex'))), { maxLength: 64 * 1024 }).map((b) => bytesToHex(b)) },
    { weight: 2, arbitrary: mutatedString(valid, { alphabet: HEX, maxLength: 200 * 1024 }) },
  );
}

/** Raw block hex: blocks of the chain and their mutations. */
export function arbRawBlockText(known: KnownValues): fc.Arbitrary<string> {
  const valid = fc.constantFrom(...known.rawBlocks);
  return fc.oneof(
    { weight: 1, arbitrary: valid },
    { weight: 3, arbitrary: mutatedBytes(valid.map((h) => new Uint8Array(Buffer.from(h, 'hex'))), { maxLength: 256 * 1024 }).map((b) => bytesToHex(b)) },
  );
}

/** One HTTP exchange's outcome. */
export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** A request path made sendable: characters Node's client refuses (controls, space, non-ASCII) are percent-encoded. */
export function toRequestPath(path: string): string {
  let out = '';
  for (const ch of path) {
    const code = ch.codePointAt(0)!;
    out += code > 0x20 && code < 0x7f ? ch : [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
  }
  return out.startsWith('/') ? out : `/${out}`;
}

/**
 * Sends one request over a keep-alive connection and reads the whole answer.
 * @throws Error when no answer arrives within `timeoutMs` or the connection fails (the fuzz target reports it)
 */
export function httpRequest(
  url: string,
  request: { method: string; path: string; headers: Record<string, string>; body?: string },
  timeoutMs = 20_000,
): Promise<HttpReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, method: request.method, path: toRequestPath(request.path), headers: request.headers, agent, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Texts that only an unhandled exception puts in an HTTP answer: JS error messages and stack frames. */
const INTERNAL_MARKERS = [
  /Cannot read propert/,
  /is not a function/,
  /is not iterable/,
  /Maximum call stack/,
  /undefined \(reading/,
  /Cannot convert/,
  /\n\s+at .+[:(]\d+:\d+/,
  /node_modules/,
  /\/src\/\w+\/\w+\.[jt]s/,
];

/** The first internal-looking fragment of an answer, or undefined. */
export function findInternalLeak(text: string): string | undefined {
  for (const marker of INTERNAL_MARKERS) {
    const m = marker.exec(text);
    if (m !== null) return m[0];
  }
  return undefined;
}
