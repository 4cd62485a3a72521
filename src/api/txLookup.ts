import type { Coin } from '../consensus/utxoView.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { computeTxid, isCoinbase } from '../primitives/tx.js';
import type { Block, BlockHash, Sats, Tx, TxOut, Txid } from '../primitives/types.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { confirmedStatus, UNCONFIRMED_STATUS, type EsploraTxStatus } from './esploraJson.js';
import type { NodeContext } from '../interfaces/nodeContext.js';

/** Decoded blocks (with undo data) kept for repeated lookups: paging through a block reads it once. */
const DEFAULT_BLOCK_CACHE_SIZE = 16;

/** A stored block with what Esplora's views of its transactions need, cached by block hash. */
export interface BlockData {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  /** The txids in block order (the merkle leaves). */
  readonly txids: readonly Txid[];
  /** The coins the block's non-coinbase inputs spent, in block order (empty when the block was never connected). */
  readonly undo: readonly Coin[];
  /** undoOffsets[i] = index in `undo` of tx i's first input's coin (0 for the coinbase). */
  readonly undoOffsets: readonly number[];
}

/** A transaction with its prevouts, fee and confirmation status: everything txToEsplora needs. */
export interface ResolvedTx {
  readonly tx: Tx;
  readonly txid: Txid;
  /** Outputs spent by the inputs, aligned with tx.inputs (undefined for a coinbase or where unknown). */
  readonly prevouts: readonly (TxOut | undefined)[];
  /** Fee in sats (0 for a coinbase or when a prevout is unknown). */
  readonly fee: Sats;
  readonly status: EsploraTxStatus;
  /** Block and position for a confirmed tx. */
  readonly confirmedIn?: { readonly entry: BlockIndexEntry; readonly position: number };
}

/**
 * Finds transactions for the REST API, in the mempool or on the main chain (tx index), with the outputs their inputs
 * spend: for confirmed txs from the block's undo data (Core's CBlockUndo: coins in block order), for mempool txs from
 * the parent mempool tx or the UTXO set. Decoded blocks and their undo data are cached by hash (a hash names the
 * same block and, once connected, the same undo data forever, so reorgs cannot make the cache stale; only the tx
 * index, which is read every time, moves).
 */
export class TxLookup {
  private readonly cache = new Map<HashKey<BlockHash>, BlockData>();

  constructor(
    private readonly node: NodeContext,
    private readonly cacheSize = DEFAULT_BLOCK_CACHE_SIZE,
  ) {}

  /** The transaction, from the mempool first, then the main chain; undefined when unknown. */
  getTx(txid: Txid): ResolvedTx | undefined {
    return this.getMempoolTx(txid) ?? this.getConfirmedTx(txid);
  }

  /** A mempool transaction with its prevouts (parent mempool tx or UTXO set) and fee. */
  getMempoolTx(txid: Txid): ResolvedTx | undefined {
    const entry = this.node.mempool.get(txid);
    if (entry === undefined) return undefined;
    return { tx: entry.tx, txid: entry.txid, prevouts: this.mempoolPrevouts(entry.tx), fee: entry.fee, status: UNCONFIRMED_STATUS };
  }

  /** The outputs a mempool-side transaction's inputs spend: a parent in the mempool, else the main chain's UTXO set. */
  mempoolPrevouts(tx: Tx): (TxOut | undefined)[] {
    const { mempool, chain } = this.node;
    return tx.inputs.map((input) => {
      const parent = mempool.get(input.prevout.txid);
      return parent !== undefined ? parent.tx.outputs[input.prevout.index] : chain.getCoin(input.prevout)?.output;
    });
  }

  /** A main-chain transaction by txid (tx index), with prevouts from its block's undo data. */
  getConfirmedTx(txid: Txid): ResolvedTx | undefined {
    const location = this.node.chainIndex.getTxLocation(txid);
    if (location === undefined) return undefined;
    const entry = this.node.chain.getEntry(location.blockHash);
    if (entry === undefined) return undefined;
    const data = this.readBlockData(entry);
    if (data === undefined || location.position >= data.block.txs.length) return undefined;
    return this.resolveInBlock(data, location.position);
  }

  /** The transaction at `position` of a block read with readBlockData. */
  resolveInBlock(data: BlockData, position: number): ResolvedTx {
    const tx = data.block.txs[position]!;
    const status = confirmedStatus(data.entry);
    const txid = data.txids[position]!;
    if (position === 0 || isCoinbase(tx)) {
      return { tx, txid, prevouts: tx.inputs.map(() => undefined), fee: 0n, status, confirmedIn: { entry: data.entry, position } };
    }
    const offset = data.undoOffsets[position]!;
    const prevouts = tx.inputs.map((_, i) => data.undo[offset + i]?.output);
    return { tx, txid, prevouts, fee: computeFee(tx, prevouts), status, confirmedIn: { entry: data.entry, position } };
  }

  /**
   * The stored block of an index entry with its txids and undo data, or undefined when only the header is known.
   * PERF: decodes the block and its undo data once per cache miss; at most `cacheSize` blocks are kept.
   */
  readBlockData(entry: BlockIndexEntry): BlockData | undefined {
    const key = hashKey(entry.hash);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const block = this.node.chain.getBlock(entry.hash);
    if (block === undefined) return undefined;
    const undo = this.node.chain.getBlockUndo(entry.hash) ?? [];
    const undoOffsets: number[] = [];
    let offset = 0;
    block.txs.forEach((tx, i) => {
      undoOffsets.push(offset);
      if (i > 0) offset += tx.inputs.length;
    });
    const data: BlockData = { entry, block, txids: block.txs.map(computeTxid), undo, undoOffsets };
    this.cache.set(key, data);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    return data;
  }
}

/** Inputs minus outputs, sats; 0 when an input's prevout is unknown (a fee cannot be stated then). */
export function computeFee(tx: Tx, prevouts: readonly (TxOut | undefined)[]): Sats {
  let valueIn = 0n;
  for (const p of prevouts) {
    if (p === undefined) return 0n;
    valueIn += p.value;
  }
  return valueIn - tx.outputs.reduce((sum, o) => sum + o.value, 0n);
}
