/**
 * The bridge store's RBF bookkeeping on a real SQLite file: a replacement takes over the withdrawals and marks every
 * input it spends; when the original confirms after all, the withdrawals follow the original again and the coin only
 * the replacement spent is free; a reorg of that block unconfirms the batch but keeps its inputs reserved for it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BridgeStore } from './bridgeStore.js';

const T = (c: string): string => c.repeat(64);

test('bridge store: the original of a bumped batch confirms; withdrawals follow it, the extra coin is freed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bridge-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = BridgeStore.open(join(dir, 'bridge.sqlite'));
  t.after(() => store.close());
  const deposit = (txid: string) => ({ txid, vout: 0, valueSats: 100_000n, userId: 1, chain: 0 as const, index: 0, isCoinbase: false });
  store.connectBlocks([
    { block: { height: 1, hash: T('1') }, outputs: [deposit(T('a'))], spends: [], txids: [T('a')] },
    { block: { height: 2, hash: T('2') }, outputs: [deposit(T('b'))], spends: [], txids: [T('b')] },
  ]);
  assert.deepEqual(store.getCursor(), { height: 2, hash: T('2') });
  store.insertWithdrawal({ id: 'w-1-x', userId: 1, clientId: 'x', address: 'rcrn1q', amountSats: 50_000n, feeSats: 1_000n, createdMs: 1 });
  store.setWithdrawalLocked('w-1-x');
  store.insertBatch({ txid: T('c'), rawHex: '00', networkFeeSats: 200n, createdMs: 2 }, ['w-1-x'], [{ txid: T('a'), vout: 0 }]);
  assert.throws(() => store.insertBatch({ txid: T('9'), rawHex: '00', networkFeeSats: 1n, createdMs: 2 }, [], [{ txid: T('a'), vout: 0 }]), /already spent/);
  store.setBatchBroadcast(T('c'));
  // The bump adds coin b.
  store.replaceBatch(T('c'), { txid: T('d'), rawHex: '01', networkFeeSats: 900n, createdMs: 3 }, [{ txid: T('a'), vout: 0 }, { txid: T('b'), vout: 0 }]);
  assert.equal(store.getWithdrawal('w-1-x')!.batchTxid, T('d'));
  assert.deepEqual([store.getOutput(T('a'), 0)!.spentBy, store.getOutput(T('b'), 0)!.spentBy], [T('d'), T('d')]);
  assert.deepEqual(store.listOpenBatches().map((b) => [b.txid, b.replaces]), [[T('d'), T('c')]]);
  assert.throws(() => store.replaceBatch(T('c'), { txid: T('e'), rawHex: '02', networkFeeSats: 1n, createdMs: 4 }, []), /already replaced/);
  // The original wins the race.
  store.connectBlock({ block: { height: 3, hash: T('3') }, outputs: [], spends: [{ txid: T('a'), vout: 0, spentBy: T('c') }], txids: [T('c')] });
  assert.equal(store.getWithdrawal('w-1-x')!.batchTxid, T('c'));
  assert.deepEqual([store.getOutput(T('a'), 0)!.spentBy, store.getOutput(T('b'), 0)!.spentBy], [T('c'), null]);
  assert.deepEqual(store.listSpendableOutputs().map((o) => o.txid), [T('b')]);
  assert.deepEqual(store.listOpenBatches().map((b) => [b.txid, b.height]), [[T('c'), 3]]);
  // A reorg takes block 3 away: the batch is unconfirmed, its input stays reserved for it.
  assert.equal(store.disconnectAbove(2), 1);
  assert.deepEqual(store.listOpenBatches().map((b) => [b.txid, b.height]), [[T('c'), null]]);
  assert.equal(store.getOutput(T('a'), 0)!.spentBy, T('c'));
  assert.deepEqual(store.getCursor(), { height: 2, hash: T('2') });
});
