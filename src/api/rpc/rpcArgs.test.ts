import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAmountArg, parseBlockHashArg, parseFeeRateArg, parseTxidArg, parseVerbosityArg } from './rpcArgs.js';
import { RpcError } from './rpcError.js';

/** Asserts an RpcError with Core's code and message. */
function throwsRpc(fn: () => unknown, code: number, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RpcError);
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

test('parseAmountArg: coins as numbers or strings, 8 decimals at most, within the money range (Core AmountFromValue)', () => {
  // 1 coin = 100,000,000 sats (DESIGN.md); Core's examples: 0.1 BTC, 1e-8 BTC (one satoshi).
  assert.equal(parseAmountArg(0.1), 10_000_000n);
  assert.equal(parseAmountArg('0.1'), 10_000_000n);
  assert.equal(parseAmountArg(1e-8), 1n);
  assert.equal(parseAmountArg(50), 5_000_000_000n);
  assert.equal(parseAmountArg('21000000'), 2_100_000_000_000_000n);
  assert.equal(parseAmountArg('0.10000000000'), 10_000_000n, 'trailing zeros beyond 8 decimals are fine');
  throwsRpc(() => parseAmountArg('0.123456789'), -3, 'Invalid amount');
  assert.equal(parseAmountArg('1e3'), 100_000_000_000n, 'Core ParseFixedPoint takes an exponent in a string too');
  throwsRpc(() => parseAmountArg('1e-9'), -3, 'Invalid amount');
  throwsRpc(() => parseAmountArg('abc'), -3, 'Invalid amount');
  throwsRpc(() => parseAmountArg(true), -3, 'Amount is not a number or string');
  throwsRpc(() => parseAmountArg(-1), -3, 'Amount out of range');
  throwsRpc(() => parseAmountArg('21000000.00000001'), -3, 'Amount out of range');
});

test('parseFeeRateArg: coins/kvB below 1 (Core ParseFeeRate)', () => {
  assert.equal(parseFeeRateArg(0.1), 10_000_000n);
  assert.equal(parseFeeRateArg(0), 0n);
  throwsRpc(() => parseFeeRateArg(1), -8, 'Fee rates larger than or equal to 1BTC/kvB are not accepted');
});

test('parseTxidArg / parseBlockHashArg: Core ParseHashV messages; display hex is reversed into internal order', () => {
  for (const parse of [parseTxidArg, parseBlockHashArg]) {
    const hash = parse('00'.repeat(31) + 'ff', 'txid');
    assert.equal(hash[0], 0xff);
    assert.equal(hash[31], 0);
    throwsRpc(() => parse('abc', 'txid'), -8, "txid must be of length 64 (not 3, for 'abc')");
    throwsRpc(() => parse('g'.repeat(64), 'txid'), -8, `txid must be hexadecimal string (not '${'g'.repeat(64)}')`);
  }
});

test('parseVerbosityArg: numbers, booleans, default', () => {
  assert.equal(parseVerbosityArg(undefined, 1), 1);
  assert.equal(parseVerbosityArg(true, 0), 1);
  assert.equal(parseVerbosityArg(false, 1), 0);
  assert.equal(parseVerbosityArg(2, 0), 2);
  throwsRpc(() => parseVerbosityArg('1', 0), -3, /^Verbosity was/);
});
