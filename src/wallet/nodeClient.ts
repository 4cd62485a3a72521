/**
 * The wallet's view of a node: the NodeClient interface, and EsploraClient, its implementation over the
 * Esplora REST API (Blockstream's esplora/electrs, mempool.space, or a cairn node's /api), so the wallet works against
 * any Esplora-compatible server. Txids are display (reversed) hex, as Esplora writes them; amounts are bigint sats.
 * @see Blockstream esplora API.md
 */
import { formatCoins } from '../consensus/amount.js';
import { hexToBytes } from '../primitives/hex.js';
import type { Sats } from '../primitives/types.js';
import { WalletError } from './walletError.js';

/** Confirmation status of a transaction (block fields only when confirmed). */
export interface TxStatus {
  readonly confirmed: boolean;
  readonly blockHeight?: number;
  /** Display hex of the block hash. */
  readonly blockHash?: string;
  readonly blockTimeSec?: number;
}

/** An output of a transaction, or the output an input spends. */
export interface ChainTxOutput {
  readonly scriptPubKey: Uint8Array;
  readonly value: Sats;
}

/** An input of a transaction with the output it spends (null for a coinbase input). */
export interface ChainTxInput {
  /** Display hex txid of the spent output. */
  readonly txid: string;
  readonly vout: number;
  readonly prevout: ChainTxOutput | null;
  readonly isCoinbase: boolean;
  readonly sequence: number;
}

/** A transaction as the node reports it: inputs with their prevouts, outputs, fee and status (Esplora /tx/:txid). */
export interface ChainTx {
  /** Display hex txid. */
  readonly txid: string;
  readonly version: number;
  readonly locktime: number;
  readonly vin: readonly ChainTxInput[];
  readonly vout: readonly ChainTxOutput[];
  /** BIP-141 weight units. */
  readonly weight: number;
  /** Fee in sats (0 for a coinbase). */
  readonly feeSats: Sats;
  readonly status: TxStatus;
}

/** An unspent output of an address (confirmed or in the mempool, not spent in the mempool). */
export interface AddressUtxo {
  /** Display hex txid. */
  readonly txid: string;
  readonly vout: number;
  readonly value: Sats;
  readonly status: TxStatus;
}

/** Spending status of one output. */
export interface Outspend {
  readonly spent: boolean;
  /** Display hex txid of the spending tx, when spent. */
  readonly txid?: string;
  /** Input index in the spending tx, when spent. */
  readonly vin?: number;
  readonly status?: TxStatus;
}

/** Fee-rate estimates: confirmation target (blocks) → sat/vB (may be fractional). */
export type FeeEstimates = ReadonlyMap<number, number>;

/** Options of NodeClient.broadcast. */
export interface BroadcastOptions {
  /** Fee-rate ceiling the node applies, sat/kvB; 0n lifts it. Sent as POST /tx?maxfeerate=<coins per kvB>. */
  readonly maxFeeRateSatPerKvb?: bigint;
}

/** A rate in sat/kvB as coins per kvB with 8 decimals, e.g. 10,000,000n → "0.10000000" (Core's amount text). */
function formatCoinsPerKvb(rateSatPerKvb: bigint): string {
  return formatCoins(rateSatPerKvb);
}

/**
 * What the wallet needs from a node. Every method may throw WalletError http-error | not-found | network-error |
 * timeout | bad-response.
 */
export interface NodeClient {
  /** Every transaction of an address, mempool ones first, then confirmed newest first. */
  getAddressTxs(address: string): Promise<ChainTx[]>;
  /** Unspent outputs of an address, confirmed and unconfirmed, less those spent in the mempool. */
  getAddressUtxos(address: string): Promise<AddressUtxo[]>;
  /** One transaction. @throws WalletError not-found */
  getTx(txid: string): Promise<ChainTx>;
  /** The serialized transaction, hex. @throws WalletError not-found */
  getTxHex(txid: string): Promise<string>;
  /**
   * Broadcasts a serialized transaction; returns its txid. `maxFeeRateSatPerKvb` is the node's fee-rate ceiling for it
   * (sendrawtransaction's maxfeerate; 0n = none; undefined = the node's default, 0.10 coin/kvB on cairn).
   * @throws WalletError http-error with the node's reject reason
   */
  broadcast(txHex: string, options?: BroadcastOptions): Promise<string>;
  /** Height of the best block. */
  getTipHeight(): Promise<number>;
  /** Fee-rate estimates by confirmation target, sat/vB. */
  getFeeEstimates(): Promise<FeeEstimates>;
  /** Spending status of every output of a transaction. @throws WalletError not-found */
  getOutspends(txid: string): Promise<Outspend[]>;
}

