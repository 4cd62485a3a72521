import { Type } from 'typebox';
import { encodeBlockHeader } from '../../primitives/blockHeader.js';
import { bytesToHex, hashToHex } from '../../primitives/hex.js';
import type { BlockIndexEntry } from '../../interfaces/chainTypes.js';
import { blockToExtended } from '../blockExtended.js';
import { computeDifficultyAdjustment } from '../difficultyAdjustment.js';
import { blockToEsplora, txToEsplora } from '../esploraJson.js';
import {
  binaryResponse,
  BlockExtendedSchema,
  DifficultyAdjustmentSchema,
  ERROR_RESPONSES,
  EsploraBlockSchema,
  EsploraBlockStatusSchema,
  EsploraTxSchema,
  textResponse,
  type BlockExtended,
  type EsploraBlock,
  type EsploraBlockStatus,
} from '../esploraSchemas.js';
import { HttpError } from '../httpError.js';
import { parseIndexParam } from '../restParams.js';
import { requireBlockEntry, sendText, type RestApp, type RestContext } from './restContext.js';

/** Esplora's page size of /block/:hash/txs/:start. */
export const BLOCK_TXS_PAGE = 25;
/** Blocks per page of /blocks and /v1/blocks. */
export const BLOCKS_PAGE = 10;

const HashParams = Type.Object({ hash: Type.String({ description: 'block hash, 64 hex digits (display order)' }) });
const TAGS = ['blocks'];

/** The Esplora JSON of a block entry (median time past from the chain). */
export function esploraBlockOf(ctx: RestContext, entry: BlockIndexEntry): EsploraBlock {
  return blockToEsplora(entry, ctx.node.chain.getMedianTimePast(entry));
}

/**
 * mempool.space's extended JSON of a stored block.
 * @throws HttpError 404 when the block data is missing
 */
export function extendedBlockOf(ctx: RestContext, entry: BlockIndexEntry): BlockExtended {
  const data = ctx.txLookup.readBlockData(entry);
  if (data === undefined) throw new HttpError(404, 'Block not found');
  const { chain, params } = ctx.node;
  return blockToExtended(data, params, chain.getMedianTimePast(entry), chain.isMainChain(entry));
}

