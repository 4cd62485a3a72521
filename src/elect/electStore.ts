import Database from 'better-sqlite3';
import { ElectError } from './electError.js';
import type { ElectBlock } from './block.js';
import type { DoubleVoteEvidence } from './certificate.js';
import type { ElectionDurable } from './election.js';
import type { CertifiedBlock, QuorumCertificate } from './message.js';

/** File name of a peer's store inside its data dir. */
export const ELECT_STORE_FILE = 'elect.sqlite';

/** A committed block as stored: the certified block, its hash, the reward paid to its miner and when it was committed here. */
export interface StoredBlock extends CertifiedBlock {
  readonly height: number;
  readonly hash: string;
  readonly rewardSats: bigint;
  /** Time the leader measured from challenge to first valid solution, ms (undefined when not known here). */
  readonly solveMs: number | undefined;
  /** When this peer committed it, ms since the epoch. */
  readonly committedAtMs: number;
}

/** The block this peer voted yes on at tip+1 (Raft's uncommitted log entry): its proposal term counts for elections. */
export interface AcceptedBlock {
  readonly height: number;
  /** Term of the proposal it voted in. */
  readonly term: number;
  readonly hash: string;
  readonly block: ElectBlock;
}

/** A message refused on receipt (forged, non-member, wrong chain, bad block), recorded with its code. */
export interface RefusedRecord {
  readonly code: string;
  readonly from: number | null;
  readonly type: string | null;
  readonly reason: string;
  readonly atMs: number;
}

interface BlockRow {
  height: number;
  hash: string;
  block: string;
  certificate: string;
  reward: string;
  solve_ms: number | null;
  committed_at_ms: number;
}

/**
 * A peer's durable state in SQLite (WAL): the committed chain with each block's certificate, the election's
 * durable term and vote, the block it accepted (voted yes) at tip+1, double-vote evidence, and refused messages.
 * Each commit is one transaction that refuses anything but the next height on the tip, so a `kill -9` at any moment
 * restarts into a consistent chain, and no two blocks are ever stored at one height (height is the primary key).
 */
