import type { Sats, Tx } from '../primitives/types.js';
import { moneyRange } from './amount.js';
import type { CoinLookup } from './utxoView.js';
import { VerifyError } from './verifyError.js';

/**
 * Checks the transaction's inputs against a view of the UTXO set (any CoinLookup, e.g. a UtxoView): every prevout is
 * an unspent coin, coinbase coins are at least `coinbaseMaturity` blocks deep at `spendHeight` (the height of the
 * block the tx would be in), each input value and the running sum are in money range, inputs cover outputs, and the
 * fee is in range.
 * Returns the fee in sats. Does not check scripts and does not modify the view.
 * Precondition: checkTransaction(tx) passed (outputs in range, not a coinbase).
 * Ban scores: missing inputs and premature coinbase spends score 0 (the tx may become valid later: an orphan, or a
 * coinbase that matures); the others score 100.
 * @throws VerifyError bad-txns-inputs-missingorspent | bad-txns-premature-spend-of-coinbase |
 *   bad-txns-inputvalues-outofrange | bad-txns-in-belowout | bad-txns-fee-outofrange
 * @see Bitcoin Core consensus/tx_verify.cpp Consensus::CheckTxInputs
 */
export function checkTxInputs(tx: Tx, view: CoinLookup, spendHeight: number, coinbaseMaturity: number): Sats {
  // Core checks that all inputs exist before looking at any of them.
  tx.inputs.forEach((input, n) => {
    if (view.getCoin(input.prevout) === undefined) {
      throw new VerifyError('bad-txns-inputs-missingorspent', 0, `input ${n}: inputs missing/spent`);
    }
  });

  let valueIn = 0n;
  tx.inputs.forEach((input, n) => {
    const coin = view.getCoin(input.prevout)!;
    if (coin.isCoinbase && spendHeight - coin.height < coinbaseMaturity) {
      throw new VerifyError(
        'bad-txns-premature-spend-of-coinbase',
        0,
        `input ${n}: tried to spend coinbase at depth ${spendHeight - coin.height}`,
      );
    }
    valueIn += coin.output.value;
    if (!moneyRange(coin.output.value) || !moneyRange(valueIn)) {
      throw new VerifyError('bad-txns-inputvalues-outofrange', 100, `input ${n}`);
    }
  });

  let valueOut = 0n;
  for (const output of tx.outputs) valueOut += output.value;
  if (valueIn < valueOut) {
    throw new VerifyError('bad-txns-in-belowout', 100, `value in (${valueIn}) < value out (${valueOut})`);
  }
  const fee = valueIn - valueOut;
  if (!moneyRange(fee)) throw new VerifyError('bad-txns-fee-outofrange', 100, `fee ${fee}`);
  return fee;
}
