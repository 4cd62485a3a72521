import type Database from 'better-sqlite3';
import { isUnspendable } from '../consensus/scriptType.js';
import type { Coin } from '../consensus/utxoView.js';
import { sha256 } from '../crypto/hash.js';
import type { ChainIndexReader } from '../interfaces/chainIndexReader.js';
import type { AddressHistoryRecord, SpendRecord, TxLocation, UtxoRecord } from '../interfaces/chainTypes.js';
import { bytesEqual } from '../primitives/hex.js';
import { decodeOutpoint } from '../primitives/outpoint.js';
import { isCoinbase } from '../primitives/tx.js';
import type { Block, Outpoint, Txid } from '../primitives/types.js';
import type { ConnectBlockUpdate, DisconnectBlockUpdate } from './chainStore.js';
import {
  asBytes,
  blockHashFromRow,
  coinFromRow,
  hashesBlob,
  jsonSlots,
  outpointKeys,
  sqlLimit,
  txidFromRow,
  writeOutpointKey,
  type ScriptHashFn,
  type UtxoRow,
} from './sqliteRows.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** One address_history key of a block: a tx that paid to or spent from a script. */
interface AddressRow {
  readonly scriptHash: Uint8Array;
  readonly position: number;
  readonly txid: Txid;
}

/**
 * The node's Esplora indexes on SQLite, in the chain store's database: `tx_index` (txid → block, height, position),
 * `spends` (outpoint → spending input) and `address_history` (script hash → txs), plus address UTXO queries over the
 * UTXO table's script_hash index. The store calls indexConnect/indexDisconnect inside each block's write transaction
 * (after its own writes, before the commit), so the indexes always describe the store's tip; the API reads them
 * through ChainIndexReader. Main chain only: a disconnect removes the block's rows.
 * @see Blockstream electrs new_index/schema.rs (the Esplora backend); Bitcoin Core index/txindex.cpp
 */
export class SqliteChainIndex implements ChainIndexReader {
  private readonly stmt: Record<
    | 'putTxs'
    | 'getTx'
    | 'deleteTx'
    | 'putSpends'
    | 'getSpend'
    | 'deleteSpend'
    | 'putHistories'
    | 'getHistory'
    | 'getHistoryBefore'
    | 'deleteHistory'
    | 'getAddressUtxos',
    Stmt
  >;
  private readonly outpointScratch = Buffer.allocUnsafe(36);

  /** Prepares the index statements on the chain store's database (whose schema has the index tables). */
  constructor(db: Database.Database) {
    const p = (sql: string): Stmt => db.prepare(sql);
    this.stmt = {
      // The writes of a block take its rows in one statement each: row n's values are the n-th element of a JSON
      // array (json_each: key n, value) and the n-th slices of blobs bound beside it.
      putTxs: p(
        'INSERT OR REPLACE INTO tx_index (txid, block_hash, height, position) ' +
          'SELECT substr(@txids, key * 32 + 1, 32), @hash, @height, key FROM json_each(@slots)',
      ),
      getTx: p('SELECT block_hash, height, position FROM tx_index WHERE txid = ?').raw(),
      deleteTx: p('DELETE FROM tx_index WHERE txid = ? AND block_hash = ?'),
      putSpends: p(
        'INSERT OR REPLACE INTO spends (outpoint, spending_txid, input_index, height) ' +
          'SELECT substr(@keys, key * 36 + 1, 36), substr(@txids, key * 32 + 1, 32), value, @height FROM json_each(@inputs)',
      ),
      getSpend: p('SELECT spending_txid, input_index, height FROM spends WHERE outpoint = ?').raw(),
      deleteSpend: p('DELETE FROM spends WHERE outpoint = ? AND height = ?'),
      putHistories: p(
        'INSERT OR REPLACE INTO address_history (script_hash, height, position, txid) ' +
          'SELECT substr(@hashes, key * 32 + 1, 32), @height, value, substr(@txids, key * 32 + 1, 32) FROM json_each(@positions)',
      ),
      getHistory: p(
        'SELECT txid, height, position FROM address_history WHERE script_hash = ? ' +
          'ORDER BY height DESC, position DESC LIMIT ?',
      ).raw(),
      getHistoryBefore: p(
        'SELECT txid, height, position FROM address_history WHERE script_hash = ? AND (height, position) < (?, ?) ' +
          'ORDER BY height DESC, position DESC LIMIT ?',
      ).raw(),
      deleteHistory: p('DELETE FROM address_history WHERE script_hash = ? AND height = ? AND position = ?'),
      getAddressUtxos: p(
        'SELECT outpoint, value, script, height, coinbase FROM utxo WHERE script_hash = ? ' +
          'ORDER BY height, outpoint LIMIT ?',
      )
        .raw()
        .safeIntegers(),
    };
  }

