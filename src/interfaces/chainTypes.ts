/**
 * The chain's data shapes that services share (chain, storage, API, p2p, mining, wallet): block index entries and
 * their status bits, UTXO records and digests, index records, processBlock results, chain tips and chain events.
 * Types and frozen constants only: no I/O (DESIGN.md, interfaces/ is L1).
 */
import type { RejectReason } from '../consensus/rejectReason.js';
import type { Coin } from '../consensus/utxoView.js';
import type { Block, BlockHash, BlockHeader, Outpoint, Sats, Tx, Txid } from '../primitives/types.js';


/**
 * Validation status bits of a block index entry, as Bitcoin Core's BlockStatus (chain.h) reduced to what cairn needs.
 * An entry may carry several bits; FAILED and FAILED_CHILD mark blocks that can never be part of the best chain.
 */
export const BlockStatus = Object.freeze({
  /** The header passed context-free and contextual header checks (PoW, bits, time). */
  VALID_HEADER: 1,
  /** The full block is stored and passed checkBlock and the contextual block checks. */
  HAVE_DATA: 2,
  /** The block was connected at least once: inputs and scripts are valid. */
  VALID_SCRIPTS: 4,
  /** The block itself broke a consensus rule. */
  FAILED: 8,
  /** An ancestor broke a consensus rule. */
  FAILED_CHILD: 16,
} as const);

/** Mask of the failure bits. */
export const BLOCK_FAILED_MASK = BlockStatus.FAILED | BlockStatus.FAILED_CHILD;

/**
 * One entry of the block index: a header the node knows, with its place in the tree of headers.
 * `chainWork` is the total work of the chain from genesis up to and including this block.
 * @see Bitcoin Core chain.h CBlockIndex
 */
export interface BlockIndexEntry {
  readonly hash: BlockHash;
  /** Display (reversed) hex of `hash`, cached for logs and the APIs (display only, never a map key). */
  readonly hashHex: string;
  readonly header: BlockHeader;
  readonly height: number;
  readonly chainWork: bigint;
  /** BlockStatus bits. */
  status: number;
  /** Number of transactions (0 until the block data is stored). */
  txCount: number;
  /** Serialized size in bytes with witnesses (0 until the block data is stored). */
  sizeBytes: number;
  /** Block weight (0 until the block data is stored). */
  weight: number;
}

/** A coin in the UTXO set together with its outpoint. */
export interface UtxoRecord {
  readonly outpoint: Outpoint;
  readonly coin: Coin;
}

/** Where a confirmed transaction is: block, height and position in the block. */
export interface TxLocation {
  readonly txid: Txid;
  readonly blockHash: BlockHash;
  readonly height: number;
  /** Index of the tx in the block (0 = coinbase). */
  readonly position: number;
}

/** The input that spent an outpoint on the main chain (for Esplora's /tx/:txid/outspends). */
export interface SpendRecord {
  readonly outpoint: Outpoint;
  readonly spendingTxid: Txid;
  readonly inputIndex: number;
  readonly height: number;
}

/** One main-chain transaction that touched a scriptPubKey (received to it or spent from it). */
export interface AddressHistoryRecord {
  readonly txid: Txid;
  readonly height: number;
  readonly position: number;
}

/**
 * Main-chain totals of one scriptPubKey, as Esplora's `chain_stats`: outputs paying it (funded) and those of them spent
 * on the main chain (spent), counted and summed in sats, and the number of txs that paid to or spent from it (a tx
 * touching it several times counts once). Unspendable outputs (OP_RETURN) are not counted; the genesis coinbase is not
 * either (it is not a coin). Balance = fundedTxoSum - spentTxoSum.
 * @see Blockstream electrs new_index/query.rs ScriptStats
 */
export interface AddressStats {
  readonly fundedTxoCount: number;
  readonly fundedTxoSum: Sats;
  readonly spentTxoCount: number;
  readonly spentTxoSum: Sats;
  readonly txCount: number;
}

/**
 * A deterministic digest of the whole UTXO set, like Core's `gettxoutsetinfo` (hash_type "hash_serialized"):
 * two nodes, or one node before and after a crash, hold the same set exactly when these are equal.
 * `hashSerialized` is the display hex of sha256d over every coin in outpoint order, each serialized as
 * outpoint (36 bytes) || u32 LE (height * 2 + isCoinbase) || i64 LE value || compact-size script length || script.
 * @see Bitcoin Core rpc/blockchain.cpp gettxoutsetinfo, kernel/coinstats.cpp
 */
