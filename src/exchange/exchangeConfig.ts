/**
 * The exchange's configuration: the network it runs for, its assets and its markets, as read from a JSON file and as
 * carried by the CONFIGURE command at the head of the command log (so a replay from an empty state needs nothing but
 * the log). Amounts and sizes are exact decimal strings, fee rates integer parts per million: never a float.
 */
import { parseUnits } from '../matching/decimal.js';
import { defineMarketGrid, parseQuantityLots, type MarketGrid } from '../matching/marketGrid.js';
import { ExchangeError } from './exchangeError.js';

/** Networks the exchange knows; admin balance adjustments may credit on-chain assets on devnet and regtest only. */
export type ExchangeNetwork = 'main' | 'test' | 'devnet' | 'regtest';

/** Every network name. */
export const EXCHANGE_NETWORKS: readonly ExchangeNetwork[] = ['main', 'test', 'devnet', 'regtest'];

/** One asset: its code, its decimals (1 coin = 10^decimals base units), and whether it lives on the chain. */
export interface AssetConfig {
  /** Asset code, 2..10 of A-Z0-9 (`CRN`, `USD`). */
  readonly asset: string;
  /** Decimals of one coin, 0..18 (CRN: 8). */
  readonly decimals: number;
  /**
   * True for the chain's coin: it reaches the exchange only by deposits (the chain bridge), except on devnet and
   * regtest where admin adjustments may credit it too. False for off-chain assets (fiat), credited by admin
   * adjustments.
   */
  readonly onChain: boolean;
}

/**
 * Trading status of a market (Binance's `status` subset): `TRADING` takes every command; `CANCEL_ONLY` takes
 * cancels and quantity decreases only; `HALT` takes no order command.
 */
export type MarketStatus = 'TRADING' | 'HALT' | 'CANCEL_ONLY';

/** Every market status. */
export const MARKET_STATUSES: readonly MarketStatus[] = ['TRADING', 'HALT', 'CANCEL_ONLY'];

/** Highest fee rate accepted: 10% (100,000 parts per million). */
export const MAX_FEE_PPM = 100_000;

/** Parts per million: the fee-rate unit (1,000 ppm = 0.1% = 10 basis points). */
export const PPM = 1_000_000n;

/** Default cap of open orders per user and market (Binance's MAX_NUM_ORDERS filter is 200 on most symbols). */
export const DEFAULT_MAX_OPEN_ORDERS = 200;

/** One market as configured. Sizes and bounds are decimal strings in coins of the base or quote asset. */
export interface MarketConfig {
  /** Binance symbol: base then quote without separator (`CRNUSD`). */
  readonly symbol: string;
  /** Human form (`CRN/USD`). */
  readonly displayName: string;
  readonly baseAsset: string;
  readonly quoteAsset: string;
  /** PRICE_FILTER tickSize, in quote coins per base coin (`"0.01"`). */
  readonly tickSize: string;
  /** PRICE_FILTER maxPrice, a multiple of tickSize. */
  readonly maxPrice: string;
  /** LOT_SIZE stepSize, in base coins (`"0.0001"`). */
  readonly stepSize: string;
  /** LOT_SIZE minQty, a positive multiple of stepSize. */
  readonly minQuantity: string;
  /** LOT_SIZE maxQty, a multiple of stepSize. */
  readonly maxQuantity: string;
  /** NOTIONAL minNotional, in quote coins (price × quantity of an order must reach it; 0 = no minimum). */
  readonly minNotional: string;
  /** Fee of the resting side of a fill, ppm of what it receives. */
  readonly makerFeePpm: number;
  /** Fee of the arriving side of a fill, ppm of what it receives. */
  readonly takerFeePpm: number;
  readonly status: MarketStatus;
  /** MAX_NUM_ORDERS: open orders (resting and pending stops) one user may have on this market. */
  readonly maxOpenOrders: number;
}

/** The whole configuration. */
export interface ExchangeConfig {
  readonly network: ExchangeNetwork;
  readonly assets: readonly AssetConfig[];
  readonly markets: readonly MarketConfig[];
}

