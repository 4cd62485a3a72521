import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { centsToPrice } from './demoTraders.js';
import { devnetExchangeRecord, exchangeServeArgs, formatExchangeLine, formatExchangeStatusPart } from './devnetExchange.js';
import { signQuery } from './exchangeClient.js';

test('signQuery: the HMAC-SHA256 of the example in Binance spot API "SIGNED endpoint examples"', () => {
  const secret = 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j';
  const query = 'symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559';
  assert.equal(signQuery(query, secret), 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71');
});

test('devnetExchangeRecord and exchangeServeArgs: URLs, data dir, log dir and the serve command line', () => {
  const r = devnetExchangeRecord('/tmp/dn', 28735, 42);
  assert.deepEqual(r, {
    url: 'http://127.0.0.1:28735',
    restBase: 'http://127.0.0.1:28735/api/v3/',
    wsUrl: 'ws://127.0.0.1:28735',
    port: 28735,
    datadir: join('/tmp/dn', 'exchange'),
    adminTokenFile: join('/tmp/dn', 'exchange', 'admin.token'),
    logDir: join('/tmp/dn', 'exchange', 'logs'),
    consoleLog: join('/tmp/dn', 'exchange.console.log'),
    symbol: 'CRNUSD',
    pid: 42,
  });
  assert.deepEqual(exchangeServeArgs(r, 'devnet', 'info', 'http://127.0.0.1:28730/api/'), [
    'exchange', 'serve', '--network', 'devnet', '--datadir', r.datadir, '--port', '28735', '--log-dir', r.logDir, '--log-level', 'info', '--ip-limit', '0',
    '--node-url', 'http://127.0.0.1:28730/api',
  ]);
});

test('formatExchangeLine: last price, orders/s, top of book with levels, trades, refusals; funding progress; deposits and withdrawals "—" before the bridge counts', () => {
  const traders = { state: 'trading' as const, ordersSent: 300, ordersPerSec: 3, refused: 2, errors: 0 };
  const base = { state: 'up', pid: 7, url: 'http://127.0.0.1:28735', symbol: 'CRNUSD', traders };
  const market = { lastPrice: '100.25', trades24h: 120, bidLevels: 4, askLevels: 1, bestBid: '100.15', bestAsk: '100.35' };
  assert.equal(
    formatExchangeLine({ ...base, market }),
    'exchange CRNUSD http://127.0.0.1:28735/api/v3/: up | last 100.25 | 3.0 orders/s | bid 100.15 × 4 levels, ask 100.35 × 1 level | ' +
      'trades 24h 120 | demo traders: trading, orders 300, refused 2 | deposits credited —, withdrawals confirmed —',
  );
  assert.equal(
    formatExchangeLine({ ...base, state: 'starting', market: undefined, traders: { ...traders, state: 'waiting', ordersPerSec: 0, errors: 5 } }),
    'exchange CRNUSD http://127.0.0.1:28735/api/v3/: starting | last - | 0.0 orders/s | book - | trades 24h - | ' +
      'demo traders: waiting, orders 300, refused 2, errors 5 | deposits credited —, withdrawals confirmed —',
  );
  assert.equal(formatExchangeStatusPart({ ...base, market }), 'exchange up last 100.25 3.0 orders/s top 100.15/100.35 trades24h 120 refused 2 deposits -');
  // Real deposits: the traders wait for theirs (funding), then the bridge's counts replace the dashes.
  const funding = { ...traders, state: 'funding' as const, funding: 'deposit 1/3', ordersSent: 0, ordersPerSec: 0, refused: 0, depositsCredited: 1, withdrawalsConfirmed: 0 };
  assert.equal(
    formatExchangeLine({ ...base, market: undefined, traders: funding }),
    'exchange CRNUSD http://127.0.0.1:28735/api/v3/: up | last - | 0.0 orders/s | book - | trades 24h - | ' +
      'demo traders: funding (deposit 1/3), orders 0, refused 0 | deposits credited 1, withdrawals confirmed 0',
  );
  assert.equal(formatExchangeStatusPart({ ...base, market: undefined, traders: funding }), 'exchange up last - 0.0 orders/s top -/- trades24h - refused 0 deposits 1 funding deposit 1/3');
});

test('centsToPrice: whole cents as a price of the 0.01 grid, exactly', () => {
  assert.equal(centsToPrice(10_025), '100.25');
  assert.equal(centsToPrice(5_000), '50.00');
  assert.equal(centsToPrice(7), '0.07');
});
