import { Type } from 'typebox';
import { EsploraMempoolRecentSchema, EsploraMempoolSchema, type EsploraMempool } from '../esploraSchemas.js';
import type { NodeContext } from '../../interfaces/nodeContext.js';
import type { RestApp, RestContext } from './restContext.js';

/** Width of one fee_histogram bin, vbytes (electrs's VSIZE_BIN_WIDTH). */
export const FEE_HISTOGRAM_BIN_VSIZE = 50_000;

const TAGS = ['mempool'];

/**
 * Esplora's /mempool: count, vsize, total_fee and fee_histogram — entries taken in decreasing own fee rate, a bin
 * closed once it holds more than 50,000 vbytes, each bin given as [its lowest fee rate (sat/vB), its vsize].
 * @see Blockstream electrs src/new_index/mempool.rs make_fee_histogram
 */
export function mempoolSummary(node: NodeContext): EsploraMempool {
  const { mempool } = node;
  const entries = [...mempool.entries()].map((e) => ({ rate: e.feeRateSatPerVb, vsize: e.vsize }));
  entries.sort((a, b) => b.rate - a.rate);
  const histogram: [number, number][] = [];
  let binVsize = 0;
  let lastRate = 0;
  for (const { rate, vsize } of entries) {
    if (binVsize > FEE_HISTOGRAM_BIN_VSIZE && rate !== lastRate) {
      histogram.push([lastRate, binVsize]);
      binVsize = 0;
    }
    binVsize += vsize;
    lastRate = rate;
  }
  if (binVsize > 0) histogram.push([lastRate, binVsize]);
  return { count: mempool.size, vsize: mempool.totalVsize, total_fee: Number(mempool.totalFees), fee_histogram: histogram };
}

/** Mempool routes (Esplora): /mempool, /mempool/txids, /mempool/recent. */
export function registerMempoolRoutes(app: RestApp, ctx: RestContext): void {
  app.get('/api/mempool', {
    schema: { tags: TAGS, summary: 'Mempool backlog statistics with a fee histogram', response: { 200: EsploraMempoolSchema } },
  }, () => mempoolSummary(ctx.node));

  app.get('/api/mempool/txids', {
    schema: { tags: TAGS, summary: 'Every txid in the mempool', response: { 200: Type.Array(Type.String()) } },
  }, () => Array.from(ctx.node.mempool.entries(), (e) => e.txidHex));

  app.get('/api/mempool/recent', {
    schema: { tags: TAGS, summary: 'The last 10 transactions to enter the mempool, newest first', response: { 200: Type.Array(EsploraMempoolRecentSchema) } },
  }, () => ctx.tracker.recent());
}
