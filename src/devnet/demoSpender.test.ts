import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressError } from '../crypto/address.js';
import { devnet, regtest } from '../params/networks.js';
import { DemoPaymentError, DemoSpender } from './demoSpender.js';
import { openDemoWallet } from './demoWallet.js';

test('DemoSpender.pay: refuses another network\'s address and a stopped wallet; a payment waiting for a node is rejected on stop', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-demo-spender-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { keys } = openDemoWallet(join(dir, 'demo-wallet.json'), devnet, 2);
  const other = openDemoWallet(join(dir, 'regtest-wallet.json'), regtest, 1).keys.miningAddress(0).address;
  const target = keys.demoAddresses[0]!.address;
  // No node answers: the spender never learns a tip, so a payment waits in its queue.
  const spender = new DemoSpender({ params: devnet, txRate: 0, nodeCount: 2 }, { keys, nodes: () => [] });
  await assert.rejects(spender.pay(target, 1n), (e: unknown) => e instanceof DemoPaymentError && e.code === 'stopped');
  spender.start();
  assert.throws(() => spender.pay(other, 1n), AddressError);
  const waiting = spender.pay(target, 20n * 100_000_000n);
  const outcome = waiting.then(() => 'paid', (e: unknown) => (e instanceof DemoPaymentError ? e.code : String(e)));
  await spender.stop();
  assert.equal(await outcome, 'stopped');
  assert.equal(spender.getStats().state, 'off');
});