/** A market with its checked grid and derived integer bounds. */
export interface MarketDefinition {
  readonly config: MarketConfig;
  readonly grid: MarketGrid;
  /** LOT_SIZE minQty in lots (≥ 1). */
  readonly minQuantityLots: number;
  /** NOTIONAL minNotional in quote base units. */
  readonly minNotionalUnits: bigint;
}

const ASSET_RE = /^[A-Z0-9]{2,10}$/;
const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;

function bad(why: string): never {
  throw new ExchangeError('BAD_CONFIG', why);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) bad(`${where}: ${key} must be a non-empty string`);
  return v;
}

function int(o: Record<string, unknown>, key: string, where: string, min: number, max: number, dflt?: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(`${where}: ${key} must be an integer ${min}..${max}`);
  return v;
}

function checkKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(`${where}: unknown field ${JSON.stringify(k)}`);
}

const ASSET_KEYS = ['asset', 'decimals', 'onChain'] as const;
const MARKET_KEYS = [
  'symbol', 'displayName', 'baseAsset', 'quoteAsset', 'tickSize', 'maxPrice', 'stepSize', 'minQuantity', 'maxQuantity',
  'minNotional', 'makerFeePpm', 'takerFeePpm', 'status', 'maxOpenOrders',
] as const;

/**
 * Checks a configuration value (parsed JSON or a literal) and returns it normalized: every field present, in a
 * fixed key order, frozen. Unknown fields are refused (a misspelt `takerFeePpm` must not silently mean 0).
 * @throws ExchangeError BAD_CONFIG naming the first problem
 */
export function checkExchangeConfig(value: unknown): ExchangeConfig {
  if (!isObject(value)) bad('configuration must be an object');
  checkKeys(value, ['network', 'assets', 'markets'], 'configuration');
  const network = value.network;
  if (typeof network !== 'string' || !(EXCHANGE_NETWORKS as readonly string[]).includes(network)) {
    bad(`network must be one of ${EXCHANGE_NETWORKS.join(', ')}`);
  }
  if (!Array.isArray(value.assets) || value.assets.length === 0 || value.assets.length > 64) bad('assets must be a list of 1..64 assets');
  const assets: AssetConfig[] = [];
  for (const [i, a] of (value.assets as unknown[]).entries()) {
    const where = `assets[${i}]`;
    if (!isObject(a)) bad(`${where} must be an object`);
    checkKeys(a, ASSET_KEYS, where);
    const asset = str(a, 'asset', where);
    if (!ASSET_RE.test(asset)) bad(`${where}: asset must be 2..10 of A-Z0-9`);
    if (assets.some((x) => x.asset === asset)) bad(`${where}: duplicate asset ${asset}`);
    const decimals = int(a, 'decimals', where, 0, 18);
    if (typeof a.onChain !== 'boolean') bad(`${where}: onChain must be true or false`);
    assets.push(Object.freeze({ asset, decimals, onChain: a.onChain }));
  }
  if (!Array.isArray(value.markets) || value.markets.length > 256) bad('markets must be a list of at most 256 markets');
  const markets: MarketConfig[] = [];
  for (const [i, m] of (value.markets as unknown[]).entries()) {
    const where = `markets[${i}]`;
    if (!isObject(m)) bad(`${where} must be an object`);
    checkKeys(m, MARKET_KEYS, where);
    const symbol = str(m, 'symbol', where);
    if (!SYMBOL_RE.test(symbol)) bad(`${where}: symbol must be 2..20 of A-Z0-9`);
    if (markets.some((x) => x.symbol === symbol)) bad(`${where}: duplicate symbol ${symbol}`);
    const status = m.status ?? 'TRADING';
    if (typeof status !== 'string' || !(MARKET_STATUSES as readonly string[]).includes(status)) bad(`${where}: status must be one of ${MARKET_STATUSES.join(', ')}`);
    const config: MarketConfig = Object.freeze({
      symbol,
      displayName: typeof m.displayName === 'string' && m.displayName.length > 0 ? m.displayName : `${str(m, 'baseAsset', where)}/${str(m, 'quoteAsset', where)}`,
      baseAsset: str(m, 'baseAsset', where),
      quoteAsset: str(m, 'quoteAsset', where),
      tickSize: str(m, 'tickSize', where),
      maxPrice: str(m, 'maxPrice', where),
      stepSize: str(m, 'stepSize', where),
      minQuantity: str(m, 'minQuantity', where),
      maxQuantity: str(m, 'maxQuantity', where),
      minNotional: typeof m.minNotional === 'string' ? m.minNotional : '0',
      makerFeePpm: int(m, 'makerFeePpm', where, 0, MAX_FEE_PPM),
      takerFeePpm: int(m, 'takerFeePpm', where, 0, MAX_FEE_PPM),
      status: status as MarketStatus,
      maxOpenOrders: int(m, 'maxOpenOrders', where, 1, 100_000, DEFAULT_MAX_OPEN_ORDERS),
    });
    if (config.displayName.length > 32) bad(`${where}: displayName is longer than 32 characters`);
    defineMarket(config, assets); // checks the grid and bounds
    markets.push(config);
  }
  return Object.freeze({ network: network as ExchangeNetwork, assets: Object.freeze(assets), markets: Object.freeze(markets) });
}

