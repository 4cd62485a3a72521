import type { WebSocket } from 'ws';
import type { BlockConnectedEvent } from '../../interfaces/chainTypes.js';
import type { MempoolEntryView } from '../../interfaces/mempoolTypes.js';
import type { MempoolRemoval } from '../../interfaces/mempoolTypes.js';
import type { BlockIndexEntry } from '../../interfaces/chainTypes.js';
import { hashToHex } from '../../primitives/hex.js';
import { computeDifficultyAdjustment } from '../difficultyAdjustment.js';
import { txToEsplora, UNCONFIRMED_STATUS } from '../esploraJson.js';
import { textResponse } from '../esploraSchemas.js';
import { projectMempoolBlocks, recommendFees } from '../feeEstimates.js';
import { inspectJsonShape } from '../jsonShape.js';
import { extendedBlockOf } from './blockRoutes.js';
import type { RestApp, RestContext } from './restContext.js';

/** Path of the websocket, as mempool.space's. */
export const WEBSOCKET_PATH = '/api/v1/ws';
/** Least time between two mempool statistics pushes, ms. */
export const STATS_INTERVAL_MS = 1_000;
/** Blocks sent in an `init` / `want blocks` snapshot (mempool.space's initial block list). */
const SNAPSHOT_BLOCKS = 8;
/** Recent transactions in a `stats` push (mempool.space sends the last 6). */
const STATS_TRANSACTIONS = 6;
/** A client whose unsent data exceeds this many bytes misses pushes until it catches up. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Largest message a client may send, bytes. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
/** Deepest nesting a client message may have: `{"action":…,"data":[…]}` needs 2. */
export const MAX_CLIENT_MESSAGE_DEPTH = 4;
/** Longest action name echoed back in an "unknown action" error, characters. */
const MAX_ECHOED_ACTION_CHARS = 64;

/**
 * The topics a client can follow. mempool.space's `want` names: `blocks`, `mempool-blocks`, `stats`; cairn's
 * `subscribe` names: `blocks`, `mempool`.
 */
export type WebsocketTopic = 'blocks' | 'mempool-blocks' | 'stats' | 'mempool';
const TOPICS: ReadonlySet<string> = new Set<WebsocketTopic>(['blocks', 'mempool-blocks', 'stats', 'mempool']);

/** Core's getmempoolinfo as mempool.space's `mempoolInfo` carries it (total_fee and fee rates in coins, /kvB). */
export interface WebsocketMempoolInfo {
  loaded: boolean;
  size: number;
  bytes: number;
  /** cairn does not measure the pool's memory; this is its vsize, the quantity `maxmempool` caps here. */
  usage: number;
  total_fee: number;
  maxmempool: number;
  mempoolminfee: number;
  minrelaytxfee: number;
  incrementalrelayfee: number;
  unbroadcastcount: number;
  fullrbf: boolean;
}

interface Client {
  readonly socket: WebSocket;
  readonly topics: Set<WebsocketTopic>;
}

const COIN = 100_000_000;

/**
 * The live feed at /api/v1/ws. Clients send JSON:
 * - mempool.space style `{"action":"want","data":["blocks","mempool-blocks","stats"]}` (replaces the client's topics
 *   and answers at once with the current data of each wanted topic), `{"action":"init"}` (a full snapshot:
 *   mempoolInfo, vBytesPerSecond, blocks, mempool-blocks, transactions, fees, da);
 * - cairn style `{"action":"subscribe","topics":["blocks","mempool"]}` / `{"action":"unsubscribe","topics":[…]}`
 *   (answered with `{"subscribed":[current topics]}`);
 * - `{"action":"ping"}` → `{"pong":true}`. Anything else (not JSON, nested deeper than MAX_CLIENT_MESSAGE_DEPTH, an
 *   unknown action) → `{"error":"…"}`; a message never crashes the node or closes other clients.
 * Pushes: `blocks` → `{"block": <mempool.space extended block>}` on every block connected to the main chain (with
 * mempoolInfo/fees/da added for `stats` clients and `mempool-blocks` for those); `mempool` → `{"tx": <Esplora tx>}`
 * for every tx entering the mempool and `{"txRemoved": {"txid","reason"}}` for every tx leaving it, plus
 * `{"mempoolInfo"}` at most once a second; `stats` → `{"mempoolInfo","vBytesPerSecond","transactions","fees"}` and
 * `mempool-blocks` → `{"mempool-blocks":[…]}` at most once a second after a mempool change.
 * Pushes are built once per event for all clients, after the event (never inside the chain's or mempool's call).
 */
