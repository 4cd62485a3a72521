/**
 * The block-walking reads the bridge's watcher needs from an Esplora REST API, beyond what the wallet's NodeClient
 * offers: the hash at a height (`GET /block-height/:height`, 404 above the tip) and a block's serialized bytes
 * (`GET /block/:hash/raw`), and the mempool's txids (`GET /mempool/txids`). Hashes are display (reversed) hex, as Esplora writes them.
 * @see Blockstream esplora API.md ("GET /block-height/:height", "GET /block/:hash/raw")
 */
import { WalletError } from '../../wallet/walletError.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** Options of a ChainReader. */
export interface ChainReaderOptions {
  /** Base URL including the API prefix, e.g. `http://127.0.0.1:8730/api`. */
  readonly baseUrl: string;
  /** Timeout of each request, ms (default 10,000). */
  readonly timeoutMs?: number;
}

/** Reads block hashes by height and raw blocks. Every method may throw WalletError network-error | timeout | http-error | bad-response. */
export class ChainReader {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(options: ChainReaderOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  private async get(path: string): Promise<Response | undefined> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const name = e instanceof Error ? e.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') throw new WalletError('timeout', `no answer from ${url} within ${this.timeoutMs} ms`, { cause: e });
      throw new WalletError('network-error', `cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw new WalletError('http-error', `HTTP ${res.status} from ${path}: ${(await res.text()).slice(0, 300)}`, { httpStatus: res.status });
    return res;
  }

  /** Height of the best block. */
  async getTipHeight(): Promise<number> {
    const res = await this.get('/blocks/tip/height');
    const text = res === undefined ? '' : (await res.text()).trim();
    if (!/^\d{1,10}$/.test(text)) throw new WalletError('bad-response', 'tip height is not an integer');
    return Number(text);
  }

  /** Display hash of the best chain's block at `height`, or undefined when the chain is not that high. */
  async getBlockHashAt(height: number): Promise<string | undefined> {
    const res = await this.get(`/block-height/${height}`);
    if (res === undefined) return undefined;
    const text = (await res.text()).trim().toLowerCase();
    if (!HEX64.test(text)) throw new WalletError('bad-response', `block-height/${height} is not a block hash`);
    return text;
  }

  /** Txids of every transaction in the node's mempool (display hex). */
  async getMempoolTxids(): Promise<string[]> {
    const res = await this.get('/mempool/txids');
    let body: unknown;
    try {
      body = res === undefined ? undefined : await res.json();
    } catch {
      body = undefined;
    }
    if (!Array.isArray(body) || !body.every((t) => typeof t === 'string' && HEX64.test(t))) throw new WalletError('bad-response', 'mempool/txids is not a list of txids');
    return body as string[];
  }

  /** The serialized block (Bitcoin wire format). @throws WalletError not-found */
  async getRawBlock(hash: string): Promise<Uint8Array> {
    if (!HEX64.test(hash)) throw new WalletError('not-found', `not a block hash: ${hash}`);
    const res = await this.get(`/block/${hash}/raw`);
    if (res === undefined) throw new WalletError('not-found', `block ${hash} not found`);
    return new Uint8Array(await res.arrayBuffer());
  }
}