export interface UtxoSetDigest {
  readonly height: number;
  /** The tip the digest is at (32 zero bytes for a store without a tip). */
  readonly bestBlock: BlockHash;
  readonly txouts: number;
  readonly totalAmount: bigint;
  readonly hashSerialized: string;
}

/**
 * Outcome of processBlock for the block given:
 * - `connected`: it is on the main chain now (possibly after a reorg, see `reorg`);
 * - `side-chain`: valid so far and stored, but its branch has no more work than the main chain;
 * - `orphan`: its parent is unknown; it waits in the orphan pool (`missing` = the block to ask peers for);
 * - `duplicate`: already stored (or already an orphan); nothing was done;
 * - `invalid`: it breaks a consensus rule; `reason` is Bitcoin Core's reject string, `score` the sender's ban score.
 */
export type ProcessBlockStatus = 'connected' | 'side-chain' | 'orphan' | 'duplicate' | 'invalid';

/** Result of processBlock. */
export interface ProcessBlockResult {
  /** The block's hash. */
  readonly hash: BlockHash;
  readonly status: ProcessBlockStatus;
  /** Reject reason (Core's string) when invalid; e.g. `bad-txns-inputs-missingorspent`, `duplicate-invalid`. */
  readonly reason?: RejectReason;
  /** Human-readable context. */
  readonly detail?: string;
  /** Ban score of the block's sender (0..100) when invalid. */
  readonly score?: number;
  /** When connecting it disconnected main-chain blocks: how many, and the height of the fork point. */
  readonly reorg?: { readonly depth: number; readonly forkHeight: number };
  /** For an orphan: the missing ancestor (parent of the oldest orphan of its run) to request. */
  readonly missing?: BlockHash;
}

/** Status of a chain tip, as Core's getchaintips. */
export type ChainTipStatus = 'active' | 'valid-fork' | 'valid-headers' | 'headers-only' | 'invalid';

/** One tip of the block tree, as Core's getchaintips reports it. */
export interface ChainTip {
  readonly height: number;
  /** The tip's hash. */
  readonly hash: BlockHash;
  /** Blocks between the tip and its fork point with the main chain (0 for the active tip). */
  readonly branchlen: number;
  readonly status: ChainTipStatus;
}

/** A block became part of the main chain (its UTXO changes are in the store). `txids` are block.txs' txids in order. */
export interface BlockConnectedEvent {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  readonly txids: readonly Txid[];
}

/** A block left the main chain in a reorg (its UTXO changes were undone). Its non-coinbase txs may return to the mempool. */
export interface BlockDisconnectedEvent {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  readonly txids: readonly Txid[];
}

/**
 * The end of one batch of connects/disconnects (one processBlock call or chain open). Emitted once per batch in which
 * any block was connected or disconnected, after all blockDisconnected and blockConnected events of the batch.
 * `tip` may equal `previousTip` when a reorg attempt failed and the chain went back to its old tip.
 * `reorgDepth` = previousTip.height - height of the fork point of previousTip and tip (0 when the tip only advanced).
 * `disconnectedTxs` are the non-coinbase txs of the blocks disconnected in the batch that are not in a block connected
 * in it, oldest block first and in block order (a topological order the mempool can re-add them in).
 */
export interface TipChangedEvent {
  readonly tip: BlockIndexEntry;
  readonly previousTip: BlockIndexEntry;
  readonly reorgDepth: number;
  readonly disconnectedTxs: readonly Tx[];
}

/** A block was found to break a consensus rule (context-free, contextual, or on connect). `score` is the ban score. */
export interface BlockInvalidEvent {
  readonly hash: BlockHash;
  readonly reason: RejectReason;
  readonly detail?: string;
  readonly score: number;
}

/**
 * The events a Chain emits, by name. Within a reorg every blockDisconnected (tip first) comes before the
 * blockConnected events (fork point upward), and tipChanged comes once at the end of the batch.
 * @see Bitcoin Core validationinterface.h (BlockDisconnected, BlockConnected, UpdatedBlockTip); bcoin chain events
 */
export interface ChainEvents {
  blockConnected: BlockConnectedEvent;
  blockDisconnected: BlockDisconnectedEvent;
  tipChanged: TipChangedEvent;
  blockInvalid: BlockInvalidEvent;
}
