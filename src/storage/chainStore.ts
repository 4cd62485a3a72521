import type { Coin } from '../consensus/utxoView.js';
import type { ChainParams } from '../params/chainParams.js';
import type { Block, BlockHash, Outpoint, Txid } from '../primitives/types.js';
import type { BlockIndexEntry, UtxoRecord, UtxoSetDigest } from '../interfaces/chainTypes.js';

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
  readonly txids: readonly Txid[];
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
 * itself), the index rows of the block removed, and the tip moved to the block's parent.
 */
export interface DisconnectBlockUpdate {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  readonly txids: readonly Txid[];
  readonly removed: readonly Outpoint[];
  readonly restored: readonly UtxoRecord[];
}

/**
 * Persistent chain state, what the Chain reads and writes: block index, raw blocks, undo data, UTXO set, main chain
 * and tip. Synchronous (better-sqlite3). Every method that writes more than one row does so in one transaction.
 * The Esplora indexes (tx, spend and address indexes) are not part of it: an implementation keeps them in the same
 * transaction as each connect/disconnect and serves them through ChainIndexReader (SqliteChainStore.chainIndex).
 * Implementations: SqliteChainStore (default, WAL mode).
 */
export interface ChainStore {
  /** The params the store was created for (the store refuses to open with another network's genesis). */
  readonly params: ChainParams;

  // --- block index and block data -------------------------------------------------------------------------------
  /** Inserts or replaces a block index entry. */
  putBlockIndexEntry(entry: BlockIndexEntry): void;
  /** Updates the status bits of several entries in one transaction. */
  updateBlockStatus(changes: readonly { hash: BlockHash; status: number }[]): void;
  /** Every block index entry, in no particular order (loaded once at start-up). */
  loadBlockIndex(): BlockIndexEntry[];
  /** Stores a block's raw bytes together with its index entry (status HAVE_DATA set by the caller), in one transaction. */
  putBlock(entry: BlockIndexEntry, rawBlock: Uint8Array): void;
  /** Raw serialized block (with witnesses), or undefined when not stored. */
  readRawBlock(hash: BlockHash): Uint8Array | undefined;
  /** The decoded block, or undefined when not stored. */
  readBlock(hash: BlockHash): Block | undefined;
  /** Undo data of a connected block: the coins its non-coinbase inputs spent, in block order. */
  readUndo(hash: BlockHash): Coin[] | undefined;

  // --- chain state ---------------------------------------------------------------------------------------------
  /** Hash of the tip of the main chain, or undefined for a new store. */
  getTipHash(): BlockHash | undefined;
  /** Hash of the main-chain block at a height, or undefined above the tip. */
  getMainChainHash(height: number): BlockHash | undefined;
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
  /**
   * The indexes (ascending) into `txids` of those with at least one unspent coin in the set (at any output index),
   * from one state of the set: the BIP-30 lookups of a block, one per tx instead of one per output.
   */
  findTxidsWithCoins(txids: readonly Txid[]): number[];
  /** Number of coins in the UTXO set. */
  getUtxoCount(): number;
  /** The digest of the whole UTXO set at the current tip. */
  computeUtxoDigest(): UtxoSetDigest;

  /** Closes the database (idempotent). */
  close(): void;
}