/** Options of an EsploraClient. */
export interface EsploraClientOptions {
  /** Base URL of the API including its prefix, e.g. `http://127.0.0.1:8730/api` or `https://blockstream.info/api`. */
  readonly baseUrl: string;
  /** Timeout of each request, ms (default 10,000). */
  readonly timeoutMs?: number;
  /** The fetch function (default the global fetch). */
  readonly fetch?: typeof fetch;
  /** Most pages of confirmed history read per address (default 1,000, i.e. 25,000 txs). */
  readonly maxHistoryPages?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
/** Longest server message kept in an error, characters. */
const MAX_ERROR_MESSAGE = 500;

function bad(what: string): WalletError {
  return new WalletError('bad-response', `unexpected response from the node: ${what}`);
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} is not an object`);
  return v as Record<string, unknown>;
}

function asArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw bad(`${what} is not an array`);
  return v;
}

function asInt(v: unknown, what: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw bad(`${what} is not an integer >= ${min}`);
  return v;
}

function asSats(v: unknown, what: string): Sats {
  return BigInt(asInt(v, what));
}

function asTxid(v: unknown, what: string): string {
  if (typeof v !== 'string' || !HEX64.test(v.toLowerCase())) throw bad(`${what} is not a 64-hex txid`);
  return v.toLowerCase();
}

function asHex(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string') throw bad(`${what} is not hex`);
  try {
    return hexToBytes(v);
  } catch {
    throw bad(`${what} is not hex`);
  }
}

function parseStatus(v: unknown): TxStatus {
  const o = asObject(v, 'status');
  if (typeof o['confirmed'] !== 'boolean') throw bad('status.confirmed is not a boolean');
  if (!o['confirmed']) return { confirmed: false };
  const status: { confirmed: true; blockHeight: number; blockHash?: string; blockTimeSec?: number } = {
    confirmed: true,
    blockHeight: asInt(o['block_height'], 'status.block_height'),
  };
  if (o['block_hash'] !== undefined) status.blockHash = asTxid(o['block_hash'], 'status.block_hash');
  if (o['block_time'] !== undefined) status.blockTimeSec = asInt(o['block_time'], 'status.block_time');
  return status;
}

function parseOutput(v: unknown, what: string): ChainTxOutput {
  const o = asObject(v, what);
  return { scriptPubKey: asHex(o['scriptpubkey'], `${what}.scriptpubkey`), value: asSats(o['value'], `${what}.value`) };
}

/** Parses one Esplora transaction JSON object. @throws WalletError bad-response */
export function parseEsploraTx(v: unknown): ChainTx {
  const o = asObject(v, 'tx');
  const vin = asArray(o['vin'], 'tx.vin').map((item, i): ChainTxInput => {
    const input = asObject(item, `vin[${i}]`);
    const isCoinbase = input['is_coinbase'] === true;
    return {
      txid: asTxid(input['txid'], `vin[${i}].txid`),
      vout: asInt(input['vout'], `vin[${i}].vout`),
      prevout: input['prevout'] === null || input['prevout'] === undefined ? null : parseOutput(input['prevout'], `vin[${i}].prevout`),
      isCoinbase,
      sequence: asInt(input['sequence'], `vin[${i}].sequence`),
    };
  });
  return {
    txid: asTxid(o['txid'], 'tx.txid'),
    version: asInt(o['version'], 'tx.version', -0x80000000),
    locktime: asInt(o['locktime'], 'tx.locktime'),
    vin,
    vout: asArray(o['vout'], 'tx.vout').map((item, i) => parseOutput(item, `vout[${i}]`)),
    weight: asInt(o['weight'], 'tx.weight'),
    feeSats: asSats(o['fee'] ?? 0, 'tx.fee'),
    status: parseStatus(o['status']),
  };
}

/**
 * NodeClient over an Esplora REST API with the global fetch: each request times out (AbortSignal.timeout); an
 * HTTP error becomes a WalletError carrying the status and the server's plain-text message (for a refused broadcast,
 * the node's reject reason); a body of the wrong shape is `bad-response`.
 * @see Blockstream esplora API.md; src/api/rest (cairn's server side)
 */
export class EsploraClient implements NodeClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private readonly maxHistoryPages: number;

  constructor(options: EsploraClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
    this.maxHistoryPages = options.maxHistoryPages ?? 1_000;
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const name = e instanceof Error ? e.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new WalletError('timeout', `no answer from ${url} within ${this.timeoutMs} ms`, { cause: e });
      }
      throw new WalletError('network-error', `cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (!res.ok) {
      let text = '';
      try {
        text = (await res.text()).trim().slice(0, MAX_ERROR_MESSAGE);
      } catch {
        // The status alone still says what failed.
      }
      const reason = res.status === 404 ? 'not-found' : 'http-error';
      throw new WalletError(reason, `HTTP ${res.status} from ${path}${text ? `: ${text}` : ''}`, { httpStatus: res.status });
    }
    return res;
  }

  private async getJson(path: string): Promise<unknown> {
    const res = await this.request(path);
    try {
      return await res.json();
    } catch {
      throw bad(`${path} did not answer JSON`);
    }
  }

  private async getText(path: string, init: RequestInit = {}): Promise<string> {
    const res = await this.request(path, init);
    return (await res.text()).trim();
  }

  /** Esplora's /address/:a/txs (mempool + first confirmed page), then /txs/chain/:last_seen_txid until an empty page. */
  async getAddressTxs(address: string): Promise<ChainTx[]> {
    const base = `/address/${encodeURIComponent(address)}`;
    const first = asArray(await this.getJson(`${base}/txs`), 'address txs').map(parseEsploraTx);
    const seen = new Set(first.map((t) => t.txid));
    const out = [...first];
    let lastConfirmed = first.filter((t) => t.status.confirmed).at(-1);
    // No confirmed tx in the first answer means the address has none (the first page holds up to 25 of them).
    for (let page = 0; lastConfirmed !== undefined && page < this.maxHistoryPages; page++) {
      const txs = asArray(await this.getJson(`${base}/txs/chain/${lastConfirmed.txid}`), 'address chain txs').map(parseEsploraTx);
      const fresh = txs.filter((t) => !seen.has(t.txid));
      if (fresh.length === 0) break;
      for (const t of fresh) {
        seen.add(t.txid);
        out.push(t);
      }
      lastConfirmed = fresh.at(-1);
    }
    return out;
  }

  async getAddressUtxos(address: string): Promise<AddressUtxo[]> {
    const body = asArray(await this.getJson(`/address/${encodeURIComponent(address)}/utxo`), 'utxo list');
    return body.map((item, i) => {
      const o = asObject(item, `utxo[${i}]`);
      return {
        txid: asTxid(o['txid'], `utxo[${i}].txid`),
        vout: asInt(o['vout'], `utxo[${i}].vout`),
        value: asSats(o['value'], `utxo[${i}].value`),
        status: parseStatus(o['status']),
      };
    });
  }

  async getTx(txid: string): Promise<ChainTx> {
    return parseEsploraTx(await this.getJson(`/tx/${checkTxidArg(txid)}`));
  }

  async getTxHex(txid: string): Promise<string> {
    const hex = (await this.getText(`/tx/${checkTxidArg(txid)}/hex`)).toLowerCase();
    if (!/^([0-9a-f]{2})+$/.test(hex)) throw bad('tx hex is not hex');
    return hex;
  }

  /** POST /tx with the hex body (and ?maxfeerate= when given; servers that do not know it ignore it); answers the txid. */
  async broadcast(txHex: string, options: BroadcastOptions = {}): Promise<string> {
    const rate = options.maxFeeRateSatPerKvb;
    if (rate !== undefined && rate < 0n) throw new WalletError('bad-fee-rate', 'the fee-rate ceiling cannot be negative');
    const path = rate === undefined ? '/tx' : `/tx?maxfeerate=${formatCoinsPerKvb(rate)}`;
    const text = await this.getText(path, { method: 'POST', body: txHex, headers: { 'content-type': 'text/plain' } });
    return asTxid(text, 'broadcast answer');
  }

  async getTipHeight(): Promise<number> {
    const text = await this.getText('/blocks/tip/height');
    if (!/^\d+$/.test(text)) throw bad('tip height is not an integer');
    return asInt(Number(text), 'tip height');
  }

  async getFeeEstimates(): Promise<FeeEstimates> {
    const o = asObject(await this.getJson('/fee-estimates'), 'fee estimates');
    const out = new Map<number, number>();
    for (const [target, rate] of Object.entries(o)) {
      const blocks = Number(target);
      if (!Number.isSafeInteger(blocks) || blocks < 1) throw bad(`fee target ${target}`);
      if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) throw bad(`fee rate of target ${target}`);
      out.set(blocks, rate);
    }
    return out;
  }

  async getOutspends(txid: string): Promise<Outspend[]> {
    const body = asArray(await this.getJson(`/tx/${checkTxidArg(txid)}/outspends`), 'outspends');
    return body.map((item, i) => {
      const o = asObject(item, `outspends[${i}]`);
      if (typeof o['spent'] !== 'boolean') throw bad(`outspends[${i}].spent`);
      if (!o['spent']) return { spent: false };
      return {
        spent: true,
        txid: asTxid(o['txid'], `outspends[${i}].txid`),
        vin: asInt(o['vin'], `outspends[${i}].vin`),
        ...(o['status'] !== undefined ? { status: parseStatus(o['status']) } : {}),
      };
    });
  }
}

function checkTxidArg(txid: string): string {
  if (typeof txid !== 'string' || !HEX64.test(txid.toLowerCase())) throw new WalletError('not-found', `not a txid: ${String(txid)}`);
  return txid.toLowerCase();
}
