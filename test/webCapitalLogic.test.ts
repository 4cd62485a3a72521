/**
 * The deposit and withdraw panels' pure logic under Node (web/src/capitalLogic.ts): every deposit and withdrawal state
 * the chain bridge answers reads as a person expects — including a reversed deposit and a failed withdrawal, which the
 * browser test (test/webCapital.test.ts) cannot reach without a reorg — and "Max" is the balance less the fee, exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coinsToSats, depositStatusText, maxWithdrawalSats, withdrawalStatusText } from '../web/src/capitalLogic.js';

test('deposit states: pending with n/N from the mempool and while confirming, credited, reversed', () => {
  assert.equal(depositStatusText({ state: 'seen', confirmTimes: '0/3' }), 'pending · confirmations 0/3');
  assert.equal(depositStatusText({ state: 'confirming', confirmTimes: '2/3' }), 'pending · confirmations 2/3');
  assert.equal(depositStatusText({ state: 'credited', confirmTimes: '3/3' }), 'credited');
  assert.equal(depositStatusText({ state: 'dropped', confirmTimes: '0/3' }), 'reversed (the transaction left the chain)');
});

test('withdrawal states: waiting, sent with n/N capped at N, completed, failed with the reason without its code', () => {
  assert.equal(withdrawalStatusText({ state: 'requested', confirmNo: 0 }, 2), 'requested · waiting for the next batch');
  assert.equal(withdrawalStatusText({ state: 'signed', confirmNo: 0 }, 2), 'signed · being sent');
  assert.equal(withdrawalStatusText({ state: 'broadcast', confirmNo: 0 }, 2), 'sent · confirmations 0/2');
  assert.equal(withdrawalStatusText({ state: 'confirmed', confirmNo: 1 }, 2), 'sent · confirmations 1/2');
  assert.equal(withdrawalStatusText({ state: 'confirmed', confirmNo: 5 }, 2), 'sent · confirmations 2/2');
  assert.equal(withdrawalStatusText({ state: 'confirmed', confirmNo: 1 }, undefined), 'sent · confirmations 1', 'terms not loaded yet');
  assert.equal(withdrawalStatusText({ state: 'completed', confirmNo: 2 }, 2), 'completed');
  assert.equal(withdrawalStatusText({ state: 'failed', confirmNo: 0, info: 'INSUFFICIENT_BALANCE: Account has insufficient balance for requested action.' }, 2), 'failed: Account has insufficient balance for requested action.');
  assert.equal(withdrawalStatusText({ state: 'failed', confirmNo: 0 }, 2), 'failed');
});

test('max withdrawal: available less the fee, exact in sats; 0 when the fee is not covered; unknown until both are known', () => {
  assert.equal(maxWithdrawalSats('1.49990000', '0.00010000'), 149_980_000n);
  // Past 2^53 sats a float would round; bigint does not.
  assert.equal(maxWithdrawalSats('90071992.54740993', '0.00000001'), 9_007_199_254_740_992n);
  assert.equal(maxWithdrawalSats('0.00010000', '0.00010000'), 0n);
  assert.equal(maxWithdrawalSats('0.00000000', '0.00010000'), 0n);
  assert.equal(maxWithdrawalSats(undefined, '0.00010000'), undefined);
  assert.equal(maxWithdrawalSats('1', undefined), undefined);
  assert.equal(coinsToSats('lots'), undefined);
  assert.equal(coinsToSats('0.5'), 50_000_000n);
});
