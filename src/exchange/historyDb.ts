/**
 * The exchange's history store through one query layer (kysely 0.28), as the wallet service does: SQLite by default
 * (better-sqlite3, WAL, one file in the data dir) or PostgreSQL (pg Pool) given a `postgres://` URL, with the same
 * schema and migrations on both (kysely's Migrator under the exchange's own migration tables, so a database can be
 * shared). Portable column types only: `bigint` for ids, ticks, lots and ms times (all below 2^53; PostgreSQL's int8
 * is parsed to a JS number), `text` for bigint amounts (exact decimal integers) and names.
 * Tables: exchange_history_meta (the last sequence number written), exchange_orders (each order's latest state),
 * exchange_trades (public trades with both sides and fees), exchange_ledger_groups (every balance change with its
 * reason: one row per user per command, holding that user's changes of the command in order; before migration 0002,
 * exchange_ledger held one row per change), exchange_klines (candles per market and interval).
 * The history is derived data: rebuildable from the command log at any time; its writes need no fsync.
 */
import type Database from 'better-sqlite3';
import type { Kysely, Migration } from 'kysely';
import pg from 'pg';
import { openKyselyDb } from '../storage/kyselyDb.js';
import { ExchangeError } from './exchangeError.js';

/** Key/value metadata (`last_seq`). */
export interface HistoryMetaTable {
  key: string;
  value: string;
}

/** The latest state of every order that reached the book (rejected orders have none). */
export interface HistoryOrdersTable {
  order_id: number;
  symbol: string;
  user_id: number;
  /** As shown (`cairn-<orderId>` when the client gave none). */
  client_order_id: string;
  side: string;
  order_type: string;
  time_in_force: string;
  price_ticks: number;
  quantity_lots: number;
  quote_order_qty: string;
  stop_price_ticks: number;
  stp_mode: string;
  executed_lots: number;
  cum_quote: string;
  status: string;
  time_ms: number;
  update_time_ms: number;
  working_time_ms: number;
  /** Seq of the command that last changed the order. */
  seq: number;
}

/** Every trade, with both sides. */
export interface HistoryTradesTable {
  symbol: string;
  trade_id: number;
  price_ticks: number;
  quantity_lots: number;
  quote: string;
  buyer_order_id: number;
  seller_order_id: number;
  buyer_user_id: number;
  seller_user_id: number;
  /** 1 when the buyer was the maker. */
  is_buyer_maker: number;
  buyer_fee: string;
  buyer_fee_asset: string;
  seller_fee: string;
  seller_fee_asset: string;
  time_ms: number;
  seq: number;
}

/** Every balance change, one row each: the ledger before migration 0002 (exchange_ledger). */
export interface HistoryLedgerTable {
  seq: number;
  /** Position among the command's balance changes. */
  idx: number;
  user_id: number;
  asset: string;
  delta_free: string;
  delta_locked: string;
  free: string;
  locked: string;
  reason: string;
  symbol: string;
  order_id: number;
  trade_id: number;
  external_id: string;
  time_ms: number;
}

/**
 * One user's balance changes in one command (the ledger, grouped: PERF, a command that trades changes about 6
 * balances of 2 users, so a row per change cost 3× the rows). `entries` is a JSON array, in the command's order of
 * changes, of LedgerGroupEntry tuples. Unique by (user_id, seq).
 */
export interface HistoryLedgerGroupsTable {
  user_id: number;
  seq: number;
  time_ms: number;
  entries: string;
}

/**
 * One balance change inside `entries`: [idx (position among the command's changes), asset, deltaFree, deltaLocked,
 * free, locked (decimal integer strings, base units), reason, symbol, orderId, tradeId, externalId].
 */
export type LedgerGroupEntry = [number, string, string, string, string, string, string, string, number, number, string];