/**
 * Derives a market's grid and integer bounds from its configuration and the assets.
 * @throws ExchangeError BAD_CONFIG (unknown asset, grid that cannot work, bounds off the grid)
 */
export function defineMarket(config: MarketConfig, assets: readonly AssetConfig[]): MarketDefinition {
  const where = `market ${config.symbol}`;
  const base = assets.find((a) => a.asset === config.baseAsset);
  const quote = assets.find((a) => a.asset === config.quoteAsset);
  if (base === undefined) bad(`${where}: unknown base asset ${config.baseAsset}`);
  if (quote === undefined) bad(`${where}: unknown quote asset ${config.quoteAsset}`);
  if (base.asset === quote.asset) bad(`${where}: base and quote asset are the same`);
  let grid: MarketGrid;
  try {
    grid = defineMarketGrid({
      symbol: config.symbol,
      baseAsset: base.asset,
      quoteAsset: quote.asset,
      baseDecimals: base.decimals,
      quoteDecimals: quote.decimals,
      tickSize: config.tickSize,
      stepSize: config.stepSize,
      maxPrice: config.maxPrice,
      maxQuantity: config.maxQuantity,
    });
  } catch (err) {
    bad(`${where}: ${(err as Error).message}`);
  }
  let minQuantityLots: number;
  try {
    minQuantityLots = parseQuantityLots(grid, config.minQuantity);
  } catch {
    bad(`${where}: minQuantity ${config.minQuantity} must be a positive multiple of stepSize, at most maxQuantity`);
  }
  let minNotionalUnits: bigint;
  try {
    minNotionalUnits = parseUnits(config.minNotional, quote.decimals);
  } catch (err) {
    bad(`${where}: minNotional: ${(err as Error).message}`);
  }
  return Object.freeze({ config, grid, minQuantityLots, minNotionalUnits });
}

/**
 * The canonical text of a configuration: JSON with keys in the interfaces' order. Equal configurations give equal
 * text; the state hash and the CONFIGURE command use it.
 */
export function encodeExchangeConfig(config: ExchangeConfig): string {
  return JSON.stringify({
    network: config.network,
    assets: config.assets.map((a) => ({ asset: a.asset, decimals: a.decimals, onChain: a.onChain })),
    markets: config.markets.map((m) => {
      const o: Record<string, unknown> = {};
      for (const k of MARKET_KEYS) o[k] = m[k];
      return o;
    }),
  });
}