  // --- writes, inside the store's transaction ---------------------------------------------------------------------

  /**
   * Writes the index rows of a block being connected: one tx_index row per tx, one spends row per non-coinbase input,
   * one address_history row per (tx, distinct script it pays to or spends from). Returns the rows written (the store
   * counts them towards its next WAL checkpoint).
   * PERF: one statement per table for the whole block (json_each) instead of one statement run per row, whose call
   * costs about a third of a row write's CPU: 1,250 tx_index rows 1.2 against 1.7 ms, 2,500 address_history rows 1.9
   * against 3.2 ms (in memory, the block connect bench's shapes).
   */
  indexConnect(update: ConnectBlockUpdate, scriptHash: ScriptHashFn): number {
    const { entry, block, txids } = update;
    const height = entry.height;
    this.stmt.putTxs.run({ txids: hashesBlob(txids), hash: entry.hash, height, slots: jsonSlots(txids.length) });
    const spent: Outpoint[] = [];
    const spendingTxids: Txid[] = [];
    const inputIndexes: number[] = [];
    block.txs.forEach((tx, position) => {
      if (isCoinbase(tx)) return;
      tx.inputs.forEach((input, inputIndex) => {
        spent.push(input.prevout);
        spendingTxids.push(txids[position]!);
        inputIndexes.push(inputIndex);
      });
    });
    if (spent.length > 0) {
      this.stmt.putSpends.run({ keys: outpointKeys(spent), txids: hashesBlob(spendingTxids), height, inputs: JSON.stringify(inputIndexes) });
    }
    const history = addressRows(block, txids, update.undo, scriptHash);
    if (history.length > 0) {
      this.stmt.putHistories.run({
        hashes: hashesBlob(history.map((row) => row.scriptHash)),
        txids: hashesBlob(history.map((row) => row.txid)),
        height,
        positions: JSON.stringify(history.map((row) => row.position)),
      });
    }
    return txids.length + spent.length + history.length;
  }

  /** Deletes the index rows of a block being disconnected (`undo` = its undo data). Returns the rows deleted. */
  indexDisconnect(update: DisconnectBlockUpdate, undo: readonly Coin[], scriptHash: ScriptHashFn): number {
    const { entry, block, txids } = update;
    const height = entry.height;
    let rows = 0;
    block.txs.forEach((tx, position) => {
      this.stmt.deleteTx.run(txids[position]!, entry.hash);
      rows++;
      if (isCoinbase(tx)) return;
      for (const input of tx.inputs) {
        this.stmt.deleteSpend.run(this.outpointKey(input.prevout), height);
        rows++;
      }
    });
    for (const row of addressRows(block, txids, undo, scriptHash)) {
      this.stmt.deleteHistory.run(row.scriptHash, height, row.position);
      rows++;
    }
    return rows;
  }

  // --- reads ------------------------------------------------------------------------------------------------------

  /** Where a main-chain tx is (block, height, position), or undefined. */
  getTxLocation(txid: Txid): TxLocation | undefined {
    const row = this.stmt.getTx.get(txid) as [Buffer, number, number] | undefined;
    if (row === undefined) return undefined;
    return { txid, blockHash: blockHashFromRow(row[0]), height: row[1], position: row[2] };
  }

