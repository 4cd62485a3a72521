import type { Listener } from '../async/typedEmitter.js';
import type { Coin } from '../consensus/utxoView.js';
import type { Block, BlockHash, Outpoint } from '../primitives/types.js';
import type { BlockIndexEntry, ChainEvents, ChainTip, UtxoSetDigest } from './chainTypes.js';

/**
 * What the node's interfaces (RPC, REST, websocket, metrics, Stratum, miners) read from the chain: the tip and block
 * index, stored blocks and their undo data, the UTXO set, chain tips, and the chain's events. Read-only: blocks enter
 * through NodeContext.submitBlock. Implemented by chain/Chain. Sync accessors read in-memory state.
 * @see Bitcoin Core interfaces/chain.h (interfaces::Chain)
 */
export interface ChainReader {
  /** The main-chain tip. */
  readonly tip: BlockIndexEntry;
  /** Height of the main-chain tip. */
  readonly height: number;
  /** The header with the most work not known invalid (ahead of the tip during headers-first sync). */
  readonly bestHeader: BlockIndexEntry;
  /** The index entry of a block, or undefined. */
  getEntry(hash: BlockHash): BlockIndexEntry | undefined;
  /** The main-chain entry at a height, or undefined above the tip. */
  getEntryByHeight(height: number): BlockIndexEntry | undefined;
  /** Whether the entry is on the main chain. */
  isMainChain(entry: BlockIndexEntry): boolean;
  /** The ancestor of `entry` at `height` (the entry itself at its height), or undefined. */
  getAncestor(entry: BlockIndexEntry, height: number): BlockIndexEntry | undefined;
  /**
   * Median-time-past at `entry`, seconds (BIP-113).
   * @throws RangeError when the entry is not indexed
   */
  getMedianTimePast(entry: BlockIndexEntry): number;
  /**
   * The bits a child of `prevEntry` must carry.
   * @throws RangeError when the entry is not indexed
   */
  getNextBits(prevEntry: BlockIndexEntry): number;
  /** The stored block, or undefined (unknown or header only). */
  getBlock(hash: BlockHash): Block | undefined;
  /** The stored block's serialized bytes (with witnesses), or undefined. */
  getRawBlock(hash: BlockHash): Uint8Array | undefined;
  /**
   * The undo data of a main-chain block: the coins its non-coinbase inputs spent, in block order (so the API can show
   * prevouts and fees of confirmed txs); undefined for a block not on the main chain.
   */
  getBlockUndo(hash: BlockHash): readonly Coin[] | undefined;
  /** The unspent coin at the outpoint in the main chain's UTXO set, or undefined. */
  getCoin(outpoint: Outpoint): Coin | undefined;
  /** Every tip of the block tree with its branch length and status (Core's getchaintips). */
  getChainTips(): ChainTip[];
  /** The digest of the UTXO set at the tip (Core's gettxoutsetinfo). PERF: O(UTXO set). */
  computeUtxoDigest(): UtxoSetDigest;
  /** Subscribes to a chain event; returns the unsubscribe function. */
  on<K extends keyof ChainEvents>(event: K, listener: Listener<ChainEvents, K>): () => void;
}