/** Candles. */
export interface HistoryKlinesTable {
  symbol: string;
  interval: string;
  open_time_ms: number;
  close_time_ms: number;
  open_ticks: number;
  high_ticks: number;
  low_ticks: number;
  close_ticks: number;
  volume_lots: string;
  quote_volume: string;
  trades: number;
  taker_buy_volume_lots: string;
  taker_buy_quote_volume: string;
  first_trade_id: number;
  last_trade_id: number;
}

/** The history's tables (kysely's Database type). */
export interface HistoryTables {
  exchange_history_meta: HistoryMetaTable;
  exchange_orders: HistoryOrdersTable;
  exchange_trades: HistoryTradesTable;
  exchange_ledger_groups: HistoryLedgerGroupsTable;
  exchange_klines: HistoryKlinesTable;
}

/** Rows of the old ledger read per query by migration 0002. */
const MIGRATION_PAGE_ROWS = 10_000;

/** The pre-0002 ledger table (one row per change), read only by migration 0002. */
interface LegacyTables {
  exchange_ledger: HistoryLedgerTable;
  exchange_ledger_groups: HistoryLedgerGroupsTable;
}

/** Migration tables of the exchange history. */
export const HISTORY_MIGRATION_TABLE = 'exchange_history_migration';
export const HISTORY_MIGRATION_LOCK_TABLE = 'exchange_history_migration_lock';

