import type { VerifyError } from '../consensus/verifyError.js';
import type { ChainParams } from '../params/chainParams.js';
import type { Block, Outpoint, Txid } from '../primitives/types.js';
import type { Coin } from '../consensus/utxoView.js';
import type { ChainStore, PendingBlockConnect } from '../storage/chainStore.js';
import { BlockStatus, type BlockIndexEntry } from '../interfaces/chainTypes.js';
import { BlockCoinView, type InputCoinPrefetch } from './blockCoinView.js';
import type { ConnectTimer } from './chainConnectStats.js';
import { ChainError } from './chainError.js';
import {
  blockScriptChecks,
  checkConnectBlock,
  scriptCheckFailure,
  type BlockToConnect,
  type ConnectBlockOutcome,
} from './connectBlock.js';
import type { ScriptCheckJob, ScriptCheckResult, ScriptCheckSession, ScriptVerifier } from '../interfaces/scriptVerifier.js';

/** What a ConnectPipeline works with (the Chain's own deps). */
export interface ConnectPipelineDeps {
  readonly params: ChainParams;
  readonly store: ChainStore;
  readonly verifier: ScriptVerifier;
  /** Books the main thread's time per phase. */
  readonly timer: ConnectTimer;
}

/**
 * A block connect begun by ConnectPipeline.start on the store's tip of that moment: the block with its tx hashes, the
 * verdict of its connect rules, and its script checks under way. End it with finish() or cancel().
 */
export interface StartedConnect {
  readonly target: BlockToConnect;
  readonly outcome: ConnectBlockOutcome;
  /** The script checks handed to the verifier; none when an input spends nothing the block can see (the rules failed). */
  readonly session?: ScriptCheckSession;
}

/** Result of ConnectPipeline.finish: the block is the store's tip now, or the rule it breaks (nothing written). */
export type ConnectResult =
  | { readonly ok: true; readonly txids: readonly Txid[] }
  | { readonly ok: false; readonly error: VerifyError };

/**
 * The performance machinery around checkConnectBlock: it overlaps a block's script checks with the rest of its
 * connect, as Core's ConnectBlock queues the checks on CCheckQueue and goes on with the block.
 * - start(): read the coins the block's inputs spend in one go, hand its script checks to the verifier, whose worker
 *   threads begin at once, then read the coins at the block's own outpoints (BIP-30) and run the connect rules while
 *   they verify (a rule failure cancels the checks and is the
 *   block's verdict, scripts coming last in the rules' order). The chain calls it before checkBlock
 *   for a block on the tip, so the context-free and contextual checks and the storing of the block also run while
 *   the workers verify.
 * - finish(): checkpoint the store's write-ahead log and write the block connect into a SQLite transaction left open
 *   (while the workers verify), join the script checks without yielding to the event loop, and commit only when every
 *   script passed; otherwise roll back.
 * One path whatever the verifier: InlineScriptVerifier simply verifies when joined.
 * Crash safety: one transaction per block connect, never committed before its scripts passed.
 * @see Bitcoin Core validation.cpp Chainstate::ConnectBlock, checkqueue.h CCheckQueueControl
 */
export class ConnectPipeline {
  constructor(private readonly deps: ConnectPipelineDeps) {}

  /**
   * Starts connecting `target.block` at `target.height` on the store's current tip: reads the coins it needs (or
   * takes those of its inputs from `prefetched`, read by prefetchInputCoins with nothing written since), hands its
   * script checks to the verifier, then runs the connect rules. The rules' failure, if any, is in the outcome.
   * @throws ChainError script-verifier-failed (the verifier refused the batch); StorageError from the store
   */
  start(target: BlockToConnect, prefetched?: InputCoinPrefetch): StartedConnect {
    const { params, store, timer } = this.deps;
    const readCoins = (outpoints: readonly Outpoint[]): (Coin | undefined)[] => store.getCoins(outpoints);
    const view = BlockCoinView.readInputs(target.block, target.hashes.txids, readCoins, prefetched);
    timer.lap('coins');
    const scriptChecks = blockScriptChecks(target, view);
    const session = scriptChecks === undefined ? undefined : this.begin(scriptChecks, target.height);
    timer.lap('begin');
    let outcome: ConnectBlockOutcome;
    try {
      // The BIP-30 lookups, while the workers verify; nothing ran on the store since readInputs (no await between).
      view.readOwnOutputs(readCoins, (txids) => store.findTxidsWithCoins(txids));
      timer.lap('coins');
      outcome = checkConnectBlock(target, view, params);
    } catch (err) {
      void session?.cancel();
      throw err;
    }
    timer.lap('rules');
    return { target, outcome, session };
  }

