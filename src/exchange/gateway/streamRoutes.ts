/**
 * Binance's market and user streams over WebSocket: `/ws/<stream>` (raw payloads), `/stream?streams=a/b` (combined
 * `{stream, data}`), and `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` messages on either. Streams:
 * `<symbol>@trade`, `@aggTrade`, `@kline_<interval>`, `@bookTicker` (each at once), `@ticker`, `@miniTicker`,
 * `@depth<5|10|20>[@100ms]` (every 1,000 ms or 100 ms), `@depth` / `@depth@1000ms` (diffs merged over 1,000 ms) and
 * `@depth@100ms` (over 100 ms) with `U`/`u` contiguous, so a client keeps a local book by Binance's snapshot + diff
 * procedure; and a user stream `<listenKey>` (executionReport, outboundAccountPosition, balanceUpdate).
 * The server pings every `pingIntervalMs` and drops a connection that did not answer the previous ping; a connection
 * whose unsent data passes `maxBufferedBytes` is closed (1008, slow consumer): nothing is buffered without bound;
 * connections beyond `maxConnections` are closed at once (1013).
 * @see binance-spot-api-docs web-socket-streams.md, user-data-stream.md
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { UserEvent } from '../exchangeService.js';
import { isKlineInterval, type Kline } from '../klines.js';
import type { DepthDiff, Level, MarketDataEvent } from '../marketData.js';
import type { GatewayContext } from './gatewayContext.js';

/** Stream options. */
export interface StreamOptions {
  /** Server ping interval, ms (default 20,000, Binance's). */
  readonly pingIntervalMs: number;
  /** Unsent bytes above which a connection is closed as a slow consumer (default 4 MiB). */
  readonly maxBufferedBytes: number;
  /** Streams per connection (default 1,024, Binance's). */
  readonly maxStreams: number;
  /** Incoming messages per second per connection (default 10; Binance: 5). */
  readonly maxMessagesPerSec: number;
  /** Open connections at most (default 10,000); more are closed at once with 1013 (try again later). */
  readonly maxConnections: number;
}

const DEFAULTS: StreamOptions = { pingIntervalMs: 20_000, maxBufferedBytes: 4 * 1024 * 1024, maxStreams: 1024, maxMessagesPerSec: 10, maxConnections: 10_000 };

/** Stream counters (for tests and metrics). */
export interface StreamStats {
  /** Open connections. */
  readonly connections: number;
  /** Connections closed because their unsent data passed the bound. */
  readonly slowConsumersClosed: number;
  /** Connections dropped for not answering a ping. */
  readonly pingTimeouts: number;
}

/** One connection. */
interface Conn {
  readonly socket: WebSocket;
  readonly combined: boolean;
  readonly streams: Set<string>;
  /** User streams: listen key → unsubscribe. */
  readonly users: Map<string, () => void>;
  alive: boolean;
  msgWindowStartMs: number;
  msgCount: number;
}

/** A parsed market stream name. */
type StreamKind = { symbol: string; kind: 'trade' | 'aggTrade' | 'bookTicker' | 'ticker' | 'miniTicker' | 'depth100' | 'depth1000' } | { symbol: string; kind: 'kline'; interval: string } | { symbol: string; kind: 'partial'; levels: number; fast: boolean };

const STREAM_RE = /^([a-z0-9]{1,20})@(trade|aggTrade|bookTicker|ticker|miniTicker|kline_([0-9]{1,2}[mhdwM])|depth(5|10|20)?(@100ms|@1000ms)?)$/;

/** Parses a market stream name (`crnusd@depth@100ms`), or undefined. */
export function parseStreamName(name: string): StreamKind | undefined {
  const m = STREAM_RE.exec(name);
  if (m === null) return undefined;
  const symbol = m[1]!.toUpperCase();
  const what = m[2]!;
  if (what.startsWith('kline_')) return isKlineInterval(m[3]) ? { symbol, kind: 'kline', interval: m[3]! } : undefined;
  if (what.startsWith('depth')) {
    if (m[4] !== undefined) return { symbol, kind: 'partial', levels: Number(m[4]), fast: m[5] === '@100ms' };
    return { symbol, kind: m[5] === '@100ms' ? 'depth100' : 'depth1000' };
  }
  return { symbol, kind: what as 'trade' };
}

