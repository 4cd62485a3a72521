/**
 * The chain summary the wallet service shows (GET /v1/chain), read from the node's Esplora REST API: the tip (hash,
 * height and time from one block, so they agree), the mempool's size and the fee estimates.
 * @see Blockstream esplora API.md (/blocks/tip/hash, /block/:hash, /mempool, /fee-estimates)
 */
import type { NodeClient } from '../wallet/nodeClient.js';
import { ServiceError } from './serviceError.js';

/** What GET /v1/chain answers. */
export interface ChainSummary {
  readonly network: string;
  readonly height: number;
  /** Display hex of the tip's hash. */
  readonly tipHash: string;
  /** The tip's header time, seconds since the epoch. */
  readonly tipTimeSec: number;
  /** Transactions in the node's mempool. */
  readonly mempoolCount: number;
  /** Their total virtual size, vB. */
  readonly mempoolVsize: number;
  /** Confirmation target (blocks) → fee rate, sat/vB. */
  readonly feeEstimates: Readonly<Record<string, number>>;
}

/** Options of readChainSummary. */
export interface ChainSummaryOptions {
  /** Esplora base URL including its prefix, e.g. `http://127.0.0.1:28730/api`. */
  readonly baseUrl: string;
  readonly network: string;
  /** Timeout of each request, ms (default 10,000). */
  readonly timeoutMs?: number;
  /** The fetch function (default the global fetch). */
  readonly fetch?: typeof fetch;
}

async function readText(options: ChainSummaryOptions, path: string): Promise<string> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}${path}`;
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
  } catch (e) {
    throw new ServiceError(503, 'node-unavailable', `the node does not answer (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new ServiceError(502, 'node-error', `the node answered HTTP ${res.status} to ${path}`);
  return (await res.text()).trim();
}

async function getJson(options: ChainSummaryOptions, path: string): Promise<unknown> {
  const text = await readText(options, path);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ServiceError(502, 'node-error', `the node answered ${path} with something that is not JSON`);
  }
}

function field(o: unknown, name: string): number {
  const v = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[name] : undefined;
  if (typeof v !== 'number') throw new ServiceError(502, 'node-error', `the node's answer has no number ${name}`);
  return v;
}

/**
 * Reads the chain summary from the node.
 * @throws ServiceError 503 node-unavailable | 502 node-error
 */
export async function readChainSummary(options: ChainSummaryOptions, client: NodeClient): Promise<ChainSummary> {
  const tipHash = (await readText(options, '/blocks/tip/hash')).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(tipHash)) throw new ServiceError(502, 'node-error', 'the node sent a tip hash that is not 64 hex digits');
  const [block, mempool, estimates] = await Promise.all([
    getJson(options, `/block/${tipHash}`),
    getJson(options, '/mempool'),
    client.getFeeEstimates().catch((e: unknown) => {
      throw new ServiceError(502, 'node-error', `fee estimates: ${e instanceof Error ? e.message : String(e)}`);
    }),
  ]);
  return {
    network: options.network,
    height: field(block, 'height'),
    tipHash,
    tipTimeSec: field(block, 'timestamp'),
    mempoolCount: field(mempool, 'count'),
    mempoolVsize: field(mempool, 'vsize'),
    feeEstimates: Object.fromEntries([...estimates.entries()].sort(([a], [b]) => a - b).map(([k, v]) => [String(k), v])),
  };
}