const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('exchange_history_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      let t = db.schema.createTable('exchange_orders').addColumn('order_id', 'bigint', (c) => c.primaryKey());
      for (const [name, type] of [
        ['symbol', 'text'], ['user_id', 'bigint'], ['client_order_id', 'text'], ['side', 'text'], ['order_type', 'text'],
        ['time_in_force', 'text'], ['price_ticks', 'bigint'], ['quantity_lots', 'bigint'], ['quote_order_qty', 'text'],
        ['stop_price_ticks', 'bigint'], ['stp_mode', 'text'], ['executed_lots', 'bigint'], ['cum_quote', 'text'], ['status', 'text'],
        ['time_ms', 'bigint'], ['update_time_ms', 'bigint'], ['working_time_ms', 'bigint'], ['seq', 'bigint'],
      ] as const) {
        t = t.addColumn(name, type, (c) => c.notNull());
      }
      await t.execute();
      await db.schema.createIndex('exchange_orders_user').on('exchange_orders').columns(['user_id', 'symbol', 'order_id']).execute();
      await db.schema.createIndex('exchange_orders_user_time').on('exchange_orders').columns(['user_id', 'symbol', 'time_ms']).execute();
      await db.schema.createIndex('exchange_orders_client').on('exchange_orders').columns(['user_id', 'symbol', 'client_order_id']).execute();
      let tr = db.schema.createTable('exchange_trades');
      for (const [name, type] of [
        ['symbol', 'text'], ['trade_id', 'bigint'], ['price_ticks', 'bigint'], ['quantity_lots', 'bigint'], ['quote', 'text'],
        ['buyer_order_id', 'bigint'], ['seller_order_id', 'bigint'], ['buyer_user_id', 'bigint'], ['seller_user_id', 'bigint'],
        ['is_buyer_maker', 'integer'], ['buyer_fee', 'text'], ['buyer_fee_asset', 'text'], ['seller_fee', 'text'], ['seller_fee_asset', 'text'],
        ['time_ms', 'bigint'], ['seq', 'bigint'],
      ] as const) {
        tr = tr.addColumn(name, type, (c) => c.notNull());
      }
      await tr.addPrimaryKeyConstraint('exchange_trades_pk', ['symbol', 'trade_id'] as never).execute();
      await db.schema.createIndex('exchange_trades_buyer').on('exchange_trades').columns(['symbol', 'buyer_user_id', 'trade_id']).execute();
      await db.schema.createIndex('exchange_trades_seller').on('exchange_trades').columns(['symbol', 'seller_user_id', 'trade_id']).execute();
      await db.schema.createIndex('exchange_trades_time').on('exchange_trades').columns(['symbol', 'time_ms']).execute();
      let lg = db.schema.createTable('exchange_ledger');
      for (const [name, type] of [
        ['seq', 'bigint'], ['idx', 'integer'], ['user_id', 'bigint'], ['asset', 'text'], ['delta_free', 'text'], ['delta_locked', 'text'],
        ['free', 'text'], ['locked', 'text'], ['reason', 'text'], ['symbol', 'text'], ['order_id', 'bigint'], ['trade_id', 'bigint'],
        ['external_id', 'text'], ['time_ms', 'bigint'],
      ] as const) {
        lg = lg.addColumn(name, type, (c) => c.notNull());
      }
      await lg.addPrimaryKeyConstraint('exchange_ledger_pk', ['seq', 'idx'] as never).execute();
      await db.schema.createIndex('exchange_ledger_user').on('exchange_ledger').columns(['user_id', 'seq']).execute();
      let kl = db.schema.createTable('exchange_klines');
      for (const [name, type] of [
        ['symbol', 'text'], ['interval', 'text'], ['open_time_ms', 'bigint'], ['close_time_ms', 'bigint'], ['open_ticks', 'bigint'],
        ['high_ticks', 'bigint'], ['low_ticks', 'bigint'], ['close_ticks', 'bigint'], ['volume_lots', 'text'], ['quote_volume', 'text'],
        ['trades', 'bigint'], ['taker_buy_volume_lots', 'text'], ['taker_buy_quote_volume', 'text'], ['first_trade_id', 'bigint'], ['last_trade_id', 'bigint'],
      ] as const) {
        kl = kl.addColumn(name, type, (c) => c.notNull());
      }
      await kl.addPrimaryKeyConstraint('exchange_klines_pk', ['symbol', 'interval', 'open_time_ms'] as never).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of ['exchange_klines', 'exchange_ledger', 'exchange_trades', 'exchange_orders', 'exchange_history_meta']) await db.schema.dropTable(t).ifExists().execute();
    },
  },
  '0002_ledger_groups': {
    /**
     * The ledger as one row per user per command (HistoryLedgerGroupsTable), keyed (user_id, seq) — the key its only
     * reader (HistoryQueries.ledger: one user, by seq) uses, so it needs no other index. The rows of the old
     * exchange_ledger are regrouped into it (same changes, same order), then it is dropped.
     */
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('exchange_ledger_groups')
        .addColumn('user_id', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('time_ms', 'bigint', (c) => c.notNull())
        .addColumn('entries', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('exchange_ledger_groups_pk', ['user_id', 'seq'] as never)
        .execute();
      const legacy = db as unknown as Kysely<LegacyTables>;
      // Pages in (user_id, seq, idx) order; a group may span pages (a cancel of every open order of a user is one
      // command with up to 100,000 changes), so the last group of a page is written only once the next page shows it
      // complete.
      let after = { user_id: -1, seq: -1, idx: -1 };
      let open: { user_id: number; seq: number; time_ms: number; list: LedgerGroupEntry[] } | undefined;
      const flush = async (groups: ReadonlyArray<{ user_id: number; seq: number; time_ms: number; list: LedgerGroupEntry[] }>): Promise<void> => {
        const out: HistoryLedgerGroupsTable[] = groups.map((g) => ({ user_id: g.user_id, seq: g.seq, time_ms: g.time_ms, entries: JSON.stringify(g.list) }));
        for (let i = 0; i < out.length; i += 1000) await legacy.insertInto('exchange_ledger_groups').values(out.slice(i, i + 1000)).execute();
      };
      for (;;) {
        const { user_id: u, seq: q, idx: i } = after;
        const rows = await legacy
          .selectFrom('exchange_ledger')
          .selectAll()
          // A row-value comparison: a range scan of the (user_id, seq) index on both databases.
          .where((eb) => eb(eb.refTuple('user_id', 'seq', 'idx'), '>', eb.tuple(u, q, i)))
          .orderBy('user_id')
          .orderBy('seq')
          .orderBy('idx')
          .limit(MIGRATION_PAGE_ROWS)
          .execute();
        if (rows.length === 0) break;
        const done: Array<{ user_id: number; seq: number; time_ms: number; list: LedgerGroupEntry[] }> = [];
        for (const r of rows) {
          const entry: LedgerGroupEntry = [Number(r.idx), r.asset, r.delta_free, r.delta_locked, r.free, r.locked, r.reason, r.symbol, Number(r.order_id), Number(r.trade_id), r.external_id];
          if (open !== undefined && open.user_id === Number(r.user_id) && open.seq === Number(r.seq)) open.list.push(entry);
          else {
            if (open !== undefined) done.push(open);
            open = { user_id: Number(r.user_id), seq: Number(r.seq), time_ms: Number(r.time_ms), list: [entry] };
          }
        }
        await flush(done);
        const last = rows[rows.length - 1]!;
        after = { user_id: Number(last.user_id), seq: Number(last.seq), idx: Number(last.idx) };
      }
      if (open !== undefined) await flush([open]);
      await db.schema.dropTable('exchange_ledger').execute();
    },
  },
};

