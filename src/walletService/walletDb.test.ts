import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { MIGRATION_TABLE, openWalletDb } from './walletDb.js';

const PG_URL = process.env['CAIRN_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The tables of a schema, by name, read from the server's catalogue. */
async function tablesOf(schema: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema],
    );
    return rows.map((r) => r.table_name);
  } finally {
    await admin.end();
  }
}

test('walletDb on PostgreSQL: two services in one database, each in a schema of its own, each get their own migrated tables', async (t) => {
  const tag = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const schemas = [`cairn_wsdb_a_${tag}`, `cairn_wsdb_b_${tag}`];
  t.after(async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    } finally {
      await admin.end();
    }
  });
  // The first schema's migration table exists when the second opens: the second must not take it for its own.
  const first = await openWalletDb({ url: PG_URL, sqlitePath: '', pgSchema: schemas[0] });
  try {
    const second = await openWalletDb({ url: PG_URL, sqlitePath: '', pgSchema: schemas[1] });
    try {
      await second.db.insertInto('wallet_accounts').values({ id: 'b0b', username: 'bob', password_hash: 'x', created_at: '2026-12-05T00:00:00Z' }).execute();
      const rows = await second.db.selectFrom('wallet_accounts').select('username').execute();
      assert.deepEqual(rows, [{ username: 'bob' }]);
    } finally {
      await second.close();
    }
  } finally {
    await first.close();
  }
  for (const s of schemas) {
    const tables = await tablesOf(s);
    assert.ok(tables.includes(MIGRATION_TABLE), `${s} has its own ${MIGRATION_TABLE}: ${tables.join(', ')}`);
    assert.ok(tables.includes('wallet_accounts'), `${s} has wallet_accounts: ${tables.join(', ')}`);
  }
});
