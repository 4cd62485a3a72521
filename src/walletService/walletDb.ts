/**
 * The wallet service's storage through one query layer (kysely 0.28): SQLite by default (better-sqlite3, WAL, one file)
 * or PostgreSQL (pg Pool) given a `postgres://` URL, the same schema and migrations on both (kysely's Migrator with
 * the service's own migration tables, so it can share a database with other services). Only portable column types
 * are used (text, integer); ids are random UUIDs, times ISO-8601 text.
 * Tables: wallet_accounts (username, scrypt password hash), wallet_keystores (the account's encrypted seed, keystore
 * JSON), wallet_addresses (receive addresses handed out, in order), wallet_idempotency (send requests by
 * Idempotency-Key: request hash, state, the signed tx and the stored response).
 */
import { type Kysely, type Migration } from 'kysely';
import { openKyselyDb } from '../storage/kyselyDb.js';

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

/**
 * Opens the database and brings its schema to the latest migration (storage/kyselyDb.ts; SQLite with foreign keys on).
 * @throws Error on an unsupported URL, a bad schema name, a connection failure or a failed migration
 */
export function openWalletDb(options: WalletDbOptions): Promise<WalletDb> {
  return openKyselyDb<WalletServiceTables>({
    url: options.url,
    sqlitePath: options.sqlitePath,
    pgSchema: options.pgSchema,
    pgPoolMax: options.pgPoolMax ?? 10,
    sqlitePragmas: ['foreign_keys = ON'],
    migrations: MIGRATIONS,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    badConfig: (message) => new Error(message),
  });
}

/** The current time as stored (ISO-8601 UTC). */
export function nowIso(): string {
  return new Date().toISOString();
}
