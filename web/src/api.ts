/**
 * HTTP access to the three services through the `cairn web` origin: the node's Esplora REST API under /api, the
 * wallet service under /v1, the exchange under /exchange, and cairn web's own /web/status. Every failure becomes an
 * ApiError with the service's name, the HTTP status and the service's own code and message, so a panel can say which
 * service is down and why.
 */

/** Which service a request went to (for error messages). */
export type ServiceLabel = 'node' | 'wallet service' | 'exchange' | 'web server';

/** A failed request: `status` 0 when there was no HTTP answer at all. */
export class ApiError extends Error {
  constructor(
    readonly service: ServiceLabel,
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function serviceOf(path: string): ServiceLabel {
  if (path.startsWith('/api')) return 'node';
  if (path.startsWith('/v1')) return 'wallet service';
  if (path.startsWith('/exchange')) return 'exchange';
  return 'web server';
}

/** Options of request(). */
export interface RequestOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  readonly token?: string;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
  /** Parse the answer as text instead of JSON. */
  readonly text?: boolean;
}

/**
 * Sends a request and returns the parsed JSON (or text) answer.
 * @throws ApiError network (no answer), or the service's {code|error, message|msg|reason} on a non-2xx answer
 */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const service = serviceOf(path);
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(service, 0, 'network', `cannot reach the ${service}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let code = `http-${res.status}`;
    let message = text.trim().slice(0, 300) || res.statusText;
    try {
      // Wallet service: {error: message, reason: code}; exchange (Binance): {code: number, msg}; cairn web: {code, message}.
      const j = JSON.parse(text) as Record<string, unknown>;
      const c = typeof j.reason === 'string' ? j.reason : j.code;
      if (typeof c === 'string' || typeof c === 'number') code = String(c);
      const m = j.message ?? j.msg ?? j.error;
      if (typeof m === 'string') message = m;
    } catch {
      // Plain text answer (Esplora's errors are text): keep it.
    }
    throw new ApiError(service, res.status, code, message);
  }
  if (options.text === true) return text as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(service, res.status, 'bad-json', `the ${service} answered something that is not JSON`);
  }
}

// ---- Esplora shapes (the fields the UI reads) ----

/** Confirmation status of a tx (Esplora). */
export interface TxStatus {
  confirmed: boolean;
  block_height?: number;
  block_hash?: string;
  block_time?: number;
}
/** An Esplora transaction output. */
export interface TxOut {
  scriptpubkey: string;
  scriptpubkey_type: string;
  scriptpubkey_address?: string;
  /** sats */
  value: number;
}
/** An Esplora transaction input. */
export interface TxIn {
  txid: string;
  vout: number;
  prevout: TxOut | null;
  is_coinbase: boolean;
  sequence: number;
  witness?: string[];
}
/** An Esplora transaction. */
export interface Tx {
  txid: string;
  version: number;
  locktime: number;
  vin: TxIn[];
  vout: TxOut[];
  size: number;
  weight: number;
  /** sats */
  fee: number;
  status: TxStatus;
}
/** mempool.space's extended block (/api/v1/blocks). */
export interface ExtendedBlock {
  id: string;
  height: number;
  timestamp: number;
  tx_count: number;
  size: number;
  weight: number;
  difficulty: number;
  previousblockhash?: string | null;
  merkle_root?: string;
  nonce?: number;
  bits?: number;
  version?: number;
  mediantime?: number;
  extras?: { reward: number; totalFees: number; medianFee: number; avgFeeRate?: number };
}
/** An Esplora block (/api/block/:hash). */
export interface Block {
  id: string;
  height: number;
  version: number;
  timestamp: number;
  tx_count: number;
  size: number;
  weight: number;
  merkle_root: string;
  previousblockhash: string | null;
  mediantime: number;
  nonce: number;
  bits: number;
  difficulty: number;
}
/** mempool.space's recommended fee rates, sat/vB. */
export interface Fees {
  fastestFee: number;
  halfHourFee: number;
  hourFee: number;
  economyFee: number;
  minimumFee: number;
}
/** /api/mempool. */
export interface MempoolSummary {
  count: number;
  vsize: number;
  total_fee: number;
}
/** mempool.space's /api/v1/difficulty-adjustment. */
export interface DifficultyAdjustment {
  progressPercent: number;
  difficultyChange: number;
  estimatedRetargetDate: number;
  remainingBlocks: number;
  remainingTime: number;
  nextRetargetHeight: number;
  timeAvg: number;
}
/** /api/mempool/recent entries. */
export interface RecentTx {
  txid: string;
  fee: number;
  vsize: number;
  value: number;
}
/** Esplora address stats. */
export interface AddressStats {
  funded_txo_count: number;
  funded_txo_sum: number;
  spent_txo_count: number;
  spent_txo_sum: number;
  tx_count: number;
}
/** /api/address/:address. */
export interface AddressInfo {
  address: string;
  chain_stats: AddressStats;
  mempool_stats: AddressStats;
}
/** /api/address/:address/utxo entries. */
export interface Utxo {
  txid: string;
  vout: number;
  value: number;
  status: TxStatus;
}
