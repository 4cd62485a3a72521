import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DevnetSnapshot, NodeStatusRow } from '../devnet/devnet.js';
import { formatDevnetStatusLine, formatDevnetTable, formatLeftoversFound, formatLeftoversStopped } from './devnetCommand.js';

const up = (name: string, height: number, tip: string): NodeStatusRow => ({
  name,
  state: 'up',
  pid: 100,
  lastExit: undefined,
  restartInSec: undefined,
  restarts: 0,
  gauges: { height, tipTimeSec: 0, mempoolTxs: 3, peers: 2, hashesPerSecond: 5_120_000 },
  tipHash: tip,
  lastBlockAgeSec: 4,
  txsConfirmed: 17,
});

test('devnet table: one row per node, crashed nodes say so, tips and wallet lines', () => {
  const snapshot: DevnetSnapshot = {
    nodes: [
      up('node1', 152, '00000012ab34cd56ffff'),
      up('node2', 152, '00000012ab34cd56ffff'),
      { ...up('node3', 0, ''), state: 'restarting', gauges: undefined, tipHash: undefined, lastExit: { code: 1, signal: null, atMs: 0 }, restartInSec: 4, restarts: 2 },
    ],
    distinctTips: 1,
    wallet: { state: 'sending', sent: 120, confirmed: 115, failed: 0, dropped: 0, pending: 5, confirmedByNode: [60, 55, 0], spendableSats: 123_450_000_000n, immatureSats: 25_000_000_000n, tipHeight: 152 },
    collector: { state: 'running', pid: 200 },
  };
  const lines = formatDevnetTable(snapshot);
  assert.equal(lines.length, 6);
  assert.match(lines[0]!, /^node\s+state\s+height\s+tip\s+peers\s+mempool\s+hash rate\s+last block\s+txs confirmed$/);
  assert.match(lines[1]!, /^node1\s+up\s+152\s+00000012ab34cd56\s+2\s+3\s+5\.12 MH\/s\s+4s ago\s+17$/);
  assert.match(lines[3]!, /^node3\s+crashed \(exit code 1\), restart in 4s\s+-/);
  assert.equal(lines[4], '2/3 nodes up, on one tip | log collector: running');
  assert.equal(lines[5], 'demo wallet: sending | 1,234.50 coins spendable, 250.00 immature | txs sent 120, confirmed 115, pending 5, refused 0');
  const plain = formatDevnetStatusLine(snapshot);
  assert.match(plain, /heights 152\/152\/- \| one tip \| peers 2\/2\/- \| mempool 3\/3\/- \| node3 restarting \| demo txs sent 120 confirmed 115 pending 5 refused 0$/);
});

test('leftovers of an earlier devnet: what was found before the wait, what was done after it', () => {
  const found = [
    { name: 'node1', pid: 4242 },
    { name: 'log-collector', pid: 4250 },
  ];
  assert.equal(
    formatLeftoversFound(found, '/tmp/dn', 4200, 30_000),
    'found node1 (pid 4242), log-collector (pid 4250) of an earlier cairn devnet on /tmp/dn still running, though its supervisor (pid 4200) is gone; stopping them: SIGINT, then SIGKILL after 30 s…',
  );
  assert.equal(
    formatLeftoversStopped([{ ...found[0]!, outcome: 'stopped' }, { ...found[1]!, outcome: 'killed' }], 30_000),
    'stopped node1 (pid 4242) (ended on SIGINT); killed log-collector (pid 4250) (still running 30 s after SIGINT)',
  );
  assert.equal(formatLeftoversStopped([{ ...found[1]!, outcome: 'stopped' }], 30_000), 'stopped log-collector (pid 4250) (ended on SIGINT)');
});
