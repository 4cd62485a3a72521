/**
 * Fuzz target `rpc`: the JSON-RPC server of a real regtest node (in this process, requests over loopback).
 * Bodies are built from the method table: a method, arguments of the types its spec declares drawn from what exists on
 * the node (hashes, raw txs and blocks, addresses, heights) or from junk, positional or named, in JSON-RPC 1.0/2.0
 * envelopes with every kind of id, single or batched; plus mutated JSON text, absurdly nested values and unauthenticated
 * posts. Property ("no 500"): the answer is < 500, except Core's legacy convention that answers a JSON-RPC 1.0
 * request's error with HTTP 500 — that one must be a well-formed JSON-RPC error reply of an error the method raised on
 * purpose; and no request may make a method throw an unexpected exception (its message would reach the client as
 * RPC_MISC_ERROR: the server logs it as "rpc method failed", which this target watches).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { startRpcServer, type RpcServer } from '../../src/api/rpcServer.js';
import { createNodeContext } from '../../src/node/fullNode.js';
import { buildRpcTable } from '../../src/api/rpc/rpcMethods.js';
import type { RpcArgSpec, RpcArgType } from '../../src/api/rpc/rpcTable.js';
import { arbNastyJson, mutatedString } from '../mutate.js';
import { check } from '../oracle.js';
import { defineTarget } from '../target.js';
import {
  arbAddressText,
  arbHashText,
  arbRawBlockText,
  arbRawTxText,
  findInternalLeak,
  httpRequest,
  openFuzzNode,
  type FuzzNode,
  type KnownValues,
} from './nodeFixture.js';

const RPC_USER = 'fuzz';
const RPC_PASSWORD = 'fuzz-rpc-password';
const AUTHORIZATION = `Basic ${Buffer.from(`${RPC_USER}:${RPC_PASSWORD}`).toString('base64')}`;

/** The fixture node, its RPC server, and the warnings the server logged since the last request. */
export interface RpcContext {
  readonly fuzz: FuzzNode;
  readonly server: RpcServer;
  readonly logged: { msg: string; err?: { message?: string } }[];
  readonly datadir: string;
}

/** One request. */
export interface RpcInput {
  /** Send the right Basic credentials (wrong ones are left out: each costs the server's 250 ms anti-guessing delay). */
  readonly authorized: boolean;
  readonly contentType: string | null;
  /** The request body, as sent. */
  readonly body: string;
}

const INTERESTING_NUMBERS = [0, 1, -1, 2, 6, 100, 1001, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e21, 0.5, -0.00000001, 1e-9, 21e6, 21e14];

/** A value for one argument: what its spec says (from the node's real values where the name says what it is) or junk. */
function arbArg(arg: RpcArgSpec, known: KnownValues, methods: readonly string[]): fc.Arbitrary<unknown> {
  const name = arg.name;
  const byType = (type: RpcArgType): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'hex':
        if (/hash|txid/.test(name)) return arbHashText(known);
        if (name === 'hexdata') return fc.oneof(arbRawBlockText(known), arbRawTxText(known));
        return arbRawTxText(known);
      case 'string':
        if (name === 'address') return arbAddressText(known);
        if (name === 'command') return fc.constantFrom(...methods, 'add', 'remove', 'onetry', 'nope');
        if (name === 'subnet' || name === 'node') return fc.constantFrom('127.0.0.1', '127.0.0.1:1', '10.0.0.0/8', '::1', '[::1]:18444', 'x', '');
        if (name === 'estimate_mode') return fc.constantFrom('economical', 'conservative', 'unset', 'ECONOMICAL', 'x');
        if (name === 'hash_type') return fc.constantFrom('hash_serialized_3', 'muhash', 'none', 'x');
        return fc.string({ maxLength: 20 });
      case 'number':
        return fc.oneof(fc.constantFrom(...INTERESTING_NUMBERS, ...known.heights), fc.integer({ min: -5, max: 200 }));
      case 'boolean':
        return fc.boolean();
      case 'amount':
        return fc.oneof(fc.constantFrom(0, 0.1, 1, 1e-8, 21e6, -1, 1e300), fc.constantFrom('0.1', '0.00000001', '1e-9', '21000001', '-1', 'abc', ''));
      case 'object':
        return fc.oneof(
          fc.record(
            {
              mode: fc.constantFrom('template', 'proposal', 'x'),
              rules: fc.constantFrom(['segwit'], [], ['segwit', 'x'], 'segwit'),
              capabilities: fc.constantFrom(['coinbasetxn', 'workid'], []),
              data: arbRawBlockText(known),
            },
            { requiredKeys: [] },
          ),
          arbNastyJson,
        );
      case 'array':
        return fc.array(fc.oneof(arbRawTxText(known), arbNastyJson), { maxLength: 3 });
    }
  };
  const types = typeof arg.type === 'string' ? [arg.type] : arg.type;
  return fc.oneof(
    { weight: 6, arbitrary: fc.oneof(...types.map(byType)) },
    { weight: 1, arbitrary: arbNastyJson },
  );
}

