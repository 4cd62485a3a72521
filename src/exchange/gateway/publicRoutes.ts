/**
 * Binance's public market routes under `/api/v3/`: ping, time, exchangeInfo, depth, trades, aggTrades, klines (and
 * uiKlines), ticker/24hr, ticker/price, ticker/bookTicker, avgPrice. Parameters as Binance names them; unknown ones
 * are refused (-1104); an unknown symbol is -1121, a bad interval -1120.
 * @see binance-spot-api-docs rest-api.md "Market Data endpoints", "General endpoints"
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isKlineInterval, KLINE_INTERVALS } from '../klines.js';
import { GatewayError, invalidSymbol } from './gatewayError.js';
import { paramsOf, type GatewayContext } from './gatewayContext.js';
import type { RequestParams } from './requestParams.js';

/** Binance symbol pattern. */
export const SYMBOL_RE = /^[A-Z0-9-_.]{1,20}$/;

/** Reads `symbol` and checks the market exists. @throws GatewayError -1102 | -1100 | -1121 */
export function readSymbol(ctx: GatewayContext, p: RequestParams): string {
  const symbol = p.string('symbol', SYMBOL_RE);
  if (ctx.service.engine.getMarket(symbol) === undefined) throw invalidSymbol();
  return symbol;
}

/** Reads `symbol` or `symbols` (a JSON array), or neither = every market. @throws GatewayError -1102 | -1100 | -1121 */
function readSymbols(ctx: GatewayContext, p: RequestParams): string[] | undefined {
  const one = p.optString('symbol', SYMBOL_RE);
  const many = p.optString('symbols');
  if (one !== undefined && many !== undefined) throw new GatewayError(400, -1101, "Parameters 'symbol' and 'symbols' cannot be sent together.");
  let list: string[] | undefined;
  if (one !== undefined) list = [one];
  else if (many !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(many);
    } catch {
      throw new GatewayError(400, -1100, "Illegal characters found in parameter 'symbols'; it must be a JSON array of symbols.");
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 100 || !parsed.every((s): s is string => typeof s === 'string' && SYMBOL_RE.test(s))) {
      throw new GatewayError(400, -1100, "Illegal characters found in parameter 'symbols'; it must be a JSON array of 1..100 symbols.");
    }
    list = parsed;
  }
  if (list === undefined) return undefined;
  for (const s of list) if (ctx.service.engine.getMarket(s) === undefined) throw invalidSymbol();
  return list;
}

