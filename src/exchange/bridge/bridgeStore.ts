/**
 * The chain bridge's durable state, one SQLite file in the exchange's data dir (`bridge.sqlite`, WAL,
 * synchronous=FULL): which deposit address index each account owns, the blocks the watcher has walked (its cursor and
 * the way back to a fork point), the exchange's outputs on chain (deposits and change) with their credit state,
 * withdrawal requests, and the signed batch transactions that pay them. Every change that must not be half done (a
 * block connected, a batch signed with its withdrawals) is one SQLite transaction, so a SIGKILL leaves either the
 * state before or the state after. Txids and block hashes are display (reversed) hex, as Esplora writes them;
 * amounts are bigint sats stored as decimal text.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** File name of the bridge store inside the exchange data dir. */
export const BRIDGE_STORE_FILE = 'bridge.sqlite';

/** A block the watcher connected: height and display hash. */
export interface WalkedBlock {
  readonly height: number;
  readonly hash: string;
}

/** One output paying an exchange address: a user's deposit (userId set) or the hot wallet's change (userId null). */
export interface OutputRow {
  readonly txid: string;
  readonly vout: number;
  readonly valueSats: bigint;
  /** Owner of the deposit address; null for change. */
  readonly userId: number | null;
  /** Derivation chain (0 receive, 1 change) and index of the address. */
  readonly chain: 0 | 1;
  readonly index: number;
  readonly isCoinbase: boolean;
  /** Height and hash of the block that holds it; null while not in the best chain. */
  readonly height: number | null;
  readonly blockHash: string | null;
  /** The tx that spends it, when the watcher saw one in a block or the bridge signed one. */
  readonly spentBy: string | null;
  /** Whether the engine has it credited (deposits only). */
  readonly credited: boolean;
  /** Whether it was ever in a block (to tell "seen" from "dropped" once it left the chain). */
  readonly everConfirmed: boolean;
}

/** A withdrawal's place in its life: requested → signed → broadcast → confirmed → completed, or failed. */
export type WithdrawalStatus = 'requested' | 'signed' | 'broadcast' | 'confirmed' | 'completed' | 'failed';

/** A withdrawal request as stored. */
export interface WithdrawalRow {
  /** The engine's withdrawalId: `w-<userId>-<clientId>`. */
  readonly id: string;
  readonly userId: number;
  readonly clientId: string;
  readonly address: string;
  /** Paid to the address, sats. */
  readonly amountSats: bigint;
  /** The published withdrawal fee charged on top, sats. */
  readonly feeSats: bigint;
  /** false until the engine has locked amount + fee (LOCK_WITHDRAWAL applied). */
  readonly locked: boolean;
  /** The batch tx that pays it, once signed. */
  readonly batchTxid: string | null;
  /** 'failed' or 'completed' once finished; otherwise null (the batch's state tells the rest). */
  readonly finished: 'completed' | 'failed' | null;
  readonly reason: string | null;
  readonly createdMs: number;
}

/** A signed batch transaction. */
export interface BatchRow {
  readonly txid: string;
  readonly rawHex: string;
  /** Network fee paid, sats. */
  readonly networkFeeSats: bigint;
  readonly broadcast: boolean;
  /** Height of the block that holds it; null while unconfirmed. */
  readonly height: number | null;
  readonly createdMs: number;
  /** The batch this one replaced by RBF, and the one that replaced it. */
  readonly replaces: string | null;
  readonly replacedBy: string | null;
}

interface OutputDb {
  txid: string;
  vout: number;
  value: string;
  user_id: number | null;
  chain: number;
  idx: number;
  is_coinbase: number;
  height: number | null;
  block_hash: string | null;
  spent_by: string | null;
  credited: number;
  ever_confirmed: number;
}

interface WithdrawalDb {
  id: string;
  user_id: number;
  client_id: string;
  address: string;
  amount: string;
  fee: string;
  locked: number;
  batch_txid: string | null;
  finished: 'completed' | 'failed' | null;
  reason: string | null;
  created_ms: number;
}

