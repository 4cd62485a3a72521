import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { computeMerkleRoot } from '../consensus/merkle.js';
import type { Coin } from '../consensus/utxoView.js';
import { COIN } from '../consensus/amount.js';
import { devnet, regtest } from '../params/networks.js';
import { computeBlockHash, encodeBlock, getBlockSize, getBlockWeight } from '../primitives/block.js';
import { hashToHex } from '../primitives/hex.js';
import { formatOutpoint, NULL_OUTPOINT } from '../primitives/outpoint.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block, BlockHash, Hash256, Outpoint, Tx, TxOut, Txid } from '../primitives/types.js';
import type { ChainStore } from './chainStore.js';
import { BlockStatus, type AddressStats, type BlockIndexEntry, type UtxoRecord } from '../interfaces/chainTypes.js';
import { SCHEMA_VERSION, SqliteChainStore } from './sqliteChainStore.js';
import { StorageError } from './storageError.js';
import { decodeTxid } from '../primitives/identity.js';
import { NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { rewriteAsSchemaV1, rewriteAsSchemaV2 } from '../testing/oldChainStoreSchema.js';

const params = regtest;
const STATUS_CONNECTED = BlockStatus.VALID_HEADER | BlockStatus.HAVE_DATA | BlockStatus.VALID_SCRIPTS;

// --- hand-built chain data -----------------------------------------------------------------------------------------

/** A P2WPKH-shaped scriptPubKey: 0x00 0x14 then 20 bytes of `fill`. */
function p2wpkh(fill: number): Uint8Array {
  return Uint8Array.of(0x00, 0x14, ...new Uint8Array(20).fill(fill));
}

const A = p2wpkh(0xaa);
const B = p2wpkh(0xbb);
const C = p2wpkh(0xcc);
const OP_RETURN = Uint8Array.of(0x6a, 0x04, 0xde, 0xad, 0xbe, 0xef);

function coinbaseTx(height: number, outputs: TxOut[]): Tx {
  return {
    version: 2,
    inputs: [
      { prevout: NULL_OUTPOINT, scriptSig: Uint8Array.of(0x01, height, 0x00), sequence: 0xffffffff, witness: [] },
    ],
    outputs,
    locktime: 0,
  };
}

/** A tx spending `prevouts` with dummy P2WPKH-shaped witnesses (the store checks no signatures). */
function spendTx(prevouts: Outpoint[], outputs: TxOut[]): Tx {
  return {
    version: 2,
    inputs: prevouts.map((prevout) => ({
      prevout,
      scriptSig: new Uint8Array(0),
      sequence: 0xfffffffd,
      witness: [new Uint8Array(71).fill(0x30), new Uint8Array(33).fill(0x02)],
    })),
    outputs,
    locktime: 0,
  };
}

function makeBlock(prev: BlockHash, time: number, txs: Tx[]): Block {
  const merkleRoot = computeMerkleRoot(txs.map(computeTxid)).root;
  const header = { version: 0x20000000, prevBlock: prev, merkleRoot, time, bits: params.powLimitBits, nonce: 0 };
  return { header, txs };
}

function entryFor(block: Block, height: number): BlockIndexEntry {
  const hash = computeBlockHash(block.header);
  return {
    hash,
    hashHex: hashToHex(hash),
    header: block.header,
    height,
    chainWork: BigInt(height + 1) * 2n,
    status: STATUS_CONNECTED,
    txCount: block.txs.length,
    sizeBytes: getBlockSize(block),
    weight: getBlockWeight(block),
  };
}

const out = (scriptPubKey: Uint8Array, value: bigint): TxOut => ({ value, scriptPubKey });
const coin = (output: TxOut, height: number, isCoinbase: boolean): Coin => ({ output, height, isCoinbase });

const genesis = params.genesis;
const genesisEntry = entryFor(genesis, 0);

// Block 1: the coinbase pays A and carries an OP_RETURN output (not a coin).
const cb1 = coinbaseTx(1, [out(A, 50n * COIN), out(OP_RETURN, 0n)]);
const cb1Id = computeTxid(cb1);
const block1 = makeBlock(genesisEntry.hash, genesis.header.time + 600, [cb1]);
const entry1 = entryFor(block1, 1);
const cb1Coin = coin(out(A, 50n * COIN), 1, true);

// Block 2: cb2 pays B; t2a spends cb1:0 (A) to B and back to A; t2b spends t2a:0 (created in this block) to C.
const cb2 = coinbaseTx(2, [out(B, 25n * COIN)]);
const cb2Id = computeTxid(cb2);
const t2a = spendTx([{ txid: cb1Id, index: 0 }], [out(B, 20n * COIN), out(A, 29n * COIN)]);
const t2aId = computeTxid(t2a);
const t2b = spendTx([{ txid: t2aId, index: 0 }], [out(C, 19n * COIN), out(OP_RETURN, 0n)]);
const t2bId = computeTxid(t2b);
const block2 = makeBlock(entry1.hash, genesis.header.time + 1200, [cb2, t2a, t2b]);
const entry2 = entryFor(block2, 2);

const op = (txid: Txid, index: number): Outpoint => ({ txid, index });
const created2: UtxoRecord[] = [
  { outpoint: op(cb2Id, 0), coin: coin(out(B, 25n * COIN), 2, true) },
  { outpoint: op(t2aId, 1), coin: coin(out(A, 29n * COIN), 2, false) },
  { outpoint: op(t2bId, 0), coin: coin(out(C, 19n * COIN), 2, false) },
];
const undo2: Coin[] = [cb1Coin, coin(out(B, 20n * COIN), 2, false)];

function connect1(store: ChainStore): void {
  store.connectBlock({
    entry: entry1,
    block: block1,
    txids: [cb1Id],
    spent: [],
    created: [{ outpoint: op(cb1Id, 0), coin: cb1Coin }],
    undo: [],
  });
}

function connect2(store: ChainStore): void {
  store.connectBlock({
    entry: entry2,
    block: block2,
    txids: [cb2Id, t2aId, t2bId],
    spent: [op(cb1Id, 0)],
    created: created2,
    undo: undo2,
  });
}

function disconnect2(store: ChainStore): void {
  store.disconnectBlock({
    entry: entry2,
    block: block2,
    txids: [cb2Id, t2aId, t2bId],
    removed: created2.map((r) => r.outpoint),
    restored: [{ outpoint: op(cb1Id, 0), coin: cb1Coin }],
  });
}

function initGenesis(store: ChainStore): void {
  store.initGenesis(genesisEntry, encodeBlock(genesis));
}

/** Everything the store exposes about the scenario's chain, for "nothing changed" comparisons. */
function snapshot(store: SqliteChainStore): unknown {
  return { ...chainState(store), index: store.loadBlockIndex().sort((x, y) => x.height - y.height) };
}

/** The chain state of the scenario (tip, UTXO set, indexes, undo), without the block index. */
function chainState(store: SqliteChainStore): Record<string, unknown> {
  const outpoints = [op(cb1Id, 0), op(cb1Id, 1), op(cb2Id, 0), op(t2aId, 0), op(t2aId, 1), op(t2bId, 0)];
  return {
    tip: store.getTipHash(),
    tipHeight: store.getTipHeight(),
    main: [0, 1, 2, 3].map((h) => store.getMainChainHash(h)),
    digest: store.computeUtxoDigest(),
    count: store.getUtxoCount(),
    coins: store.getCoins(outpoints),
    spends: outpoints.map((o) => store.chainIndex.getSpend(o)),
    txs: [cb1Id, cb2Id, t2aId, t2bId].map((t) => store.chainIndex.getTxLocation(t)),
    history: [A, B, C].map((s) => store.chainIndex.getAddressHistory(s)),
    utxos: [A, B, C].map((s) => store.chainIndex.getAddressUtxos(s)),
    stats: [A, B, C, OP_RETURN].map((s) => store.chainIndex.getAddressStats(s)),
    statsRows: statsRowCount(store),
    undo: [entry1.hash, entry2.hash].map((h) => store.readUndo(h)),
  };
}

/** Rows of the address_stats table (a disconnect must delete the rows its connect created). */
function statsRowCount(store: SqliteChainStore): number {
  return (store as unknown as { db: Database.Database }).db.prepare('SELECT count(*) FROM address_stats').pluck().get() as number;
}

/** AddressStats literal, counts then sums in whole coins. */
function stats(fundedCount: number, fundedCoins: bigint, spentCount: number, spentCoins: bigint, txCount: number): AddressStats {
  return {
    fundedTxoCount: fundedCount,
    fundedTxoSum: fundedCoins * COIN,
    spentTxoCount: spentCount,
    spentTxoSum: spentCoins * COIN,
    txCount,
  };
}

// --- independent digest ------------------------------------------------------------------------------------------

/** Recomputes UtxoSetDigest.hashSerialized from its documented definition, without the store's code. */
function expectedDigestHex(records: readonly UtxoRecord[]): string {
  const serialized = records.map(({ outpoint, coin: c }) => {
    const key = Buffer.alloc(36);
    key.set(outpoint.txid, 0);
    key.writeUInt32LE(outpoint.index, 32);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt32LE(c.height * 2 + (c.isCoinbase ? 1 : 0), 0);
    fixed.writeBigInt64LE(c.output.value, 4);
    const n = c.output.scriptPubKey.length;
    let len: Buffer;
    if (n < 0xfd) len = Buffer.of(n);
    else if (n <= 0xffff) len = Buffer.of(0xfd, n & 0xff, n >> 8);
    else {
      len = Buffer.alloc(5);
      len[0] = 0xfe;
      len.writeUInt32LE(n, 1);
    }
    return { key, bytes: Buffer.concat([key, fixed, len, c.output.scriptPubKey]) };
  });
  serialized.sort((x, y) => Buffer.compare(x.key, y.key));
  const once = createHash('sha256').update(Buffer.concat(serialized.map((s) => s.bytes))).digest();
  const twice = createHash('sha256').update(once).digest();
  return Buffer.from(twice).reverse().toString('hex');
}

// --- tests -------------------------------------------------------------------------------------------------------

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-store-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileCounter = 0;
/** The columns (name, type, not null, primary key) of every table and index of a store's file. */
function columnsOf(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const columns: Record<string, unknown[]> = {};
    const objects = db.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name").all() as { type: string; name: string }[];
    for (const { type, name } of objects) {
      columns[name] = db.pragma(`${type === 'table' ? 'table_info' : 'index_info'}(${JSON.stringify(name)})`) as unknown[];
    }
    return columns;
  } finally {
    db.close();
  }
}