/** Arguments for a method: positional (required..all, sometimes one too many or too few) or named. */
function arbParams(args: readonly RpcArgSpec[], known: KnownValues, methods: readonly string[]): fc.Arbitrary<unknown> {
  const values = fc.tuple(...args.map((a) => arbArg(a, known, methods)));
  const required = args.reduce((n, a, i) => (a.optional ? n : i + 1), 0);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(values, fc.integer({ min: Math.max(0, required - 1), max: args.length + 1 }), arbNastyJson)
        .map(([vs, n, extra]) => [...vs, extra].slice(0, n)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(values, fc.array(fc.boolean(), { minLength: args.length, maxLength: args.length }))
        .map(([vs, keep]) => Object.fromEntries(args.flatMap((a, i) => (keep[i] ? [[a.name.split('|').at(-1)!, vs[i]]] : [])))),
    },
    { weight: 1, arbitrary: arbNastyJson },
  );
}

/** Keeps a request from asking for work without bound that the method does by design (mining millions of blocks, long polls). */
function boundWork(method: string, params: unknown): unknown {
  if (method === 'generatetoaddress') {
    const clamp = (v: unknown, max: number): unknown => (typeof v === 'number' && v > max ? max : v);
    if (Array.isArray(params)) return params.map((v, i) => (i === 0 ? clamp(v, 1) : i === 2 ? clamp(v, 10_000) : v));
    if (params !== null && typeof params === 'object') {
      const p = { ...(params as Record<string, unknown>) };
      if ('nblocks' in p) p['nblocks'] = clamp(p['nblocks'], 1);
      if ('maxtries' in p) p['maxtries'] = clamp(p['maxtries'], 10_000);
      return p;
    }
  }
  if (method === 'getblocktemplate') {
    const strip = (v: unknown): unknown => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      const { longpollid: _ignored, ...rest } = v as Record<string, unknown>;
      return rest;
    };
    if (Array.isArray(params)) return params.map(strip);
    if (params !== null && typeof params === 'object') {
      const p = { ...(params as Record<string, unknown>) };
      if ('template_request' in p) p['template_request'] = strip(p['template_request']);
      return p;
    }
  }
  return params;
}

/** A request object: method, params, id and version, each sometimes missing, mistyped or odd. */
function arbRequestObject(known: KnownValues): fc.Arbitrary<Record<string, unknown>> {
  const table = buildRpcTable();
  // `stop` would shut the fixture node down: every other method is fair game.
  const specs = table.list().filter((s) => s.name !== 'stop');
  const names = specs.map((s) => s.name);
  const call = fc.constantFrom(...specs).chain((spec) =>
    fc.tuple(fc.constant(spec.name), arbParams(spec.args, known, names)).map(([m, p]) => [m, boundWork(m, p)] as const),
  );
  const odd = fc.tuple(
    fc.oneof(mutatedString(fc.constantFrom(...names), { alphabet: 'abcdefghijklmnopqrstuvwxyz', maxLength: 40 }), arbNastyJson),
    fc.oneof(fc.constant([]), arbNastyJson),
  );
  const id = fc.oneof(
    { weight: 4, arbitrary: fc.integer() },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: arbNastyJson },
  );
  return fc
    .record(
      {
        call: fc.oneof({ weight: 9, arbitrary: call }, { weight: 1, arbitrary: odd }),
        id,
        jsonrpc: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('1.0', '2.0') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('1.1', '3.0', '', 2, null, ['2.0']) }),
        extra: arbNastyJson,
      },
      { requiredKeys: ['call'] },
    )
    .chain((r) =>
      fc.record({ dropMethod: fc.integer({ min: 0, max: 30 }), dropParams: fc.integer({ min: 0, max: 10 }), extraKey: fc.integer({ min: 0, max: 10 }) }).map((d) => {
        const [method, params] = r.call;
        const request: Record<string, unknown> = {};
        if ('jsonrpc' in r) request['jsonrpc'] = r.jsonrpc;
        if ('id' in r) request['id'] = r.id;
        if (d.dropMethod !== 0) request['method'] = method;
        if (d.dropParams !== 0) request['params'] = params;
        if (d.extraKey === 0) request['x'] = r.extra;
        return request;
      }),
    );
}

