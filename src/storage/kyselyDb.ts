/**
 * One way to open a service's kysely database: SQLite (better-sqlite3, WAL) at a path in its data dir by default, or
 * PostgreSQL (pg Pool) given a `postgres://` URL, optionally in a schema of its own; then kysely's Migrator under the
 * service's own migration tables (so services can share a database) brings the schema to the latest migration. Used
 * by the wallet service's store and the exchange's history.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';

/** How to open one service's database. */
export interface KyselyDbOptions {
  /** `postgres://…` / `postgresql://…` for PostgreSQL; undefined for SQLite at sqlitePath. */
  readonly url?: string | undefined;
  /** SQLite file (created with its folder, mode 0600), used when url is undefined. */
  readonly sqlitePath: string;
  /** PostgreSQL only: a schema to keep the tables in (created if missing; every connection's search_path). */
  readonly pgSchema?: string | undefined;
  /** PostgreSQL pool size. */
  readonly pgPoolMax: number;
  /** PostgreSQL only: column type parsers (e.g. int8 as numbers). */
  readonly pgTypes?: pg.CustomTypesConfig;
  /** SQLite pragmas after `journal_mode = WAL` and `busy_timeout = 5000`, e.g. `foreign_keys = ON`. */
  readonly sqlitePragmas?: readonly string[];
  /** The service's migrations, by name (applied in name order). */
  readonly migrations: Readonly<Record<string, Migration>>;
  /** The service's migration table and migration lock table. */
  readonly migrationTableName: string;
  readonly migrationLockTableName: string;
  /** Makes the service's error for a bad URL or schema name (thrown before anything is opened). */
  readonly badConfig: (message: string) => Error;
}

/** An open, migrated database. */
export interface KyselyDb<T> {
  readonly db: Kysely<T>;
  readonly kind: 'sqlite' | 'postgres';
  /** SQLite only: the better-sqlite3 connection under `db` (for prepared-statement fast paths). */
  readonly sqlite?: Database.Database;
  /** Where it is, without credentials (for logs and start-up lines). */
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
 * Opens the database the options name and migrates it to the latest migration; on any failure it is closed again.
 * @throws the `badConfig` error (unsupported URL, bad schema name) | the driver's error (connection, migration)
 */
export async function openKyselyDb<T>(options: KyselyDbOptions): Promise<KyselyDb<T>> {
  let db: Kysely<T>;
  let kind: KyselyDb<T>['kind'];
  let description: string;
  let sqliteDb: Database.Database | undefined;
  const schema = options.pgSchema;
  if (options.url !== undefined) {
    if (!isPostgresUrl(options.url)) throw options.badConfig(`unsupported database URL (use postgres://…): ${options.url.replace(/\/\/[^@/]*@/, '//…@')}`);
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw options.badConfig(`bad schema name ${schema}`);
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
      max: options.pgPoolMax,
      ...(options.pgTypes !== undefined ? { types: options.pgTypes } : {}),
      ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    });
    db = new Kysely<T>({ dialect: new PostgresDialect({ pool }) });
    kind = 'postgres';
    description = describePostgres(options.url, schema);
  } else {
    mkdirSync(dirname(options.sqlitePath), { recursive: true, mode: 0o700 });
    // The owner's only (SQLite gives its -wal and -shm files the same mode).
    closeSync(openSync(options.sqlitePath, 'a', 0o600));
    const sqlite = new Database(options.sqlitePath);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('busy_timeout = 5000');
    for (const pragma of options.sqlitePragmas ?? []) sqlite.pragma(pragma);
    db = new Kysely<T>({ dialect: new SqliteDialect({ database: sqlite }) });
    sqliteDb = sqlite;
    kind = 'sqlite';
    description = `sqlite ${options.sqlitePath}`;
  }
  try {
    const provider: MigrationProvider = { getMigrations: () => Promise.resolve({ ...options.migrations }) };
    const migrator = new Migrator({
      db,
      provider,
      migrationTableName: options.migrationTableName,
      migrationLockTableName: options.migrationLockTableName,
      // With a schema of its own, the migration tables live there too; without this kysely looks for them in any
      // schema, takes another service's for its own and never creates this schema's tables.
      ...(kind === 'postgres' && schema !== undefined ? { migrationTableSchema: schema } : {}),
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
  return { db, kind, description, ...(sqliteDb !== undefined ? { sqlite: sqliteDb } : {}), close: () => (closing ??= db.destroy()) };
}
