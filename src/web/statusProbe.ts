/**
 * Builds `GET /web/status` (WebStatus): probes each proxied service and each devnet node, at most once per
 * `cacheMs` however many pages ask, with a timeout per probe, so a dead service costs one short wait.
 */
import type { WebNodeStatus, WebServiceName, WebServiceStatus, WebStatus } from '../interfaces/webStatus.js';
import { describeCause, type Upstream } from './upstreams.js';

/** A devnet node the dashboard lists: its name and Esplora base URL (`http://127.0.0.1:<api>/api`). */
export interface WebNodeTarget {
  readonly name: string;
  readonly apiUrl: string;
}

/** Options of StatusProbe. */
export interface StatusProbeOptions {
  readonly network: string;
  readonly upstreams: Partial<Record<WebServiceName, Upstream>>;
  readonly nodes: readonly WebNodeTarget[];
  /** Per-probe timeout, ms (default 1,500). */
  readonly timeoutMs?: number;
  /** How long an answer is reused, ms (default 1,000). */
  readonly cacheMs?: number;
}

const PREFIX: Record<WebServiceName, string> = { node: '/api', walletService: '/v1', exchange: '/exchange' };
/** What each service is asked: a cheap route that answers (any HTTP status below 500 counts as up). */
const PROBE_PATH: Record<WebServiceName, string> = { node: '/api/blocks/tip/height', walletService: '/v1/wallet', exchange: '' };

/** Reads a gauge of the Prometheus text format (first sample without labels). */
export function readGauge(metrics: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(metrics);
  if (m === null) return undefined;
  const v = Number(m[1]);
  return Number.isFinite(v) ? v : undefined;
}

/** The probe behind /web/status. */
export class StatusProbe {
  private last: { atMs: number; value: Promise<WebStatus> } | undefined;
  constructor(private readonly options: StatusProbeOptions) {}

  /** The status, probed now or reused from the last `cacheMs`. Never throws: a failed probe is a down service. */
  read(): Promise<WebStatus> {
    const now = Date.now();
    if (this.last !== undefined && now - this.last.atMs < (this.options.cacheMs ?? 1_000)) return this.last.value;
    const value = this.probeAll();
    this.last = { atMs: now, value };
    return value;
  }

  private async probeAll(): Promise<WebStatus> {
    const names: WebServiceName[] = ['node', 'walletService', 'exchange'];
    const [services, nodes] = await Promise.all([
      Promise.all(names.map((n) => this.probeService(n))),
      Promise.all(this.options.nodes.map((n) => this.probeNode(n))),
    ]);
    return {
      network: this.options.network,
      services: { node: services[0]!, walletService: services[1]!, exchange: services[2]! },
      nodes,
      checkedAtMs: Date.now(),
    };
  }

  private async get(url: string): Promise<{ status: number; text: string }> {
    const res = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 1_500) });
    return { status: res.status, text: await res.text() };
  }

  private async probeService(name: WebServiceName): Promise<WebServiceStatus> {
    const up = this.options.upstreams[name];
    if (up === undefined) return { prefix: PREFIX[name], configured: false, up: false };
    const base = { prefix: up.prefix, upstream: up.url, configured: true };
    try {
      const path = name === 'exchange' ? `${up.rewritePrefix}/` : PROBE_PATH[name];
      const r = await this.get(`${up.origin}${path}`);
      return r.status < 500 ? { ...base, up: true } : { ...base, up: false, error: `HTTP ${r.status}` };
    } catch (err) {
      return { ...base, up: false, error: describeCause(err) };
    }
  }

  private async probeNode(n: WebNodeTarget): Promise<WebNodeStatus> {
    try {
      const r = await this.get(`${new URL(n.apiUrl).origin}/metrics`);
      if (r.status !== 200) return { name: n.name, apiUrl: n.apiUrl, up: false, error: `HTTP ${r.status}` };
      const g = (k: string): number | undefined => readGauge(r.text, k);
      const out: { -readonly [K in keyof WebNodeStatus]: WebNodeStatus[K] } = { name: n.name, apiUrl: n.apiUrl, up: true };
      const height = g('cairn_chain_height');
      const peers = g('cairn_peers');
      const mempoolTxs = g('cairn_mempool_transactions');
      const hashRateHps = g('cairn_hashrate_hashes_per_second');
      if (height !== undefined) out.height = height;
      if (peers !== undefined) out.peers = peers;
      if (mempoolTxs !== undefined) out.mempoolTxs = mempoolTxs;
      if (hashRateHps !== undefined) out.hashRateHps = hashRateHps;
      return out;
    } catch (err) {
      return { name: n.name, apiUrl: n.apiUrl, up: false, error: describeCause(err) };
    }
  }
}
