/**
 * TypeBox schemas of the Esplora / mempool.space JSON shapes the REST API serves. Each schema gives both the
 * TypeScript type (Static) and the JSON Schema that Fastify serializes responses with and @fastify/swagger publishes in
 * the OpenAPI document. Field names are Esplora's (snake_case) and mempool.space's (camelCase for its v1 routes)
 * exactly, so existing clients work unchanged. Amounts are sats as JSON numbers; fee rates are sat/vB.
 * TypeBox 1.x (`typebox`, the schema library @fastify/type-provider-typebox 6 is built on) is imported directly rather
 * through the provider's re-export, whose runtime also loads TypeBox's compiler and ajv-formats (about 2 s of start-up
 * under tsx) that the server does not use: Fastify's own Ajv validates and fast-json-stringify serializes.
 * @see Blockstream esplora API.md; mempool.space REST API documentation
 */
import { Type, type Static, type TSchema } from 'typebox';

const Int = (description?: string) => Type.Integer(description ? { description } : {});
const Hex = (description: string) => Type.String({ description });

/** Confirmation status of a transaction (block fields only when confirmed). */
export const EsploraTxStatusSchema = Type.Object({
  confirmed: Type.Boolean(),
  block_height: Type.Optional(Int()),
  block_hash: Type.Optional(Hex('display hex of the block hash')),
  block_time: Type.Optional(Int('block header time, seconds')),
});
/** The JSON value EsploraTxStatusSchema describes. */
export type EsploraTxStatus = Static<typeof EsploraTxStatusSchema>;

/** One output (also the `prevout` of an input). */
export const EsploraTxOutSchema = Type.Object({
  scriptpubkey: Hex('output script, hex'),
  scriptpubkey_asm: Type.String({ description: 'rust-bitcoin style asm' }),
  scriptpubkey_type: Type.String({ description: 'v0_p2wpkh | v1_p2tr | op_return | p2pkh | p2sh | v0_p2wsh | p2pk | empty | unknown …' }),
  scriptpubkey_address: Type.Optional(Type.String()),
  value: Int('sats'),
});
/** The JSON value EsploraTxOutSchema describes. */
export type EsploraTxOut = Static<typeof EsploraTxOutSchema>;

/** One input; `prevout` is null for the coinbase input. */
export const EsploraTxInSchema = Type.Object({
  txid: Hex('txid of the spent output (zeros for a coinbase)'),
  vout: Int('index of the spent output (4294967295 for a coinbase)'),
  prevout: Type.Union([EsploraTxOutSchema, Type.Null()]),
  scriptsig: Hex('scriptSig, hex'),
  scriptsig_asm: Type.String(),
  witness: Type.Optional(Type.Array(Type.String(), { description: 'witness items, hex (absent when empty)' })),
  is_coinbase: Type.Boolean(),
  sequence: Int(),
});
/** The JSON value EsploraTxInSchema describes. */
export type EsploraTxIn = Static<typeof EsploraTxInSchema>;

/** A transaction as Esplora's GET /tx/:txid returns it. */
export const EsploraTxSchema = Type.Object({
  txid: Type.String(),
  version: Int(),
  locktime: Int(),
  vin: Type.Array(EsploraTxInSchema),
  vout: Type.Array(EsploraTxOutSchema),
  size: Int('serialized size with witness, bytes'),
  weight: Int('BIP-141 weight units'),
  fee: Int('sats (0 for a coinbase)'),
  status: EsploraTxStatusSchema,
});
/** The JSON value EsploraTxSchema describes. */
export type EsploraTx = Static<typeof EsploraTxSchema>;

/** A block header with its chain context, as Esplora's GET /block/:hash returns it. */
export const EsploraBlockSchema = Type.Object({
  id: Hex('display hex of the block hash'),
  height: Int(),
  version: Int(),
  timestamp: Int('header time, seconds'),
  tx_count: Int(),
  size: Int('bytes'),
  weight: Int(),
  merkle_root: Type.String(),
  previousblockhash: Type.Union([Type.String(), Type.Null()], { description: 'null for the genesis block' }),
  mediantime: Int('median time past, seconds'),
  nonce: Int(),
  bits: Int('compact target'),
  difficulty: Type.Number(),
});
/** The JSON value EsploraBlockSchema describes. */
export type EsploraBlock = Static<typeof EsploraBlockSchema>;