/** Depth diffs merged over an interval: first U, last u, the latest absolute quantity per level. */
class PendingDepth {
  first = 0;
  last = 0;
  readonly bids = new Map<number, number>();
  readonly asks = new Map<number, number>();

  add(d: DepthDiff): void {
    if (this.first === 0) this.first = d.firstUpdateId;
    this.last = d.lastUpdateId;
    for (const [p, q] of d.bids) this.bids.set(p, q);
    for (const [p, q] of d.asks) this.asks.set(p, q);
  }

  toDiff(symbol: string, timeMs: number): DepthDiff {
    const levels = (m: Map<number, number>, desc: boolean): Level[] => [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0]));
    return { type: 'depthDiff', symbol, firstUpdateId: this.first, lastUpdateId: this.last, timeMs, bids: levels(this.bids, true), asks: levels(this.asks, false) };
  }
}

/** Registers `/ws`, `/ws/:stream` and `/stream`; returns a handle that closes every connection and timer. */
export function registerStreamRoutes(app: FastifyInstance, ctx: GatewayContext, partial: Partial<StreamOptions>, logger: Logger): { close(): void; stats(): StreamStats } {
  const opts: StreamOptions = { ...DEFAULTS, ...partial };
  const { service, format } = ctx;
  const subscribers = new Map<string, Set<Conn>>();
  const conns = new Set<Conn>();
  const pending100 = new Map<string, PendingDepth>();
  const pending1000 = new Map<string, PendingDepth>();
  const tickerDirty = new Set<string>();
  /** The newest candle per kline stream (bounded: markets × 15 intervals). */
  const lastKline = new Map<string, Kline>();
  let slowConsumersClosed = 0;
  let pingTimeouts = 0;

  const closeSlow = (c: Conn): void => {
    slowConsumersClosed++;
    logger.info({ bufferedBytes: c.socket.bufferedAmount }, 'stream: slow consumer disconnected');
    c.socket.close(1008, 'slow consumer: too much unsent data');
    // A peer that does not read will not read a close frame either.
    setTimeout(() => c.socket.terminate(), 1_000).unref();
    drop(c);
  };
  const sendText = (c: Conn, text: string): void => {
    if (c.socket.readyState !== 1) return;
    if (c.socket.bufferedAmount > opts.maxBufferedBytes) return closeSlow(c);
    c.socket.send(text);
  };
  /** Sends a payload to a stream's subscribers, serialized once per form. */
  const publish = (stream: string, data: unknown): void => {
    const set = subscribers.get(stream);
    if (set === undefined || set.size === 0) return;
    const raw = JSON.stringify(data);
    let combined: string | undefined;
    for (const c of set) {
      if (c.combined) sendText(c, (combined ??= `{"stream":${JSON.stringify(stream)},"data":${raw}}`));
      else sendText(c, raw);
    }
  };
  const wanted = (stream: string): boolean => (subscribers.get(stream)?.size ?? 0) > 0;
  /** A market's stream names. PERF: built once per symbol, not per event (a trade makes about 17 events). */
  interface SymbolStreams {
    readonly trade: string;
    readonly aggTrade: string;
    readonly bookTicker: string;
    readonly depth100: string;
    readonly depth: string;
    readonly depth1000: string;
    /** `<symbol>@kline_<interval>` by interval. */
    readonly kline: Map<string, string>;
  }
  const streamNames = new Map<string, SymbolStreams>();
  const namesOf = (symbol: string): SymbolStreams => {
    let n = streamNames.get(symbol);
    if (n === undefined) {
      const s = symbol.toLowerCase();
      n = { trade: `${s}@trade`, aggTrade: `${s}@aggTrade`, bookTicker: `${s}@bookTicker`, depth100: `${s}@depth@100ms`, depth: `${s}@depth`, depth1000: `${s}@depth@1000ms`, kline: new Map() };
      streamNames.set(symbol, n);
    }
    return n;
  };

  const unsubscribeMarket = service.subscribeMarketData((events: readonly MarketDataEvent[]) => {
    const now = ctx.nowMs();
    for (const e of events) {
      const names = namesOf(e.type === 'kline' ? e.kline.symbol : e.symbol);
      try {
        switch (e.type) {
          // PERF: payloads are formatted only for streams someone reads (an order's trade makes 15 candle events).
          case 'trade':
            tickerDirty.add(e.symbol);
            if (wanted(names.trade)) publish(names.trade, format.tradeEvent(e));
            if (wanted(names.aggTrade)) publish(names.aggTrade, { e: 'aggTrade', E: e.timeMs, s: e.symbol, ...format.aggTrade(e) });
            break;
          case 'bookTicker':
            tickerDirty.add(e.symbol);
            if (wanted(names.bookTicker)) publish(names.bookTicker, format.bookTicker(e, false));
            break;
          case 'kline': {
            let stream = names.kline.get(e.kline.interval);
            if (stream === undefined) names.kline.set(e.kline.interval, (stream = `${e.kline.symbol.toLowerCase()}@kline_${e.kline.interval}`));
            // A candle is final once a later one opens: its last state goes out once more with x = true.
            const prev = lastKline.get(stream);
            lastKline.set(stream, e.kline);
            if (!wanted(stream)) break;
            if (prev !== undefined && prev.openTimeMs < e.kline.openTimeMs) publish(stream, format.klineEvent(prev, now, true));
            publish(stream, format.klineEvent(e.kline, now, false));
            break;
          }
          case 'depthDiff':
            for (const fast of [true, false]) {
              const pending = fast ? pending100 : pending1000;
              if (fast ? !wanted(names.depth100) : !wanted(names.depth) && !wanted(names.depth1000)) {
                pending.delete(e.symbol);
                continue;
              }
              let p = pending.get(e.symbol);
              if (p === undefined) pending.set(e.symbol, (p = new PendingDepth()));
              p.add(e);
            }
            break;
        }
      } catch (err) {
        logger.warn({ err }, 'stream: an event could not be published');
      }
    }
  });

  const flushDepth = (pending: Map<string, PendingDepth>, streams: (s: string) => string[]): void => {
    const now = ctx.nowMs();
    for (const [symbol, p] of pending) {
      const payload = format.depthUpdate(p.toDiff(symbol, now), now);
      for (const stream of streams(symbol.toLowerCase())) publish(stream, payload);
    }
    pending.clear();
  };
  const partialDepth = (fast: boolean): void => {
    for (const m of service.markets()) {
      const s = m.symbol.toLowerCase();
      for (const n of [5, 10, 20]) {
        const stream = `${s}@depth${n}${fast ? '@100ms' : ''}`;
        const alt = fast ? undefined : `${s}@depth${n}@1000ms`;
        if (!wanted(stream) && (alt === undefined || !wanted(alt))) continue;
        const d = service.depth(m.symbol, n);
        const payload = { lastUpdateId: d.lastUpdateId, bids: format.levels(m.symbol, d.bids), asks: format.levels(m.symbol, d.asks) };
        publish(stream, payload);
        if (alt !== undefined) publish(alt, payload);
      }
    }
  };
  const tickers = (): void => {
    const now = ctx.nowMs();
    for (const symbol of tickerDirty) {
      const s = symbol.toLowerCase();
      if (!wanted(`${s}@ticker`) && !wanted(`${s}@miniTicker`)) continue;
      const t = service.ticker24h(symbol);
      publish(`${s}@ticker`, {
        e: '24hrTicker', E: now, s: symbol, p: t.priceChange, P: t.priceChangePercent, w: t.weightedAvgPrice, x: t.prevClosePrice, c: t.lastPrice, Q: t.lastQty,
        b: t.bidPrice, B: t.bidQty, a: t.askPrice, A: t.askQty, o: t.openPrice, h: t.highPrice, l: t.lowPrice, v: t.volume, q: t.quoteVolume,
        O: t.openTime, C: t.closeTime, F: t.firstId, L: t.lastId, n: t.count,
      });
      publish(`${s}@miniTicker`, { e: '24hrMiniTicker', E: now, s: symbol, c: t.lastPrice, o: t.openPrice, h: t.highPrice, l: t.lowPrice, v: t.volume, q: t.quoteVolume });
    }
    tickerDirty.clear();
  };
  const fast = setInterval(() => {
    try {
      flushDepth(pending100, (s) => [`${s}@depth@100ms`]);
      partialDepth(true);
    } catch (err) {
      logger.warn({ err }, 'stream: 100 ms flush failed');
    }
  }, 100);
  const slow = setInterval(() => {
    try {
      flushDepth(pending1000, (s) => [`${s}@depth`, `${s}@depth@1000ms`]);
      partialDepth(false);
      tickers();
      ctx.listenKeys.sweep(ctx.nowMs());
    } catch (err) {
      logger.warn({ err }, 'stream: 1 s flush failed');
    }
  }, 1000);
  const pings = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        pingTimeouts++;
        c.socket.terminate();
        drop(c);
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, opts.pingIntervalMs);
  for (const t of [fast, slow, pings]) t.unref();

  /** Adds a stream to a connection; an error text when it cannot. */
  const subscribe = (c: Conn, name: string): string | undefined => {
    if (c.streams.has(name) || c.users.has(name)) return undefined;
    if (c.streams.size + c.users.size >= opts.maxStreams) return `at most ${opts.maxStreams} streams per connection`;
    const parsed = parseStreamName(name);
    if (parsed !== undefined) {
      if (service.engine.getMarket(parsed.symbol) === undefined) return `unknown symbol in stream ${name}`;
      c.streams.add(name);
      let set = subscribers.get(name);
      if (set === undefined) subscribers.set(name, (set = new Set()));
      set.add(c);
      return undefined;
    }
    const userId = /^[A-Za-z0-9_-]{20,100}$/.test(name) ? ctx.listenKeys.userOf(name, ctx.nowMs()) : undefined;
    if (userId === undefined) return `invalid stream name ${JSON.stringify(name)}`;
    const off = service.subscribeUser(userId, (events) => sendUserEvents(c, name, events));
    const offClose = ctx.listenKeys.onClose(name, () => {
      sendText(c, c.combined ? JSON.stringify({ stream: name, data: { e: 'listenKeyExpired', E: ctx.nowMs(), listenKey: name } }) : JSON.stringify({ e: 'listenKeyExpired', E: ctx.nowMs(), listenKey: name }));
      unsubscribe(c, name);
    });
    c.users.set(name, () => {
      off();
      offClose();
    });
    return undefined;
  };
  const unsubscribe = (c: Conn, name: string): void => {
    c.streams.delete(name);
    subscribers.get(name)?.delete(c);
    if (subscribers.get(name)?.size === 0) subscribers.delete(name);
    const off = c.users.get(name);
    if (off !== undefined) {
      c.users.delete(name);
      off();
    }
  };
  const drop = (c: Conn): void => {
    if (!conns.delete(c)) return;
    for (const s of [...c.streams, ...c.users.keys()]) unsubscribe(c, s);
  };

  const sendUserEvents = (c: Conn, stream: string, events: readonly UserEvent[]): void => {
    const now = ctx.nowMs();
    const out: unknown[] = [];
    const changed = new Map<string, { free: bigint; locked: bigint }>();
    for (const e of events) {
      if (e.type === 'order') out.push(format.executionReport(e, now));
      else if (e.type === 'balance') {
        changed.set(e.asset, { free: e.free, locked: e.locked });
        if (e.reason === 'ADJUSTMENT' || e.reason === 'DEPOSIT' || e.reason === 'DEPOSIT_REVERSAL' || e.reason === 'WITHDRAWAL') out.push(format.balanceUpdate(e, now));
      }
    }
    if (changed.size > 0) out.push(format.accountPosition(changed, now));
    for (const data of out) sendText(c, c.combined ? JSON.stringify({ stream, data }) : JSON.stringify(data));
  };

  const onMessage = (c: Conn, raw: Buffer | ArrayBuffer | Buffer[]): void => {
    const now = ctx.nowMs();
    if (now - c.msgWindowStartMs >= 1000) {
      c.msgWindowStartMs = now;
      c.msgCount = 0;
    }
    if (++c.msgCount > opts.maxMessagesPerSec) {
      c.socket.close(1008, `too many messages: at most ${opts.maxMessagesPerSec} per second`);
      drop(c);
      return;
    }
    const reply = (v: unknown): void => sendText(c, JSON.stringify(v));
    let msg: unknown;
    try {
      msg = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw).toString('utf8'));
    } catch {
      return reply({ error: { code: 3, msg: 'Invalid JSON: the message is not JSON' }, id: null });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return reply({ error: { code: 2, msg: 'Invalid request: a message must be a JSON object' }, id: null });
    const m = msg as { method?: unknown; params?: unknown; id?: unknown };
    const id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null;
    if (m.id !== undefined && id === null) return reply({ error: { code: 1, msg: "Invalid value type: 'id' must be a number or a string" }, id: null });
    switch (m.method) {
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE': {
        if (!Array.isArray(m.params) || !m.params.every((s): s is string => typeof s === 'string')) return reply({ error: { code: 2, msg: "Invalid request: 'params' must be an array of stream names" }, id });
        for (const s of m.params) {
          if (m.method === 'UNSUBSCRIBE') unsubscribe(c, s);
          else {
            const why = subscribe(c, s);
            if (why !== undefined) return reply({ error: { code: 2, msg: `Invalid request: ${why}` }, id });
          }
        }
        return reply({ result: null, id });
      }
      case 'LIST_SUBSCRIPTIONS':
        return reply({ result: [...c.streams, ...c.users.keys()], id });
      case 'SET_PROPERTY':
      case 'GET_PROPERTY':
        return m.method === 'GET_PROPERTY' ? reply({ result: c.combined, id }) : reply({ error: { code: 2, msg: 'Invalid request: properties cannot be changed' }, id });
      default:
        return reply({ error: { code: 2, msg: "Invalid request: 'method' must be SUBSCRIBE, UNSUBSCRIBE or LIST_SUBSCRIPTIONS" }, id });
    }
  };

  const open = (socket: WebSocket, combined: boolean, initial: readonly string[]): void => {
    if (conns.size >= opts.maxConnections) {
      socket.close(1013, 'too many connections; try again later');
      return;
    }
    const c: Conn = { socket, combined, streams: new Set(), users: new Map(), alive: true, msgWindowStartMs: 0, msgCount: 0 };
    conns.add(c);
    socket.on('pong', () => (c.alive = true));
    socket.on('message', (raw) => onMessage(c, raw as Buffer));
    socket.on('close', () => drop(c));
    socket.on('error', () => drop(c));
    for (const s of initial) {
      const why = subscribe(c, s);
      if (why !== undefined) {
        socket.close(1008, why.slice(0, 120));
        drop(c);
        return;
      }
    }
  };

  app.get('/ws', { websocket: true }, (socket) => open(socket, false, []));
  app.get('/ws/:stream', { websocket: true }, (socket, req: FastifyRequest) => open(socket, false, [(req.params as { stream: string }).stream]));
  app.get('/stream', { websocket: true }, (socket, req: FastifyRequest) => {
    const q = (req.query as { streams?: unknown }).streams;
    open(socket, true, typeof q === 'string' && q !== '' ? q.split('/') : []);
  });

  return {
    stats: () => ({ connections: conns.size, slowConsumersClosed, pingTimeouts }),
    close(): void {
      unsubscribeMarket();
      for (const t of [fast, slow, pings]) clearInterval(t);
      for (const c of [...conns]) {
        c.socket.terminate();
        drop(c);
      }
    },
  };
}
