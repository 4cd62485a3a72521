import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { regtest } from '../params/networks.js';
import { AddressBook, DEFAULT_GAP_LIMIT } from './addressBook.js';
import { HdAccount, mnemonicToWalletSeed, type DerivedAddress } from './hdAccount.js';

const SEED = mnemonicToWalletSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about');
const ACCOUNT = HdAccount.fromSeed(SEED, regtest, 'p2wpkh');

/** An isUsed that answers from sets of used indexes per chain and records every address it was asked about. */
function fakeChain(usedReceive: readonly number[], usedChange: readonly number[]) {
  const asked: DerivedAddress[] = [];
  const isUsed = async (script: Uint8Array, a: DerivedAddress): Promise<boolean> => {
    asked.push(a);
    assert.deepEqual(script, a.scriptPubKey);
    return (a.chain === 0 ? usedReceive : usedChange).includes(a.index);
  };
  return { isUsed, asked };
}

test('discovery stops after gap-limit consecutive unused addresses on each chain and tracks the next indexes', async () => {
  const book = new AddressBook(ACCOUNT);
  assert.equal(book.gapLimit, DEFAULT_GAP_LIMIT);
  const { isUsed, asked } = fakeChain([0, 3, 22], [0, 1]);
  const found = await book.discover(isUsed);
  // 22 is within 20 of 3 (indexes 4..21 are 18 unused), so it is found; then 23..42 end the scan.
  assert.deepEqual(found.receive, { highestUsed: 22, scanned: 43 });
  assert.deepEqual(found.change, { highestUsed: 1, scanned: 22 });
  assert.equal(asked.length, 43 + 22);
  assert.equal(book.nextReceiveIndex, 23);
  assert.equal(book.nextChangeIndex, 2);
  assert.equal(book.getChangeAddress().index, 2);
  assert.equal(book.getChangeAddress().chain, 1);
  // Beyond the gap: a use at 24 after 0 is not found with gap 20.
  const far = new AddressBook(ACCOUNT);
  const r = await far.discover(fakeChain([0, 24], []).isUsed);
  assert.equal(r.receive.highestUsed, 0);
  assert.equal(r.change.highestUsed, -1);
  assert.equal(far.nextReceiveIndex, 1);
});

test('discovery asks exactly highestUsed + 1 + gap addresses per chain, whatever the concurrency (property)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 6 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 12 }),
      async (used, gap, concurrency) => {
        const book = new AddressBook(ACCOUNT, { gapLimit: gap, concurrency });
        const { isUsed, asked } = fakeChain(used, []);
        const found = await book.discover(isUsed);
        // Reference: walk the indexes one by one.
        let highest = -1;
        for (let i = 0, run = 0; run < gap; i++) {
          if (used.includes(i)) {
            highest = i;
            run = 0;
          } else run++;
        }
        assert.equal(found.receive.highestUsed, highest);
        assert.equal(asked.filter((a) => a.chain === 0).length, highest + 1 + gap);
        assert.equal(asked.filter((a) => a.chain === 1).length, gap);
        // Every address up to the end of the gap window is known to lookup.
        for (let i = 0; i <= highest + gap; i++) assert.equal(book.lookup(ACCOUNT.deriveAddress(0, i).scriptPubKey)?.index, i);
      },
    ),
    { numRuns: 60 },
  );
});

test('newReceiveAddress hands out a fresh address each call, never a used one; markUsed moves the change index', async () => {
  const book = new AddressBook(ACCOUNT, { gapLimit: 5 });
  await book.discover(fakeChain([0, 1], []).isUsed);
  const a = book.newReceiveAddress();
  const b = book.newReceiveAddress();
  assert.deepEqual([a.index, b.index], [2, 3]);
  assert.equal(a.address, ACCOUNT.deriveAddress(0, 2).address);
  // Handed-out addresses stay known to lookup past the gap window.
  for (let i = 0; i < 10; i++) book.newReceiveAddress();
  assert.ok(book.lookup(ACCOUNT.deriveAddress(0, 16).scriptPubKey));
  book.markUsed(1, 0);
  assert.equal(book.getChangeAddress().index, 1);
  // A later discovery that sees less (e.g. after a reorg) does not lower what was used.
  await book.discover(fakeChain([], []).isUsed);
  assert.equal(book.getChangeAddress().index, 1);
  assert.equal(book.nextReceiveIndex, 2);
  assert.equal(book.lookup(new Uint8Array(22)), undefined);
  assert.throws(() => new AddressBook(ACCOUNT, { gapLimit: 0 }));
});
