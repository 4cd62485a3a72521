import { Type } from 'typebox';
import { FeeEstimatesSchema, FeesRecommendedSchema, MempoolBlockSchema, type FeeEstimates } from '../esploraSchemas.js';
import { ESPLORA_FEE_TARGETS, projectMempoolBlocks, recommendFees } from '../feeEstimates.js';
import type { RestApp, RestContext } from './restContext.js';

const TAGS = ['fees'];

/**
 * Fee routes: mempool.space /v1/fees/recommended and /v1/fees/mempool-blocks, Esplora /fee-estimates. All from the
 * mempool backlog (see feeEstimates.ts); sat/vB.
 */
export function registerFeeRoutes(app: RestApp, ctx: RestContext): void {
  const { mempool, params } = ctx.node;

  app.get('/api/v1/fees/recommended', {
    schema: { tags: TAGS, summary: 'mempool.space: recommended fee rates, sat/vB', response: { 200: FeesRecommendedSchema } },
  }, () => recommendFees(mempool, params));

  app.get('/api/v1/fees/mempool-blocks', {
    schema: { tags: TAGS, summary: 'mempool.space: the mempool as projected blocks', response: { 200: Type.Array(MempoolBlockSchema) } },
  }, () => projectMempoolBlocks(mempool, params));

  app.get('/api/fee-estimates', {
    schema: { tags: TAGS, summary: 'Esplora: fee rate (sat/vB) by confirmation target (1..25, 144, 504, 1008 blocks)', response: { 200: FeeEstimatesSchema } },
  }, (): FeeEstimates => {
    const estimates = mempool.estimateFeeRates(ESPLORA_FEE_TARGETS);
    return Object.fromEntries(ESPLORA_FEE_TARGETS.map((t) => [String(t), estimates.get(t)!]));
  });
}