/** Where the history lives. */
export interface HistoryDbOptions {
  /** `postgres://…` for PostgreSQL; undefined for SQLite at sqlitePath. */
  readonly url?: string;
  /** SQLite file (created with its folder) when url is undefined. */
  readonly sqlitePath: string;
  /** PostgreSQL only: a schema for the tables (created if missing; each connection's search_path), e.g. one per test. */
  readonly pgSchema?: string;
  /** PostgreSQL pool size (default 4). */
  readonly pgPoolMax?: number;
}

/** An open, migrated history database. */
export interface HistoryDb {
  readonly db: Kysely<HistoryTables>;
  readonly kind: 'sqlite' | 'postgres';
  /**
   * SQLite only: the better-sqlite3 connection under `db`, for the writer's prepared-statement fast path (kysely
   * compiles a multi-row insert per batch, about 6× slower on SQLite than a prepared single-row statement).
   */
  readonly sqlite?: Database.Database;
  /** Where it is, without credentials. */
  readonly description: string;
  /** Closes the pool / file (idempotent). */
  close(): Promise<void>;
}

/** pg's type id of int8. */
const INT8_OID = 20;

/**
 * Opens the history database and brings its schema to the latest migration (storage/kyselyDb.ts; on SQLite without an
 * fsync per commit: derived data, rebuildable from the command log; on PostgreSQL int8 columns read as numbers).
 * @throws ExchangeError BAD_CONFIG (unsupported URL, bad schema name) | the driver's error (connection, migration)
 */
export function openHistoryDb(options: HistoryDbOptions): Promise<HistoryDb> {
  return openKyselyDb<HistoryTables>({
    url: options.url,
    sqlitePath: options.sqlitePath,
    pgSchema: options.pgSchema,
    pgPoolMax: options.pgPoolMax ?? 4,
    // int8 columns hold ids, ticks, lots and ms times, all below 2^53: numbers, not strings.
    pgTypes: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
    sqlitePragmas: ['synchronous = NORMAL'],
    migrations: MIGRATIONS,
    migrationTableName: HISTORY_MIGRATION_TABLE,
    migrationLockTableName: HISTORY_MIGRATION_LOCK_TABLE,
    badConfig: (message) => new ExchangeError('BAD_CONFIG', `history database: ${message}`),
  });
}

/** Drops every history table (for a rebuild from the command log); the next open recreates them. */
export async function dropHistoryTables(h: HistoryDb): Promise<void> {
  for (const t of ['exchange_klines', 'exchange_ledger_groups', 'exchange_ledger', 'exchange_trades', 'exchange_orders', 'exchange_history_meta', HISTORY_MIGRATION_TABLE, HISTORY_MIGRATION_LOCK_TABLE]) {
    await h.db.schema.dropTable(t).ifExists().execute();
  }
}