/** Whether a block is on the best chain; the height and next block only when it is. */
export const EsploraBlockStatusSchema = Type.Object({
  in_best_chain: Type.Boolean(),
  height: Type.Optional(Int()),
  next_best: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
/** The JSON value EsploraBlockStatusSchema describes. */
export type EsploraBlockStatus = Static<typeof EsploraBlockStatusSchema>;

/** Spending status of one output. */
export const EsploraOutspendSchema = Type.Object({
  spent: Type.Boolean(),
  txid: Type.Optional(Type.String()),
  vin: Type.Optional(Int()),
  status: Type.Optional(EsploraTxStatusSchema),
});
/** The JSON value EsploraOutspendSchema describes. */
export type EsploraOutspend = Static<typeof EsploraOutspendSchema>;

/** Electrum-style merkle proof: sibling hashes (display hex) from the leaf up, and the tx's position. */
export const EsploraMerkleProofSchema = Type.Object({
  block_height: Int(),
  merkle: Type.Array(Type.String()),
  pos: Int(),
});
/** The JSON value EsploraMerkleProofSchema describes. */
export type EsploraMerkleProof = Static<typeof EsploraMerkleProofSchema>;

/** Funded/spent output counts and sums of an address, on chain or in the mempool. */
export const EsploraAddressStatsSchema = Type.Object({
  funded_txo_count: Int(),
  funded_txo_sum: Int('sats'),
  spent_txo_count: Int(),
  spent_txo_sum: Int('sats'),
  tx_count: Int(),
});
/** The JSON value EsploraAddressStatsSchema describes. */
export type EsploraAddressStats = Static<typeof EsploraAddressStatsSchema>;

/** GET /address/:address. */
export const EsploraAddressSchema = Type.Object({
  address: Type.String(),
  chain_stats: EsploraAddressStatsSchema,
  mempool_stats: EsploraAddressStatsSchema,
});
/** The JSON value EsploraAddressSchema describes. */
export type EsploraAddress = Static<typeof EsploraAddressSchema>;

/** One unspent output of an address. */
export const EsploraUtxoSchema = Type.Object({
  txid: Type.String(),
  vout: Int(),
  status: EsploraTxStatusSchema,
  value: Int('sats'),
});
/** The JSON value EsploraUtxoSchema describes. */
export type EsploraUtxo = Static<typeof EsploraUtxoSchema>;

/** GET /mempool: backlog statistics; fee_histogram = [[feerate sat/vB, vsize], …], highest fee rate first. */
export const EsploraMempoolSchema = Type.Object({
  count: Int(),
  vsize: Int('vbytes'),
  total_fee: Int('sats'),
  fee_histogram: Type.Array(Type.Tuple([Type.Number(), Type.Number()])),
});
/** The JSON value EsploraMempoolSchema describes. */
export type EsploraMempool = Static<typeof EsploraMempoolSchema>;

/** One of the last transactions to enter the mempool (GET /mempool/recent). */
export const EsploraMempoolRecentSchema = Type.Object({
  txid: Type.String(),
  fee: Int('sats'),
  vsize: Int(),
  value: Int('sum of the outputs, sats'),
});
/** The JSON value EsploraMempoolRecentSchema describes. */
export type EsploraMempoolRecent = Static<typeof EsploraMempoolRecentSchema>;

/** mempool.space GET /v1/fees/recommended, sat/vB. */
export const FeesRecommendedSchema = Type.Object({
  fastestFee: Type.Number(),
  halfHourFee: Type.Number(),
  hourFee: Type.Number(),
  economyFee: Type.Number(),
  minimumFee: Type.Number(),
});
/** The JSON value FeesRecommendedSchema describes. */
export type FeesRecommended = Static<typeof FeesRecommendedSchema>;

/** Esplora GET /fee-estimates: confirmation target (blocks) → sat/vB. */
export const FeeEstimatesSchema = Type.Record(Type.String(), Type.Number());
/** The JSON value FeeEstimatesSchema describes. */
export type FeeEstimates = Static<typeof FeeEstimatesSchema>;

/** One projected block of the mempool (mempool.space `mempool-blocks`). */
export const MempoolBlockSchema = Type.Object({
  blockSize: Int('bytes'),
  blockVSize: Type.Number(),
  nTx: Int(),
  totalFees: Int('sats'),
  medianFee: Type.Number(),
  feeRange: Type.Array(Type.Number()),
});
/** The JSON value MempoolBlockSchema describes. */
export type MempoolBlock = Static<typeof MempoolBlockSchema>;

/** mempool.space GET /v1/difficulty-adjustment (times in ms unless named otherwise). */
export const DifficultyAdjustmentSchema = Type.Object({
  progressPercent: Type.Number(),
  difficultyChange: Type.Number({ description: 'percent' }),
  estimatedRetargetDate: Int('Unix time, ms'),
  remainingBlocks: Int(),
  remainingTime: Int('ms'),
  previousRetarget: Type.Number({ description: 'percent' }),
  previousTime: Int('Unix time of the epoch start block, seconds'),
  nextRetargetHeight: Int(),
  timeAvg: Int('ms'),
  adjustedTimeAvg: Int('ms'),
  timeOffset: Int('ms'),
  expectedBlocks: Type.Number(),
});
/** The JSON value DifficultyAdjustmentSchema describes. */
export type DifficultyAdjustment = Static<typeof DifficultyAdjustmentSchema>;

/** mempool.space's block `extras` (fee statistics and coinbase facts). */
export const BlockExtrasSchema = Type.Object({
  reward: Int('coinbase outputs, sats'),
  coinbaseRaw: Type.String(),
  orphans: Type.Array(Type.Unknown()),
  medianFee: Type.Number(),
  feeRange: Type.Array(Type.Number()),
  totalFees: Int(),
  avgFee: Type.Number(),
  avgFeeRate: Type.Number(),
  utxoSetChange: Int(),
  avgTxSize: Type.Number(),
  totalInputs: Int(),
  totalOutputs: Int(),
  totalOutputAmt: Int(),
  medianFeeAmt: Type.Union([Type.Number(), Type.Null()]),
  feePercentiles: Type.Union([Type.Array(Type.Number()), Type.Null()]),
  segwitTotalTxs: Int(),
  segwitTotalSize: Int(),
  segwitTotalWeight: Int(),
  header: Type.String(),
  utxoSetSize: Type.Union([Type.Integer(), Type.Null()]),
  totalInputAmt: Type.Union([Type.Integer(), Type.Null()]),
  virtualSize: Type.Number(),
  coinbaseAddress: Type.Union([Type.String(), Type.Null()]),
  coinbaseAddresses: Type.Array(Type.String()),
  coinbaseSignature: Type.String(),
  coinbaseSignatureAscii: Type.String(),
  pool: Type.Object({ id: Int(), name: Type.String(), slug: Type.String() }),
  matchRate: Type.Union([Type.Number(), Type.Null()]),
  expectedFees: Type.Union([Type.Number(), Type.Null()]),
  expectedWeight: Type.Union([Type.Number(), Type.Null()]),
});
/** The JSON value BlockExtrasSchema describes. */
export type BlockExtras = Static<typeof BlockExtrasSchema>;

/** mempool.space's extended block (GET /v1/blocks, /v1/block/:hash, websocket `block`). */
export const BlockExtendedSchema = Type.Object({
  id: Type.String(),
  height: Int(),
  version: Int(),
  timestamp: Int(),
  bits: Int(),
  nonce: Int(),
  difficulty: Type.Number(),
  merkle_root: Type.String(),
  tx_count: Int(),
  size: Int(),
  weight: Int(),
  previousblockhash: Type.Union([Type.String(), Type.Null()]),
  mediantime: Int(),
  stale: Type.Boolean(),
  extras: BlockExtrasSchema,
});
/** The JSON value BlockExtendedSchema describes. */
export type BlockExtended = Static<typeof BlockExtendedSchema>;

/** A `text/plain` response body (hex, txid, height, or an error reason) for the route schemas. */
export function textResponse(description: string): { description: string; content: { 'text/plain': { schema: TSchema } } } {
  return { description, content: { 'text/plain': { schema: Type.String() } } };
}

/** A binary (`application/octet-stream`) response body for the route schemas. */
export function binaryResponse(description: string): { description: string; content: { 'application/octet-stream': { schema: TSchema } } } {
  return { description, content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } };
}

/** The 400 and 404 responses every lookup route can give (plain-text reasons). */
export const ERROR_RESPONSES = {
  400: textResponse('Malformed input (plain-text reason, e.g. "Invalid hex string")'),
  404: textResponse('Not found (plain-text reason, e.g. "Transaction not found")'),
  429: textResponse('Rate limit exceeded'),
} as const;
