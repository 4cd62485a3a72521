import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNodeGauges } from './nodeHttp.js';

test('parseNodeGauges: reads the cairn gauges of a Prometheus exposition, NaN when missing', () => {
  const text = [
    '# HELP cairn_chain_height Height of the main-chain tip',
    '# TYPE cairn_chain_height gauge',
    'cairn_chain_height 152',
    'cairn_chain_tip_timestamp_seconds 1795280914',
    'cairn_mempool_transactions 4',
    'cairn_peers 2',
    'cairn_hashrate_hashes_per_second 5123456.5',
    'cairn_http_requests_total{route="/api/tx",status="200"} 7',
    'process_cpu_seconds_total 1.5',
  ].join('\n');
  assert.deepEqual(parseNodeGauges(text), { height: 152, tipTimeSec: 1795280914, mempoolTxs: 4, peers: 2, hashesPerSecond: 5123456.5 });
  assert.ok(Number.isNaN(parseNodeGauges('cairn_peers 1\n').height));
});