export class ElectStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating when missing, unless readOnly) the store at `path`. */
  static open(path: string, options: { readOnly?: boolean } = {}): ElectStore {
    const db = new Database(path, { readonly: options.readOnly === true, fileMustExist: options.readOnly === true });
    if (options.readOnly !== true) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(`
        CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, block TEXT NOT NULL,
          certificate TEXT NOT NULL, miner INTEGER NOT NULL, reward TEXT NOT NULL, solve_ms INTEGER, committed_at_ms INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS evidence (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, member INTEGER NOT NULL, height INTEGER NOT NULL,
          term INTEGER NOT NULL, first TEXT NOT NULL, second TEXT NOT NULL, at_ms INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS refused (id INTEGER PRIMARY KEY, code TEXT NOT NULL, from_member INTEGER, type TEXT, reason TEXT NOT NULL, at_ms INTEGER NOT NULL);
      `);
    }
    db.pragma('busy_timeout = 5000');
    return new ElectStore(db);
  }

  /** The tip: the highest committed block, or undefined before the first commit. */
  getTip(): StoredBlock | undefined {
    const row = this.db.prepare('SELECT * FROM blocks ORDER BY height DESC LIMIT 1').get() as BlockRow | undefined;
    return row === undefined ? undefined : toStored(row);
  }

  /** Committed blocks with fromHeight <= height, ascending, at most `limit`. */
  getBlocks(fromHeight: number, limit: number): StoredBlock[] {
    const rows = this.db.prepare('SELECT * FROM blocks WHERE height >= ? ORDER BY height LIMIT ?').all(fromHeight, limit) as BlockRow[];
    return rows.map(toStored);
  }

  /** The block committed at `height`, if any. */
  getBlock(height: number): StoredBlock | undefined {
    const row = this.db.prepare('SELECT * FROM blocks WHERE height = ?').get(height) as BlockRow | undefined;
    return row === undefined ? undefined : toStored(row);
  }

  /**
   * Commits a verified certified block on the tip, in one transaction, clearing the accepted block at or below it.
   * Returns false when this exact block is already committed (a repeat).
   * @throws ElectError conflicting-commit when another block is committed at its height (a safety violation, never
   *   expected); bad-prevblk | bad-height when it does not extend the tip
   */
  commit(cb: CertifiedBlock, hash: string, rewardSats: bigint, solveMs: number | undefined, nowMs: number): boolean {
    return this.db.transaction(() => {
      const existing = this.getBlock(cb.block.height);
      if (existing !== undefined) {
        if (existing.hash === hash) return false;
        throw new ElectError('conflicting-commit', `height ${cb.block.height} already holds ${existing.hash}, refused ${hash}`);
      }
      const tip = this.getTip();
      const tipHeight = tip?.height ?? 0;
      if (cb.block.height !== tipHeight + 1) throw new ElectError('bad-height', `block at ${cb.block.height} does not extend tip ${tipHeight}`);
      if (cb.block.prevHash !== (tip?.hash ?? '0'.repeat(64))) throw new ElectError('bad-prevblk', `block at ${cb.block.height} does not build on ${tip?.hash}`);
      this.db
        .prepare('INSERT INTO blocks (height, hash, block, certificate, miner, reward, solve_ms, committed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(cb.block.height, hash, JSON.stringify(cb.block), JSON.stringify(cb.certificate), cb.block.miner, rewardSats.toString(), solveMs ?? null, nowMs);
      const accepted = this.getAccepted();
      if (accepted !== undefined && accepted.height <= cb.block.height) this.db.prepare("DELETE FROM meta WHERE key = 'accepted'").run();
      return true;
    })();
  }

  /** The election's durable state (term 0, no vote on a new store). */
  getElectionDurable(): ElectionDurable {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'election'").get() as { value: string } | undefined;
    return row === undefined ? { term: 0, votedFor: null } : (JSON.parse(row.value) as ElectionDurable);
  }

  /** Saves the election's term and vote (synchronously durable: before any vote is published). */
  setElectionDurable(d: ElectionDurable): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES ('election', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(JSON.stringify(d));
  }

  /** The block voted yes on at tip+1, if any. */
  getAccepted(): AcceptedBlock | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'accepted'").get() as { value: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.value) as AcceptedBlock);
  }

  /**
   * Records the block voted yes on (before the vote is published), in one transaction. With `lock` (the `--quorum 2/3`
   * rule) the accepted block is a lock: only the same block (a re-proposal in a later term) may replace it at its
   * height; a commit at or above the height releases it.
   * @throws ElectError locked when `lock` is set and another block is accepted at the same height
   */
  setAccepted(a: AcceptedBlock, options: { lock?: boolean } = {}): void {
    this.db.transaction(() => {
      const prior = this.getAccepted();
      if (options.lock === true && prior !== undefined && prior.height === a.height && prior.hash !== a.hash) {
        throw new ElectError('locked', `height ${a.height} is locked on ${prior.hash}, refused ${a.hash}`);
      }
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('accepted', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(JSON.stringify(a));
    })();
  }

  /** Records double-vote evidence. */
  recordEvidence(e: DoubleVoteEvidence, nowMs: number): void {
    this.db
      .prepare('INSERT INTO evidence (kind, member, height, term, first, second, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.kind, e.member, e.height, e.term, JSON.stringify(e.first), JSON.stringify(e.second), nowMs);
  }

  /** Evidence recorded so far (newest last). */
  getEvidence(): { kind: string; member: number; height: number; term: number }[] {
    return this.db.prepare('SELECT kind, member, height, term FROM evidence ORDER BY id').all() as { kind: string; member: number; height: number; term: number }[];
  }

  /** Records a refused message. The table keeps the newest 10,000 rows (bounded on disk). */
  recordRefused(r: RefusedRecord): void {
    const info = this.db.prepare('INSERT INTO refused (code, from_member, type, reason, at_ms) VALUES (?, ?, ?, ?, ?)').run(r.code, r.from, r.type, r.reason.slice(0, 500), r.atMs);
    const id = Number(info.lastInsertRowid);
    if (id % 1_000 === 0) this.db.prepare('DELETE FROM refused WHERE id <= ?').run(id - 10_000);
  }

  /** Refused messages by code: counts. */
  countRefused(): Record<string, number> {
    const rows = this.db.prepare('SELECT code, COUNT(*) AS n FROM refused GROUP BY code').all() as { code: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.code, r.n]));
  }

  /** Rewards paid per member over the committed chain, base units. */
  getBalances(): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (const r of this.db.prepare('SELECT miner, reward FROM blocks').iterate() as IterableIterator<{ miner: number; reward: string }>) {
      out.set(r.miner, (out.get(r.miner) ?? 0n) + BigInt(r.reward));
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}

function toStored(row: BlockRow): StoredBlock {
  return {
    height: row.height,
    hash: row.hash,
    block: JSON.parse(row.block) as ElectBlock,
    certificate: JSON.parse(row.certificate) as QuorumCertificate,
    rewardSats: BigInt(row.reward),
    solveMs: row.solve_ms ?? undefined,
    committedAtMs: row.committed_at_ms,
  };
}
