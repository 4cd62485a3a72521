import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DevnetSnapshot } from '../devnet/devnet.js';
import { formatDevnetStatusLine, formatDevnetTable } from './devnetCommand.js';

const base: DevnetSnapshot = {
  nodes: [],
  distinctTips: 0,
  wallet: { state: 'off', sent: 0, confirmed: 0, failed: 0, dropped: 0, pending: 0, confirmedByNode: [], spendableSats: 0n, immatureSats: 0n, tipHeight: -1 },
  collector: undefined,
};

test('devnet table and status line: an exchange line when the devnet runs the exchange, none otherwise', () => {
  const without = formatDevnetTable(base);
  assert.ok(without.every((l) => !l.startsWith('exchange')), without.join('\n'));
  assert.ok(!formatDevnetStatusLine(base).includes('exchange'));

  const snapshot: DevnetSnapshot = {
    ...base,
    exchange: {
      state: 'up',
      pid: 300,
      url: 'http://127.0.0.1:28735',
      symbol: 'CRNUSD',
      market: { lastPrice: '98.42', trades24h: 16, bidLevels: 4, askLevels: 3, bestBid: '98.42', bestAsk: '98.52' },
      traders: { state: 'trading', ordersSent: 120, ordersPerSec: 2.7, refused: 1, errors: 0 },
    },
  };
  const lines = formatDevnetTable(snapshot);
  assert.equal(lines.length, without.length + 1);
  assert.equal(
    lines[lines.length - 1],
    'exchange CRNUSD http://127.0.0.1:28735/api/v3/: up | last 98.42 | 2.7 orders/s | bid 98.42 × 4 levels, ask 98.52 × 3 levels | trades 24h 16 | ' +
      'demo traders: trading, orders 120, refused 1 | deposits credited —, withdrawals confirmed —',
  );
  assert.match(formatDevnetStatusLine(snapshot), / \| exchange up last 98\.42 2\.7 orders\/s top 98\.42\/98\.52 trades24h 16 refused 1 deposits -$/);
});
