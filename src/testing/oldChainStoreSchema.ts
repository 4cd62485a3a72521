/**
 * Older on-disk layouts of the SQLite chain store, for the tests of its schema upgrades: a store written by today's
 * code is rewritten into what an older cairn left on disk. Test code only.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/**
 * Rewrites the file of a closed chain store into the layout of schema version 2: the UTXO table with the 32-byte
 * `script_hash` (sha256 of the script) and its (script_hash, height) index, `tx_index` with `block_hash` (taken from
 * main_chain), and meta `schema_version` 2.
 */
export function rewriteAsSchemaV2(path: string): void {
  const db = new Database(path);
  try {
    db.function('sha256', (script: unknown) => createHash('sha256').update(script as Buffer).digest());
    db.exec(`
CREATE TABLE utxo_v2 (outpoint BLOB PRIMARY KEY NOT NULL, value INTEGER NOT NULL, script BLOB NOT NULL,
  height INTEGER NOT NULL, coinbase INTEGER NOT NULL, script_hash BLOB NOT NULL) WITHOUT ROWID;
INSERT INTO utxo_v2 SELECT outpoint, value, script, height, coinbase, sha256(script) FROM utxo;
DROP TABLE utxo;
ALTER TABLE utxo_v2 RENAME TO utxo;
CREATE INDEX utxo_by_script ON utxo (script_hash, height);
CREATE TABLE tx_index_v2 (txid BLOB PRIMARY KEY NOT NULL, block_hash BLOB NOT NULL, height INTEGER NOT NULL,
  position INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO tx_index_v2 SELECT t.txid, m.hash, t.height, t.position FROM tx_index t JOIN main_chain m ON m.height = t.height;
DROP TABLE tx_index;
ALTER TABLE tx_index_v2 RENAME TO tx_index;
UPDATE meta SET value = 2 WHERE key = 'schema_version';`);
  } finally {
    db.close();
  }
}

/** Rewrites the file of a closed chain store into the layout of schema version 1: version 2's without address_stats. */
export function rewriteAsSchemaV1(path: string): void {
  rewriteAsSchemaV2(path);
  const db = new Database(path);
  try {
    db.exec("DROP TABLE address_stats; UPDATE meta SET value = 1 WHERE key = 'schema_version'");
  } finally {
    db.close();
  }
}
