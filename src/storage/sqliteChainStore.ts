import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Coin } from '../consensus/utxoView.js';
import type { ChainParams } from '../params/chainParams.js';
import { computeBlockHash, decodeBlock } from '../primitives/block.js';
import { decodeBlockHeader, encodeBlockHeader, NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { bytesEqual, hashToHex } from '../primitives/hex.js';
import { formatOutpoint } from '../primitives/outpoint.js';
import { isCoinbase } from '../primitives/tx.js';
import type { Block, BlockHash, Outpoint, Txid } from '../primitives/types.js';
import type { ChainStore, ConnectBlockUpdate, DisconnectBlockUpdate, PendingBlockConnect } from './chainStore.js';
import type { ChainIndexReader } from '../interfaces/chainIndexReader.js';
import type { BlockIndexEntry, UtxoRecord, UtxoSetDigest } from '../interfaces/chainTypes.js';
import { buildAddressStats, SqliteChainIndex } from './sqliteChainIndex.js';
import {
  asBytes,
  blockHashFromRow,
  coinFromRow,
  hashesBlob,
  jsonSlots,
  memoScriptHash,
  outpointKeys,
  scriptKeyOf,
  writeOutpointKey,
  type ScriptHashFn,
  type UtxoRow,
} from './sqliteRows.js';
import { StorageError } from './storageError.js';
import { decodeUndo, encodeUndo } from './undo.js';

/**
 * Version of the SQLite schema below, kept in meta `schema_version`. Version 2 added `address_stats`; version 3 keys
 * the UTXO table's script index by `script_key` instead of the 32-byte `script_hash` and drops `tx_index.block_hash`
 * (see SCHEMA_SQL). A version 1 or 2 store opened read-write is upgraded in place (see upgradeSchema); any other
 * version is refused.
 */
export const SCHEMA_VERSION = 3;

/** Options of SqliteChainStore.open. */
export interface SqliteChainStoreOptions {
  /** Open an existing store read-only (no schema creation, every write throws). Default false. */
  readonly readonly?: boolean;
  /** Receives progress lines of a schema upgrade run by open (which may take a while on a long chain). */
  readonly log?: (message: string) => void;
}

/** The UTXO table (schema version 3) under `name`. */
function utxoTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  outpoint BLOB PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL,
  script BLOB NOT NULL,
  height INTEGER NOT NULL,
  coinbase INTEGER NOT NULL,
  script_key INTEGER NOT NULL
) WITHOUT ROWID;`;
}

/** The tx index table (schema version 3) under `name`. */
function txIndexTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  txid BLOB PRIMARY KEY NOT NULL,
  height INTEGER NOT NULL,
  position INTEGER NOT NULL
) WITHOUT ROWID;`;
}

/** The address_stats table (added by schema version 2). */
const ADDRESS_STATS_SQL = `CREATE TABLE IF NOT EXISTS address_stats (
  script_hash BLOB PRIMARY KEY NOT NULL,
  funded_txo_count INTEGER NOT NULL,
  funded_txo_sum INTEGER NOT NULL,
  spent_txo_count INTEGER NOT NULL,
  spent_txo_sum INTEGER NOT NULL,
  tx_count INTEGER NOT NULL
) WITHOUT ROWID;`;

/**
 * The schema. Keys are BLOBs in internal byte order (hashes, 36-byte serialized outpoints), so WITHOUT ROWID tables
 * keep each row in its primary-key b-tree and the UTXO table iterates in outpoint order for the digest.
 * `blocks` and `undo` are ordinary rowid tables because their rows are large (SQLite advises against WITHOUT ROWID for
 * rows over ~1/20 of a page). `script_hash` is sha256(scriptPubKey) (Electrum's script hash, before its byte reversal).
 * The UTXO table's `script_key` is the first 6 bytes of the script hash as an integer (scriptKeyOf): its index finds a
 * script's coins, and a lookup also compares the script itself, so two scripts with the same key stay apart.
 * `tx_index` rows name the block by height: they describe the main chain only, whose block at a height main_chain
 * holds.
 * `address_stats` is Esplora's chain_stats per script, kept by SqliteChainIndex (sums in sats, as INTEGER: at most
 * 21e14 per script, far inside 64 bits).
 * `meta` holds schema_version, network, genesis_hash (display hex), tip (hash BLOB) and utxo_count.
 * PERF: script_key and the tx_index row without block_hash make the rows a block writes smaller (an index entry of
 * the UTXO table ~50 instead of ~75 bytes, a utxo row 25 and a tx_index row 33 bytes less), so fewer pages are
 * written and checkpointed. A 1,250-tx connect bench block: write phase 1.0 ms and commit 0.4 ms less CPU, process
 * CPU 0.9-1.9 ms less (medians of paired differences, four runs of 20 same-process rounds, each schema on a fixture
 * of its own, in both orders).
 */