  /**
   * Ends a started connect as the block of `entry` (whose parent must still be the store's tip): returns the rules'
   * failure, or writes the connect, joins the script checks and commits when they passed (the entry gains
   * VALID_SCRIPTS), or rolls back and returns the script failure. When the verifier's workers stall (finishSync gives
   * up), the writes are rolled back first and the verdict awaited, since the transaction must not stay open while the
   * event loop runs; the block is then written again.
   * @throws ChainError script-verifier-failed (the verifier crashed: nothing written, the block not judged);
   *   StorageError from the store
   */
  async finish(started: StartedConnect, entry: BlockIndexEntry): Promise<ConnectResult> {
    const { outcome, session, target } = started;
    if (!outcome.ok) {
      await session?.cancel();
      return outcome;
    }
    if (session === undefined) throw new RangeError('a started connect whose rules passed has no script checks');
    const { store, timer } = this.deps;
    const { spent, created, undo } = outcome.changes;
    const update = { entry, block: target.block, txids: target.hashes.txids, spent, created, undo };
    const statusBefore = entry.status;
    entry.status |= BlockStatus.VALID_SCRIPTS;
    let pending: PendingBlockConnect | undefined;
    let committed = false;
    try {
      store.checkpoint();
      pending = store.beginConnectBlock(update);
      timer.lap('write');
      let result = this.joinSync(session, entry);
      if (result === undefined) {
        pending.rollback();
        pending = undefined;
        result = await this.join(session, entry);
      }
      timer.lap('scripts');
      const failure = scriptCheckFailure(result, target.hashes);
      if (failure !== undefined) return { ok: false, error: failure };
      pending ??= store.beginConnectBlock(update);
      pending.commit();
      committed = true;
      timer.countBlock(target.block.txs.length, undo.length);
      return { ok: true, txids: target.hashes.txids };
    } catch (err) {
      // Never yield to the event loop with the transaction open.
      pending?.rollback();
      pending = undefined;
      await session.cancel();
      throw err;
    } finally {
      if (!committed) {
        pending?.rollback();
        entry.status = statusBefore;
      }
      timer.lap('commit');
    }
  }

  /**
   * Reads the coins of the set at the prevouts of the block's inputs before its txids are known
   * (BlockCoinView.prefetchInputCoins), for start() on the same state of the store.
   * @throws StorageError from the store
   */
  prefetchInputCoins(block: Block): InputCoinPrefetch {
    return BlockCoinView.prefetchInputCoins(block, (outpoints) => this.deps.store.getCoins(outpoints));
  }

  /** Drops a started connect that will not be finished: its script checks are cancelled. Never rejects. */
  async cancel(started: StartedConnect): Promise<void> {
    await started.session?.cancel();
  }

  private begin(scriptChecks: readonly ScriptCheckJob[], height: number): ScriptCheckSession {
    try {
      return this.deps.verifier.begin(scriptChecks);
    } catch (err) {
      throw new ChainError('script-verifier-failed', `script checks of the block at height ${height} could not start`, { cause: err });
    }
  }

  private joinSync(session: ScriptCheckSession, entry: BlockIndexEntry): ScriptCheckResult | undefined {
    try {
      return session.finishSync();
    } catch (err) {
      throw verifierFailed(entry, err);
    }
  }

  private async join(session: ScriptCheckSession, entry: BlockIndexEntry): Promise<ScriptCheckResult> {
    try {
      return await session.finish();
    } catch (err) {
      throw verifierFailed(entry, err);
    }
  }
}

function verifierFailed(entry: BlockIndexEntry, cause: unknown): ChainError {
  return new ChainError('script-verifier-failed', `script checks of block ${entry.hashHex} did not complete`, { cause });
}
