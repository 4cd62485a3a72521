/**
 * The exchange of a devnet: a `cairn exchange serve` child next to node1 with the shipped devnet markets (CRN/USD is
 * the one the demo traders use), its record in devnet.json, its command line, the poll of its public market data
 * for the status table (Binance's /api/v3/ticker/24hr and /api/v3/depth), and the table's exchange line.
 *
 * Layout: `<devnet dir>/exchange/` is its data dir (command log, snapshots, history, gateway.sqlite, admin.token,
 * logs/ in rotating NDJSON for the log collector); `<devnet dir>/exchange.console.log` its console output.
 */
import { join } from 'node:path';
import type { DemoTraderStats } from './demoTraders.js';
import { httpText } from './nodeHttp.js';

/** The market the demo traders trade (Binance symbol of the devnet's CRN/USD). */
export const DEVNET_EXCHANGE_SYMBOL = 'CRNUSD';
/** Offset of the exchange's port from node1's api port in the devnet's port layout (28730 + 6 = 28736; +5 is the web UI). */
export const EXCHANGE_PORT_OFFSET = 6;

/** The `cairn exchange serve` child as devnet.json records it. */
export interface DevnetExchangeRecord {
  /** Base URL of the gateway, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Binance spot REST base, `<url>/api/v3/`. */
  readonly restBase: string;
  /** WebSocket base, `ws://127.0.0.1:<port>` (streams under /ws/<stream> and /stream?streams=…). */
  readonly wsUrl: string;
  readonly port: number;
  /** Its data dir: command log, snapshots, history, gateway.sqlite, admin.token, logs/. */
  readonly datadir: string;
  /** The admin token file (header X-CAIRN-ADMIN-TOKEN of /v1/admin/*). */
  readonly adminTokenFile: string;
  /** Its rotating NDJSON log dir (a source of the log collector). */
  readonly logDir: string;
  /** Its console output (banner, start-up errors). */
  readonly consoleLog: string;
  /** The market the demo traders trade. */
  readonly symbol: string;
  /** Process id of the current (or last) exchange process; null before the first start. */
  readonly pid: number | null;
}

/** The exchange record of a devnet in `dir` whose gateway listens on `port`, keeping `pid` of an earlier run. */
export function devnetExchangeRecord(dir: string, port: number, pid: number | null = null): DevnetExchangeRecord {
  const datadir = join(dir, 'exchange');
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    restBase: `${url}/api/v3/`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    datadir,
    adminTokenFile: join(datadir, 'admin.token'),
    logDir: join(datadir, 'logs'),
    consoleLog: join(dir, 'exchange.console.log'),
    symbol: DEVNET_EXCHANGE_SYMBOL,
    pid,
  };
}

/**
 * The `cairn exchange serve` arguments of the devnet's exchange: devnet network (faucet, admin adjustments), the
 * shipped default markets, its port, data dir and log dir, and the chain bridge on `nodeApiUrl` (node1's Esplora
 * API: deposit addresses, deposits credited at the devnet's 3 confirmations, withdrawals). Its per-IP limit is lifted:
 * every demo trader calls from 127.0.0.1.
 */
export function exchangeServeArgs(record: DevnetExchangeRecord, network: string, logLevel: string, nodeApiUrl: string): string[] {
  return [
    'exchange', 'serve',
    '--network', network,
    '--datadir', record.datadir,
    '--port', String(record.port),
    '--log-dir', record.logDir,
    '--log-level', logLevel,
    '--ip-limit', '0',
    '--node-url', nodeApiUrl.replace(/\/$/, ''),
  ];
}

/** The market as the status table shows it, from the exchange's public REST API. */
export interface ExchangeMarketView {
  /** Last trade price (decimal string of USD per CRN), undefined before the first trade. */
  readonly lastPrice: string | undefined;
  /** Trades of the last 24 hours. */
  readonly trades24h: number;
  /** Price levels in the book (up to the depth limit asked). */
  readonly bidLevels: number;
  readonly askLevels: number;
  /** Best bid and ask prices (decimal strings), undefined on an empty side. */
  readonly bestBid: string | undefined;
  readonly bestAsk: string | undefined;
}

/** Levels asked of /api/v3/depth for the table (Binance's weight-1 limit). */
const DEPTH_LIMIT = 100;

