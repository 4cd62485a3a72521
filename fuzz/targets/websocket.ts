/**
 * Fuzz target `websocket`: client messages to the REST server's live feed `/api/v1/ws` (mempool.space's `want`/`init`,
 * cairn's `subscribe`/`unsubscribe`, `ping`) on a real regtest node. Each input is one message, followed by a ping whose
 * pong proves the server is alive and done with it. Property: the connection stays open (unless the message is over
 * the server's size limit), every answer is JSON without an internal message, and nothing throws in the server (an
 * uncaught exception there kills the worker thread, which the runner reports as a crash with this input).
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { MAX_CLIENT_MESSAGE_BYTES, WEBSOCKET_PATH } from '../../src/api/rest/websocketRoutes.js';
import { arbNastyJson, mutatedString } from '../mutate.js';
import { check } from '../oracle.js';
import { defineTarget } from '../target.js';
import { findInternalLeak, openFuzzNode, type FuzzNode } from './nodeFixture.js';

const PONG_TIMEOUT_MS = 20_000;

/** The node and the current connection (replaced when the server closes one, as it does for an oversized message). */
export interface WebsocketContext {
  readonly fuzz: FuzzNode;
  socket: WebSocket;
  /** Messages received since the last input started. */
  readonly received: string[];
  /** Resolvers waiting for the next pong. */
  pongWaiters: (() => void)[];
  closed: { code: number; reason: string } | undefined;
}

/** One message: its text, and whether it goes as a binary frame. */
export interface WebsocketInput {
  readonly text: string;
  readonly binary: boolean;
}

function connect(ctx: Pick<WebsocketContext, 'fuzz'> & Partial<WebsocketContext>): Promise<WebSocket> {
  const url = `${ctx.fuzz.env.url.replace(/^http/, 'ws')}${WEBSOCKET_PATH}`;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function attach(ctx: WebsocketContext, socket: WebSocket): void {
  ctx.socket = socket;
  ctx.closed = undefined;
  socket.on('message', (data) => {
    const text = String(data);
    if (text === '{"pong":true}') {
      const waiters = ctx.pongWaiters;
      ctx.pongWaiters = [];
      for (const w of waiters) w();
    } else {
      ctx.received.push(text);
    }
  });
  socket.on('close', (code, reason) => {
    ctx.closed = { code, reason: String(reason) };
    const waiters = ctx.pongWaiters;
    ctx.pongWaiters = [];
    for (const w of waiters) w();
  });
  socket.on('error', () => undefined); // a close follows; it is what the target checks
}

const TOPIC_NAMES = ['blocks', 'mempool-blocks', 'stats', 'mempool', 'nope', ''];

/** Valid messages of every action, with valid and odd topic lists. */
const arbMessage: fc.Arbitrary<string> = fc
  .record({
    action: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('want', 'init', 'subscribe', 'unsubscribe', 'ping') }, { weight: 1, arbitrary: arbNastyJson }),
    data: fc.oneof(fc.array(fc.constantFrom(...TOPIC_NAMES), { maxLength: 5 }), arbNastyJson),
    topics: fc.oneof(fc.array(fc.constantFrom(...TOPIC_NAMES), { maxLength: 5 }), arbNastyJson),
  }, { requiredKeys: ['action'] })
  .map((m) => JSON.stringify(m));

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

export default defineTarget<WebsocketInput, WebsocketContext>({
  name: 'websocket',
  description:
    '/api/v1/ws client messages: the server stays up, the connection stays open (unless the message is over the size ' +
    'limit), answers are JSON without internal messages',
  async: true,
  chunkRuns: 1_000,
  async setup() {
    const fuzz = await openFuzzNode();
    const ctx = { fuzz, received: [], pongWaiters: [], closed: undefined } as unknown as WebsocketContext;
    attach(ctx, await connect(ctx));
    return ctx;
  },
  async teardown(ctx) {
    ctx.socket.terminate();
    await ctx.fuzz.close();
  },
  input: () =>
    fc.record({
      text: fc.oneof(
        { weight: 8, arbitrary: arbMessage },
        { weight: 4, arbitrary: mutatedString(arbMessage, { alphabet: '{}[]":,actionwpigsubr', maxLength: 20 * 1024 }) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(fc.integer({ min: 100, max: 8_000 }), fc.constantFrom('action', 'data', 'topics'))
            .map(([depth, key]) => `{"action":${key === 'action' ? nested(depth) : '"want"'},"${key === 'action' ? 'data' : key}":${nested(depth)}}`),
        },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', 'null', '[]', '1', '"ping"', 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES + 1)), fc.string({ maxLength: 40, unit: 'binary' })) },
      ),
      binary: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    }),
  async run(input, ctx) {
    if (ctx.closed !== undefined) attach(ctx, await connect(ctx));
    ctx.received.length = 0;
    const pong = new Promise<void>((resolve) => ctx.pongWaiters.push(resolve));
    ctx.socket.send(input.binary ? Buffer.from(input.text) : input.text);
    ctx.socket.send('{"action":"ping"}');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      pong.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), PONG_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    const what = `message ${input.text.slice(0, 100)}${input.text.length > 100 ? '…' : ''}`;
    check(!timedOut, `no pong within ${PONG_TIMEOUT_MS} ms after ${what}`);
    if (ctx.closed !== undefined) {
      const oversized = Buffer.byteLength(input.text) > MAX_CLIENT_MESSAGE_BYTES;
      check(oversized, `the server closed the connection (${ctx.closed.code} ${ctx.closed.reason}) after ${what}`);
      return;
    }
    for (const text of ctx.received) {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        check(false, `a non-JSON answer ${text.slice(0, 200)} to ${what}`);
      }
      check(json !== null && typeof json === 'object', `answer ${text.slice(0, 100)} is not an object`);
      const leak = findInternalLeak(text);
      check(leak === undefined, `an internal message (${leak}) in ${text.slice(0, 300)} after ${what}`);
    }
  },
});