  /** The main-chain input that spent the outpoint, or undefined. */
  getSpend(outpoint: Outpoint): SpendRecord | undefined {
    const row = this.stmt.getSpend.get(this.outpointKey(outpoint)) as [Buffer, number, number] | undefined;
    if (row === undefined) return undefined;
    return { outpoint, spendingTxid: txidFromRow(row[0]), inputIndex: row[1], height: row[2] };
  }

  /**
   * Main-chain history of a scriptPubKey, newest first (height, then position in the block, descending). With
   * `before`, only txs strictly older than that (height, position); with `limit`, at most that many rows.
   * PERF: one range scan of the (script_hash, height, position) primary key: pages cost the same deep in a long history.
   * @throws StorageError bad-argument (limit not a non-negative integer)
   */
  getAddressHistory(
    scriptPubKey: Uint8Array,
    options: { readonly limit?: number; readonly before?: { readonly height: number; readonly position: number } } = {},
  ): AddressHistoryRecord[] {
    const limit = sqlLimit(options.limit);
    const scriptHash = sha256(scriptPubKey);
    const rows = (
      options.before === undefined
        ? this.stmt.getHistory.all(scriptHash, limit)
        : this.stmt.getHistoryBefore.all(scriptHash, options.before.height, options.before.position, limit)
    ) as [Buffer, number, number][];
    return rows.map(([txid, height, position]) => ({ txid: txidFromRow(txid), height, position }));
  }

  /**
   * Unspent coins paying to a scriptPubKey, oldest first (by height, then outpoint bytes), at most `limit`.
   * @throws StorageError bad-argument (limit not a non-negative integer)
   */
  getAddressUtxos(scriptPubKey: Uint8Array, limit?: number): UtxoRecord[] {
    const rows = this.stmt.getAddressUtxos.all(sha256(scriptPubKey), sqlLimit(limit)) as UtxoRow[];
    return rows.map(([outpoint, value, script, height, coinbase]) => ({
      outpoint: decodeOutpoint(asBytes(outpoint)),
      coin: coinFromRow(value, script, height, coinbase),
    }));
  }

  private outpointKey(outpoint: Outpoint): Buffer {
    return writeOutpointKey(this.outpointScratch, outpoint);
  }
}

/**
 * The address_history keys of a block: per tx, one row per distinct scriptPubKey it pays to (OP_RETURN and other
 * unspendable outputs excluded) or spends from (the undo coins, consumed in block order).
 * PERF: each script is hashed once per block (scriptHash memoizes, shared with the UTXO rows); distinct scripts are
 * found by comparing bytes, not via hex keys.
 */
function addressRows(block: Block, txids: readonly Txid[], undo: readonly Coin[], scriptHash: ScriptHashFn): AddressRow[] {
  const rows: AddressRow[] = [];
  let undoIndex = 0;
  const scripts: Uint8Array[] = [];
  block.txs.forEach((tx, position) => {
    scripts.length = 0;
    let byKey: Set<string> | undefined;
    const txid = txids[position]!;
    const add = (script: Uint8Array): void => {
      // Most txs touch a handful of scripts: compare bytes; past 16 a Set of keys keeps it linear.
      if (byKey === undefined && scripts.length >= 16) {
        byKey = new Set(scripts.map((s) => Buffer.from(s.buffer, s.byteOffset, s.length).toString('latin1')));
      }
      if (byKey !== undefined) {
        const key = Buffer.from(script.buffer, script.byteOffset, script.length).toString('latin1');
        if (byKey.has(key)) return;
        byKey.add(key);
      } else {
        for (const s of scripts) if (bytesEqual(s, script)) return;
      }
      scripts.push(script);
      rows.push({ scriptHash: scriptHash(script), position, txid });
    };
    if (!isCoinbase(tx)) {
      for (let i = 0; i < tx.inputs.length; i++) add(undo[undoIndex++]!.output.scriptPubKey);
    }
    for (const output of tx.outputs) if (!isUnspendable(output.scriptPubKey)) add(output.scriptPubKey);
  });
  return rows;
}
