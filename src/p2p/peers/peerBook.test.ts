import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BAN_THRESHOLD, PeerBook } from './peerBook.js';

test('scores add up; the offence that reaches the threshold bans, once', () => {
  let now = 1_000_000;
  const book = new PeerBook(60_000, undefined, () => now);
  assert.deepEqual(book.misbehave('peerA', 10, 'request flood'), { score: 10, banned: false });
  assert.equal(book.isBanned('peerA'), false);
  assert.deepEqual(book.misbehave('peerA', 90, 'invalid block'), { score: 100, banned: true });
  assert.equal(book.isBanned('peerA'), true);
  assert.equal(book.misbehave('peerA', 100, 'again').banned, false, 'a banned peer is not banned twice');
  assert.equal(book.isBanned('peerB'), false);
  assert.deepEqual(book.listBanned().map((b) => [b.peerId, b.reason]), [['peerA', 'invalid block']]);
  now += 60_001;
  assert.equal(book.isBanned('peerA'), false, 'the ban expires');
  assert.equal(book.score('peerA'), 0);
});

test('one invalid block (score 100) bans at once', () => {
  const book = new PeerBook();
  assert.equal(book.misbehave('p', BAN_THRESHOLD, 'bad-cb-amount').banned, true);
});

test('bans survive a restart through banlist.json; unban lifts them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-banlist-'));
  try {
    const file = join(dir, 'banlist.json');
    const book = new PeerBook(3_600_000, file);
    book.misbehave('peerX', 100, 'oversized headers request');
    assert.ok(statSync(file).size > 0);
    const reopened = new PeerBook(3_600_000, file);
    assert.equal(reopened.isBanned('peerX'), true);
    assert.equal(reopened.listBanned()[0]?.reason, 'oversized headers request');
    assert.equal(reopened.unban('peerX'), true);
    assert.equal(new PeerBook(3_600_000, file).isBanned('peerX'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