/**
 * Reads the market's view from the gateway: GET /api/v3/ticker/24hr and /api/v3/depth (Binance spot shapes).
 * @throws Error when the exchange does not answer, answers non-2xx, or with another shape
 */
export async function readExchangeMarket(record: DevnetExchangeRecord, timeoutMs: number): Promise<ExchangeMarketView> {
  const q = `symbol=${record.symbol}`;
  const [tickerText, depthText] = await Promise.all([
    httpText(`${record.restBase}ticker/24hr?${q}`, timeoutMs),
    httpText(`${record.restBase}depth?${q}&limit=${DEPTH_LIMIT}`, timeoutMs),
  ]);
  const ticker = JSON.parse(tickerText) as { lastPrice?: unknown; count?: unknown };
  const depth = JSON.parse(depthText) as { bids?: unknown; asks?: unknown };
  if (!Array.isArray(depth.bids) || !Array.isArray(depth.asks) || typeof ticker.count !== 'number') throw new Error('unexpected ticker/depth shape');
  const top = (side: unknown[]): string | undefined => (Array.isArray(side[0]) && typeof side[0][0] === 'string' ? side[0][0] : undefined);
  const count = ticker.count;
  return {
    lastPrice: count > 0 && typeof ticker.lastPrice === 'string' ? ticker.lastPrice : undefined,
    trades24h: count,
    bidLevels: depth.bids.length,
    askLevels: depth.asks.length,
    bestBid: top(depth.bids),
    bestAsk: top(depth.asks),
  };
}

/** What the status table shows of the exchange. */
export interface DevnetExchangeStatus {
  /** The child's state (running, restarting, stopping, stopped) and whether its gateway answers. */
  readonly state: string;
  readonly pid: number | undefined;
  readonly url: string;
  readonly symbol: string;
  /** The last answer of the market poll, undefined before the first. */
  readonly market: ExchangeMarketView | undefined;
  readonly traders: DemoTraderStats;
}

/**
 * The table's exchange line, e.g. `exchange CRNUSD http://127.0.0.1:28736: up | last 100.25 | 3.0 orders/s | bid
 * 100.15 × 4 levels, ask 100.35 × 4 levels | trades 24h 120 | demo traders: trading, orders 300, refused 0 | deposits
 * credited 3, withdrawals confirmed 0`; while the traders wait for their deposits, `demo traders: funding (deposit
 * 1/3)`. Deposits and withdrawals count the demo traders' own (their GET /v1/deposits and /v1/withdrawals), "—"
 * before the first read.
 */
export function formatExchangeLine(s: DevnetExchangeStatus): string {
  const m = s.market;
  const t = s.traders;
  const book =
    m === undefined
      ? 'book -'
      : `bid ${m.bestBid ?? '-'} × ${m.bidLevels} level${m.bidLevels === 1 ? '' : 's'}, ask ${m.bestAsk ?? '-'} × ${m.askLevels} level${m.askLevels === 1 ? '' : 's'}`;
  return [
    `exchange ${s.symbol} ${s.url}/api/v3/: ${s.state}`,
    `last ${m?.lastPrice ?? '-'}`,
    `${t.ordersPerSec.toFixed(1)} orders/s`,
    book,
    `trades 24h ${m?.trades24h ?? '-'}`,
    `demo traders: ${t.state}${t.funding !== undefined ? ` (${t.funding})` : ''}, orders ${t.ordersSent}, refused ${t.refused}` + (t.errors > 0 ? `, errors ${t.errors}` : ''),
    `deposits credited ${t.depositsCredited ?? '—'}, withdrawals confirmed ${t.withdrawalsConfirmed ?? '—'}`,
  ].join(' | ');
}

/** The exchange's part of the plain status line. */
export function formatExchangeStatusPart(s: DevnetExchangeStatus): string {
  const m = s.market;
  return `exchange ${s.state} last ${m?.lastPrice ?? '-'} ${s.traders.ordersPerSec.toFixed(1)} orders/s top ${m?.bestBid ?? '-'}/${m?.bestAsk ?? '-'} trades24h ${m?.trades24h ?? '-'} refused ${s.traders.refused} deposits ${s.traders.depositsCredited ?? '-'}${s.traders.funding !== undefined ? ` funding ${s.traders.funding}` : ''}`;
}