interface BatchDb {
  txid: string;
  raw_hex: string;
  network_fee: string;
  broadcast: number;
  height: number | null;
  created_ms: number;
  replaces: string | null;
  replaced_by: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deposit_addresses (user_id INTEGER PRIMARY KEY, idx INTEGER NOT NULL UNIQUE, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS change_addresses (idx INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS cold_addresses (idx INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE, batch_txid TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outputs (
  txid TEXT NOT NULL, vout INTEGER NOT NULL, value TEXT NOT NULL, user_id INTEGER, chain INTEGER NOT NULL, idx INTEGER NOT NULL,
  is_coinbase INTEGER NOT NULL, height INTEGER, block_hash TEXT, spent_by TEXT, spent_height INTEGER,
  credited INTEGER NOT NULL DEFAULT 0, ever_confirmed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (txid, vout));
CREATE INDEX IF NOT EXISTS outputs_height ON outputs (height);
CREATE INDEX IF NOT EXISTS outputs_spent ON outputs (spent_by);
CREATE TABLE IF NOT EXISTS withdrawals (
  id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, client_id TEXT NOT NULL, address TEXT NOT NULL, amount TEXT NOT NULL,
  fee TEXT NOT NULL, locked INTEGER NOT NULL DEFAULT 0, batch_txid TEXT, finished TEXT, reason TEXT, created_ms INTEGER NOT NULL,
  UNIQUE (user_id, client_id));
CREATE INDEX IF NOT EXISTS withdrawals_open ON withdrawals (finished, batch_txid);
CREATE TABLE IF NOT EXISTS batches (
  txid TEXT PRIMARY KEY, raw_hex TEXT NOT NULL, network_fee TEXT NOT NULL, broadcast INTEGER NOT NULL DEFAULT 0,
  height INTEGER, created_ms INTEGER NOT NULL, replaces TEXT, replaced_by TEXT);
`;

function outputOf(r: OutputDb): OutputRow {
  return {
    txid: r.txid,
    vout: r.vout,
    valueSats: BigInt(r.value),
    userId: r.user_id,
    chain: r.chain === 1 ? 1 : 0,
    index: r.idx,
    isCoinbase: r.is_coinbase === 1,
    height: r.height,
    blockHash: r.block_hash,
    spentBy: r.spent_by,
    credited: r.credited === 1,
    everConfirmed: r.ever_confirmed === 1,
  };
}

function withdrawalOf(r: WithdrawalDb): WithdrawalRow {
  return {
    id: r.id,
    userId: r.user_id,
    clientId: r.client_id,
    address: r.address,
    amountSats: BigInt(r.amount),
    feeSats: BigInt(r.fee),
    locked: r.locked === 1,
    batchTxid: r.batch_txid,
    finished: r.finished,
    reason: r.reason,
    createdMs: r.created_ms,
  };
}

function batchOf(r: BatchDb): BatchRow {
  return {
    txid: r.txid,
    rawHex: r.raw_hex,
    networkFeeSats: BigInt(r.network_fee),
    broadcast: r.broadcast === 1,
    height: r.height,
    createdMs: r.created_ms,
    replaces: r.replaces,
    replacedBy: r.replaced_by,
  };
}

/** What one connected block brought: new outputs to exchange addresses and spends of exchange outputs. */
export interface BlockChanges {
  readonly block: WalkedBlock;
  readonly outputs: ReadonlyArray<Omit<OutputRow, 'height' | 'blockHash' | 'spentBy' | 'credited' | 'everConfirmed'>>;
  /** (txid, vout) spent, by which tx. */
  readonly spends: ReadonlyArray<{ txid: string; vout: number; spentBy: string }>;
  /** Txids in the block (to confirm batches). */
  readonly txids: readonly string[];
}

/** The bridge's SQLite store. Synchronous (better-sqlite3); one writer, the bridge's process. */
export class BridgeStore {
  private constructor(private readonly db: Database.Database) {}

  /**
   * Opens (creating if missing) the store. `readOnly` opens an existing one without writing (the audit CLI).
   * @throws Error from better-sqlite3 when the file cannot be opened
   */
  static open(path: string, options: { readOnly?: boolean } = {}): BridgeStore {
    if (options.readOnly !== true) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, options.readOnly === true ? { readonly: true, fileMustExist: true } : {});
    if (options.readOnly !== true) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
    }
    return new BridgeStore(db);
  }

  /** A value of the meta table, or undefined. */
  getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  /** Sets a value of the meta table. */
  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ---- addresses ---------------------------------------------------------------------------------------------------

  /** The deposit address index of a user, or undefined. */
  getDepositIndex(userId: number): { index: number; address: string } | undefined {
    const r = this.db.prepare('SELECT idx, address FROM deposit_addresses WHERE user_id = ?').get(userId) as { idx: number; address: string } | undefined;
    return r === undefined ? undefined : { index: r.idx, address: r.address };
  }

  /**
   * Gives the user the next unused receive index (max + 1, so an index is never given twice), with `deriveAddress`
   * computing its address, in one transaction; an existing assignment is returned unchanged.
   */
  assignDepositIndex(userId: number, deriveAddress: (index: number) => string): { index: number; address: string } {
    return this.db.transaction(() => {
      const have = this.getDepositIndex(userId);
      if (have !== undefined) return have;
      const next = ((this.db.prepare('SELECT MAX(idx) AS m FROM deposit_addresses').get() as { m: number | null }).m ?? -1) + 1;
      const address = deriveAddress(next);
      this.db.prepare('INSERT INTO deposit_addresses (user_id, idx, address) VALUES (?, ?, ?)').run(userId, next, address);
      return { index: next, address };
    }).immediate();
  }

  /** Every deposit address: user, index, address. */
  listDepositAddresses(): Array<{ userId: number; index: number; address: string }> {
    return (this.db.prepare('SELECT user_id, idx, address FROM deposit_addresses ORDER BY idx').all() as Array<{ user_id: number; idx: number; address: string }>).map((r) => ({
      userId: r.user_id,
      index: r.idx,
      address: r.address,
    }));
  }

  /** Takes the next change index (never reused) and records its address. */
  nextChangeIndex(deriveAddress: (index: number) => string): { index: number; address: string } {
    return this.db.transaction(() => {
      const next = ((this.db.prepare('SELECT MAX(idx) AS m FROM change_addresses').get() as { m: number | null }).m ?? -1) + 1;
      const address = deriveAddress(next);
      this.db.prepare('INSERT INTO change_addresses (idx, address) VALUES (?, ?)').run(next, address);
      return { index: next, address };
    }).immediate();
  }

  /** Every change address. */
  listChangeAddresses(): Array<{ index: number; address: string }> {
    return (this.db.prepare('SELECT idx, address FROM change_addresses ORDER BY idx').all() as Array<{ idx: number; address: string }>).map((r) => ({ index: r.idx, address: r.address }));
  }

  /** The cold wallet's next unused receive index (one per sweep). */
  nextColdIndex(): number {
    return ((this.db.prepare('SELECT MAX(idx) AS m FROM cold_addresses').get() as { m: number | null }).m ?? -1) + 1;
  }

  /** Every cold address a batch swept to. */
  listColdAddresses(): Array<{ index: number; address: string }> {
    return (this.db.prepare('SELECT idx, address FROM cold_addresses ORDER BY idx').all() as Array<{ idx: number; address: string }>).map((r) => ({ index: r.idx, address: r.address }));
  }

  // ---- the walked chain ----------------------------------------------------------------------------------------------

  /** The last walked block (the cursor), or undefined before the first. */
  getCursor(): WalkedBlock | undefined {
    return this.db.prepare('SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1').get() as WalkedBlock | undefined;
  }

  /** The walked block at a height, or undefined. */
  getBlockAt(height: number): WalkedBlock | undefined {
    return this.db.prepare('SELECT height, hash FROM blocks WHERE height = ?').get(height) as WalkedBlock | undefined;
  }

  /**
   * Disconnects every walked block above `forkHeight`, in one transaction: their outputs leave the chain (height
   * null), spends seen in them are forgotten unless the spender is one of our batches, batches in them are unconfirmed.
   * Returns the number of blocks disconnected.
   */
  disconnectAbove(forkHeight: number): number {
    return this.db.transaction(() => {
      const n = this.db.prepare('DELETE FROM blocks WHERE height > ?').run(forkHeight).changes;
      this.db.prepare('UPDATE outputs SET height = NULL, block_hash = NULL WHERE height > ?').run(forkHeight);
      this.db.prepare('UPDATE outputs SET spent_by = NULL, spent_height = NULL WHERE spent_height > ? AND spent_by NOT IN (SELECT txid FROM batches)').run(forkHeight);
      this.db.prepare('UPDATE outputs SET spent_height = NULL WHERE spent_height > ?').run(forkHeight);
      this.db.prepare('UPDATE batches SET height = NULL WHERE height > ?').run(forkHeight);
      return n;
    }).immediate();
  }

  /** Connects one block's changes (the cursor moves to it), in one transaction. */
  connectBlock(c: BlockChanges): void {
    this.connectBlocks([c]);
  }

  /**
   * Connects consecutive blocks' changes in one transaction (one fsync for a catch-up of many blocks; a crash keeps
   * all or none of them).
   */
  connectBlocks(list: readonly BlockChanges[]): void {
    this.db.transaction(() => {
      for (const c of list) this.applyBlock(c);
    }).immediate();
  }

  /** One block's changes; inside connectBlocks' transaction. */
  private applyBlock(c: BlockChanges): void {
    this.db.prepare('INSERT INTO blocks (height, hash) VALUES (?, ?)').run(c.block.height, c.block.hash);
    const upsert = this.db.prepare(
      `INSERT INTO outputs (txid, vout, value, user_id, chain, idx, is_coinbase, height, block_hash, ever_confirmed)
       VALUES (@txid, @vout, @value, @userId, @chain, @idx, @isCoinbase, @height, @hash, 1)
       ON CONFLICT (txid, vout) DO UPDATE SET height = excluded.height, block_hash = excluded.block_hash, ever_confirmed = 1`,
    );
    for (const o of c.outputs) {
      upsert.run({
        txid: o.txid,
        vout: o.vout,
        value: o.valueSats.toString(),
        userId: o.userId,
        chain: o.chain,
        idx: o.index,
        isCoinbase: o.isCoinbase ? 1 : 0,
        height: c.block.height,
        hash: c.block.hash,
      });
    }
    const spend = this.db.prepare('UPDATE outputs SET spent_by = ?, spent_height = ? WHERE txid = ? AND vout = ?');
    for (const s of c.spends) spend.run(s.spentBy, c.block.height, s.txid, s.vout);
    const confirm = this.db.prepare('UPDATE batches SET height = ? WHERE txid = ?');
    for (const t of c.txids) if (confirm.run(c.block.height, t).changes === 1) this.settleReplacements(t);
  }

  // ---- outputs -----------------------------------------------------------------------------------------------------

  /** Every deposit output (userId set), oldest first. */
  listDeposits(userId?: number): OutputRow[] {
    const rows = (
      userId === undefined
        ? this.db.prepare('SELECT * FROM outputs WHERE user_id IS NOT NULL ORDER BY rowid').all()
        : this.db.prepare('SELECT * FROM outputs WHERE user_id = ? ORDER BY rowid').all(userId)
    ) as OutputDb[];
    return rows.map(outputOf);
  }

  /** Records a deposit output seen in the mempool (no block yet); a known output is left unchanged. */
  insertSeenDeposit(o: { txid: string; vout: number; valueSats: bigint; userId: number; index: number }): void {
    this.db
      .prepare('INSERT INTO outputs (txid, vout, value, user_id, chain, idx, is_coinbase) VALUES (?, ?, ?, ?, 0, ?, 0) ON CONFLICT (txid, vout) DO NOTHING')
      .run(o.txid, o.vout, o.valueSats.toString(), o.userId, o.index);
  }

  /**
   * Forgets deposits that were only ever seen in the mempool and are no longer there (replaced, evicted, or mined
   * into a block the watcher has not walked yet: it records them again then). Returns how many.
   */
  forgetVanishedSeen(mempool: ReadonlySet<string>): number {
    const rows = this.db.prepare('SELECT txid, vout FROM outputs WHERE height IS NULL AND ever_confirmed = 0 AND credited = 0 AND user_id IS NOT NULL').all() as Array<{ txid: string; vout: number }>;
    const del = this.db.prepare('DELETE FROM outputs WHERE txid = ? AND vout = ? AND height IS NULL AND ever_confirmed = 0');
    let n = 0;
    for (const r of rows) if (!mempool.has(r.txid)) n += del.run(r.txid, r.vout).changes;
    return n;
  }

  /** Deposits whose credit may change: confirmed but not credited, or credited but out of the chain. */
  listDepositsToSettle(): OutputRow[] {
    return (
      this.db.prepare('SELECT * FROM outputs WHERE user_id IS NOT NULL AND ((credited = 0 AND height IS NOT NULL) OR (credited = 1 AND height IS NULL)) ORDER BY rowid').all() as OutputDb[]
    ).map(outputOf);
  }

  /** Marks a deposit credited or not (after the engine applied CREDIT_DEPOSIT or REVERSE_DEPOSIT). */
  setCredited(txid: string, vout: number, credited: boolean): void {
    this.db.prepare('UPDATE outputs SET credited = ? WHERE txid = ? AND vout = ?').run(credited ? 1 : 0, txid, vout);
  }

  /** Confirmed, unspent outputs (deposits and change), oldest first: the coins a batch may spend. */
  listSpendableOutputs(): OutputRow[] {
    return (this.db.prepare('SELECT * FROM outputs WHERE height IS NOT NULL AND spent_by IS NULL ORDER BY height, rowid').all() as OutputDb[]).map(outputOf);
  }

  // ---- withdrawals and batches ---------------------------------------------------------------------------------------

  /** Records a new withdrawal request (not yet locked); a repeat of (userId, clientId) returns the stored row. */
  insertWithdrawal(w: Omit<WithdrawalRow, 'locked' | 'batchTxid' | 'finished' | 'reason'>): { row: WithdrawalRow; created: boolean } {
    return this.db.transaction(() => {
      const have = this.db.prepare('SELECT * FROM withdrawals WHERE user_id = ? AND client_id = ?').get(w.userId, w.clientId) as WithdrawalDb | undefined;
      if (have !== undefined) return { row: withdrawalOf(have), created: false };
      this.db
        .prepare('INSERT INTO withdrawals (id, user_id, client_id, address, amount, fee, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(w.id, w.userId, w.clientId, w.address, w.amountSats.toString(), w.feeSats.toString(), w.createdMs);
      return { row: { ...w, locked: false, batchTxid: null, finished: null, reason: null }, created: true };
    }).immediate();
  }

  /** One withdrawal by id. */
  getWithdrawal(id: string): WithdrawalRow | undefined {
    const r = this.db.prepare('SELECT * FROM withdrawals WHERE id = ?').get(id) as WithdrawalDb | undefined;
    return r === undefined ? undefined : withdrawalOf(r);
  }

  /** Withdrawals, oldest first (one user's, or all). */
  listWithdrawals(userId?: number): WithdrawalRow[] {
    const rows = (userId === undefined ? this.db.prepare('SELECT * FROM withdrawals ORDER BY rowid').all() : this.db.prepare('SELECT * FROM withdrawals WHERE user_id = ? ORDER BY rowid').all(userId)) as WithdrawalDb[];
    return rows.map(withdrawalOf);
  }

  /** Withdrawals not finished yet, oldest first. */
  listOpenWithdrawals(): WithdrawalRow[] {
    return (this.db.prepare('SELECT * FROM withdrawals WHERE finished IS NULL ORDER BY rowid').all() as WithdrawalDb[]).map(withdrawalOf);
  }

  /** Marks the engine's lock applied. */
  setWithdrawalLocked(id: string): void {
    this.db.prepare('UPDATE withdrawals SET locked = 1 WHERE id = ?').run(id);
  }

  /** Finishes a withdrawal (completed or failed, with a reason for a failure). */
  finishWithdrawal(id: string, finished: 'completed' | 'failed', reason: string | null): void {
    this.db.prepare('UPDATE withdrawals SET finished = ?, reason = ? WHERE id = ?').run(finished, reason, id);
  }

  /**
   * Stores a signed batch before anything is broadcast, in one transaction: the batch, its withdrawals pointing at
   * it, and its inputs marked spent by it (so no other batch spends them).
   */
  insertBatch(
    batch: Omit<BatchRow, 'broadcast' | 'height' | 'replaces' | 'replacedBy'>,
    withdrawalIds: readonly string[],
    inputs: ReadonlyArray<{ txid: string; vout: number }>,
    cold?: { index: number; address: string },
  ): void {
    this.db.transaction(() => {
      if (cold !== undefined) this.db.prepare('INSERT INTO cold_addresses (idx, address, batch_txid) VALUES (?, ?, ?)').run(cold.index, cold.address, batch.txid);
      this.db.prepare('INSERT INTO batches (txid, raw_hex, network_fee, created_ms) VALUES (?, ?, ?, ?)').run(batch.txid, batch.rawHex, batch.networkFeeSats.toString(), batch.createdMs);
      const w = this.db.prepare('UPDATE withdrawals SET batch_txid = ? WHERE id = ? AND batch_txid IS NULL');
      for (const id of withdrawalIds) if (w.run(batch.txid, id).changes !== 1) throw new Error(`withdrawal ${id} is already in a batch`);
      const s = this.db.prepare('UPDATE outputs SET spent_by = ? WHERE txid = ? AND vout = ? AND spent_by IS NULL');
      for (const i of inputs) if (s.run(batch.txid, i.txid, i.vout).changes !== 1) throw new Error(`output ${i.txid}:${i.vout} is already spent`);
    }).immediate();
  }

  /**
   * A batch confirmed: when it is one that a later bump replaced (the original won the race), its withdrawals follow
   * it again, and the coins only its replacements spent are free again. Inside connectBlock's transaction.
   */
  private settleReplacements(txid: string): void {
    const family: string[] = [];
    for (let next = this.getBatch(txid)?.replacedBy ?? null; next !== null; next = this.getBatch(next)?.replacedBy ?? null) family.push(next);
    for (let prev = this.getBatch(txid)?.replaces ?? null; prev !== null; prev = this.getBatch(prev)?.replaces ?? null) family.push(prev);
    if (family.length === 0) return;
    const marks = family.map(() => '?').join(',');
    this.db.prepare(`UPDATE withdrawals SET batch_txid = ? WHERE batch_txid IN (${marks})`).run(txid, ...family);
    this.db.prepare(`UPDATE outputs SET spent_by = NULL WHERE spent_by IN (${marks}) AND spent_height IS NULL`).run(...family);
  }

  /** One output of the exchange by outpoint. */
  getOutput(txid: string, vout: number): OutputRow | undefined {
    const r = this.db.prepare('SELECT * FROM outputs WHERE txid = ? AND vout = ?').get(txid, vout) as OutputDb | undefined;
    return r === undefined ? undefined : outputOf(r);
  }

  /**
   * Stores an RBF replacement of a batch before it is broadcast, in one transaction: the new batch (replaces = old),
   * the old one marked replaced, the withdrawals moved to the new one, and every input of the new one marked spent by it.
   */
  replaceBatch(oldTxid: string, batch: Omit<BatchRow, 'broadcast' | 'height' | 'replaces' | 'replacedBy'>, inputs: ReadonlyArray<{ txid: string; vout: number }>): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO batches (txid, raw_hex, network_fee, created_ms, replaces) VALUES (?, ?, ?, ?, ?)')
        .run(batch.txid, batch.rawHex, batch.networkFeeSats.toString(), batch.createdMs, oldTxid);
      if (this.db.prepare('UPDATE batches SET replaced_by = ? WHERE txid = ? AND replaced_by IS NULL AND height IS NULL').run(batch.txid, oldTxid).changes !== 1) {
        throw new Error(`batch ${oldTxid} is confirmed or already replaced`);
      }
      this.db.prepare('UPDATE withdrawals SET batch_txid = ? WHERE batch_txid = ? AND finished IS NULL').run(batch.txid, oldTxid);
      const s = this.db.prepare('UPDATE outputs SET spent_by = ? WHERE txid = ? AND vout = ? AND (spent_by IS NULL OR spent_by = ?)');
      for (const i of inputs) if (s.run(batch.txid, i.txid, i.vout, oldTxid).changes !== 1) throw new Error(`output ${i.txid}:${i.vout} is spent elsewhere`);
    }).immediate();
  }

  /** Marks a batch broadcast (the node accepted it). */
  setBatchBroadcast(txid: string): void {
    this.db.prepare('UPDATE batches SET broadcast = 1 WHERE txid = ?').run(txid);
  }

  /** Batches with a withdrawal not yet finished, oldest first. */
  listOpenBatches(): BatchRow[] {
    return (
      this.db.prepare("SELECT * FROM batches WHERE txid IN (SELECT batch_txid FROM withdrawals WHERE batch_txid IS NOT NULL AND finished IS NULL) ORDER BY created_ms, txid").all() as BatchDb[]
    ).map(batchOf);
  }

  /** One batch. */
  getBatch(txid: string): BatchRow | undefined {
    const r = this.db.prepare('SELECT * FROM batches WHERE txid = ?').get(txid) as BatchDb | undefined;
    return r === undefined ? undefined : batchOf(r);
  }

  /** Closes the database (idempotent). */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
