import type { Coin } from '../consensus/utxoView.js';
import type { ChainParams } from '../params/chainParams.js';
import type { Block, BlockHeader, Hash256, Outpoint } from '../primitives/types.js';

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
  readonly hash: Hash256;
  /** Display (reversed) hex of `hash`, cached because maps and logs key on it. */
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

/**
 * Everything one block connect changes, applied by ChainStore.connectBlock in ONE SQLite transaction so that a kill -9
 * at any instant leaves either the old state or the new one.
 * The UTXO changes are the net diff: `spent` lists the coins of the set that the block spends (coins created and spent
 * inside the same block appear in neither list), `created` the coins it adds (OP_RETURN outputs excluded).
 * `undo` is every coin spent by the block's non-coinbase inputs, in block order (tx by tx, input by input), including
 * coins created earlier in the same block: this is the undo data (Core's CBlockUndo) that disconnectBlock needs.
 */
export interface ConnectBlockUpdate {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  /** txids of block.txs in order (computed once by the caller). */
  readonly txids: readonly Hash256[];
  readonly spent: readonly Outpoint[];
  readonly created: readonly UtxoRecord[];
  readonly undo: readonly Coin[];
}

/**
 * A block connect written in an open SQLite transaction and not committed yet (ChainStore.beginConnectBlock): exactly
 * one of commit() or rollback() ends it.
 */
export interface PendingBlockConnect {
  /**
   * Commits the block connect: the block becomes the tip.
   * @throws StorageError when already ended; a database error (then nothing of the block is applied)
   */
  commit(): void;
  /** Discards every write of the block connect (nothing of it is applied). Does nothing once ended. */
  rollback(): void;
}

/**
 * Everything one block disconnect changes, in ONE transaction: the UTXO net diff (`removed` = the block's outputs still
 * in the set; `restored` = the coins its inputs had spent, from its undo data, except coins created in the block
 * itself), the tx/address/spend index rows of the block removed, and the tip moved to the block's parent.
 */
export interface DisconnectBlockUpdate {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  readonly txids: readonly Hash256[];
  readonly removed: readonly Outpoint[];
  readonly restored: readonly UtxoRecord[];
}

/** Where a confirmed transaction is: block, height and position in the block. */
export interface TxLocation {
  readonly txid: Hash256;
  readonly blockHash: Hash256;
  readonly height: number;
  /** Index of the tx in the block (0 = coinbase). */
  readonly position: number;
}

/** The input that spent an outpoint on the main chain (for Esplora's /tx/:txid/outspends). */
export interface SpendRecord {
  readonly outpoint: Outpoint;
  readonly spendingTxid: Hash256;
  readonly inputIndex: number;
  readonly height: number;
}

/** One main-chain transaction that touched a scriptPubKey (received to it or spent from it). */
export interface AddressHistoryRecord {
  readonly txid: Hash256;
  readonly height: number;
  readonly position: number;
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
  readonly bestBlock: string;
  readonly txouts: number;
  readonly totalAmount: bigint;
  readonly hashSerialized: string;
}

/**
 * Persistent chain state: block index, raw blocks, undo data, UTXO set, main chain and tip, tx index, address index and
 * spend index. Synchronous (better-sqlite3). Every method that writes more than one row does so in one transaction.
 * Implementations: SqliteChainStore (default, WAL mode).
 */
export interface ChainStore {
  /** The params the store was created for (the store refuses to open with another network's genesis). */
  readonly params: ChainParams;

  // --- block index and block data -------------------------------------------------------------------------------
  /** Inserts or replaces a block index entry. */
  putBlockIndexEntry(entry: BlockIndexEntry): void;
  /** Updates the status bits of several entries in one transaction. */
  updateBlockStatus(changes: readonly { hash: Hash256; status: number }[]): void;
  /** Every block index entry, in no particular order (loaded once at start-up). */
  loadBlockIndex(): BlockIndexEntry[];
  /** Stores a block's raw bytes together with its index entry (status HAVE_DATA set by the caller), in one transaction. */
  putBlock(entry: BlockIndexEntry, rawBlock: Uint8Array): void;
  /** Raw serialized block (with witnesses), or undefined when not stored. */
  readRawBlock(hash: Hash256): Uint8Array | undefined;
  /** The decoded block, or undefined when not stored. */
  readBlock(hash: Hash256): Block | undefined;
  /** Undo data of a connected block: the coins its non-coinbase inputs spent, in block order. */
  readUndo(hash: Hash256): Coin[] | undefined;

  // --- chain state ---------------------------------------------------------------------------------------------
  /** Hash of the tip of the main chain, or undefined for a new store. */
  getTipHash(): Hash256 | undefined;
  /** Hash of the main-chain block at a height, or undefined above the tip. */
  getMainChainHash(height: number): Hash256 | undefined;
  /** Records the genesis block as the tip of an empty store (its coinbase is not added to the UTXO set, as in Bitcoin). */
  initGenesis(entry: BlockIndexEntry, rawBlock: Uint8Array): void;
  /** Applies a block connect in one transaction; the block becomes the tip. */
  connectBlock(update: ConnectBlockUpdate): void;
  /**
   * Writes a block connect in one transaction and leaves it open; the returned handle commits or rolls it back. Until
   * then the caller must not yield to the event loop nor call the store (others would see uncommitted state). The
   * chain joins the block's script checks in between: the writes overlap the worker threads' verification, and
   * nothing is committed before every script passed (as Core commits only after CCheckQueue's Wait).
   */
  beginConnectBlock(update: ConnectBlockUpdate): PendingBlockConnect;
  /**
   * Moves committed writes from the write-ahead log into the database file (never blocking on readers), so the log
   * stays short and no commit has to do it. The chain calls it while worker threads verify a block's scripts.
   */
  checkpoint(): void;
  /** Applies a block disconnect in one transaction; the block's parent becomes the tip. */
  disconnectBlock(update: DisconnectBlockUpdate): void;

  // --- UTXO set ------------------------------------------------------------------------------------------------
  /** The unspent coin at the outpoint, or undefined. */
  getCoin(outpoint: Outpoint): Coin | undefined;
  /** The coins at several outpoints, aligned with the input (undefined where there is none), from one state of the set. */
  getCoins(outpoints: readonly Outpoint[]): (Coin | undefined)[];
  /** Number of coins in the UTXO set. */
  getUtxoCount(): number;
  /** The digest of the whole UTXO set at the current tip. */
  computeUtxoDigest(): UtxoSetDigest;

  // --- indexes (main chain only) -------------------------------------------------------------------------------
  getTxLocation(txid: Hash256): TxLocation | undefined;
  /** The spend of an outpoint on the main chain, if any. */
  getSpend(outpoint: Outpoint): SpendRecord | undefined;
  /** Main-chain history of a scriptPubKey, newest first; `limit` rows after the (height, position) cursor when given. */
  getAddressHistory(
    scriptPubKey: Uint8Array,
    options?: { limit?: number; before?: { height: number; position: number } },
  ): AddressHistoryRecord[];
  /** Unspent coins paying to a scriptPubKey. */
  getAddressUtxos(scriptPubKey: Uint8Array, limit?: number): UtxoRecord[];

  /** Closes the database (idempotent). */
  close(): void;
}