/** `[[[…]]]` nested `depth` deep: an id or a body no recursive walker survives. */
function nested(depth: number, open = '[', close = ']'): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** Bodies: one request, a batch, mutated JSON text, deep nesting, big batches, junk. */
function arbBody(known: KnownValues): fc.Arbitrary<string> {
  const request = arbRequestObject(known);
  const single = request.map((r) => JSON.stringify(r));
  return fc.oneof(
    { weight: 48, arbitrary: single },
    { weight: 16, arbitrary: fc.array(request, { maxLength: 8 }).map((rs) => JSON.stringify(rs)) },
    { weight: 12, arbitrary: mutatedString(single, { alphabet: '{}[]":,0123456789.-eE ntrufals\\', maxLength: 4096 }) },
    {
      // Deep nesting, as the probe found: ids, params and whole bodies thousands of levels deep.
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom('id', 'params', 'body', 'batch'), fc.constantFrom('1.0', '2.0'))
        .map(([depth, where, version]) => {
          if (where === 'body') return nested(depth);
          const request = where === 'id'
            ? `{"jsonrpc":"${version}","id":${nested(depth)},"method":"getblockcount","params":[]}`
            : `{"jsonrpc":"${version}","id":1,"method":"getblockcount","params":[${nested(depth)}]}`;
          return where === 'batch' ? `[${request}]` : request;
        }),
    },
    {
      // Large batches of cheap calls (the issue's 16M-entry batch, scaled to what a fuzz input may cost).
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 100, max: 1_500 }), fc.constantFrom('getblockcount', 'uptime', 'nope'))
        .map(([n, method]) => `[${Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"${method}"}`).join(',')}]`),
    },
    { weight: 4, arbitrary: fc.oneof(fc.constantFrom('', 'null', '1', '"x"', '[]', '{}', 'true', '[1,2]', '{"method":1}'), fc.string({ maxLength: 60, unit: 'binary' })) },
  );
}

/** True when `body` is a JSON-RPC error reply: `{result: null, error: {code: integer, message: string}, id?}`. */
function isLegacyErrorReply(text: string): boolean {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    return false;
  }
  if (reply === null || typeof reply !== 'object' || Array.isArray(reply)) return false;
  const r = reply as Record<string, unknown>;
  const error = r['error'] as Record<string, unknown> | null | undefined;
  return r['result'] === null && error !== null && typeof error === 'object' && Number.isInteger(error['code']) && typeof error['message'] === 'string';
}

export default defineTarget<RpcInput, RpcContext>({
  name: 'rpc',
  description:
    'JSON-RPC of a regtest node over loopback: no 500 but Core\'s legacy error replies, no method throwing an ' +
    'unexpected exception, no internal message in an answer',
  async: true,
  chunkRuns: 1_000,
  async setup() {
    const fuzz = await openFuzzNode();
    const datadir = mkdtempSync(join(tmpdir(), 'cairn-fuzz-rpc-'));
    const logged: RpcContext['logged'] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as RpcContext['logged'][number]) });
    try {
      const server = await startRpcServer({ port: 0, datadir, rpcUser: RPC_USER, rpcPassword: RPC_PASSWORD }, { node: createNodeContext(fuzz.env.node), logger });
      return { fuzz, server, logged, datadir };
    } catch (err) {
      await fuzz.close();
      throw err;
    }
  },
  async teardown(ctx) {
    await ctx.server.close();
    await ctx.fuzz.close();
    rmSync(ctx.datadir, { recursive: true, force: true });
  },
  input: (ctx) =>
    fc.record({
      authorized: fc.oneof({ weight: 30, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      contentType: fc.constantFrom(null, 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream'),
      body: arbBody(ctx.fuzz.known),
    }),
  async run(input, ctx) {
    ctx.logged.length = 0;
    const headers: Record<string, string> = {};
    if (input.authorized) headers['authorization'] = AUTHORIZATION;
    if (input.contentType !== null) headers['content-type'] = input.contentType;
    const reply = await httpRequest(ctx.server.url, { method: 'POST', path: '/', headers, body: input.body });
    const what = `POST / ${input.body.slice(0, 120)}${input.body.length > 120 ? '…' : ''} answered ${reply.status}: ${reply.text.slice(0, 300)}`;
    check(reply.status !== 500 || isLegacyErrorReply(reply.text), `a 500 that is not a JSON-RPC error reply: ${what}`);
    check(reply.status <= 500, `5xx: ${what}`);
    const failed = ctx.logged.find((l) => l.msg === 'rpc method failed');
    check(failed === undefined, `a method threw an unexpected exception (${failed?.err?.message ?? '?'}), its message sent as RPC_MISC_ERROR: ${what}`);
    const leak = findInternalLeak(reply.text);
    check(leak === undefined, `an internal message (${leak}) in the answer: ${what}`);
    if (!input.authorized) check(reply.status === 401, `an unauthenticated request answered ${reply.status}`);
  },
});