/** Main-chain entries from `startHeight` down, at most BLOCKS_PAGE. */
function entriesDown(ctx: RestContext, startHeight: number): BlockIndexEntry[] {
  const out: BlockIndexEntry[] = [];
  for (let h = Math.min(startHeight, ctx.node.chain.height); h >= 0 && out.length < BLOCKS_PAGE; h--) {
    const entry = ctx.node.chain.getEntryByHeight(h);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

/**
 * Block routes (Esplora): /blocks/tip/height, /blocks/tip/hash, /blocks[/:start_height], /block/:hash (+ /status,
 * /txs[/:start], /txids, /txid/:index, /raw, /header), /block-height/:height; mempool.space: /v1/blocks[/:height],
 * /v1/block/:hash, /v1/difficulty-adjustment.
 */
export function registerBlockRoutes(app: RestApp, ctx: RestContext): void {
  const { chain } = ctx.node;

  app.get('/api/blocks/tip/height', {
    schema: { tags: TAGS, summary: 'Height of the chain tip (text)', response: { 200: textResponse('decimal height') } },
  }, (_req, reply) => sendText(reply, String(chain.height)));

  app.get('/api/blocks/tip/hash', {
    schema: { tags: TAGS, summary: 'Hash of the chain tip (text)', response: { 200: textResponse('block hash, hex') } },
  }, (_req, reply) => sendText(reply, chain.tip.hashHex));

  const blocksSchema = (withStart: boolean) => ({
    tags: TAGS,
    summary: `The ${BLOCKS_PAGE} main-chain blocks down from ${withStart ? 'start_height' : 'the tip'}`,
    ...(withStart ? { params: Type.Object({ start_height: Type.String({ description: 'decimal height' }) }) } : {}),
    response: { 200: Type.Array(EsploraBlockSchema), 400: ERROR_RESPONSES[400] },
  });
  app.get('/api/blocks', { schema: blocksSchema(false) }, () => entriesDown(ctx, chain.height).map((e) => esploraBlockOf(ctx, e)));
  app.get<{ Params: { start_height: string } }>('/api/blocks/:start_height', { schema: blocksSchema(true) }, (req) =>
    entriesDown(ctx, parseIndexParam(req.params.start_height, 'height')).map((e) => esploraBlockOf(ctx, e)),
  );

  app.get('/api/block/:hash', {
    schema: { tags: TAGS, summary: 'A block (Esplora block format)', params: HashParams, response: { 200: EsploraBlockSchema, ...ERROR_RESPONSES } },
  }, (req) => esploraBlockOf(ctx, requireBlockEntry(ctx, req.params.hash)));

  app.get('/api/block/:hash/status', {
    schema: { tags: TAGS, summary: 'Whether the block is on the best chain', params: HashParams, response: { 200: EsploraBlockStatusSchema, ...ERROR_RESPONSES } },
  }, (req): EsploraBlockStatus => {
    const entry = requireBlockEntry(ctx, req.params.hash);
    if (!chain.isMainChain(entry)) return { in_best_chain: false };
    return { in_best_chain: true, height: entry.height, next_best: chain.getEntryByHeight(entry.height + 1)?.hashHex ?? null };
  });

  const blockTxs = (hash: string, start: number) => {
    const entry = requireBlockEntry(ctx, hash);
    const data = ctx.txLookup.readBlockData(entry);
    if (data === undefined) throw new HttpError(404, 'Block not found');
    if (start % BLOCK_TXS_PAGE !== 0) throw new HttpError(400, `start index must be a multipication of ${BLOCK_TXS_PAGE}`);
    if (start >= data.block.txs.length) throw new HttpError(400, 'start index out of range');
    const end = Math.min(start + BLOCK_TXS_PAGE, data.block.txs.length);
    const out = [];
    for (let i = start; i < end; i++) {
      const r = ctx.txLookup.resolveInBlock(data, i);
      out.push(txToEsplora(r.tx, { params: ctx.node.params, prevouts: r.prevouts, fee: r.fee, status: r.status, txid: r.txid }));
    }
    return out;
  };
  app.get('/api/block/:hash/txs', {
    schema: { tags: TAGS, summary: `The first ${BLOCK_TXS_PAGE} transactions of a block`, params: HashParams, response: { 200: Type.Array(EsploraTxSchema), ...ERROR_RESPONSES } },
  }, (req) => blockTxs(req.params.hash, 0));
  app.get('/api/block/:hash/txs/:start', {
    schema: {
      tags: TAGS,
      summary: `${BLOCK_TXS_PAGE} transactions of a block from index start (a multiple of ${BLOCK_TXS_PAGE})`,
      params: Type.Object({ hash: Type.String(), start: Type.String({ description: `decimal, multiple of ${BLOCK_TXS_PAGE}` }) }),
      response: { 200: Type.Array(EsploraTxSchema), ...ERROR_RESPONSES },
    },
  }, (req) => blockTxs(req.params.hash, parseIndexParam(req.params.start, 'start index')));

  app.get('/api/block/:hash/txids', {
    schema: { tags: TAGS, summary: 'All txids of a block, in order', params: HashParams, response: { 200: Type.Array(Type.String()), ...ERROR_RESPONSES } },
  }, (req) => {
    const data = ctx.txLookup.readBlockData(requireBlockEntry(ctx, req.params.hash));
    if (data === undefined) throw new HttpError(404, 'Block not found');
    return data.txids.map(hashToHex);
  });

  app.get('/api/block/:hash/txid/:index', {
    schema: {
      tags: TAGS,
      summary: 'The txid at an index of a block (text)',
      params: Type.Object({ hash: Type.String(), index: Type.String() }),
      response: { 200: textResponse('txid'), ...ERROR_RESPONSES },
    },
  }, (req, reply) => {
    const data = ctx.txLookup.readBlockData(requireBlockEntry(ctx, req.params.hash));
    const index = parseIndexParam(req.params.index, 'index');
    const txid = data?.txids[index];
    if (txid === undefined) throw new HttpError(404, 'Transaction not found');
    return sendText(reply, hashToHex(txid));
  });

  app.get('/api/block/:hash/raw', {
    schema: { tags: TAGS, summary: 'The serialized block (binary)', params: HashParams, response: { 200: binaryResponse('block bytes'), ...ERROR_RESPONSES } },
  }, (req, reply) => {
    const raw = ctx.node.chain.getRawBlock(requireBlockEntry(ctx, req.params.hash).hash);
    if (raw === undefined) throw new HttpError(404, 'Block not found');
    return reply.type('application/octet-stream').send(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  });

  app.get('/api/block/:hash/header', {
    schema: { tags: TAGS, summary: 'The 80-byte block header, hex (text)', params: HashParams, response: { 200: textResponse('header hex'), ...ERROR_RESPONSES } },
  }, (req, reply) => sendText(reply, bytesToHex(encodeBlockHeader(requireBlockEntry(ctx, req.params.hash).header))));

  app.get('/api/block-height/:height', {
    schema: {
      tags: TAGS,
      summary: 'Hash of the main-chain block at a height (text)',
      params: Type.Object({ height: Type.String({ description: 'decimal height' }) }),
      response: { 200: textResponse('block hash'), ...ERROR_RESPONSES },
    },
  }, (req, reply) => {
    const entry = chain.getEntryByHeight(parseIndexParam(req.params.height, 'height'));
    if (entry === undefined) throw new HttpError(404, 'Block not found');
    return sendText(reply, entry.hashHex);
  });

  const v1BlocksSchema = (withHeight: boolean) => ({
    tags: TAGS,
    summary: `mempool.space: the ${BLOCKS_PAGE} blocks down from ${withHeight ? 'height' : 'the tip'}, with fee statistics`,
    ...(withHeight ? { params: Type.Object({ height: Type.String({ description: 'decimal height' }) }) } : {}),
    response: { 200: Type.Array(BlockExtendedSchema), 400: ERROR_RESPONSES[400] },
  });
  app.get('/api/v1/blocks', { schema: v1BlocksSchema(false) }, () => entriesDown(ctx, chain.height).map((e) => extendedBlockOf(ctx, e)));
  app.get<{ Params: { height: string } }>('/api/v1/blocks/:height', { schema: v1BlocksSchema(true) }, (req) =>
    entriesDown(ctx, parseIndexParam(req.params.height, 'height')).map((e) => extendedBlockOf(ctx, e)),
  );

  app.get('/api/v1/block/:hash', {
    schema: { tags: TAGS, summary: 'mempool.space: a block with fee statistics', params: HashParams, response: { 200: BlockExtendedSchema, ...ERROR_RESPONSES } },
  }, (req) => extendedBlockOf(ctx, requireBlockEntry(ctx, req.params.hash)));

  app.get('/api/v1/difficulty-adjustment', {
    schema: {
      tags: ['mining'],
      summary: 'mempool.space: progress of the difficulty epoch and the projected difficulty change',
      description:
        'Under ASERT (cairn main/test/devnet: every block adjusts) the epoch is a virtual 2,016-block window from height 0; ' +
        'difficultyChange is the ASERT difficulty the block at nextRetargetHeight would get if the remaining blocks came ' +
        'every adjustedTimeAvg, relative to the epoch\'s first block (realised change so far plus its projection); ' +
        'previousRetarget is the change across the previous window. Under Bitcoin\'s rule: mempool.space\'s estimate. ' +
        'Without retargeting (regtest): 0.',
      response: { 200: DifficultyAdjustmentSchema },
    },
  }, () => computeDifficultyAdjustment(chain, ctx.node.params, ctx.node.nowSec()));
}
