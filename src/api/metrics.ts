import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { NodeContext } from '../interfaces/nodeContext.js';

/**
 * The Prometheus metrics of one node: a registry of its own (never prom-client's global one, so several nodes in one
 * process, as in tests, do not mix) holding the node gauges, the chain counters, the HTTP request counter and the
 * process metrics. The REST server serves it at /metrics; the RPC and Stratum servers can register their own
 * metrics into the same `registry`.
 */
export interface NodeMetrics {
  readonly registry: Registry;
  /** HTTP requests served, by route pattern (e.g. `/api/tx/:txid`, `unmatched`) and status code. */
  readonly httpRequests: Counter<'route' | 'status'>;
  /** Blocks connected to the main chain since the metrics were created (reorg reconnects included). */
  readonly blocksConnected: Counter;
  /** Reorganisations (tip changes that disconnected at least one block) since the metrics were created. */
  readonly reorgs: Counter;
  /** Stops following the chain's events (the registry stays readable). */
  close(): void;
}

/**
 * Registers a gauge whose value is read at scrape time (prom-client's collect hook), for values another component
 * already keeps (heights, sizes, rates).
 */
export function registerReadGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * Creates the metrics of a node. Gauges are read when scraped: cairn_chain_height, cairn_chain_tip_timestamp_seconds,
 * cairn_mempool_transactions, cairn_mempool_vsize_bytes, cairn_mempool_fees_sats, cairn_peers,
 * cairn_hashrate_hashes_per_second (node.mining). Counters follow chain events: cairn_blocks_connected_total,
 * cairn_reorgs_total; cairn_http_requests_total{route,status} is counted by the HTTP servers. Plus prom-client's
 * default process metrics (CPU, memory, event loop lag, GC, handles) without a prefix, as Prometheus names them.
 */
export function createMetrics(node: NodeContext): NodeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, read: () => number): void => registerReadGauge(registry, name, help, read);
  gauge('cairn_chain_height', 'Height of the main-chain tip', () => node.chain.height);
  gauge('cairn_chain_tip_timestamp_seconds', 'Header time of the main-chain tip, seconds since the epoch', () => node.chain.tip.header.time);
  gauge('cairn_mempool_transactions', 'Transactions in the mempool', () => node.mempool.size);
  gauge('cairn_mempool_vsize_bytes', 'Total virtual size of the mempool, vbytes', () => node.mempool.totalVsize);
  gauge('cairn_mempool_fees_sats', 'Total fees of the mempool, sats', () => Number(node.mempool.totalFees));
  gauge('cairn_peers', 'Connected peers', () => node.network.peers().length);
  gauge('cairn_hashrate_hashes_per_second', "The node's own miners' hash rate, hashes per second", () => node.mining.hashesPerSecond());

  const blocksConnected = new Counter({
    name: 'cairn_blocks_connected_total',
    help: 'Blocks connected to the main chain',
    registers: [registry],
  });
  const reorgs = new Counter({
    name: 'cairn_reorgs_total',
    help: 'Chain reorganisations (tip changes that disconnected blocks)',
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: 'cairn_http_requests_total',
    help: 'HTTP requests served, by route pattern and status code',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const unsubscribe = [
    node.chain.on('blockConnected', () => blocksConnected.inc()),
    node.chain.on('tipChanged', ({ reorgDepth }) => {
      if (reorgDepth > 0) reorgs.inc();
    }),
  ];
  return {
    registry,
    httpRequests,
    blocksConnected,
    reorgs,
    close(): void {
      for (const off of unsubscribe) off();
    },
  };
}
