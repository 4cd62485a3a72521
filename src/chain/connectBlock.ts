import type { RejectReason } from '../consensus/rejectReason.js';
import { checkTxInputs } from '../consensus/checkTxInputs.js';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import type { Coin } from '../consensus/utxoView.js';
import { VerifyError } from '../consensus/verifyError.js';
import type { ChainParams } from '../params/chainParams.js';
import { hashToHex } from '../primitives/hex.js';
import type { Block, Outpoint, Sats } from '../primitives/types.js';
import type { UtxoRecord } from '../interfaces/chainTypes.js';
import type { BlockCoinView } from './blockCoinView.js';
import type { BlockTxHashes } from './blockTxHashes.js';
import type { ScriptCheckJob, ScriptCheckResult } from '../interfaces/scriptVerifier.js';

/** What connecting a block changes in the UTXO set, once its rules passed (scripts aside). */
export interface BlockConnectChanges {
  /** Coins of the set the block spends (coins it creates and spends itself appear in neither list). */
  readonly spent: readonly Outpoint[];
  /** Coins the block adds and does not spend itself (OP_RETURN outputs excluded). */
  readonly created: readonly UtxoRecord[];
  /** Every coin its non-coinbase inputs spend, in block order (tx by tx, input by input): the undo data. */
  readonly undo: readonly Coin[];
  /** Sum of the fees of its non-coinbase txs, sats. */
  readonly fees: Sats;
}

/**
 * Outcome of checkConnectBlock: the first rule the block breaks, or its changes, to be committed once the block's
 * script checks (blockScriptChecks) passed too.
 */
export type ConnectBlockOutcome =
  | { readonly ok: true; readonly changes: BlockConnectChanges }
  | { readonly ok: false; readonly error: VerifyError };

/** The block under connect: what it is, where, and its txs' hashes (computed once by the caller). */
export interface BlockToConnect {
  readonly block: Block;
  readonly height: number;
  readonly hashes: BlockTxHashes;
}

/** A rule failure of tx `txIndex`, its txid in the detail. */
function txFailure(hashes: BlockTxHashes, txIndex: number, reason: RejectReason, score: number, detail?: string): ConnectBlockOutcome {
  const where = `tx ${txIndex} (${hashToHex(hashes.txids[txIndex]!)})`;
  return { ok: false, error: new VerifyError(reason, score, detail ? `${where}: ${detail}` : where) };
}

/**
 * The rules a block must meet to connect on its parent, in the order Core's ConnectBlock meets them, as a list over
 * the block's coin view (filled with the coins it reads from the set at the parent):
 * 1. BIP-30: no tx creates an outpoint that holds an unspent coin.
 * 2. Tx by tx: its inputs exist and are unspent (in the set, or created earlier in the block), spent coinbases are
 *    mature, the amounts are in range and cover the outputs (checkTxInputs); then its inputs' coins are spent and its
 *    outputs added, so later txs see them.
 * 3. The coinbase pays at most subsidy + fees.
 * 4. Scripts, last: the signatures of every input (blockScriptChecks lists them). A script failure counts only when
 *    rules 1-3 passed (scriptCheckFailure), so the caller may verify them at any time: the pipeline starts them
 *    before the rules, on worker threads.
 * Returns the first failure of rules 1-3, or the changes to write. Pure: no I/O; it changes only the view.
 * Precondition: checkBlock and the contextual block checks passed, or the outcome is used only once they pass.
 * @throws RangeError when the view does not match the block (a caller error)
 * @see Bitcoin Core validation.cpp Chainstate::ConnectBlock; btcd blockchain/validate.go checkConnectBlock
 */
export function checkConnectBlock(target: BlockToConnect, view: BlockCoinView, params: ChainParams): ConnectBlockOutcome {
  const { block, height, hashes } = target;
  const txs = block.txs;

  for (let i = 0; i < txs.length; i++) {
    const index = view.findOverwrittenOutput(i);
    if (index >= 0) return txFailure(hashes, i, 'bad-txns-BIP30', 100, `tried to overwrite transaction output ${index}`);
  }

  let fees = 0n;
  const undo: Coin[] = [];
  for (let i = 0; i < txs.length; i++) {
    if (i > 0) {
      try {
        fees += checkTxInputs(txs[i]!, view.inputCoinsOf(i), height, params.coinbaseMaturity);
      } catch (err) {
        if (!(err instanceof VerifyError)) throw err;
        return txFailure(hashes, i, err.code, err.score, err.detail);
      }
    }
    for (const coin of view.connectTransaction(i, height)) undo.push(coin);
  }

  let coinbaseOut = 0n;
  for (const output of txs[0]!.outputs) coinbaseOut += output.value;
  const limit = computeBlockSubsidy(height, params) + fees;
  if (coinbaseOut > limit) {
    return { ok: false, error: new VerifyError('bad-cb-amount', 100, `coinbase pays too much (actual=${coinbaseOut} vs limit=${limit})`) };
  }

  return { ok: true, changes: { ...view.changes(), undo, fees } };
}

/**
 * The script checks of a block (rule 4 of checkConnectBlock): one job per non-coinbase tx, job j for tx j + 1, with
 * the outputs its inputs spend as the view holds them before any tx connects. Undefined when some input spends an
 * output the block cannot see at all: checkConnectBlock then refuses the block, and no script needs checking.
 * Call it before checkConnectBlock changes the view.
 */
export function blockScriptChecks(target: BlockToConnect, view: BlockCoinView): ScriptCheckJob[] | undefined {
  const { block, hashes } = target;
  const jobs: ScriptCheckJob[] = [];
  for (let i = 1; i < block.txs.length; i++) {
    const prevouts = view.prevoutsOf(i);
    if (prevouts === undefined) return undefined;
    jobs.push({ tx: block.txs[i]!, prevouts, wtxid: hashes.wtxids[i]!, txBytes: hashes.txBytes[i] });
  }
  return jobs;
}

/**
 * The block's failure for the result of its script checks (job j = tx j + 1), or undefined when they passed.
 * @see Bitcoin Core validation.cpp ConnectBlock ("mandatory-script-verify-flag-failed" after control.Wait())
 */
export function scriptCheckFailure(result: ScriptCheckResult, hashes: BlockTxHashes): VerifyError | undefined {
  if (result.ok) return undefined;
  const txIndex = result.txIndex + 1;
  return new VerifyError(
    `mandatory-script-verify-flag-failed (${result.reason})`,
    100,
    `tx ${txIndex} (${hashToHex(hashes.txids[txIndex]!)}) input ${result.inputIndex}`,
  );
}
