/**
 * Fuzz target `rest`: the Esplora REST API of a real regtest node (fastify server in this process, requests over
 * loopback). Requests follow the route table with parameters drawn from what exists on the node, mutations of it and
 * junk; methods, query strings, content types and `POST /api/tx` bodies vary. Property: never a 5xx, and no answer
 * carries an internal message (a JS error text or a stack frame).
 */
import fc from 'fast-check';
import { check } from '../oracle.js';
import { defineTarget } from '../target.js';
import {
  arbAddressText,
  arbHashText,
  arbNumberText,
  arbRawTxText,
  findInternalLeak,
  httpRequest,
  openFuzzNode,
  type FuzzNode,
} from './nodeFixture.js';
import { mutatedString } from '../mutate.js';

/** Every route of the REST API with its parameters' kinds (h = hash or txid, n = number, a = address). */
const ROUTES = [
  '/api/blocks/tip/height', '/api/blocks/tip/hash', '/api/blocks', '/api/blocks/{n}', '/api/block/{h}', '/api/block/{h}/status',
  '/api/block/{h}/txs', '/api/block/{h}/txs/{n}', '/api/block/{h}/txids', '/api/block/{h}/txid/{n}', '/api/block/{h}/raw',
  '/api/block/{h}/header', '/api/block-height/{n}', '/api/tx/{h}', '/api/tx/{h}/status', '/api/tx/{h}/hex', '/api/tx/{h}/raw',
  '/api/tx/{h}/outspends', '/api/tx/{h}/outspend/{n}', '/api/tx/{h}/merkle-proof', '/api/tx', '/api/address/{a}',
  '/api/address/{a}/txs', '/api/address/{a}/txs/chain', '/api/address/{a}/txs/chain/{h}', '/api/address/{a}/txs/mempool',
  '/api/address/{a}/utxo', '/api/mempool', '/api/mempool/txids', '/api/mempool/recent', '/api/fee-estimates',
  '/api/v1/fees/recommended', '/api/v1/fees/mempool-blocks', '/api/v1/blocks', '/api/v1/blocks/{n}', '/api/v1/block/{h}',
  '/api/v1/difficulty-adjustment', '/api/v1/ws', '/api/openapi.json', '/metrics',
] as const;

/** One request. */
export interface RestInput {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | null;
  readonly body: string | null;
}

/** encodeURIComponent that also takes lone surrogates (as their UTF-8 replacement character). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`)).join('');
}

/** A path of the route table with each parameter filled from its generator; sometimes percent-encoded. */
function arbRoutePath(fuzz: FuzzNode): fc.Arbitrary<string> {
  const { known } = fuzz;
  const fill = { h: arbHashText(known), n: arbNumberText(known), a: arbAddressText(known) };
  return fc
    .tuple(fc.constantFrom(...ROUTES), fc.boolean())
    .chain(([route, encode]) => {
      const kinds = [...route.matchAll(/\{([hna])\}/g)].map((m) => m[1] as 'h' | 'n' | 'a');
      return fc.tuple(fc.constant(route), fc.tuple(...kinds.map((k) => fill[k])), fc.constant(encode));
    })
    .map(([route, values, encode]) => {
      let i = 0;
      return route.replace(/\{[hna]\}/g, () => {
        const v = values[i++]!;
        return encode ? percentEncode(v) : v;
      });
    });
}

const arbQuery: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.constantFrom('?', '?a=1', '?maxfeerate=0', '?maxfeerate=-1', '?maxfeerate=1e309', '?maxfeerate=abc', '?x=%zz', '?a=1&a=2', '?__proto__=1', '?constructor[x]=1') },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => `?${s}`) },
);

export default defineTarget<RestInput, FuzzNode>({
  name: 'rest',
  description: 'Esplora REST API of a regtest node over loopback: every answer is < 500 and carries no internal message',
  async: true,
  chunkRuns: 1_000,
  setup: () => openFuzzNode(),
  teardown: (fuzz) => fuzz.close(),
  input: (fuzz) => {
    const path = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(arbRoutePath(fuzz), arbQuery).map(([p, q]) => p + q) },
      { weight: 1, arbitrary: mutatedString(fc.constantFrom(...ROUTES), { alphabet: 'abcdefghijklmnopqrstuvwxyz/{}-._~%0123456789', maxLength: 300 }) },
    );
    const getLike = fc.record({
      method: fc.oneof({ weight: 8, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'DELETE', 'PUT', 'PATCH', 'POST') }),
      path,
      contentType: fc.constant(null),
      body: fc.constant(null),
    });
    const postTx = fc.record({
      method: fc.constant('POST'),
      path: fc.oneof({ weight: 6, arbitrary: arbQuery.map((q) => `/api/tx${q}`) }, { weight: 1, arbitrary: path }),
      contentType: fc.constantFrom(null, 'text/plain', 'application/json', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data', 'text/plain; charset=utf-16'),
      body: fc.oneof(
        { weight: 6, arbitrary: arbRawTxText(fuzz.known) },
        { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
        { weight: 1, arbitrary: fc.string({ maxLength: 100, unit: 'binary' }) },
      ),
    });
    return fc.oneof({ weight: 3, arbitrary: getLike }, { weight: 1, arbitrary: postTx });
  },
  async run(input, fuzz) {
    const headers: Record<string, string> = {};
    if (input.contentType !== null) headers['content-type'] = input.contentType;
    const reply = await httpRequest(fuzz.env.url, { method: input.method, path: input.path, headers, ...(input.body === null ? {} : { body: input.body }) });
    check(reply.status < 500, `${input.method} ${input.path} answered ${reply.status}: ${reply.text.slice(0, 300)}`);
    const leak = findInternalLeak(reply.text);
    // The OpenAPI document and the metrics describe the server itself; only error answers must not leak.
    check(reply.status < 400 || leak === undefined, `${input.method} ${input.path} answered ${reply.status} with an internal message (${leak}): ${reply.text.slice(0, 300)}`);
  },
});