export class WebsocketHub {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: (() => void)[];
  private pendingBlocks: BlockIndexEntry[] = [];
  private pendingAdded: MempoolEntryView[] = [];
  private pendingRemoved: MempoolRemoval[] = [];
  private flushScheduled: NodeJS.Immediate | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private lastStatsMs = 0;
  private closed = false;

  constructor(private readonly ctx: RestContext) {
    const { chain, mempool } = ctx.node;
    this.unsubscribe = [
      chain.on('blockConnected', (e: BlockConnectedEvent) => {
        if (!this.anyClient('blocks')) return;
        this.pendingBlocks.push(e.entry);
        this.scheduleFlush();
      }),
      mempool.on('added', (entry) => {
        if (this.clients.size === 0) return;
        if (this.anyClient('mempool')) this.pendingAdded.push(entry);
        this.scheduleFlush();
        this.scheduleStats();
      }),
      mempool.on('removed', (removal) => {
        if (this.clients.size === 0) return;
        if (this.anyClient('mempool')) this.pendingRemoved.push(removal);
        this.scheduleFlush();
        this.scheduleStats();
      }),
    ];
  }

  /** Number of connected clients. */
  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes a new connection: parses its messages and forgets it when it closes. */
  attach(socket: WebSocket): void {
    const client: Client = { socket, topics: new Set() };
    this.clients.add(client);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return this.send(client, { error: 'send JSON text messages' });
      try {
        this.onMessage(client, data.toString());
      } catch (err) {
        // A throw here would be an uncaught exception in ws's event loop: the whole node would stop.
        this.ctx.logger.error({ err }, 'websocket message handling failed');
        this.send(client, { error: 'internal error' });
      }
    });
    socket.on('close', () => this.clients.delete(client));
    socket.on('error', () => this.clients.delete(client));
  }

  /** Stops the pushes (the server closes the sockets). */
  close(): void {
    this.closed = true;
    for (const off of this.unsubscribe) off();
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    if (this.statsTimer) clearTimeout(this.statsTimer);
    this.clients.clear();
  }

  private onMessage(client: Client, text: string): void {
    if (inspectJsonShape(text, MAX_CLIENT_MESSAGE_DEPTH).tooDeep) {
      return this.send(client, { error: `invalid JSON: nested deeper than ${MAX_CLIENT_MESSAGE_DEPTH} levels` });
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.send(client, { error: 'invalid JSON' });
    }
    if (typeof msg !== 'object' || msg === null) return this.send(client, { error: 'expected a JSON object' });
    const { action, data, topics } = msg as { action?: unknown; data?: unknown; topics?: unknown };
    const names = (list: unknown): WebsocketTopic[] | undefined =>
      Array.isArray(list) && list.every((t) => typeof t === 'string')
        ? (list.filter((t) => TOPICS.has(t)) as WebsocketTopic[])
        : undefined;
    switch (action) {
      case 'want': {
        const wanted = names(data);
        if (wanted === undefined) return this.send(client, { error: 'want: data must be an array of topic names' });
        client.topics.clear();
        for (const t of wanted) client.topics.add(t);
        const snapshot: Record<string, unknown> = {};
        if (client.topics.has('blocks')) snapshot['blocks'] = this.recentBlocks();
        if (client.topics.has('stats')) Object.assign(snapshot, this.statsPayload());
        if (client.topics.has('mempool-blocks')) snapshot['mempool-blocks'] = projectMempoolBlocks(this.ctx.node.mempool, this.ctx.node.params);
        if (Object.keys(snapshot).length > 0) this.send(client, snapshot);
        return;
      }
      case 'subscribe':
      case 'unsubscribe': {
        const list = names(topics);
        if (list === undefined) return this.send(client, { error: `${action}: topics must be an array of topic names` });
        for (const t of list) {
          if (action === 'subscribe') client.topics.add(t);
          else client.topics.delete(t);
        }
        return this.send(client, { subscribed: [...client.topics] });
      }
      case 'init':
        return this.send(client, {
          ...this.statsPayload(),
          blocks: this.recentBlocks(),
          'mempool-blocks': projectMempoolBlocks(this.ctx.node.mempool, this.ctx.node.params),
          da: computeDifficultyAdjustment(this.ctx.node.chain, this.ctx.node.params, this.ctx.node.nowSec()),
        });
      case 'ping':
        return this.send(client, { pong: true });
      default:
        if (typeof action !== 'string') return this.send(client, { error: 'action must be a string' });
        return this.send(client, { error: `unknown action ${JSON.stringify(action.slice(0, MAX_ECHOED_ACTION_CHARS))}` });
    }
  }

  private anyClient(topic: WebsocketTopic): boolean {
    for (const c of this.clients) if (c.topics.has(topic)) return true;
    return false;
  }

  private send(client: Client, message: unknown): void {
    this.sendText(client, JSON.stringify(message));
  }

  private sendText(client: Client, text: string): void {
    const { socket } = client;
    if (socket.readyState !== socket.OPEN || socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
    socket.send(text);
  }

  private broadcast(topic: WebsocketTopic, message: unknown): void {
    let text: string | undefined;
    for (const c of this.clients) {
      if (!c.topics.has(topic)) continue;
      text ??= JSON.stringify(message);
      this.sendText(c, text);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled !== undefined || this.closed) return;
    this.flushScheduled = setImmediate(() => {
      this.flushScheduled = undefined;
      this.flush();
    });
  }

  private flush(): void {
    const { node, txLookup } = this.ctx;
    const blocks = this.pendingBlocks;
    const added = this.pendingAdded;
    const removed = this.pendingRemoved;
    this.pendingBlocks = [];
    this.pendingAdded = [];
    this.pendingRemoved = [];
    for (const entry of blocks) this.pushBlock(entry);
    for (const entry of added) {
      if (!node.mempool.has(entry.txid)) continue;
      const tx = txToEsplora(entry.tx, {
        params: node.params,
        prevouts: txLookup.mempoolPrevouts(entry.tx),
        fee: entry.fee,
        status: UNCONFIRMED_STATUS,
        txid: entry.txid,
      });
      this.broadcast('mempool', { tx });
    }
    for (const r of removed) this.broadcast('mempool', { txRemoved: { txid: hashToHex(r.txid), reason: r.reason } });
  }

  private pushBlock(entry: BlockIndexEntry): void {
    let block;
    try {
      block = extendedBlockOf(this.ctx, entry);
    } catch (err) {
      this.ctx.logger.warn({ err, hash: entry.hashHex }, 'websocket: cannot read a connected block');
      return;
    }
    let stats: Record<string, unknown> | undefined;
    let mempoolBlocks: unknown;
    for (const c of this.clients) {
      if (!c.topics.has('blocks')) continue;
      const message: Record<string, unknown> = { block };
      if (c.topics.has('stats')) {
        stats ??= {
          ...this.statsPayload(),
          da: computeDifficultyAdjustment(this.ctx.node.chain, this.ctx.node.params, this.ctx.node.nowSec()),
        };
        Object.assign(message, stats);
      }
      if (c.topics.has('mempool-blocks')) {
        mempoolBlocks ??= projectMempoolBlocks(this.ctx.node.mempool, this.ctx.node.params);
        message['mempool-blocks'] = mempoolBlocks;
      }
      this.send(c, message);
    }
  }

  /** Pushes the mempool statistics at most once per STATS_INTERVAL_MS after a change. */
  private scheduleStats(): void {
    if (this.statsTimer !== undefined || this.closed) return;
    if (!this.anyClient('stats') && !this.anyClient('mempool-blocks') && !this.anyClient('mempool')) return;
    const wait = Math.max(0, this.lastStatsMs + STATS_INTERVAL_MS - Date.now());
    this.statsTimer = setTimeout(() => {
      this.statsTimer = undefined;
      this.lastStatsMs = Date.now();
      this.pushStats();
    }, wait);
    this.statsTimer.unref();
  }

  private pushStats(): void {
    const { mempool, params } = this.ctx.node;
    if (this.anyClient('stats')) this.broadcast('stats', this.statsPayload());
    if (this.anyClient('mempool')) this.broadcast('mempool', { mempoolInfo: this.mempoolInfo() });
    if (this.anyClient('mempool-blocks')) this.broadcast('mempool-blocks', { 'mempool-blocks': projectMempoolBlocks(mempool, params) });
  }

  private statsPayload(): Record<string, unknown> {
    const { mempool, params } = this.ctx.node;
    return {
      mempoolInfo: this.mempoolInfo(),
      vBytesPerSecond: this.ctx.tracker.vbytesPerSecond(),
      transactions: this.ctx.tracker.recent().slice(0, STATS_TRANSACTIONS),
      fees: recommendFees(mempool, params),
    };
  }

  /** Core's getmempoolinfo fields, in coins and coins/kvB where Core uses them. */
  mempoolInfo(): WebsocketMempoolInfo {
    const { mempool } = this.ctx.node;
    const o = mempool.options;
    return {
      loaded: true,
      size: mempool.size,
      bytes: mempool.totalVsize,
      usage: mempool.totalVsize,
      total_fee: Number(mempool.totalFees) / COIN,
      maxmempool: o.maxSizeVbytes,
      mempoolminfee: mempool.getMinimumFeeRateSatPerKvb() / COIN,
      minrelaytxfee: o.minRelayFeeRateSatPerKvb / COIN,
      incrementalrelayfee: o.incrementalRelayFeeRateSatPerKvb / COIN,
      unbroadcastcount: 0,
      fullrbf: true,
    };
  }

  private recentBlocks(): unknown[] {
    const { chain } = this.ctx.node;
    const out: unknown[] = [];
    for (let h = chain.height; h >= 0 && out.length < SNAPSHOT_BLOCKS; h--) {
      const entry = chain.getEntryByHeight(h);
      if (entry !== undefined) out.push(extendedBlockOf(this.ctx, entry));
    }
    return out.reverse();
  }
}

/**
 * Registers the websocket route (the @fastify/websocket plugin must be registered first). A plain GET without the
 * upgrade answers 426 with a hint. Declared with wsHandler + handler (not `websocket: true`, which the plugin hides
 * from the OpenAPI document) so the document lists the feed.
 */
export function registerWebsocketRoute(app: RestApp, hub: WebsocketHub): void {
  app.route({
    method: 'GET',
    url: WEBSOCKET_PATH,
    config: { rateLimit: false },
    schema: {
      tags: ['websocket'],
      summary:
        'Live feed (websocket upgrade). Send {"action":"want","data":["blocks","mempool-blocks","stats"]} (mempool.space) or ' +
        '{"action":"subscribe","topics":["blocks","mempool"]} (cairn); pushes {"block"}, {"tx"}, {"txRemoved"}, {"mempoolInfo"}…',
      response: { 426: textResponse('Not a websocket upgrade request') },
    },
    handler: (_req, reply) => reply.code(426).type('text/plain').send(`Upgrade Required: connect with a websocket client to ${WEBSOCKET_PATH}`),
    wsHandler: (socket) => hub.attach(socket),
  });
}