const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS block_index (
  hash BLOB PRIMARY KEY NOT NULL,
  prev BLOB NOT NULL,
  height INTEGER NOT NULL,
  header BLOB NOT NULL,
  chain_work BLOB NOT NULL,
  status INTEGER NOT NULL,
  tx_count INTEGER NOT NULL,
  size INTEGER NOT NULL,
  weight INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (hash BLOB NOT NULL UNIQUE, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS undo (hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS main_chain (height INTEGER PRIMARY KEY, hash BLOB NOT NULL);
${utxoTableSql('utxo')}
CREATE INDEX IF NOT EXISTS utxo_by_script ON utxo (script_key, height);
${txIndexTableSql('tx_index')}
CREATE TABLE IF NOT EXISTS spends (
  outpoint BLOB PRIMARY KEY NOT NULL,
  spending_txid BLOB NOT NULL,
  input_index INTEGER NOT NULL,
  height INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS address_history (
  script_hash BLOB NOT NULL,
  height INTEGER NOT NULL,
  position INTEGER NOT NULL,
  txid BLOB NOT NULL,
  PRIMARY KEY (script_hash, height, position)
) WITHOUT ROWID;
${ADDRESS_STATS_SQL}
`;

/**
 * WAL size (pages) at which SQLite checkpoints by itself in a commit: a safety net, far above what the chain leaves
 * between two of its own checkpoints (see checkpoint()).
 */
const WAL_AUTOCHECKPOINT_PAGES = 10_000;
/**
 * checkpoint() acts once block connects, disconnects and block data wrote at least this many rows (or pages of block
 * data) since the last one: a bound on the pages they dirtied, so the log is checkpointed about as often as SQLite's
 * default 1,000-page autocheckpoint would, instead of after every small block (each checkpoint costs two fsyncs).
 */
const CHECKPOINT_AFTER_ROWS = 1_000;
/**
 * Coins written by one multi-row statement (insertCoins, deleteCoins); the rest of a list goes row by row.
 * PERF: see writeCoinChanges.
 */
const COIN_BATCH = 32;
/** SQLite's default page size: what a row count stands for when block data is counted in pages. */
const PAGE_SIZE_BYTES = 4096;
/** SQLite page cache per connection, in KiB (negative cache_size = KiB). */
const CACHE_SIZE_KIB = 32 * 1024;
/**
 * Where SQLite keeps temporary data: the rows an INSERT ... SELECT over json_each copies into a temporary table
 * before writing them (the index writes of SqliteChainIndex, a few hundred KiB per block) and the statement journals
 * of INSERT OR REPLACE statements. The chain's statements read in index order or with a LIMIT, so no large sort
 * lands there.
 * PERF: MEMORY instead of the default temporary files: the write phase of a 1,250-tx connect bench block 1.1 ms CPU
 * less (12.0 -> 11.1 ms; median paired difference of 40 same-process rounds, quartiles -2.3 to -0.7). In a scratch
 * copy of tx_index, one block's 1,251 rows: 1.9 -> 1.3 ms.
 */
const TEMP_STORE = 'MEMORY';
/** Size of the buffer the UTXO digest serializes coins into before hashing. */
const DIGEST_CHUNK_SIZE = 1 << 16;
const TWO_256 = 1n << 256n;

type Stmt = Database.Statement<unknown[], unknown>;

interface BlockIndexRow {
  hash: Buffer;
  height: number;
  header: Buffer;
  chain_work: Buffer;
  status: number;
  tx_count: number;
  size: number;
  weight: number;
}

/** A utxo row read with safe integers: value, height and coinbase come back as bigint. */
type CoinRow = [value: bigint, script: Buffer, height: bigint, coinbase: bigint];


function encodeChainWork(chainWork: bigint): Uint8Array {
  if (chainWork < 0n || chainWork >= TWO_256) {
    throw new StorageError('bad-argument', `chainWork ${chainWork} does not fit 256 bits`);
  }
  return Buffer.from(chainWork.toString(16).padStart(64, '0'), 'hex');
}

function decodeChainWork(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}


/** Number of non-coinbase inputs of the block: the length its undo data must have. */
function countSpendingInputs(block: Block): number {
  let n = 0;
  for (const tx of block.txs) if (!isCoinbase(tx)) n += tx.inputs.length;
  return n;
}

/** `count` 36-byte views of one new buffer, one per outpoint key of a multi-row statement. */
function keyViews(count: number): Buffer[] {
  const backing = Buffer.allocUnsafe(36 * count);
  return Array.from({ length: count }, (_, i) => backing.subarray(36 * i, 36 * i + 36));
}

/**
 * Thrown inside a write transaction when a coin statement found a spent coin missing or a created one present: which
 * outpoint it was is worked out after the rollback (see coinChangeError). Never leaves the store.
 */
class CoinWriteFailure extends Error {
  constructor(options?: { cause?: unknown }) {
    super('a coin write of the block failed', options);
  }
}

/**
 * Writes the six bound values of `record`'s utxo row (outpoint, value, script, height, coinbase, script_key) into
 * `values` from `at`, its key serialized into `key`.
 */
function bindCoin(values: unknown[], at: number, key: Buffer, { outpoint, coin }: UtxoRecord, scriptHash: ScriptHashFn): void {
  const script = coin.output.scriptPubKey;
  values[at] = writeOutpointKey(key, outpoint);
  values[at + 1] = coin.output.value;
  values[at + 2] = script;
  values[at + 3] = coin.height;
  values[at + 4] = coin.isCoinbase ? 1 : 0;
  values[at + 5] = scriptKeyOf(scriptHash(script));
}

/** Writes a compact-size integer into `buf` at `offset`; returns the new offset. */
function putCompactSize(buf: Buffer, offset: number, n: number): number {
  if (n < 0xfd) return buf.writeUInt8(n, offset);
  if (n <= 0xffff) return buf.writeUInt16LE(n, buf.writeUInt8(0xfd, offset));
  return buf.writeUInt32LE(n, buf.writeUInt8(0xfe, offset));
}


/**
 * The chain state of a node on SQLite (better-sqlite3, synchronous): block index, raw blocks, undo data, UTXO set,
 * main chain and tip, and the tx, spend and address indexes. Each block connect or disconnect is ONE SQLite
 * transaction, so after a crash the store holds either the state before or the state after that block.
 * Durability: WAL journal with `synchronous = NORMAL`: a commit that returned survives a crash of the process
 * (kill -9); a power loss or OS crash may lose the last commits, but never leaves the store inconsistent.
 * Undo rows exist exactly for the blocks of the main chain (disconnectBlock deletes the block's undo row).
 * `foreign_keys` is off: the tables reference each other only through the chain's own invariants.
 * PERF: every statement is prepared once in the constructor; getCoin is one primary-key lookup. Writes take the
 * write lock up front (BEGIN IMMEDIATE), so another writer makes them wait (busy timeout) rather than fail midway.
 * @see Bitcoin Core validation.cpp Chainstate::ConnectBlock / DisconnectBlock, txdb.cpp CCoinsViewDB
 */
export class SqliteChainStore implements ChainStore {
  private readonly db: Database.Database;
  private readonly stmt: Record<
    | 'getMeta'
    | 'setMeta'
    | 'addUtxoCount'
    | 'putIndex'
    | 'setStatus'
    | 'loadIndex'
    | 'putBlock'
    | 'getBlock'
    | 'putUndo'
    | 'getUndo'
    | 'deleteUndo'
    | 'getMain'
    | 'getTopMain'
    | 'putMain'
    | 'deleteMain'
    | 'getCoin'
    | 'getCoinsByKeys'
    | 'getCoinsPacked'
    | 'findTxidsWithCoins'
    | 'insertCoin'
    | 'insertCoins'
    | 'deleteCoin'
    | 'deleteCoins'
    | 'iterateUtxo'
    | 'begin'
    | 'commit'
    | 'rollback'
    | 'checkpoint',
    Stmt
  >;

  /** Scratch for serialized outpoints bound as keys (see writeOutpointKey). */
  private readonly outpointScratch = Buffer.allocUnsafe(36);
  /** COIN_BATCH 36-byte views of one buffer: the keys of a multi-row coin statement (SQLite copies them on bind). */
  private readonly batchKeys: Buffer[] = keyViews(COIN_BATCH);
  /** The bound values of insertCoins, six per coin, and of insertCoin (reused: cleared after each use). */
  private readonly batchValues: unknown[] = new Array<unknown>(6 * COIN_BATCH).fill(null);
  private readonly rowValues: unknown[] = new Array<unknown>(6).fill(null);

  /** The Esplora indexes, written in each block's transaction (see SqliteChainIndex). */
  private readonly indexes: SqliteChainIndex;

  /** Rows (and pages of block data) written since the last checkpoint: see CHECKPOINT_AFTER_ROWS. */
  private rowsSinceCheckpoint = 0;

  private constructor(
    db: Database.Database,
    /** The params the store was created for. */
    readonly params: ChainParams,
  ) {
    this.db = db;
    const p = (sql: string): Stmt => db.prepare(sql);
    this.stmt = {
      getMeta: p('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: p('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      addUtxoCount: p("UPDATE meta SET value = value + ? WHERE key = 'utxo_count'"),
      putIndex: p(
        'INSERT OR REPLACE INTO block_index (hash, prev, height, header, chain_work, status, tx_count, size, weight) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      setStatus: p('UPDATE block_index SET status = ? WHERE hash = ?'),
      loadIndex: p('SELECT hash, height, header, chain_work, status, tx_count, size, weight FROM block_index'),
      putBlock: p('INSERT OR REPLACE INTO blocks (hash, raw) VALUES (?, ?)'),
      getBlock: p('SELECT raw FROM blocks WHERE hash = ?').pluck(),
      putUndo: p('INSERT OR REPLACE INTO undo (hash, data) VALUES (?, ?)'),
      getUndo: p('SELECT data FROM undo WHERE hash = ?').pluck(),
      deleteUndo: p('DELETE FROM undo WHERE hash = ?'),
      getMain: p('SELECT hash FROM main_chain WHERE height = ?').pluck(),
      getTopMain: p('SELECT height FROM main_chain ORDER BY height DESC LIMIT 1').pluck(),
      putMain: p('INSERT OR REPLACE INTO main_chain (height, hash) VALUES (?, ?)'),
      deleteMain: p('DELETE FROM main_chain WHERE height = ?'),
      getCoin: p('SELECT value, script, height, coinbase FROM utxo WHERE outpoint = ?').raw().safeIntegers(),
      // @keys: serialized outpoints back to back; @slots: a JSON array with one element per key (json_each numbers
      // them 0, 1, ...); answers (n, coin) for each key n that holds a coin.
      getCoinsByKeys: p(
        'SELECT j.key, u.value, u.script, u.height, u.coinbase FROM json_each(@slots) j ' +
          'JOIN utxo u ON u.outpoint = substr(@keys, j.key * 36 + 1, 36)',
      )
        .raw()
        .safeIntegers(),
      // The same lookups answered as ONE row (see getCoins): the found keys' slot numbers, values and height * 2 +
      // coinbase as JSON arrays, script lengths as a JSON array and the scripts' bytes back to back in hex. Aggregates
      // of one query see its rows in the same order, so the n-th element of each list is the same coin's.
      getCoinsPacked: p(
        'SELECT json_group_array(j.key), json_group_array(u.value), json_group_array(u.height * 2 + (u.coinbase != 0)), ' +
          "json_group_array(length(u.script)), group_concat(hex(u.script), '') FROM json_each(@slots) j " +
          'JOIN utxo u ON u.outpoint = substr(@keys, j.key * 36 + 1, 36)',
      ).raw(),
      // @lo: txids back to back (32 bytes each); @hi: each txid followed by five 0xff bytes (37 bytes each). Every
      // outpoint key of txid t (t || u32 LE index, 36 bytes) sorts after t and before t || ff ff ff ff ff, and no other
      // key does; one primary-key seek per txid. Answers the slot numbers found, as a JSON array.
      findTxidsWithCoins: p(
        'SELECT json_group_array(j.key) FROM json_each(@slots) j WHERE EXISTS (SELECT 1 FROM utxo u ' +
          'WHERE u.outpoint > substr(@lo, j.key * 32 + 1, 32) AND u.outpoint < substr(@hi, j.key * 37 + 1, 37))',
      ).pluck(),
      insertCoin: p(
        'INSERT INTO utxo (outpoint, value, script, height, coinbase, script_key) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      // OR FAIL: a duplicate key stops the statement without undoing its earlier rows (the caller rolls the whole
      // transaction back), so SQLite keeps no statement journal for it (see writeCoinChanges).
      insertCoins: p(
        'INSERT OR FAIL INTO utxo (outpoint, value, script, height, coinbase, script_key) VALUES ' +
          Array<string>(COIN_BATCH).fill('(?, ?, ?, ?, ?, ?)').join(', '),
      ),
      deleteCoin: p('DELETE FROM utxo WHERE outpoint = ?'),
      deleteCoins: p(`DELETE FROM utxo WHERE outpoint IN (${Array<string>(COIN_BATCH).fill('?').join(', ')})`),
      iterateUtxo: p('SELECT outpoint, value, script, height, coinbase FROM utxo ORDER BY outpoint')
        .raw()
        .safeIntegers(),
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      checkpoint: p('PRAGMA wal_checkpoint(PASSIVE)'),
    };
    this.indexes = new SqliteChainIndex(db);
  }

  /** The read side of the Esplora indexes this store keeps in each block's transaction (for the API). */
  get chainIndex(): ChainIndexReader {
    return this.indexes;
  }

  /**
   * Opens the store at `path`, creating the parent folder (mkdir -p), the file and the schema when new, and recording
   * the network and genesis hash of `params` in it. Sets WAL journal mode, synchronous = NORMAL and temp_store = MEMORY.
   * With `readonly` the file must already hold a store; nothing is created. A store of schema version 1 is upgraded
   * to SCHEMA_VERSION first (progress lines go to `options.log`).
   * @throws StorageError wrong-network (the store belongs to another genesis) | schema-version (unknown version, or a
   *   version 1 store opened read-only) | not-initialized
   */
  static open(path: string, params: ChainParams, options: SqliteChainStoreOptions = {}): SqliteChainStore {
    const readonly = options.readonly ?? false;
    if (!readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly, fileMustExist: readonly });
    try {
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      }
      db.pragma('foreign_keys = OFF');
      db.pragma(`cache_size = -${CACHE_SIZE_KIB}`);
      SqliteChainStore.prepareSchema(db, params, readonly, path, options.log);
      // After prepareSchema, so a schema upgrade's whole-table statements still spill to temporary files.
      db.pragma(`temp_store = ${TEMP_STORE}`);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteChainStore(db, params);
  }

  /** A store in memory (':memory:'), for tests of the modules above the store. */
  static openMemory(params: ChainParams): SqliteChainStore {
    return SqliteChainStore.open(':memory:', params);
  }

  /** Creates the schema and meta rows when missing, upgrades a version 1 schema, then checks version and genesis. */
  private static prepareSchema(
    db: Database.Database,
    params: ChainParams,
    readonly: boolean,
    path: string,
    log: ((message: string) => void) | undefined,
  ): void {
    const hasMeta =
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get() !== undefined;
    if (!hasMeta) {
      if (readonly) throw new StorageError('not-initialized', `${path} holds no cairn chain store`);
      db.transaction(() => {
        db.exec(SCHEMA_SQL);
        // OR IGNORE: another process may have created the store between our check and our write lock.
        const put = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
        put.run('schema_version', SCHEMA_VERSION);
        put.run('network', params.name);
        put.run('genesis_hash', params.genesisHashHex);
        put.run('utxo_count', 0);
      }).immediate();
    }
    const get = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    const version = get.get('schema_version');
    if (version !== SCHEMA_VERSION && version !== 1 && version !== 2) {
      throw new StorageError(
        'schema-version',
        `${path} has schema version ${String(version)}, this cairn reads version ${SCHEMA_VERSION}`,
      );
    }
    const genesis = get.get('genesis_hash');
    if (genesis !== params.genesisHashHex) {
      throw new StorageError(
        'wrong-network',
        `${path} was created for network ${String(get.get('network'))} (genesis ${String(genesis)}), ` +
          `not ${params.name} (genesis ${params.genesisHashHex})`,
      );
    }
    if (version !== SCHEMA_VERSION) {
      if (readonly) {
        throw new StorageError(
          'schema-version',
          `${path} has schema version ${String(version)}: open it once read-write (start the node) to upgrade it to version ${SCHEMA_VERSION}`,
        );
      }
      SqliteChainStore.upgradeSchema(db, log);
    }
  }

  /**
   * Upgrades a schema version 1 or 2 store to SCHEMA_VERSION in one write transaction, step by step:
   * - 1 to 2: creates address_stats and fills it from the existing rows (buildAddressStats);
   * - 2 to 3: rewrites the UTXO table with script_key (from each row's script_hash) in place of script_hash, and
   *   tx_index without block_hash (O(UTXO set + txs)).
   * Then records SCHEMA_VERSION. A crash midway leaves the old version, upgraded again at the next open. Another
   * process that upgraded first makes this a no-op.
   */
  private static upgradeSchema(db: Database.Database, log: ((message: string) => void) | undefined): void {
    db.transaction(() => {
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get();
      if (version !== 1 && version !== 2) return;
      if (version === 1) {
        log?.('upgrading the chain store from schema version 1 to 2');
        db.exec(ADDRESS_STATS_SQL);
        buildAddressStats(db, log);
      }
      log?.(`upgrading the chain store from schema version 2 to 3: rewriting the UTXO set and the tx index`);
      db.function('cairn_script_key', { deterministic: true }, (hash: unknown) => scriptKeyOf(hash as Buffer));
      db.exec(`${utxoTableSql('utxo_v3')}
INSERT INTO utxo_v3 (outpoint, value, script, height, coinbase, script_key)
  SELECT outpoint, value, script, height, coinbase, cairn_script_key(script_hash) FROM utxo;
DROP TABLE utxo;
ALTER TABLE utxo_v3 RENAME TO utxo;
CREATE INDEX utxo_by_script ON utxo (script_key, height);
${txIndexTableSql('tx_index_v3')}
INSERT INTO tx_index_v3 (txid, height, position) SELECT txid, height, position FROM tx_index;
DROP TABLE tx_index;
ALTER TABLE tx_index_v3 RENAME TO tx_index;`);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(SCHEMA_VERSION);
      log?.(`chain store upgraded to schema version ${SCHEMA_VERSION}`);
    }).immediate();
  }

  // --- block index and block data -----------------------------------------------------------------------------

  /**
   * Inserts or replaces a block index entry (header as 80 bytes, chainWork as 32-byte big-endian).
   * @throws StorageError bad-argument (chainWork outside 0..2^256-1)
   */
  putBlockIndexEntry(entry: BlockIndexEntry): void {
    const e = entry;
    this.stmt.putIndex.run(
      e.hash,
      e.header.prevBlock,
      e.height,
      encodeBlockHeader(e.header),
      encodeChainWork(e.chainWork),
      e.status,
      e.txCount,
      e.sizeBytes,
      e.weight,
    );
  }

  /**
   * Updates the status bits of several entries in one transaction.
   * @throws StorageError not-found (an entry is not in the index; nothing is changed)
   */
  updateBlockStatus(changes: readonly { hash: BlockHash; status: number }[]): void {
    this.db
      .transaction(() => {
        for (const { hash, status } of changes) {
          if (this.stmt.setStatus.run(status, hash).changes !== 1) {
            throw new StorageError('not-found', `no block index entry ${hashToHex(hash)}`);
          }
        }
      })
      .immediate();
  }

  /**
   * Every block index entry, in no particular order.
   * @throws StorageError corrupt (a stored header does not decode)
   */
  loadBlockIndex(): BlockIndexEntry[] {
    const entries: BlockIndexEntry[] = [];
    for (const row of this.stmt.loadIndex.iterate() as IterableIterator<BlockIndexRow>) {
      const hash = blockHashFromRow(row.hash);
      let header;
      try {
        header = decodeBlockHeader(asBytes(row.header));
      } catch (err) {
        throw new StorageError('corrupt', `block index header of ${hashToHex(hash)} does not decode`, { cause: err });
      }
      entries.push({
        hash,
        hashHex: hashToHex(hash),
        header,
        height: row.height,
        chainWork: decodeChainWork(row.chain_work),
        status: row.status,
        txCount: row.tx_count,
        sizeBytes: row.size,
        weight: row.weight,
      });
    }
    return entries;
  }

  /** Stores the raw block (with witnesses) and its index entry in one transaction. */
  putBlock(entry: BlockIndexEntry, rawBlock: Uint8Array): void {
    this.db
      .transaction(() => {
        this.putBlockIndexEntry(entry);
        this.stmt.putBlock.run(entry.hash, rawBlock);
      })
      .immediate();
    this.rowsSinceCheckpoint += 1 + Math.ceil(rawBlock.length / PAGE_SIZE_BYTES);
  }

  /** Raw serialized block (with witnesses), or undefined when not stored. */
  readRawBlock(hash: BlockHash): Uint8Array | undefined {
    const raw = this.stmt.getBlock.get(hash) as Buffer | undefined;
    return raw === undefined ? undefined : asBytes(raw);
  }

  /**
   * The decoded block, or undefined when not stored.
   * @throws StorageError corrupt (the stored bytes do not decode)
   */
  readBlock(hash: BlockHash): Block | undefined {
    const raw = this.readRawBlock(hash);
    if (raw === undefined) return undefined;
    try {
      return decodeBlock(raw);
    } catch (err) {
      throw new StorageError('corrupt', `stored block ${hashToHex(hash)} does not decode`, { cause: err });
    }
  }

  /**
   * Undo data of a main-chain block (the coins its non-coinbase inputs spent, in block order), or undefined when the
   * block is not connected.
   * @throws StorageError corrupt (the stored undo data does not decode)
   */
  readUndo(hash: BlockHash): Coin[] | undefined {
    const data = this.stmt.getUndo.get(hash) as Buffer | undefined;
    if (data === undefined) return undefined;
    try {
      return decodeUndo(asBytes(data));
    } catch (err) {
      throw new StorageError('corrupt', `undo data of ${hashToHex(hash)} does not decode`, { cause: err });
    }
  }

  // --- chain state ----------------------------------------------------------------------------------------------

  /** Hash of the tip of the main chain, or undefined before initGenesis. */
  getTipHash(): BlockHash | undefined {
    const tip = this.stmt.getMeta.get('tip') as Buffer | undefined;
    return tip === undefined ? undefined : blockHashFromRow(tip);
  }

  /** Height of the tip of the main chain, or undefined before initGenesis. */
  getTipHeight(): number | undefined {
    return this.stmt.getTopMain.get() as number | undefined;
  }

  /** Hash of the main-chain block at `height`, or undefined above the tip. */
  getMainChainHash(height: number): BlockHash | undefined {
    const hash = this.stmt.getMain.get(height) as Buffer | undefined;
    return hash === undefined ? undefined : blockHashFromRow(hash);
  }

  /**
   * Records the genesis block (index entry, raw block, main chain height 0) as the tip of an empty store. Its coinbase
   * is not added to the UTXO set, as in Bitcoin.
   * @throws StorageError bad-update (the store already has a tip, or the entry's height is not 0) | wrong-network (not
   *   this network's genesis)
   */
  initGenesis(entry: BlockIndexEntry, rawBlock: Uint8Array): void {
    this.db
      .transaction(() => {
        if (this.getTipHash() !== undefined) throw new StorageError('bad-update', 'the store already has a tip');
        if (hashToHex(entry.hash) !== this.params.genesisHashHex) {
          throw new StorageError(
            'wrong-network',
            `${hashToHex(entry.hash)} is not the genesis of ${this.params.name} (${this.params.genesisHashHex})`,
          );
        }
        if (entry.height !== 0) throw new StorageError('bad-update', `genesis entry has height ${entry.height}`);
        this.putBlockIndexEntry(entry);
        this.stmt.putBlock.run(entry.hash, rawBlock);
        this.stmt.putMain.run(0, entry.hash);
        this.stmt.setMeta.run('tip', entry.hash);
      })
      .immediate();
  }

  /**
   * Applies a block connect in ONE transaction: removes `spent` and adds `created` coins, stores the undo data, adds
   * the block's tx_index, spends and address_history rows, appends it to main_chain, makes it the tip and writes its
   * index entry as given (the caller sets VALID_SCRIPTS). On any error nothing of it is applied.
   * Address history gets one row per (scriptPubKey, tx) for every script the tx pays to (OP_RETURN excluded) or spends
   * from (scripts taken from `undo`).
   * Precondition: the block's parent is the tip; `undo` has one coin per non-coinbase input, in block order.
   * PERF: scripts are hashed once per tx (shared by the coin and address rows) and outpoint keys are written into one
   * scratch buffer; what remains is SQLite's own b-tree work, about seven row writes per one-input tx.
   * @throws StorageError bad-update (parent is not the tip, hash/txids/undo do not match the block) | missing-coin |
   *   coin-exists | bad-undo
   * @see Bitcoin Core Chainstate::ConnectBlock, CCoinsViewDB::BatchWrite, WriteUndoDataForBlock
   */
  connectBlock(update: ConnectBlockUpdate): void {
    this.beginConnectBlock(update).commit();
  }

  /**
   * Writes a block connect as connectBlock does, in a transaction (BEGIN IMMEDIATE) left open until the handle's
   * commit() or rollback(). A write that fails rolls the transaction back and throws.
   * @throws StorageError bad-update (as connectBlock, or a transaction is already open) | missing-coin | coin-exists |
   *   bad-undo
   */
  beginConnectBlock(update: ConnectBlockUpdate): PendingBlockConnect {
    if (this.db.inTransaction) throw new StorageError('bad-update', 'a transaction is already open on the store');
    this.stmt.begin.run();
    try {
      this.writeConnect(update);
    } catch (err) {
      this.stmt.rollback.run();
      if (err instanceof CoinWriteFailure) throw this.coinChangeError(update.spent, update.created, err);
      throw err;
    }
    let open = true;
    return {
      commit: () => {
        if (!open) throw new StorageError('bad-update', 'the block connect was already committed or rolled back');
        open = false;
        try {
          this.stmt.commit.run();
        } catch (err) {
          if (this.db.inTransaction) this.stmt.rollback.run();
          throw err;
        }
      },
      rollback: () => {
        if (!open) return;
        open = false;
        this.stmt.rollback.run();
      },
    };
  }

  /** The writes of a block connect (inside the caller's transaction). */
  private writeConnect(update: ConnectBlockUpdate): void {
    const { entry, block, txids } = update;
    const tip = this.getTipHash();
    if (tip === undefined) throw new StorageError('bad-update', 'the store has no tip: call initGenesis first');
    if (!bytesEqual(entry.header.prevBlock, tip)) {
      throw new StorageError(
        'bad-update',
        `block ${entry.hashHex} builds on ${hashToHex(entry.header.prevBlock)}, the tip is ${hashToHex(tip)}`,
      );
    }
    const tipHeight = this.getTipHeight();
    if (entry.height !== (tipHeight ?? -1) + 1) {
      throw new StorageError(
        'bad-update',
        `block ${entry.hashHex} has height ${entry.height}, the tip has height ${String(tipHeight)}`,
      );
    }
    this.checkBlockMatches(entry, block, txids);
    const spendingInputs = countSpendingInputs(block);
    if (update.undo.length !== spendingInputs) {
      throw new StorageError(
        'bad-update',
        `undo has ${update.undo.length} coins, the block has ${spendingInputs} non-coinbase inputs`,
      );
    }

    const scriptHash = memoScriptHash();
    this.writeCoinChanges(update.spent, update.created, scriptHash);
    this.stmt.putUndo.run(entry.hash, encodeUndo(update.undo));
    const indexRows = this.indexes.indexConnect(update, scriptHash);

    const height = entry.height;
    this.stmt.putMain.run(height, entry.hash);
    this.stmt.setMeta.run('tip', entry.hash);
    this.stmt.addUtxoCount.run(update.created.length - update.spent.length);
    this.putBlockIndexEntry(entry);
    this.rowsSinceCheckpoint += update.spent.length + update.created.length + update.undo.length + indexRows + 5;
  }

  /**
   * Applies a block disconnect in ONE transaction: removes the `removed` coins, restores the `restored` ones, deletes
   * the block's tx_index, spends and address_history rows, its main_chain row and its undo row, makes its parent the
   * tip and writes the entry's status as given. On any error nothing of it is applied.
   * Precondition: the block is the tip (and not the genesis).
   * @throws StorageError bad-update (not the tip, genesis, hash/txids do not match) | missing-coin | coin-exists |
   *   corrupt (undo data missing or not matching the block)
   * @see Bitcoin Core Chainstate::DisconnectBlock
   */
  disconnectBlock(update: DisconnectBlockUpdate): void {
    try {
      this.writeDisconnect(update);
    } catch (err) {
      if (err instanceof CoinWriteFailure) throw this.coinChangeError(update.removed, update.restored, err);
      throw err;
    }
  }

  /** The writes of a block disconnect, in one transaction of their own (rolled back on any error). */
  private writeDisconnect(update: DisconnectBlockUpdate): void {
    this.db
      .transaction(() => {
        const { entry, block, txids } = update;
        const tip = this.getTipHash();
        if (tip === undefined || !bytesEqual(entry.hash, tip)) {
          throw new StorageError(
            'bad-update',
            `block ${entry.hashHex} is not the tip (${tip === undefined ? 'none' : hashToHex(tip)})`,
          );
        }
        if (entry.height === 0) throw new StorageError('bad-update', 'the genesis block cannot be disconnected');
        this.checkBlockMatches(entry, block, txids);
        const undo = this.readUndo(entry.hash);
        if (undo === undefined) throw new StorageError('corrupt', `no undo data for tip ${entry.hashHex}`);
        if (undo.length !== countSpendingInputs(block)) {
          throw new StorageError('corrupt', `undo data of ${entry.hashHex} does not match the block's inputs`);
        }

        const scriptHash = memoScriptHash();
        this.writeCoinChanges(update.removed, update.restored, scriptHash);
        const indexRows = this.indexes.indexDisconnect(update, undo, scriptHash);

        const height = entry.height;
        this.stmt.deleteMain.run(height);
        this.stmt.deleteUndo.run(entry.hash);
        this.stmt.setMeta.run('tip', entry.header.prevBlock);
        this.stmt.addUtxoCount.run(update.restored.length - update.removed.length);
        this.stmt.setStatus.run(entry.status, entry.hash);
        this.rowsSinceCheckpoint += update.removed.length + update.restored.length + undo.length + indexRows + 5;
      })
      .immediate();
  }

  /** Refuses an update whose block does not hash to the entry or whose txids list has the wrong length. */
  private checkBlockMatches(entry: BlockIndexEntry, block: Block, txids: readonly Txid[]): void {
    if (!bytesEqual(computeBlockHash(block.header), entry.hash)) {
      throw new StorageError('bad-update', `the block does not hash to its entry ${entry.hashHex}`);
    }
    if (txids.length !== block.txs.length) {
      throw new StorageError('bad-update', `${txids.length} txids for ${block.txs.length} txs`);
    }
  }

  /** The outpoint serialized into the shared scratch buffer (valid until the next call; SQLite copies it on bind). */
  private outpointKey(outpoint: Outpoint): Buffer {
    return writeOutpointKey(this.outpointScratch, outpoint);
  }

  /**
   * Deletes the `spent` coins (each must exist), then inserts the `created` ones (each outpoint must be free by then),
   * inside the caller's transaction, which the caller rolls back on any error. `scriptHash` hashes their scripts
   * (memoized per block).
   * @throws CoinWriteFailure (a spent coin missing or a created one present: the caller makes it the StorageError
   *   with coinChangeError after the rollback)
   * PERF: COIN_BATCH coins per statement (an IN list of keys, a multi-row VALUES), the rest row by row. What made the
   * multi-row writes tried before slower than one statement per row was not the rows but the statement journal: a
   * statement that may fail after writing some rows (INSERT's default OR ABORT) keeps the pages it changes in a
   * statement journal, spilled to a temporary file. INSERT OR FAIL keeps none; an IN-list DELETE cannot fail midway.
   * (An INSERT ... SELECT over json_each, tried before, also copies its rows into a temporary table first.)
   * Measured: the connect bench's 1,250-tx blocks (1,250 deletes, 1,875 inserts) cost 1.7 ms less CPU in the write
   * phase (12.6 -> 10.9 ms; median paired difference of 30 same-process rounds, quartiles -2.4 to -1.2); 16 and 64 rows
   * per statement measured the same. In a scratch copy of the utxo table: 5.2 ms row by row, 4.0 ms in batches of 32,
   * 9.2 ms in batches of 32 inserted OR ABORT.
   */
  private writeCoinChanges(spent: readonly Outpoint[], created: readonly UtxoRecord[], scriptHash: ScriptHashFn): void {
    const keys = this.batchKeys;
    let i = 0;
    for (; i + COIN_BATCH <= spent.length; i += COIN_BATCH) {
      for (let j = 0; j < COIN_BATCH; j++) writeOutpointKey(keys[j]!, spent[i + j]!);
      if (this.stmt.deleteCoins.run(keys).changes !== COIN_BATCH) throw new CoinWriteFailure();
    }
    for (; i < spent.length; i++) {
      if (this.stmt.deleteCoin.run(writeOutpointKey(keys[0]!, spent[i]!)).changes !== 1) throw new CoinWriteFailure();
    }
    const { batchValues, rowValues } = this;
    try {
      for (i = 0; i + COIN_BATCH <= created.length; i += COIN_BATCH) {
        for (let j = 0; j < COIN_BATCH; j++) bindCoin(batchValues, 6 * j, keys[j]!, created[i + j]!, scriptHash);
        this.stmt.insertCoins.run(batchValues);
      }
      for (; i < created.length; i++) {
        bindCoin(rowValues, 0, keys[0]!, created[i]!, scriptHash);
        this.stmt.insertCoin.run(rowValues);
      }
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new CoinWriteFailure({ cause: err });
      throw err;
    } finally {
      batchValues.fill(null);
      rowValues.fill(null);
    }
  }

  /**
   * The StorageError that deleting `spent` then inserting `created` one row at a time would have thrown first, read
   * from the store as it was before them (call it after the failed transaction was rolled back).
   * @returns StorageError missing-coin | coin-exists; corrupt when no such outpoint is found (the set changed meanwhile)
   */
  private coinChangeError(spent: readonly Outpoint[], created: readonly UtxoRecord[], failure: CoinWriteFailure): StorageError {
    const deleted = new Set<string>();
    const present = (key: string): boolean => this.stmt.getCoin.get(Buffer.from(key, 'latin1')) !== undefined;
    for (const outpoint of spent) {
      const key = this.outpointKey(outpoint).toString('latin1');
      if (deleted.has(key) || !present(key)) return new StorageError('missing-coin', `no coin at ${formatOutpoint(outpoint)}`);
      deleted.add(key);
    }
    const inserted = new Set<string>();
    for (const { outpoint } of created) {
      const key = this.outpointKey(outpoint).toString('latin1');
      if (inserted.has(key) || (!deleted.has(key) && present(key))) {
        return new StorageError('coin-exists', `a coin exists at ${formatOutpoint(outpoint)}`, { cause: failure.cause });
      }
      inserted.add(key);
    }
    return new StorageError('corrupt', 'a coin write failed, but the coins it changes read back consistent', { cause: failure });
  }

  // --- UTXO set -------------------------------------------------------------------------------------------------

  /** The unspent coin at the outpoint, or undefined. PERF: one primary-key lookup. */
  getCoin(outpoint: Outpoint): Coin | undefined {
    const row = this.stmt.getCoin.get(this.outpointKey(outpoint)) as CoinRow | undefined;
    return row === undefined ? undefined : coinFromRow(row[0], row[1], row[2], row[3]);
  }

  /**
   * The coins at several outpoints, aligned with the input (undefined where there is none), read by one statement so
   * they come from one state of the set.
   * PERF: one query walks the serialized outpoints (json_each numbering slices of one blob) and looks each up by
   * primary key: on the block connect bench about 5x cheaper per missing coin and 1.5x per coin found than one
   * statement per outpoint, whose cost is mostly the call from JavaScript. json_each instead of a recursive CTE (which
   * queues every row it generates): 3.1 against 3.5 ms CPU for 3,125 keys (1,250 found) in 40,000 coins. The found
   * coins come back packed in one row (getCoinsPacked: JSON arrays, the scripts in one hex string), not one row each:
   * a row costs a JavaScript array, four BigInts and a Buffer from better-sqlite3, and the 1,250 coins a bench block
   * spends took 4.1 ms that way against 1.8 ms packed. Values travel as JSON numbers, exact below 2^53 (every valid
   * amount: at most 21e14 sats); a value above it, only possible in a corrupt store, makes the call read the rows
   * one by one as BigInts (getCoinsByKeys) instead. The scripts of one call are views of one array of their own.
   */
  getCoins(outpoints: readonly Outpoint[]): (Coin | undefined)[] {
    const coins: (Coin | undefined)[] = new Array<Coin | undefined>(outpoints.length).fill(undefined);
    if (outpoints.length === 0) return coins;
    const params = { slots: jsonSlots(outpoints.length), keys: outpointKeys(outpoints) };
    const [slotsJson, valuesJson, heightsJson, lengthsJson, scriptsHex] = this.stmt.getCoinsPacked.get(params) as [
      string,
      string,
      string,
      string,
      string | null,
    ];
    const slots = JSON.parse(slotsJson) as number[];
    if (slots.length === 0) return coins;
    const values = JSON.parse(valuesJson) as number[];
    if (!values.every((v) => Number.isSafeInteger(v))) return this.getCoinsRowByRow(outpoints, params);
    const heights = JSON.parse(heightsJson) as number[];
    const lengths = JSON.parse(lengthsJson) as number[];
    // An array of their own: a small Buffer.from(hex) would be a view of Node's shared pool slab.
    const hex = scriptsHex ?? '';
    const scripts = new Uint8Array(hex.length / 2);
    Buffer.from(scripts.buffer).write(hex, 'hex');
    let at = 0;
    for (let i = 0; i < slots.length; i++) {
      const heightAndCoinbase = heights[i]!;
      const length = lengths[i]!;
      coins[slots[i]!] = {
        output: { value: BigInt(values[i]!), scriptPubKey: new Uint8Array(scripts.buffer, at, length) },
        height: Math.floor(heightAndCoinbase / 2),
        isCoinbase: heightAndCoinbase % 2 === 1,
      };
      at += length;
    }
    return coins;
  }

  /**
   * The indexes into `txids` of those with an unspent coin at some output index, ascending.
   * PERF: one primary-key range seek per txid (see findTxidsWithCoins' statement): for the BIP-30 lookups of a bench
   * block (1,251 txids, 1,876 spendable outputs, none found) 0.8 ms against 1.5 ms for getCoins of every output and
   * the keys it takes to ask for them.
   */
  findTxidsWithCoins(txids: readonly Txid[]): number[] {
    if (txids.length === 0) return [];
    const hi = Buffer.alloc(37 * txids.length, 0xff);
    txids.forEach((txid, i) => hi.set(txid, 37 * i));
    const found = this.stmt.findTxidsWithCoins.get({ slots: jsonSlots(txids.length), lo: hashesBlob(txids), hi }) as string;
    return (JSON.parse(found) as number[]).sort((a, b) => a - b);
  }

  /** getCoins with one row per coin found, its integers as BigInts: exact for any stored value. */
  private getCoinsRowByRow(outpoints: readonly Outpoint[], params: { slots: string; keys: Buffer }): (Coin | undefined)[] {
    const coins: (Coin | undefined)[] = new Array<Coin | undefined>(outpoints.length).fill(undefined);
    const rows = this.stmt.getCoinsByKeys.all(params) as [bigint, bigint, Buffer, bigint, bigint][];
    for (const [n, value, script, height, coinbase] of rows) coins[Number(n)] = coinFromRow(value, script, height, coinbase);
    return coins;
  }

  /** Number of coins in the UTXO set. PERF: a counter kept in meta by connect/disconnect, not a table scan. */
  getUtxoCount(): number {
    return this.stmt.getMeta.get('utxo_count') as number;
  }

  /**
   * The digest of the whole UTXO set at the tip, as documented on UtxoSetDigest: coins streamed in outpoint order
   * (36-byte serialized outpoint, compared as bytes) through sha256, then sha256 of that digest. For a store without
   * tip, height is -1 and bestBlock 32 zero bytes.
   * PERF: iterates the set in one read transaction without loading it into memory; O(set size).
   */
  computeUtxoDigest(): UtxoSetDigest {
    return this.db.transaction(() => {
      const tip = this.getTipHash();
      const height = this.getTipHeight() ?? -1;
      const hasher = createHash('sha256');
      const chunk = Buffer.allocUnsafe(DIGEST_CHUNK_SIZE);
      let used = 0;
      let txouts = 0;
      let totalAmount = 0n;
      for (const row of this.stmt.iterateUtxo.iterate() as IterableIterator<UtxoRow>) {
        const [outpoint, value, script, coinHeight, coinbase] = row;
        const size = 36 + 4 + 8 + 5 + script.length;
        if (used + size > DIGEST_CHUNK_SIZE) {
          hasher.update(chunk.subarray(0, used));
          used = 0;
        }
        // A record larger than the chunk (a script over ~64 KiB, possible only under `any` output rules) gets its own
        // buffer.
        const target = size > DIGEST_CHUNK_SIZE ? Buffer.allocUnsafe(size) : chunk;
        let at = target === chunk ? used : 0;
        at += outpoint.copy(target, at);
        at = target.writeUInt32LE(Number(coinHeight * 2n + (coinbase !== 0n ? 1n : 0n)), at);
        at = target.writeBigInt64LE(value, at);
        at = putCompactSize(target, at, script.length);
        at += script.copy(target, at);
        if (target === chunk) used = at;
        else hasher.update(target.subarray(0, at));
        txouts++;
        totalAmount += value;
      }
      hasher.update(chunk.subarray(0, used));
      const hash = createHash('sha256').update(hasher.digest()).digest();
      return {
        height,
        bestBlock: tip ?? NULL_BLOCK_HASH,
        txouts,
        totalAmount,
        hashSerialized: hashToHex(hash),
      };
    })();
  }

  /**
   * Copies the committed pages of the write-ahead log into the database file, without waiting for readers (a PASSIVE
   * checkpoint), once connects, disconnects and block data wrote CHECKPOINT_AFTER_ROWS rows since the last one;
   * otherwise, and for a read-only or in-memory store, nothing.
   * PERF: SQLite's own checkpoint would run inside a commit once the log reaches 1,000 pages (every two blocks of 1,250
   * txs on the bench), while the script workers sit idle; it is put off to WAL_AUTOCHECKPOINT_PAGES so the chain can
   * checkpoint while workers verify.
   */
  checkpoint(): void {
    if (this.rowsSinceCheckpoint < CHECKPOINT_AFTER_ROWS || this.db.readonly || this.db.memory) return;
    this.stmt.checkpoint.run();
    this.rowsSinceCheckpoint = 0;
  }

  /** Closes the database (idempotent); the WAL is checkpointed by SQLite on close. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

