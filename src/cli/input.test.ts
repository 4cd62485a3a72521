import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliError, parseCoinsArg } from './input.js';

test('parseCoinsArg: coins with up to 8 decimals to sats; anything else refused with the flag named', () => {
  const good: [string, bigint][] = [
    ['10', 1_000_000_000n],
    ['0.5', 50_000_000n],
    ['.5', 50_000_000n],
    ['1.', 100_000_000n],
    ['0.00000001', 1n],
    ['21000000', 2_100_000_000_000_000n],
  ];
  for (const [text, sats] of good) assert.equal(parseCoinsArg(text, '--x'), sats, text);
  const bad: [string, RegExp][] = [
    ['0', /must be more than zero/],
    ['0.0', /must be more than zero/],
    ['-1', /must be more than zero/],
    ['1e3', /is not an amount in coins/],
    ['0.000000001', /more than 8 decimals/],
    ['ten', /is not an amount in coins/],
    ['', /is not an amount in coins/],
    ['1,5', /is not an amount in coins/],
    ['21000000.00000001', /21,000,000 coins/],
  ];
  for (const [text, why] of bad) {
    assert.throws(
      () => parseCoinsArg(text, '--faucet-amount'),
      (e) => e instanceof CliError && e.message.startsWith(`--faucet-amount '${text}'`) && why.test(e.message),
      text,
    );
  }
});
