/**
 * The gateway's accounts and API keys in SQLite (`<datadir>/gateway.sqlite`, WAL): users with scrypt password hashes
 * (src/crypto/passwordHash.ts, shared with the wallet service), their API keys (Binance-style: a 64-character key
 * sent in `X-MBX-APIKEY` and a 64-character HMAC secret shown once at creation), and the gateway's JWT secret. The
 * engine knows users by number: a user's id here is its engine `userId` (1, 2, 3 …; 0 is the fee account).
 * API keys are cached in memory, so a signed request costs no database read.
 * Note: HMAC verification needs the secret itself, so it is stored as is (the data dir is 0700, the file 0600).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Username pattern: 3..32 of letters, digits, `_ . -`. */
export const USERNAME_RE = /^[A-Za-z0-9_.-]{3,32}$/;
/** Most live (not revoked) API keys per user. */
export const MAX_API_KEYS_PER_USER = 20;

/** A user. */
export interface GatewayUser {
  /** The engine's userId. */
  readonly userId: number;
  readonly username: string;
  readonly passwordHash: string;
  readonly createdMs: number;
}

/** An API key as listed (never with its secret). */
export interface ApiKeyInfo {
  readonly apiKey: string;
  readonly label: string;
  /** `TRADE` may place and cancel orders; `READ` only reads. */
  readonly permission: ApiKeyPermission;
  readonly createdMs: number;
  /** Revocation time, ms; undefined while live. */
  readonly revokedMs: number | undefined;
}

/** What an API key may do. */
export type ApiKeyPermission = 'TRADE' | 'READ';

/** A live key as the signature check needs it. */
export interface LiveApiKey {
  readonly userId: number;
  readonly secret: Buffer;
  readonly permission: ApiKeyPermission;
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  created_ms: number;
}

interface KeyRow {
  api_key: string;
  user_id: number;
  secret: string;
  label: string;
  permission: string;
  created_ms: number;
  revoked_ms: number | null;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random string of `n` letters and digits (unbiased: bytes ≥ 248 are redrawn). */
function randomAlnum(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += ALNUM[b % 62];
    }
  }
  return out;
}

/** Users, API keys and the token secret of one gateway. */
export class AccountStore {
  private readonly keys = new Map<string, LiveApiKey>();

  private constructor(private readonly db: Database.Database) {
    for (const r of db.prepare('SELECT * FROM api_keys WHERE revoked_ms IS NULL').all() as KeyRow[]) {
      this.keys.set(r.api_key, { userId: r.user_id, secret: Buffer.from(r.secret, 'utf8'), permission: r.permission as ApiKeyPermission });
    }
  }

  /** Opens (creating) the store at `path`; the file is made 0600. */
  static open(path: string): AccountStore {
    const db = new Database(path);
    chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS api_keys (api_key TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), secret TEXT NOT NULL,
        label TEXT NOT NULL, permission TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);
      CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys(user_id);
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    `);
    return new AccountStore(db);
  }

  /** The HS256 secret of the gateway's tokens: 32 random bytes made on first use. */
  tokenSecret(): Uint8Array {
    const row = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('jwtSecret') as { v: string } | undefined;
    if (row !== undefined) return new Uint8Array(Buffer.from(row.v, 'hex'));
    const secret = randomBytes(32);
    this.db.prepare('INSERT OR IGNORE INTO meta (k, v) VALUES (?, ?)').run('jwtSecret', secret.toString('hex'));
    return this.tokenSecret();
  }

  /** Creates a user; undefined when the name is taken (case-insensitively). */
  createUser(username: string, passwordHash: string, nowMs: number): GatewayUser | undefined {
    const r = this.db.prepare('INSERT OR IGNORE INTO users (username, password_hash, created_ms) VALUES (?, ?, ?)').run(username, passwordHash, nowMs);
    if (r.changes === 0) return undefined;
    return { userId: Number(r.lastInsertRowid), username, passwordHash, createdMs: nowMs };
  }

  /** A user by name (case-insensitive). */
  userByName(username: string): GatewayUser | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
    return r === undefined ? undefined : { userId: r.id, username: r.username, passwordHash: r.password_hash, createdMs: r.created_ms };
  }

  /** A user by id. */
  userById(userId: number): GatewayUser | undefined {
    const r = this.db.prepare('SELECT * FROM users WHERE id = ?').get(userId) as UserRow | undefined;
    return r === undefined ? undefined : { userId: r.id, username: r.username, passwordHash: r.password_hash, createdMs: r.created_ms };
  }

  /**
   * Creates an API key for a user; returns the key and its secret (the only time the secret is shown).
   * Undefined when the user has MAX_API_KEYS_PER_USER live keys.
   */
  createApiKey(userId: number, label: string, permission: ApiKeyPermission, nowMs: number): { apiKey: string; secretKey: string } | undefined {
    const live = (this.db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE user_id = ? AND revoked_ms IS NULL').get(userId) as { n: number }).n;
    if (live >= MAX_API_KEYS_PER_USER) return undefined;
    const apiKey = randomAlnum(64);
    const secretKey = randomAlnum(64);
    this.db.prepare('INSERT INTO api_keys (api_key, user_id, secret, label, permission, created_ms) VALUES (?, ?, ?, ?, ?, ?)').run(apiKey, userId, secretKey, label, permission, nowMs);
    this.keys.set(apiKey, { userId, secret: Buffer.from(secretKey, 'utf8'), permission });
    return { apiKey, secretKey };
  }

  /** The user's keys, newest first, without secrets. */
  listApiKeys(userId: number): ApiKeyInfo[] {
    const rows = this.db.prepare('SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_ms DESC, api_key').all(userId) as KeyRow[];
    return rows.map((r) => ({ apiKey: r.api_key, label: r.label, permission: r.permission as ApiKeyPermission, createdMs: r.created_ms, revokedMs: r.revoked_ms ?? undefined }));
  }

  /** Revokes one of the user's keys; false when the user has no such live key (another user's key included). */
  revokeApiKey(userId: number, apiKey: string, nowMs: number): boolean {
    const r = this.db.prepare('UPDATE api_keys SET revoked_ms = ? WHERE api_key = ? AND user_id = ? AND revoked_ms IS NULL').run(nowMs, apiKey, userId);
    if (r.changes === 0) return false;
    this.keys.delete(apiKey);
    return true;
  }

  /** A live key, from memory. */
  liveKey(apiKey: string): LiveApiKey | undefined {
    return this.keys.get(apiKey);
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}