function freshPath(): string {
  return join(dir, `s${++fileCounter}`, 'nested', 'chain.sqlite');
}

function assertStorageError(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StorageError, `expected StorageError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

describe('SqliteChainStore: schema and open', () => {
  test('creates folder, file and schema in WAL mode, with network and genesis in meta', () => {
    const path = freshPath();
    const store = SqliteChainStore.open(path, params);
    store.close();
    store.close(); // idempotent
    assert.ok(existsSync(path));
    const db = new Database(path, { readonly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      assert.deepEqual(tables, [
        'address_history',
        'address_stats',
        'block_index',
        'blocks',
        'main_chain',
        'meta',
        'spends',
        'tx_index',
        'undo',
        'utxo',
      ]);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      const meta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
      assert.equal(meta.get('genesis_hash'), params.genesisHashHex);
      assert.equal(meta.get('network'), 'regtest');
      assert.equal(meta.get('schema_version'), SCHEMA_VERSION);
      assert.equal(SCHEMA_VERSION, 3);
    } finally {
      db.close();
    }
  });

  test('a new store has no tip and an empty UTXO set', () => {
    const store = SqliteChainStore.open(freshPath(), params);
    try {
      assert.equal(store.getTipHash(), undefined);
      assert.equal(store.getTipHeight(), undefined);
      assert.equal(store.getMainChainHash(0), undefined);
      assert.equal(store.getUtxoCount(), 0);
      const digest = store.computeUtxoDigest();
      assert.equal(digest.txouts, 0);
      assert.equal(digest.height, -1);
      assert.equal(digest.hashSerialized, expectedDigestHex([]));
    } finally {
      store.close();
    }
  });

  test('reopen keeps the data; another network is refused with wrong-network', () => {
    const path = freshPath();
    const store = SqliteChainStore.open(path, params);
    initGenesis(store);
    connect1(store);
    const before = snapshot(store);
    store.close();

    assertStorageError(() => SqliteChainStore.open(path, devnet), 'wrong-network');

    const again = SqliteChainStore.open(path, params);
    try {
      assert.deepEqual(snapshot(again), before);
    } finally {
      again.close();
    }
  });

  test('a store of another schema version is refused', () => {
    const path = freshPath();
    SqliteChainStore.open(path, params).close();
    const db = new Database(path);
    db.prepare("UPDATE meta SET value = 999 WHERE key = 'schema_version'").run();
    db.close();
    assertStorageError(() => SqliteChainStore.open(path, params), 'schema-version');
  });

  /** The store at `path` records schema version 3, and opening it again runs (and logs) no upgrade. */
  function assertUpgradedOnce(path: string): void {
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(), 3);
    } finally {
      db.close();
    }
    const lines: string[] = [];
    SqliteChainStore.open(path, params, { log: (line) => lines.push(line) }).close();
    assert.deepEqual(lines, []);
  }

  test('a schema version 1 store is upgraded on open: address_stats is built from its rows, equal to the incremental one', () => {
    const path = freshPath();
    let store = SqliteChainStore.open(path, params);
    initGenesis(store);
    connect1(store);
    connect2(store);
    const expected = snapshot(store);
    store.close();
    // What cairn with schema version 1 left on disk: version 2's layout without the address_stats table.
    rewriteAsSchemaV1(path);

    assertStorageError(() => SqliteChainStore.open(path, params, { readonly: true }), 'schema-version');
    const lines: string[] = [];
    store = SqliteChainStore.open(path, params, { log: (line) => lines.push(line) });
    try {
      assert.deepEqual(snapshot(store), expected);
      assert.ok(lines.some((l) => l.includes('schema version 1 to 2')), lines.join('\n'));
      assert.ok(lines.some((l) => l.includes('schema version 2 to 3')), lines.join('\n'));
      assert.ok(lines.some((l) => /address stats index built: 3 scripts/.test(l)), lines.join('\n'));
      // The upgraded store keeps its stats incrementally: block 2 off and on again.
      disconnect2(store);
      assert.deepEqual(store.chainIndex.getAddressStats(B), stats(0, 0n, 0, 0n, 0));
      connect2(store);
      assert.deepEqual(snapshot(store), expected);
    } finally {
      store.close();
    }
    assertUpgradedOnce(path);
  });

  test('a schema version 2 store is upgraded on open: its UTXO set and tx index are rewritten with the same contents', () => {
    const path = freshPath();
    let store = SqliteChainStore.open(path, params);
    initGenesis(store);
    connect1(store);
    connect2(store);
    const expected = snapshot(store);
    store.close();
    const fresh = columnsOf(path);
    rewriteAsSchemaV2(path);
    assert.notDeepEqual(columnsOf(path), fresh);

    assertStorageError(() => SqliteChainStore.open(path, params, { readonly: true }), 'schema-version');
    const lines: string[] = [];
    store = SqliteChainStore.open(path, params, { log: (line) => lines.push(line) });
    try {
      assert.deepEqual(snapshot(store), expected);
      assert.ok(lines.some((l) => l.includes('schema version 2 to 3')), lines.join('\n'));
      assert.ok(!lines.some((l) => l.includes('schema version 1 to 2')), lines.join('\n'));
      // The upgraded store writes and deletes rows of the new layout: block 2 off and on again.
      disconnect2(store);
      assert.equal(store.chainIndex.getTxLocation(t2aId), undefined);
      assert.deepEqual(store.chainIndex.getAddressUtxos(C), []);
      connect2(store);
      assert.deepEqual(snapshot(store), expected);
    } finally {
      store.close();
    }
    assert.deepEqual(columnsOf(path), fresh);
    assertUpgradedOnce(path);
  });

  test("address UTXOs compare the script itself: a script with another script's script_key stays apart", () => {
    const store = SqliteChainStore.openMemory(params);
    try {
      initGenesis(store);
      connect1(store);
      connect2(store);
      const ofA = store.chainIndex.getAddressUtxos(A);
      assert.equal(ofA.length, 1);
      // Give C's coin A's key, as two scripts whose hashes share their first 6 bytes would have.
      const db = (store as unknown as { db: Database.Database }).db;
      const keyOfA = db.prepare('SELECT script_key FROM utxo WHERE script = ?').pluck().get(A);
      assert.equal(db.prepare('UPDATE utxo SET script_key = ? WHERE script = ?').run(keyOfA, C).changes, 1);
      assert.deepEqual(store.chainIndex.getAddressUtxos(A), ofA);
    } finally {
      store.close();
    }
  });

  test('read-only open reads an existing store, refuses writes, and refuses a file without a store', () => {
    const path = freshPath();
    const store = SqliteChainStore.open(path, params);
    initGenesis(store);
    connect1(store);
    const expected = snapshot(store);
    const reader = SqliteChainStore.open(path, params, { readonly: true });
    try {
      assert.deepEqual(snapshot(reader), expected);
      assert.throws(() => connect2(reader));
    } finally {
      reader.close();
      store.close();
    }
    const emptyPath = join(dir, `empty${++fileCounter}.sqlite`);
    new Database(emptyPath).close();
    assertStorageError(() => SqliteChainStore.open(emptyPath, params, { readonly: true }), 'not-initialized');
    assert.throws(() => SqliteChainStore.open(join(dir, 'missing.sqlite'), params, { readonly: true }));
  });
});

describe('SqliteChainStore: block index and block data', () => {
  test('entries round-trip through putBlockIndexEntry/loadBlockIndex, with 256-bit chainWork', () => {
    const store = SqliteChainStore.openMemory(params);
    try {
      const big: BlockIndexEntry = { ...entry1, chainWork: 2n ** 256n - 1n, status: BlockStatus.VALID_HEADER };
      const zero: BlockIndexEntry = { ...entry2, chainWork: 0n, status: BlockStatus.VALID_HEADER, txCount: 0 };
      store.putBlockIndexEntry(big);
      store.putBlockIndexEntry(zero);
      const byHeight = (): BlockIndexEntry[] => store.loadBlockIndex().sort((x, y) => x.height - y.height);
      assert.deepEqual(byHeight(), [big, zero]);

      store.updateBlockStatus([
        { hash: entry1.hash, status: BlockStatus.FAILED },
        { hash: entry2.hash, status: BlockStatus.FAILED_CHILD },
      ]);
      assert.deepEqual(
        byHeight().map((e) => e.status),
        [BlockStatus.FAILED, BlockStatus.FAILED_CHILD],
      );
      // An unknown hash fails the whole batch.
      assertStorageError(
        () =>
          store.updateBlockStatus([
            { hash: entry1.hash, status: BlockStatus.VALID_HEADER },
            { hash: NULL_BLOCK_HASH, status: 1 },
          ]),
        'not-found',
      );
      assert.equal(byHeight()[0]!.status, BlockStatus.FAILED);
      assertStorageError(() => store.putBlockIndexEntry({ ...entry1, chainWork: 2n ** 256n }), 'bad-argument');
    } finally {
      store.close();
    }
  });

  test('putBlock stores raw bytes and the entry; readBlock decodes them', () => {
    const store = SqliteChainStore.openMemory(params);
    try {
      assert.equal(store.readRawBlock(entry2.hash), undefined);
      assert.equal(store.readBlock(entry2.hash), undefined);
      const raw = encodeBlock(block2);
      store.putBlock(entry2, raw);
      assert.deepEqual(store.readRawBlock(entry2.hash), raw);
      assert.deepEqual(store.readBlock(entry2.hash), block2);
      assert.deepEqual(store.loadBlockIndex(), [entry2]);
    } finally {
      store.close();
    }
  });

  test('initGenesis records the tip once and only for this network', () => {
    const store = SqliteChainStore.openMemory(params);
    try {
      assertStorageError(() => store.initGenesis(entry1, encodeBlock(block1)), 'wrong-network');
      initGenesis(store);
      assert.deepEqual(store.getTipHash(), genesisEntry.hash);
      assert.equal(store.getTipHeight(), 0);
      assert.deepEqual(store.getMainChainHash(0), genesisEntry.hash);
      assert.deepEqual(store.readBlock(genesisEntry.hash), genesis);
      assert.equal(store.getUtxoCount(), 0);
      assert.equal(store.chainIndex.getTxLocation(computeTxid(genesis.txs[0]!)), undefined);
      assertStorageError(() => initGenesis(store), 'bad-update');
    } finally {
      store.close();
    }
  });
});

describe('SqliteChainStore: connect and disconnect', () => {
  test('connect applies the diff and indexes; disconnect restores the previous state exactly', () => {
    const path = freshPath();
    let store = SqliteChainStore.open(path, params);
    try {
      initGenesis(store);
      connect1(store);
      const state1 = chainState(store);
      const digest1 = store.computeUtxoDigest();
      assert.equal(digest1.height, 1);
      assert.deepEqual(digest1.bestBlock, entry1.hash);
      assert.equal(digest1.txouts, 1);
      assert.equal(digest1.totalAmount, 50n * COIN);
      assert.equal(digest1.hashSerialized, expectedDigestHex([{ outpoint: op(cb1Id, 0), coin: cb1Coin }]));
      assert.deepEqual(store.getCoin(op(cb1Id, 0)), cb1Coin);
      assert.equal(store.getCoin(op(cb1Id, 1)), undefined, 'OP_RETURN output is not a coin');
      assert.deepEqual(store.readUndo(entry1.hash), []);

      connect2(store);
      const state2 = snapshot(store);

      // UTXO set
      assert.deepEqual(store.getTipHash(), entry2.hash);
      assert.equal(store.getTipHeight(), 2);
      assert.deepEqual(
        [0, 1, 2, 3].map((h) => store.getMainChainHash(h)),
        [genesisEntry.hash, entry1.hash, entry2.hash, undefined],
      );
      assert.equal(store.getCoin(op(cb1Id, 0)), undefined);
      assert.equal(store.getCoin(op(t2aId, 0)), undefined, 'created and spent in the same block');
      assert.equal(store.getCoin(op(t2bId, 1)), undefined);
      for (const r of created2) assert.deepEqual(store.getCoin(r.outpoint), r.coin);
      assert.deepEqual(store.getCoins([op(cb2Id, 0), op(cb1Id, 0), op(t2bId, 0)]), [
        created2[0]!.coin,
        undefined,
        created2[2]!.coin,
      ]);
      // Repeated outpoints each get their answer; an index past the coins, or of another byte order, finds nothing.
      assert.deepEqual(store.getCoins([op(t2bId, 0), op(t2bId, 0), op(t2bId, 7), op(t2bId, 0x01000000), op(cb2Id, 0)]), [
        created2[2]!.coin,
        created2[2]!.coin,
        undefined,
        undefined,
        created2[0]!.coin,
      ]);
      assert.deepEqual(store.getCoins([]), []);
      // BIP-30 probes by txid: any output index counts; a txid one bit away from one with coins, or whose coins were
      // all spent, has none.
      const near = Uint8Array.from(t2bId);
      near[31]! ^= 1;
      const spentOnly = cb1Id;
      assert.deepEqual(
        store.findTxidsWithCoins([near as Txid, t2bId, spentOnly, cb2Id, t2bId]),
        [1, 3, 4],
      );
      assert.deepEqual(store.findTxidsWithCoins([]), []);
      assert.equal(store.getUtxoCount(), 3);
      const value = store.getCoin(op(cb2Id, 0))!.output.value;
      assert.equal(typeof value, 'bigint');

      // digest
      const digest2 = store.computeUtxoDigest();
      assert.notEqual(digest2.hashSerialized, digest1.hashSerialized);
      assert.equal(digest2.hashSerialized, expectedDigestHex(created2));
      assert.equal(digest2.txouts, 3);
      assert.equal(digest2.totalAmount, (25n + 29n + 19n) * COIN);
      assert.equal(digest2.height, 2);
      assert.deepEqual(digest2.bestBlock, entry2.hash);

      // undo and tx index
      assert.deepEqual(store.readUndo(entry2.hash), undo2);
      assert.deepEqual(store.chainIndex.getTxLocation(cb1Id), { txid: cb1Id, blockHash: entry1.hash, height: 1, position: 0 });
      assert.deepEqual(store.chainIndex.getTxLocation(cb2Id), { txid: cb2Id, blockHash: entry2.hash, height: 2, position: 0 });
      assert.deepEqual(store.chainIndex.getTxLocation(t2aId), { txid: t2aId, blockHash: entry2.hash, height: 2, position: 1 });
      assert.deepEqual(store.chainIndex.getTxLocation(t2bId), { txid: t2bId, blockHash: entry2.hash, height: 2, position: 2 });

      // spends
      assert.deepEqual(store.chainIndex.getSpend(op(cb1Id, 0)), {
        outpoint: op(cb1Id, 0),
        spendingTxid: t2aId,
        inputIndex: 0,
        height: 2,
      });
      assert.deepEqual(store.chainIndex.getSpend(op(t2aId, 0)), {
        outpoint: op(t2aId, 0),
        spendingTxid: t2bId,
        inputIndex: 0,
        height: 2,
      });
      assert.equal(store.chainIndex.getSpend(op(t2aId, 1)), undefined);
      assert.equal(store.chainIndex.getSpend(NULL_OUTPOINT), undefined, 'coinbase inputs are not spends');

      // address history: newest first, one row per (script, tx)
      const h = (txid: Hash256, height: number, position: number) => ({ txid, height, position });
      assert.deepEqual(store.chainIndex.getAddressHistory(A), [h(t2aId, 2, 1), h(cb1Id, 1, 0)]);
      assert.deepEqual(store.chainIndex.getAddressHistory(B), [h(t2bId, 2, 2), h(t2aId, 2, 1), h(cb2Id, 2, 0)]);
      assert.deepEqual(store.chainIndex.getAddressHistory(C), [h(t2bId, 2, 2)]);
      assert.deepEqual(store.chainIndex.getAddressHistory(OP_RETURN), []);
      assert.deepEqual(store.chainIndex.getAddressHistory(B, { limit: 2 }), [h(t2bId, 2, 2), h(t2aId, 2, 1)]);
      assert.deepEqual(store.chainIndex.getAddressHistory(B, { before: { height: 2, position: 1 } }), [h(cb2Id, 2, 0)]);
      assert.deepEqual(store.chainIndex.getAddressHistory(A, { before: { height: 2, position: 0 } }), [h(cb1Id, 1, 0)]);
      assert.deepEqual(store.chainIndex.getAddressHistory(B, { before: { height: 2, position: 2 }, limit: 1 }), [h(t2aId, 2, 1)]);
      assert.deepEqual(store.chainIndex.getAddressHistory(B, { limit: 0 }), []);
      assertStorageError(() => store.chainIndex.getAddressHistory(B, { limit: -1 }), 'bad-argument');

      // address utxos
      assert.deepEqual(store.chainIndex.getAddressUtxos(A), [created2[1]]);
      assert.deepEqual(store.chainIndex.getAddressUtxos(B), [created2[0]]);
      assert.deepEqual(store.chainIndex.getAddressUtxos(C), [created2[2]]);
      assert.deepEqual(store.chainIndex.getAddressUtxos(C, 0), []);

      // address stats (Esplora chain_stats): A funded by cb1 and t2a's change, spent by t2a; B funded by cb2 and t2a,
      // its t2a output spent by t2b in the same block; C funded by t2b; OP_RETURN outputs count nowhere.
      assert.deepEqual(store.chainIndex.getAddressStats(A), stats(2, 79n, 1, 50n, 2));
      assert.deepEqual(store.chainIndex.getAddressStats(B), stats(2, 45n, 1, 20n, 3));
      assert.deepEqual(store.chainIndex.getAddressStats(C), stats(1, 19n, 0, 0n, 1));
      assert.deepEqual(store.chainIndex.getAddressStats(OP_RETURN), stats(0, 0n, 0, 0n, 0));
      assert.equal(statsRowCount(store), 3);
      assert.equal(typeof store.chainIndex.getAddressStats(A).fundedTxoSum, 'bigint');

      // disconnect brings back exactly state 1
      disconnect2(store);
      assert.deepEqual(chainState(store), state1);
      assert.deepEqual(store.chainIndex.getAddressStats(A), stats(1, 50n, 0, 0n, 1));
      assert.deepEqual(store.chainIndex.getAddressStats(B), stats(0, 0n, 0, 0n, 0));
      assert.equal(statsRowCount(store), 1, "the rows block 2 created are deleted, not left at zero");
      assert.equal(store.loadBlockIndex().length, 3, 'index entries stay after a disconnect');
      assert.equal(store.computeUtxoDigest().hashSerialized, digest1.hashSerialized);
      assert.equal(store.readUndo(entry2.hash), undefined, 'undo rows are deleted on disconnect');

      // connect again, then close with no other call: the reopened store shows the new state
      connect2(store);
      store.close();
      store = SqliteChainStore.open(path, params);
      assert.deepEqual(snapshot(store), state2);
      assert.equal(store.computeUtxoDigest().hashSerialized, digest2.hashSerialized);

      // the utxo_count counter agrees with the table
      const db = new Database(path, { readonly: true });
      try {
        assert.equal(db.prepare('SELECT count(*) FROM utxo').pluck().get(), store.getUtxoCount());
      } finally {
        db.close();
      }
    } finally {
      store.close();
    }
  });

  test('connect refuses a block that does not build on the tip; disconnect refuses a non-tip or the genesis', () => {
    const store = SqliteChainStore.openMemory(params);
    try {
      assertStorageError(() => connect1(store), 'bad-update'); // no genesis yet
      initGenesis(store);
      assertStorageError(() => connect2(store), 'bad-update');
      connect1(store);
      assertStorageError(() => disconnect2(store), 'bad-update');
      assertStorageError(
        () =>
          store.disconnectBlock({
            entry: genesisEntry,
            block: genesis,
            txids: [computeTxid(genesis.txs[0]!)],
            removed: [],
            restored: [],
          }),
        'bad-update',
      );
      // txids or undo that do not match the block
      assertStorageError(
        () =>
          store.connectBlock({
            entry: entry2,
            block: block2,
            txids: [cb2Id],
            spent: [op(cb1Id, 0)],
            created: created2,
            undo: undo2,
          }),
        'bad-update',
      );
      assertStorageError(
        () =>
          store.connectBlock({
            entry: entry2,
            block: block2,
            txids: [cb2Id, t2aId, t2bId],
            spent: [op(cb1Id, 0)],
            created: created2,
            undo: [cb1Coin],
          }),
        'bad-update',
      );
      assertStorageError(() => connect1(store), 'bad-update'); // already the tip
    } finally {
      store.close();
    }
  });
});

describe('SqliteChainStore: atomicity', () => {
  const failures: { name: string; code: string; run: (store: ChainStore) => void }[] = [
    {
      name: 'a created coin that already exists (last in the list)',
      code: 'coin-exists',
      run: (store) =>
        store.connectBlock({
          entry: entry2,
          block: block2,
          txids: [cb2Id, t2aId, t2bId],
          spent: [op(cb1Id, 0)],
          created: [...created2, created2[0]!],
          undo: undo2,
        }),
    },
    {
      name: 'undo data whose encoding throws (after the UTXO writes)',
      code: 'bad-undo',
      run: (store) =>
        store.connectBlock({
          entry: entry2,
          block: block2,
          txids: [cb2Id, t2aId, t2bId],
          spent: [op(cb1Id, 0)],
          created: created2,
          undo: [cb1Coin, coin(out(B, 20n * COIN), -1, false)],
        }),
    },
    {
      name: 'a spent outpoint that is not in the set (last in the list)',
      code: 'missing-coin',
      run: (store) =>
        store.connectBlock({
          entry: entry2,
          block: block2,
          txids: [cb2Id, t2aId, t2bId],
          spent: [op(cb1Id, 0), op(t2aId, 0)],
          created: created2,
          undo: undo2,
        }),
    },
  ];

  for (const failure of failures) {
    test(`connectBlock with ${failure.name} applies nothing`, () => {
      const store = SqliteChainStore.open(freshPath(), params);
      try {
        initGenesis(store);
        connect1(store);
        const before = snapshot(store);
        assertStorageError(() => failure.run(store), failure.code);
        assert.deepEqual(snapshot(store), before);
        assert.equal(store.readRawBlock(entry2.hash), undefined);
        // The store is still usable: the correct update goes through.
        connect2(store);
        assert.equal(store.getUtxoCount(), 3);
      } finally {
        store.close();
      }
    });
  }

  test('beginConnectBlock: rollback applies nothing (after every write); commit applies the block; a failed write leaves no transaction', () => {
    const path = freshPath();
    const store = SqliteChainStore.open(path, params);
    try {
      initGenesis(store);
      connect1(store);
      const before = snapshot(store);
      const update2 = { entry: entry2, block: block2, txids: [cb2Id, t2aId, t2bId], spent: [op(cb1Id, 0)], created: created2, undo: undo2 };
      const pending = store.beginConnectBlock(update2);
      // Inside the open transaction the writes are visible to this connection only.
      assert.equal(store.getUtxoCount(), 3);
      const other = new Database(path, { readonly: true });
      try {
        assert.equal(other.prepare('SELECT count(*) FROM utxo').pluck().get(), 1, 'another connection sees the committed state');
      } finally {
        other.close();
      }
      assertStorageError(() => store.beginConnectBlock(update2), 'bad-update');
      pending.rollback();
      pending.rollback();
      assertStorageError(() => pending.commit(), 'bad-update');
      assert.deepEqual(snapshot(store), before);
      // A write that fails rolls its transaction back itself: the store takes the next update.
      assertStorageError(() => store.beginConnectBlock({ ...update2, spent: [op(t2aId, 0)] }), 'missing-coin');
      assert.deepEqual(snapshot(store), before);
      const again = store.beginConnectBlock(update2);
      again.commit();
      again.rollback();
      assert.equal(store.getUtxoCount(), 3);
      assert.equal(store.getTipHash()?.join(), entry2.hash.join());
    } finally {
      store.close();
    }
  });

  test('checkpoint moves committed writes from the write-ahead log into the database file once 1,000 rows or pages were written', () => {
    const path = freshPath();
    const store = SqliteChainStore.open(path, params);
    try {
      initGenesis(store);
      connect1(store);
      // The database file alone (copied without its -wal) lacks the commits until a checkpoint.
      const copyOfFile = (name: string): string => {
        const to = join(dirname(path), name);
        copyFileSync(path, to);
        return to;
      };
      const tipOf = (file: string): unknown => {
        const db = new Database(file, { readonly: true });
        try {
          return db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").pluck().get() === 0
            ? undefined
            : db.prepare("SELECT value FROM meta WHERE key = 'tip'").pluck().get();
        } finally {
          db.close();
        }
      };
      assert.equal(tipOf(copyOfFile('before.sqlite')), undefined);
      store.checkpoint(); // a few rows written so far: nothing to do yet
      assert.equal(tipOf(copyOfFile('early.sqlite')), undefined);
      store.putBlock(entry2, new Uint8Array(1_000 * 4096)); // 1,000 pages of block data
      store.checkpoint();
      assert.deepEqual(tipOf(copyOfFile('after.sqlite')), Buffer.from(entry1.hash));
      const memory = SqliteChainStore.openMemory(params);
      memory.checkpoint();
      memory.close();
    } finally {
      store.close();
    }
  });

  test('disconnectBlock that fails midway applies nothing', () => {
    const store = SqliteChainStore.open(freshPath(), params);
    try {
      initGenesis(store);
      connect1(store);
      connect2(store);
      const before = snapshot(store);
      assertStorageError(
        () =>
          store.disconnectBlock({
            entry: entry2,
            block: block2,
            txids: [cb2Id, t2aId, t2bId],
            removed: created2.map((r) => r.outpoint),
            restored: [{ outpoint: op(cb1Id, 0), coin: cb1Coin }, { outpoint: op(cb1Id, 0), coin: cb1Coin }],
          }),
        'coin-exists',
      );
      assert.deepEqual(snapshot(store), before);
      assertStorageError(
        () =>
          store.disconnectBlock({
            entry: entry2,
            block: block2,
            txids: [cb2Id, t2aId, t2bId],
            removed: [...created2.map((r) => r.outpoint), op(t2aId, 0)],
            restored: [{ outpoint: op(cb1Id, 0), coin: cb1Coin }],
          }),
        'missing-coin',
      );
      assert.deepEqual(snapshot(store), before);
    } finally {
      store.close();
    }
  });
});

describe('SqliteChainStore: UTXO digest', () => {
  /** A deterministic set of coins with varied txids, indexes, heights, flags, values and scripts (incl. long ones). */
  function syntheticCoins(): UtxoRecord[] {
    const records: UtxoRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      const txid = createHash('sha256').update(`tx${i % 700}`).digest();
      const p2tr = Uint8Array.of(0x51, 0x20, ...new Uint8Array(32).fill(i & 0xff));
      let script: Uint8Array = i % 3 === 0 ? p2wpkh(i & 0xff) : p2tr;
      if (i === 5) script = new Uint8Array(300).fill(7); // 3-byte compact size
      if (i === 6) script = new Uint8Array(70_000).fill(8); // larger than the store's hashing chunk
      records.push({
        outpoint: { txid: decodeTxid(txid), index: Math.floor(i / 700) + (i % 5) * 1000 },
        coin: coin(out(script, BigInt(i) * 12_345_678n + 1n), (i * 7) % 1000, i % 4 === 0),
      });
    }
    return records;
  }

  function storeWith(records: readonly UtxoRecord[]): SqliteChainStore {
    const store = SqliteChainStore.openMemory(params);
    initGenesis(store);
    store.connectBlock({ entry: entry1, block: block1, txids: [cb1Id], spent: [], created: records, undo: [] });
    return store;
  }

  test('matches an independent recomputation and does not depend on insertion order', () => {
    const records = syntheticCoins();
    const forward = storeWith(records);
    const backward = storeWith([...records].reverse());
    const shuffled = storeWith(records.filter((_r, i) => i % 2 === 0).concat(records.filter((_r, i) => i % 2 === 1)));
    try {
      const d = forward.computeUtxoDigest();
      assert.equal(d.hashSerialized, expectedDigestHex(records));
      assert.equal(d.txouts, records.length);
      assert.equal(d.totalAmount, records.reduce((sum, r) => sum + r.coin.output.value, 0n));
      assert.deepEqual(backward.computeUtxoDigest(), d);
      assert.deepEqual(shuffled.computeUtxoDigest(), d);
      assert.equal(forward.getUtxoCount(), records.length);
    } finally {
      forward.close();
      backward.close();
      shuffled.close();
    }
  });

  test('changes when any value, script, height, coinbase flag or outpoint changes', () => {
    const records = syntheticCoins().slice(0, 50);
    const k = 17;
    const r = records[k]!;
    const withCoin = (c: Coin): UtxoRecord[] => records.map((x, i) => (i === k ? { ...x, coin: c } : x));
    const { output, height, isCoinbase } = r.coin;
    const variants: UtxoRecord[][] = [
      records,
      withCoin(coin(out(output.scriptPubKey, output.value + 1n), height, isCoinbase)),
      withCoin(coin(out(p2wpkh(0x99), output.value), height, isCoinbase)),
      withCoin(coin(output, height + 1, isCoinbase)),
      withCoin(coin(output, height, !isCoinbase)),
      records.map((x, i) => (i === k ? { ...x, outpoint: { txid: x.outpoint.txid, index: x.outpoint.index + 1 } } : x)),
    ];
    const digests = variants.map((v) => {
      const store = storeWith(v);
      try {
        const d = store.computeUtxoDigest().hashSerialized;
        assert.equal(d, expectedDigestHex(v));
        return d;
      } finally {
        store.close();
      }
    });
    assert.equal(new Set(digests).size, variants.length, 'every change gives another digest');
  });
});

describe('SqliteChainStore: coin rows written in one statement per block', () => {
  test('keep values beyond 2^53, empty scripts and each coin its own script hash, exactly', () => {
    const store = SqliteChainStore.openMemory(params);
    try {
      initGenesis(store);
      const big = coin(out(A, 2n ** 53n + 1n), 1, true);
      const empty = coin(out(new Uint8Array(0), 7n), 1, true);
      const other = coin(out(B, 3n), 1, true);
      const created = [
        { outpoint: op(cb1Id, 0), coin: big },
        { outpoint: op(cb1Id, 2), coin: empty },
        { outpoint: op(cb1Id, 3), coin: other },
      ];
      store.connectBlock({ entry: entry1, block: block1, txids: [cb1Id], spent: [], created, undo: [] });
      assert.deepEqual(store.getCoins([op(cb1Id, 0), op(cb1Id, 1), op(cb1Id, 2), op(cb1Id, 3)]), [big, undefined, empty, other]);
      // Without the value beyond 2^53 the coins come packed in one row: the same coins, the scripts in an array of
      // their own (not a view of a shared pool).
      const packed = store.getCoins([op(cb1Id, 3), op(cb1Id, 1), op(cb1Id, 2), op(cb1Id, 3)]);
      assert.deepEqual(packed, [other, undefined, empty, other]);
      assert.equal(packed[0]!.output.scriptPubKey.buffer.byteLength, 2 * B.length + empty.output.scriptPubKey.length);
      assert.deepEqual(store.chainIndex.getAddressUtxos(A), [created[0]]);
      assert.deepEqual(store.chainIndex.getAddressUtxos(B), [created[2]]);
      assert.deepEqual(store.chainIndex.getAddressUtxos(new Uint8Array(0)), [created[1]]);
    } finally {
      store.close();
    }
  });
});

describe('SqliteChainStore: coins written in batches of many rows', () => {
  // More coins than two batches of the store's multi-row statements (32 rows), so every list runs through batches and
  // then row by row; the failures below sit inside a batch.
  const record = (label: string, index: number, value: bigint, height: number): UtxoRecord => ({
    outpoint: op(decodeTxid(createHash('sha256').update(label).digest()), index),
    coin: coin(out(index % 2 === 0 ? A : p2wpkh(index & 0xff), value), height, false),
  });
  const funded = Array.from({ length: 100 }, (_, i) => record(`funded${i % 40}`, i, BigInt(i) * 1_000n + 1n, 1));
  funded[7] = record('big', 7, 2n ** 53n + 3n, 1); // a value beyond 2^53, in a batch
  const spent = funded.slice(0, 70).map((r) => r.outpoint);
  const created = Array.from({ length: 80 }, (_, i) => record(`created${i}`, i, BigInt(i) + 5n, 2));
  const missing = op(decodeTxid(createHash('sha256').update('nowhere').digest()), 3);

  function fundedStore(): SqliteChainStore {
    const store = SqliteChainStore.open(freshPath(), params);
    initGenesis(store);
    store.connectBlock({ entry: entry1, block: block1, txids: [cb1Id], spent: [], created: funded, undo: [] });
    return store;
  }
  const connect = (store: ChainStore, s: readonly Outpoint[], c: readonly UtxoRecord[]): void =>
    store.connectBlock({ entry: entry2, block: block2, txids: [cb2Id, t2aId, t2bId], spent: [...s], created: [...c], undo: undo2 });
  const disconnect = (store: ChainStore, removed: readonly Outpoint[], restored: readonly UtxoRecord[]): void =>
    store.disconnectBlock({ entry: entry2, block: block2, txids: [cb2Id, t2aId, t2bId], removed: [...removed], restored: [...restored] });
  const replaced = <T>(list: readonly T[], changes: Record<number, T>): T[] =>
    list.map((x, i) => (i in changes ? changes[i]! : x));
  /** Asserts `fn` throws a StorageError `code` naming `outpoint`. */
  const assertFailsAt = (fn: () => unknown, code: string, outpoint: Outpoint): void => {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof StorageError, `expected StorageError, got ${String(err)}`);
      assert.equal(err.code, code);
      assert.ok(err.message.includes(formatOutpoint(outpoint)), `${err.message} names ${formatOutpoint(outpoint)}`);
      return true;
    });
  };

  test('connect and disconnect write the same rows as one statement per coin would', () => {
    const store = fundedStore();
    try {
      assert.deepEqual(store.getCoins(funded.map((r) => r.outpoint)), funded.map((r) => r.coin));
      assert.equal(store.computeUtxoDigest().hashSerialized, expectedDigestHex(funded));
      const stateBefore = chainState(store);
      // A created coin at an outpoint spent earlier in the same block is a new coin, as when written row by row.
      const respent = record('funded3', 3, 42n, 2);
      const created2 = replaced(created, { 50: respent });
      connect(store, spent, created2);
      const after = [...funded.slice(70), ...created2];
      assert.equal(store.computeUtxoDigest().hashSerialized, expectedDigestHex(after));
      assert.equal(store.getUtxoCount(), after.length);
      assert.deepEqual(store.getCoins(spent).filter((c) => c !== undefined), [respent.coin]);
      assert.deepEqual(store.chainIndex.getAddressUtxos(A).length, after.filter((r) => r.coin.output.scriptPubKey === A).length);
      disconnect(store, created2.map((r) => r.outpoint), funded.slice(0, 70));
      assert.deepEqual(chainState(store), stateBefore);
    } finally {
      store.close();
    }
  });

  test('a failure inside a batch applies nothing and names the outpoint the row-by-row writes would have named', () => {
    const store = fundedStore();
    try {
      const before = snapshot(store);
      const stateBefore = chainState(store);
      // The first spent outpoint not in the set, or spent twice.
      assertFailsAt(() => connect(store, replaced(spent, { 40: missing }), created), 'missing-coin', missing);
      assertFailsAt(() => connect(store, replaced(spent, { 45: spent[10]! }), created), 'missing-coin', spent[10]!);
      assertFailsAt(() => connect(store, replaced(spent, { 33: missing, 50: spent[2]! }), created), 'missing-coin', missing);
      // The first created outpoint that holds a coin (one not spent before it), or is created twice; the deletes
      // come first.
      assertFailsAt(() => connect(store, spent, replaced(created, { 40: funded[90]! })), 'coin-exists', funded[90]!.outpoint);
      assertFailsAt(() => connect(store, spent, replaced(created, { 20: created[5]! })), 'coin-exists', created[5]!.outpoint);
      // Past the last whole batch (coins 64 onwards go one row per statement).
      assertFailsAt(() => connect(store, spent, replaced(created, { 70: funded[95]! })), 'coin-exists', funded[95]!.outpoint);
      assertFailsAt(() => connect(store, replaced(spent, { 66: spent[65]! }), created), 'missing-coin', spent[65]!);
      assertFailsAt(
        () => connect(store, spent, replaced(created, { 35: created[60]!, 36: funded[80]! })),
        'coin-exists',
        funded[80]!.outpoint,
      );
      assertFailsAt(() => connect(store, replaced(spent, { 65: missing }), replaced(created, { 1: funded[99]! })), 'missing-coin', missing);
      assert.deepEqual(snapshot(store), before);
      // The store takes the correct update, and its disconnect fails the same way before it goes through.
      connect(store, spent, created);
      const connected = snapshot(store);
      const removed = created.map((r) => r.outpoint);
      const restored = funded.slice(0, 70);
      assertFailsAt(() => disconnect(store, replaced(removed, { 38: missing }), restored), 'missing-coin', missing);
      assertFailsAt(() => disconnect(store, removed, replaced(restored, { 41: funded[75]! })), 'coin-exists', funded[75]!.outpoint);
      assert.deepEqual(snapshot(store), connected);
      disconnect(store, removed, restored);
      assert.deepEqual(chainState(store), stateBefore);
    } finally {
      store.close();
    }
  });
});