/** Registers the public routes. */
export function registerPublicRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { service, format } = ctx;
  const allSymbols = (): string[] => service.markets().map((m) => m.symbol);

  app.get('/api/v3/ping', async (req) => {
    paramsOf(req).done();
    return {};
  });

  app.get('/api/v3/time', async (req) => {
    paramsOf(req).done();
    return { serverTime: ctx.nowMs() };
  });

  app.get('/api/v3/exchangeInfo', async (req) => {
    const p = paramsOf(req);
    const symbols = readSymbols(ctx, p);
    p.ignore('permissions', 'showPermissionSets', 'symbolStatus');
    p.done();
    const markets = service.markets().filter((m) => symbols === undefined || symbols.includes(m.symbol));
    return {
      timezone: 'UTC',
      serverTime: ctx.nowMs(),
      rateLimits: ctx.rateLimits,
      exchangeFilters: [],
      symbols: markets.map((m) => format.symbolInfo(m)),
    };
  });

  app.get('/api/v3/depth', async (req) => {
    const p = paramsOf(req);
    const symbol = readSymbol(ctx, p);
    const limit = p.optInt('limit', 1, 5000) ?? 100;
    p.done();
    const d = service.depth(symbol, limit);
    return { lastUpdateId: d.lastUpdateId, bids: format.levels(symbol, d.bids), asks: format.levels(symbol, d.asks) };
  });

  app.get('/api/v3/trades', async (req) => {
    const p = paramsOf(req);
    const symbol = readSymbol(ctx, p);
    const limit = p.optInt('limit', 1, 1000) ?? 500;
    p.done();
    return (await service.trades(symbol, { limit })).map((t) => format.trade(t));
  });

  app.get('/api/v3/historicalTrades', async (req) => {
    const p = paramsOf(req);
    const symbol = readSymbol(ctx, p);
    const limit = p.optInt('limit', 1, 1000) ?? 500;
    const fromId = p.optInt('fromId', 0, Number.MAX_SAFE_INTEGER);
    p.done();
    return (await service.trades(symbol, { limit, ...(fromId !== undefined ? { fromId } : {}) })).map((t) => format.trade(t));
  });

  app.get('/api/v3/aggTrades', async (req) => {
    const p = paramsOf(req);
    const symbol = readSymbol(ctx, p);
    const limit = p.optInt('limit', 1, 1000) ?? 500;
    const fromId = p.optInt('fromId', 0, Number.MAX_SAFE_INTEGER);
    const startTime = p.optInt('startTime', 0, Number.MAX_SAFE_INTEGER);
    const endTime = p.optInt('endTime', 0, Number.MAX_SAFE_INTEGER);
    p.done();
    if (startTime !== undefined && endTime !== undefined && endTime - startTime > 3_600_000) throw new GatewayError(400, -1127, 'More than 1 hours between startTime and endTime.');
    let trades = await service.trades(symbol, { limit: startTime !== undefined || endTime !== undefined ? 1000 : limit, ...(fromId !== undefined ? { fromId } : {}) });
    if (startTime !== undefined) trades = trades.filter((t) => t.timeMs >= startTime);
    if (endTime !== undefined) trades = trades.filter((t) => t.timeMs <= endTime);
    return trades.slice(0, limit).map((t) => format.aggTrade(t));
  });

  const klines = async (req: FastifyRequest): Promise<unknown[][]> => {
    const p = paramsOf(req);
    const symbol = readSymbol(ctx, p);
    const interval = p.optString('interval');
    if (interval === undefined) throw new GatewayError(400, -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.");
    if (!isKlineInterval(interval)) throw new GatewayError(400, -1120, `Invalid interval; one of ${KLINE_INTERVALS.join(', ')}.`);
    const startTime = p.optInt('startTime', 0, Number.MAX_SAFE_INTEGER);
    const endTime = p.optInt('endTime', 0, Number.MAX_SAFE_INTEGER);
    const limit = p.optInt('limit', 1, 1000) ?? 500;
    p.ignore('timeZone');
    if (p.has('timeZone') && p.optString('timeZone') !== '0') throw new GatewayError(400, -1130, "Invalid data sent for a parameter 'timeZone': only UTC (0) is offered.");
    p.done();
    const rows = await service.klines(symbol, interval, { limit, ...(startTime !== undefined ? { startTime } : {}), ...(endTime !== undefined ? { endTime } : {}) });
    return rows.map((k) => format.klineRow(k));
  };
  app.get('/api/v3/klines', klines);
  app.get('/api/v3/uiKlines', klines);

  app.get('/api/v3/ticker/24hr', async (req) => {
    const p = paramsOf(req);
    const symbols = readSymbols(ctx, p);
    const type = p.optEnum('type', ['FULL', 'MINI'] as const) ?? 'FULL';
    p.done();
    const one = (s: string): Record<string, unknown> => {
      const t = service.ticker24h(s);
      if (type === 'MINI') return { symbol: s, openPrice: t.openPrice, highPrice: t.highPrice, lowPrice: t.lowPrice, lastPrice: t.lastPrice, volume: t.volume, quoteVolume: t.quoteVolume, openTime: t.openTime, closeTime: t.closeTime, firstId: t.firstId, lastId: t.lastId, count: t.count };
      return { ...t };
    };
    const list = symbols ?? allSymbols();
    return p.has('symbol') ? one(list[0]!) : list.map(one);
  });

  app.get('/api/v3/ticker/price', async (req) => {
    const p = paramsOf(req);
    const symbols = readSymbols(ctx, p);
    p.done();
    const one = (s: string): Record<string, unknown> => ({ symbol: s, price: format.market(s).price(service.marketData.lastPriceTicks(s)) });
    return p.has('symbol') ? one(symbols![0]!) : (symbols ?? allSymbols()).map(one);
  });

  app.get('/api/v3/ticker/bookTicker', async (req) => {
    const p = paramsOf(req);
    const symbols = readSymbols(ctx, p);
    p.done();
    const one = (s: string): Record<string, unknown> => format.bookTicker(service.bookTicker(s), true);
    return p.has('symbol') ? one(symbols![0]!) : (symbols ?? allSymbols()).map(one);
  });

  app.get('/api/v3/avgPrice', async (req) => {
    const p = paramsOf(req);
    const symbol = readSymbol(ctx, p);
    p.done();
    const now = ctx.nowMs();
    const avg = service.marketData.avgPrice(symbol, now);
    const f = format.market(symbol);
    return { mins: 5, price: avg?.price ?? f.quote(0n), closeTime: avg?.closeTime ?? now };
  });
}
