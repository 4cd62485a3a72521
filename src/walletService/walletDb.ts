/**
 * The wallet service's storage through one query layer (kysely 0.28): SQLite by default (better-sqlite3, WAL, one file)
 * or PostgreSQL (pg Pool) given a `postgres://` URL, the same schema and migrations on both (kysely's Migrator with
 * the service's own migration tables, so it can share a database with other services). Only portable column types
 * are used (text, integer); ids are random UUIDs, times ISO-8601 text.
 * Tables: wallet_accounts (username, scrypt password hash), wallet_keystores (the account's encrypted seed, keystore
 * JSON), wallet_addresses (receive addresses handed out, in order), wallet_idempotency (send requests by
 * Idempotency-Key: request hash, state, the signed tx and the stored response).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';

/** An account: username + password hash. */
export interface AccountsTable {
  /** Random UUID; the session token's subject. */
  id: string;
  username: string;
  /** passwordHash.ts stored form (`scrypt$N$r$p$salt$hash`). */
  password_hash: string;
  created_at: string;
}

/** The custodial wallet of an account: its keystore JSON (seed encrypted under the service's master key). */
export interface KeystoresTable {
  account_id: string;
  network: string;
  keystore: string;
  created_at: string;
}

/** A receive address handed out to an account, `seq` = 0, 1, 2 … in the order handed out. */
export interface AddressesTable {
  account_id: string;
  seq: number;
  address: string;
  created_at: string;
}

/** State of an idempotent send: reserved (nothing signed yet), signed (tx stored, maybe not broadcast), done. */
export type IdempotencyState = 'pending' | 'signed' | 'done';

/** One send request by Idempotency-Key, per account. */
export interface IdempotencyTable {
  account_id: string;
  idempotency_key: string;
  /** sha256 hex of the canonical request body. */
  request_hash: string;
  state: IdempotencyState;
  /** Display hex txid of the signed tx (signed, done). */
  txid: string | null;
  /** The signed tx (signed, done). */
  tx_hex: string | null;
  /** HTTP status of the stored response (done). */
  response_status: number | null;
  /** JSON body of the stored response (signed: the success body to send once broadcast; done: the answer). */
  response_body: string | null;
  created_at: string;
  updated_at: string;
}

/** The service's tables (kysely's Database type). */
export interface WalletServiceTables {
  wallet_accounts: AccountsTable;
  wallet_keystores: KeystoresTable;
  wallet_addresses: AddressesTable;
  wallet_idempotency: IdempotencyTable;
}

/** Migration table of the service (not kysely's default, so the database can be shared with other services). */
export const MIGRATION_TABLE = 'wallet_service_migration';
/** Migration lock table of the service. */
export const MIGRATION_LOCK_TABLE = 'wallet_service_migration_lock';

const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('wallet_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('wallet_keystores')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('wallet_accounts.id').onDelete('cascade'))
        .addColumn('network', 'text', (c) => c.notNull())
        .addColumn('keystore', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('wallet_addresses')
        .addColumn('account_id', 'text', (c) => c.notNull().references('wallet_accounts.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('wallet_addresses_pk', ['account_id', 'seq'])
        .execute();
      await db.schema
        .createTable('wallet_idempotency')
        .addColumn('account_id', 'text', (c) => c.notNull().references('wallet_accounts.id').onDelete('cascade'))
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('txid', 'text')
        .addColumn('tx_hex', 'text')
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('wallet_idempotency_pk', ['account_id', 'idempotency_key'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of ['wallet_idempotency', 'wallet_addresses', 'wallet_keystores', 'wallet_accounts']) await db.schema.dropTable(t).ifExists().execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/** Where the data lives. */
export interface WalletDbOptions {
  /** `postgres://…` / `postgresql://…` for PostgreSQL; undefined for SQLite at sqlitePath. */
  readonly url?: string;
  /** SQLite file (created with its folder), used when url is undefined. */
  readonly sqlitePath: string;
  /**
   * PostgreSQL only: a schema to keep the tables in (created if missing; every connection's search_path), e.g. one
   * per test run. Default: the connection's search_path (usually `public`).
   */
  readonly pgSchema?: string;
  /** PostgreSQL pool size (default 10). */
  readonly pgPoolMax?: number;
}

/** An open, migrated database. */
export interface WalletDb {
  readonly db: Kysely<WalletServiceTables>;
  readonly kind: 'sqlite' | 'postgres';
  /** Where it is, without credentials (for logs and the start-up line). */
  readonly description: string;
  /** Closes the pool / file (idempotent). */
  close(): Promise<void>;
}

/** True for a PostgreSQL connection URL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function describePostgres(url: string, schema: string | undefined): string {
  try {
    const u = new URL(url);
    return `postgres://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}${schema ? ` (schema ${schema})` : ''}`;
  } catch {
    return 'postgres';
  }
}

/**
 * Opens the database and brings its schema to the latest migration.
 * @throws Error on an unsupported URL, a bad schema name, a connection failure or a failed migration
 */
export async function openWalletDb(options: WalletDbOptions): Promise<WalletDb> {
  let db: Kysely<WalletServiceTables>;
  let kind: WalletDb['kind'];
  let description: string;
  if (options.url !== undefined) {
    if (!isPostgresUrl(options.url)) throw new Error(`unsupported database URL (use postgres://…): ${options.url.replace(/\/\/[^@/]*@/, '//…@')}`);
    const schema = options.pgSchema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    if (schema !== undefined) {
      const client = new pg.Client({ connectionString: options.url });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      } finally {
        await client.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.pgPoolMax ?? 10,
      ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    });
    db = new Kysely<WalletServiceTables>({ dialect: new PostgresDialect({ pool }) });
    kind = 'postgres';
    description = describePostgres(options.url, schema);
  } else {
    mkdirSync(dirname(options.sqlitePath), { recursive: true, mode: 0o700 });
    // Password hashes live here: the file is the owner's only (SQLite gives its -wal and -shm files the same mode).
    closeSync(openSync(options.sqlitePath, 'a', 0o600));
    const sqlite = new Database(options.sqlitePath);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    db = new Kysely<WalletServiceTables>({ dialect: new SqliteDialect({ database: sqlite }) });
    kind = 'sqlite';
    description = `sqlite ${options.sqlitePath}`;
  }
  try {
    const migrator = new Migrator({
      db,
      provider,
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
      // With a schema of its own, the migration tables live there too; without this kysely looks for them in any
      // schema, takes another service's for its own and never creates this schema's tables.
      ...(kind === 'postgres' && options.pgSchema !== undefined ? { migrationTableSchema: options.pgSchema } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
    // A cheap round trip, so a wrong URL fails here rather than at the first request.
    await sql`select 1`.execute(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    db,
    kind,
    description,
    close: () => (closing ??= db.destroy()),
  };
}

/** The current time as stored (ISO-8601 UTC). */
export function nowIso(): string {
  return new Date().toISOString();
}
