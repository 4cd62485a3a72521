import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliError } from './input.js';
import { parseCoinsToSats } from './walletServiceCommand.js';

test('parseCoinsToSats: coins with up to 8 decimals to sats; anything else refused', () => {
  assert.equal(parseCoinsToSats('10', '--x'), 1_000_000_000n);
  assert.equal(parseCoinsToSats('0.5', '--x'), 50_000_000n);
  assert.equal(parseCoinsToSats('0.00000001', '--x'), 1n);
  assert.equal(parseCoinsToSats('21000000', '--x'), 2_100_000_000_000_000n);
  for (const bad of ['0', '0.0', '-1', '1e3', '0.000000001', 'ten', '', '1.', '.5']) {
    assert.throws(() => parseCoinsToSats(bad, '--faucet-amount'), (e) => e instanceof CliError && e.message.startsWith('--faucet-amount'), bad);
  }
});