/**
 * Why `next` cannot replace `current`, or undefined when it can. A running exchange may add assets and markets and
 * change a market's status, fees, minimums and order cap; it may not change the network, an asset, or a market's
 * grid (assets, tickSize, stepSize, maxPrice, maxQuantity: resting orders are in ticks and lots of that grid), nor
 * drop a market (halt it instead).
 */
export function configChangeRefusal(current: ExchangeConfig, next: ExchangeConfig): string | undefined {
  if (current.network !== next.network) return `the exchange's network is ${current.network}, not ${next.network}`;
  for (const a of current.assets) {
    const b = next.assets.find((x) => x.asset === a.asset);
    if (b === undefined) return `asset ${a.asset} cannot be removed`;
    if (b.decimals !== a.decimals || b.onChain !== a.onChain) return `asset ${a.asset} cannot change its decimals or onChain`;
  }
  for (let i = 0; i < current.assets.length; i++) {
    if (next.assets[i]?.asset !== current.assets[i]!.asset) return 'existing assets must keep their order; add new ones at the end';
  }
  for (let i = 0; i < current.markets.length; i++) {
    const m = current.markets[i]!;
    const n = next.markets[i];
    if (n === undefined || n.symbol !== m.symbol) {
      return next.markets.some((x) => x.symbol === m.symbol)
        ? 'existing markets must keep their order; add new ones at the end'
        : `market ${m.symbol} cannot be removed (set its status to HALT)`;
    }
    for (const k of ['baseAsset', 'quoteAsset', 'tickSize', 'stepSize', 'maxPrice', 'maxQuantity'] as const) {
      if (n[k] !== m[k]) return `market ${m.symbol} cannot change its ${k} (${m[k]} → ${n[k]})`;
    }
  }
  return undefined;
}

/** The assets and markets of the devnet and regtest defaults (`CRN` 8 decimals; `USD` and `USDT` off-chain, 6). */
const DEFAULT_ASSETS: readonly AssetConfig[] = [
  { asset: 'CRN', decimals: 8, onChain: true },
  { asset: 'USD', decimals: 6, onChain: false },
  { asset: 'USDT', decimals: 6, onChain: false },
];

const defaultMarket = (symbol: string, quote: string): MarketConfig => ({
  symbol,
  displayName: `CRN/${quote}`,
  baseAsset: 'CRN',
  quoteAsset: quote,
  tickSize: '0.01',
  maxPrice: '1000000',
  stepSize: '0.0001',
  minQuantity: '0.0001',
  maxQuantity: '9000',
  minNotional: '1',
  makerFeePpm: 1000,
  takerFeePpm: 1000,
  status: 'TRADING',
  maxOpenOrders: DEFAULT_MAX_OPEN_ORDERS,
});

/**
 * The configuration shipped for a network: CRNUSD (`CRN/USD`) and CRNUSDT, tick 0.01, step 0.0001 CRN, min notional
 * 1, fees 0.1% maker and taker. The same markets on every network; only the admin-adjustment policy differs.
 */
export function defaultExchangeConfig(network: ExchangeNetwork): ExchangeConfig {
  return checkExchangeConfig({ network, assets: DEFAULT_ASSETS, markets: [defaultMarket('CRNUSD', 'USD'), defaultMarket('CRNUSDT', 'USDT')] });
}

/**
 * Reads a markets file: JSON `{ "assets": [...], "markets": [...] }` (the network comes from the command line).
 * @throws ExchangeError BAD_CONFIG (unreadable, not JSON, or invalid)
 */
export function parseMarketsFile(text: string, network: ExchangeNetwork): ExchangeConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    bad(`markets file is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) bad('markets file must hold an object with assets and markets');
  if (value.network !== undefined && value.network !== network) bad(`markets file is for network ${String(value.network)}, not ${network}`);
  return checkExchangeConfig({ ...value, network });
}

/** True when admin adjustments may credit `asset` on this network (any asset on devnet/regtest; else off-chain only). */
export function adjustmentAllowed(network: ExchangeNetwork, asset: AssetConfig): boolean {
  return network === 'devnet' || network === 'regtest' || !asset.onChain;
}
