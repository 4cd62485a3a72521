import { scriptPubKeyToAddress } from '../crypto/address.js';
import { feeRateSatPerVb } from '../policy/feeRate.js';
import type { ChainParams } from '../params/chainParams.js';
import { encodeBlockHeader } from '../primitives/blockHeader.js';
import { bytesToHex } from '../primitives/hex.js';
import { getTxSize, getTxVsize, getTxWeight, hasWitness } from '../primitives/tx.js';
import { blockToEsplora, satsToNumber } from './esploraJson.js';
import { esploraAsm } from './esploraAsm.js';
import type { BlockExtended } from './esploraSchemas.js';
import { feeRange, median } from './feeEstimates.js';
import { computeFee, type BlockData } from './txLookup.js';

/** The pool of every block: cairn has no mining-pool attribution (mempool.space's "Unknown"). */
const UNKNOWN_POOL = Object.freeze({ id: 0, name: 'Unknown', slug: 'unknown' });

/**
 * A block as mempool.space's /v1/blocks and websocket `block` show it: Esplora's block fields plus `stale` (not on the
 * main chain) and `extras` — reward (coinbase outputs), coinbase scriptSig (raw, asm, printable ASCII), fee statistics
 * of the non-coinbase txs from the undo data (totalFees, avgFee, avgFeeRate, medianFee and the 7-point feeRange of
 * their own fee rates, medianFeeAmt), input/output counts and amounts, segwit tx totals, header hex, coinbase
 * addresses. Fields cairn cannot know (utxoSetSize, pool match rates, fee percentiles) are null; pool is "Unknown".
 * @see mempool.space backend/src/api/blocks.ts getBlockExtended
 */
export function blockToExtended(data: BlockData, params: ChainParams, medianTimeSec: number, onMainChain: boolean): BlockExtended {
  const { block, entry } = data;
  const coinbase = block.txs[0]!;
  const rates: number[] = [];
  const fees: number[] = [];
  let totalFees = 0;
  let totalInputs = 0;
  let totalOutputs = 0;
  let totalOutputAmt = 0;
  let totalInputAmt = 0;
  let segwitTotalTxs = 0;
  let segwitTotalSize = 0;
  let segwitTotalWeight = 0;
  let sizeSum = 0;
  block.txs.forEach((tx, i) => {
    totalOutputs += tx.outputs.length;
    totalOutputAmt += tx.outputs.reduce((s, o) => s + satsToNumber(o.value), 0);
    if (i === 0) return;
    totalInputs += tx.inputs.length;
    const offset = data.undoOffsets[i]!;
    const prevouts = tx.inputs.map((_, k) => data.undo[offset + k]?.output);
    totalInputAmt += prevouts.reduce((s, p) => s + (p === undefined ? 0 : satsToNumber(p.value)), 0);
    const fee = satsToNumber(computeFee(tx, prevouts));
    const vsize = getTxVsize(tx);
    totalFees += fee;
    fees.push(fee);
    rates.push(feeRateSatPerVb(BigInt(fee), vsize));
    const size = getTxSize(tx);
    sizeSum += size;
    if (hasWitness(tx)) {
      segwitTotalTxs++;
      segwitTotalSize += size;
      segwitTotalWeight += getTxWeight(tx);
    }
  });
  const userTxs = block.txs.length - 1;
  const coinbaseAddresses = coinbase.outputs
    .map((o) => scriptPubKeyToAddress(o.scriptPubKey, params.bech32Hrp))
    .filter((a): a is string => a !== null);
  const scriptSig = coinbase.inputs[0]?.scriptSig ?? new Uint8Array(0);
  return {
    ...blockToEsplora(entry, medianTimeSec),
    stale: !onMainChain,
    extras: {
      reward: coinbase.outputs.reduce((s, o) => s + satsToNumber(o.value), 0),
      coinbaseRaw: bytesToHex(scriptSig),
      orphans: [],
      medianFee: median(rates),
      feeRange: feeRange(rates),
      totalFees,
      avgFee: userTxs > 0 ? Math.round(totalFees / userTxs) : 0,
      avgFeeRate: userTxs > 0 ? Math.round(rates.reduce((a, b) => a + b, 0) / userTxs) : 0,
      utxoSetChange: totalOutputs - totalInputs,
      avgTxSize: userTxs > 0 ? Math.round((sizeSum / userTxs) * 100) / 100 : 0,
      totalInputs,
      totalOutputs,
      totalOutputAmt,
      medianFeeAmt: userTxs > 0 ? median(fees) : null,
      feePercentiles: null,
      segwitTotalTxs,
      segwitTotalSize,
      segwitTotalWeight,
      header: bytesToHex(encodeBlockHeader(block.header)),
      utxoSetSize: null,
      totalInputAmt,
      virtualSize: entry.weight / 4,
      coinbaseAddress: coinbaseAddresses[0] ?? null,
      coinbaseAddresses,
      coinbaseSignature: esploraAsm(scriptSig),
      coinbaseSignatureAscii: String.fromCharCode(...scriptSig.map((b) => (b >= 0x20 && b < 0x7f ? b : 0x2e))),
      pool: { ...UNKNOWN_POOL },
      matchRate: null,
      expectedFees: null,
      expectedWeight: null,
    },
  };
}
