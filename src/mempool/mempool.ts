import { SerialQueue } from '../async/serialQueue.js';
import { isFinalTx } from '../consensus/contextualChecks.js';
import type { ScriptVerifier } from '../interfaces/scriptVerifier.js';
import { ScriptCheckBatcher } from './scriptCheckBatcher.js';
import { checkTransaction } from '../consensus/checkTransaction.js';
import { checkTxInputs } from '../consensus/checkTxInputs.js';
import { isUnspendable } from '../consensus/scriptType.js';
import { UtxoView, type Coin } from '../consensus/utxoView.js';
import { VerifyError } from '../consensus/verifyError.js';
import type { Logger } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import { hashToHex } from '../primitives/hex.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { formatOutpoint, outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { computeTxid, computeWtxid, getTxBaseSize, getTxWeight, isCoinbase } from '../primitives/tx.js';
import type { Block, Outpoint, Sats, Tx, TxOut, Txid, Wtxid } from '../primitives/types.js';
import { BinaryHeap } from './binaryHeap.js';
import { compareFeeRates, feeForVsize, feeRateSatPerKvb, feeRateSatPerVb } from '../policy/feeRate.js';
import { MempoolEntry } from './mempoolEntry.js';
import { MempoolEventEmitter, type MempoolListener } from './mempoolEvents.js';
import type { MempoolReader } from '../interfaces/mempoolReader.js';
import {
  type AcceptTransactionOptions,
  type AncestorPackage,
  MEMPOOL_HEIGHT,
  type MempoolAcceptResult,
  type MempoolEvents,
  type MempoolRemovalReason,
} from '../interfaces/mempoolTypes.js';
import { DEFAULT_MEMPOOL_OPTIONS, type MempoolOptions } from '../policy/mempoolOptions.js';
import { checkStandardTx, checkWitnessStandard, MIN_STANDARD_TX_NONWITNESS_SIZE } from '../policy/policy.js';
import { checkReplacementFeeRate, checkReplacementFees } from './replacement.js';

/**
 * Half-life of the rolling minimum fee once a block has arrived since its last bump, seconds (12 h).
 * @see Bitcoin Core txmempool.h CTxMemPool::ROLLING_FEE_HALFLIFE
 */
const ROLLING_FEE_HALFLIFE_SEC = 12 * 60 * 60;

/** How many recently confirmed txids are remembered to tell spent inputs from orphans (Core's filter holds 48,000). */
const RECENT_CONFIRMED_CAPACITY = 48_000;

/**
 * What the mempool needs from the rest of the node, as narrow functions (STYLE.md rule 3): the confirmed UTXO set,
 * the tip, a clock, a script verifier and a logger.
 */
export interface MempoolDeps {
  readonly params: ChainParams;
  /** The unspent confirmed coin at the outpoint (the chain's UTXO set at the current tip), or undefined. */
  readonly getCoin: (outpoint: Outpoint) => Coin | undefined;
  /** Height of the chain tip. */
  readonly tipHeight: () => number;
  /** Median-time-past of the chain tip, seconds (the lock-time cutoff of the next block, BIP-113). */
  readonly tipMedianTimePast: () => number;
  /** Current time, seconds since the epoch (entry times, expiry, rolling fee decay). */
  readonly nowSec: () => number;
  /** Checks input scripts, with a cache shared with block validation. */
  readonly scriptVerifier: ScriptVerifier;
  readonly logger: Logger;
}

/** A txid's map key: every index of the mempool is keyed by it. */
type TxKey = HashKey<Txid>;

/** Everything PreChecks learns about a candidate tx (Core's MemPoolAccept::Workspace). */
interface Workspace {
  readonly tx: Tx;
  readonly txid: Txid;
  /** txid as displayed, for reject details. */
  readonly txidHex: string;
  readonly txidKey: TxKey;
  readonly wtxid: Wtxid;
  readonly weight: number;
  readonly vsize: number;
  readonly fee: Sats;
  /** The outputs its inputs spend, in input order. */
  readonly prevouts: readonly TxOut[];
  /** In-mempool txs it spends from. */
  readonly parents: ReadonlySet<TxKey>;
  /** In-mempool txs spending the same outputs. */
  readonly directConflicts: ReadonlySet<TxKey>;
  /** directConflicts and all their descendants: what a replacement evicts. */
  readonly allConflicts: ReadonlySet<TxKey>;
}

/** A candidate of the ancestor-fee-rate selection: a tx with the fee and vsize of its not yet selected ancestors. */
interface SelectionCandidate {
  readonly entry: MempoolEntry;
  readonly fee: Sats;
  readonly vsize: number;
}

/** The fee and vsize an entry is ranked by for eviction: the higher of its own and its with-descendants fee rate. */
function descendantScore(e: MempoolEntry): { fee: Sats; vsize: number } {
  return compareFeeRates(e.descendantFees, e.descendantSize, e.fee, e.vsize) > 0
    ? { fee: e.descendantFees, vsize: e.descendantSize }
    : { fee: e.fee, vsize: e.vsize };
}

/**
 * Negative when `a` is evicted before `b`: lower descendant score first; among equals the newer first.
 * @see Bitcoin Core CompareTxMemPoolEntryByDescendantScore
 */
function compareForEviction(a: MempoolEntry, b: MempoolEntry): number {
  const sa = descendantScore(a);
  const sb = descendantScore(b);
  const c = compareFeeRates(sa.fee, sa.vsize, sb.fee, sb.vsize);
  if (c !== 0) return c;
  if (a.timeSec !== b.timeSec) return b.timeSec - a.timeSec;
  return b.sequence - a.sequence;
}

/**
 * Positive when candidate `a` is selected before `b`: higher score first, where the score is the lower of the tx's
 * own fee rate and its (modified) ancestor fee rate; ties by txid as a 256-bit number (its display hex), as Core's
 * uint256 comparison (not by the map key, whose order differs).
 * @see Bitcoin Core CompareTxMemPoolEntryByAncestorFee
 */
function compareForSelection(a: SelectionCandidate, b: SelectionCandidate): number {
  const score = (x: SelectionCandidate) =>
    compareFeeRates(x.entry.fee, x.entry.vsize, x.fee, x.vsize) > 0 ? x : { fee: x.entry.fee, vsize: x.entry.vsize };
  const sa = score(a);
  const sb = score(b);
  const c = compareFeeRates(sa.fee, sa.vsize, sb.fee, sb.vsize);
  if (c !== 0) return c;
  return a.entry.txidHex < b.entry.txidHex ? 1 : a.entry.txidHex > b.entry.txidHex ? -1 : 0;
}

/**
 * The Transactioner: holds the valid unconfirmed transactions the node relays and mines, Bitcoin Core's way.
 * Accepts a tx after consensus checks, standardness, finality, inputs (confirmed or from mempool parents), fees
 * (min relay fee, the rolling mempool minimum fee once the size cap has been hit), ancestor/descendant limits, full
 * RBF with BIP-125's fee rules, and scripts. Keeps every entry's ancestor/descendant statistics up to date, evicts
 * the lowest descendant-fee-rate packages beyond the vsize cap, follows the chain (removeForBlock,
 * addDisconnectedTxs, expire), and orders txs by ancestor fee rate for block templates.
 * Concurrency: acceptTransaction awaits only the script check; if the pool or the chain changed meanwhile, the
 * checks are run again before the tx is added, so interleaved calls stay consistent.
 * @see Bitcoin Core txmempool.cpp CTxMemPool, validation.cpp MemPoolAccept; bcoin lib/mempool/mempool.js
 */
export class Mempool implements MempoolReader {
  /** The policy in force: the options given over DEFAULT_MEMPOOL_OPTIONS. */
  readonly options: MempoolOptions;
  private readonly deps: MempoolDeps;
  /** Script checks of concurrent accepts, batched onto the verifier per event-loop turn. */
  private readonly scriptChecks: ScriptCheckBatcher;
  private readonly events: MempoolEventEmitter;
  /** Tail of the addDisconnectedTxs queue (never rejects). */
  private readonly reorgUpdates = new SerialQueue();

  private readonly byTxid = new Map<TxKey, MempoolEntry>();
  private readonly txidByWtxid = new Map<HashKey<Wtxid>, TxKey>();
  /** outpointKey of a spent outpoint → txid of the mempool tx spending it (Core's mapNextTx). */
  private readonly spenders = new Map<OutpointKey, TxKey>();
  private readonly parentsOf = new Map<TxKey, Set<TxKey>>();
  private readonly childrenOf = new Map<TxKey, Set<TxKey>>();
  /** Txids of recently connected block txs, oldest first, to tell spent inputs from unknown ones. */
  private readonly recentConfirmed = new Set<TxKey>();

  private vsizeTotal = 0;
  private feesTotal = 0n;
  private nextSequence = 0;
  /** Bumped on every change of the pool or of the chain it follows; an accept re-checks when it moved. */
  private version = 0;

  /** Rolling minimum fee rate, sat/kvB (a float, as Core's double). */
  private rollingMinFeeRate = 0;
  private lastRollingFeeUpdateSec: number;
  private blockSinceLastRollingFeeBump = false;

  /** An empty mempool; fields missing from `options` take DEFAULT_MEMPOOL_OPTIONS. */
  constructor(options: Partial<MempoolOptions>, deps: MempoolDeps) {
    this.options = Object.freeze({ ...DEFAULT_MEMPOOL_OPTIONS, ...options });
    this.deps = deps;
    this.events = new MempoolEventEmitter(deps.logger);
    this.lastRollingFeeUpdateSec = deps.nowSec();
    this.scriptChecks = new ScriptCheckBatcher(deps.scriptVerifier);
  }

  // ── events ────────────────────────────────────────────────────────────────────────────────────────────────────

  /** Adds a listener of `added` or `removed`; returns a function that removes it. */
  on<K extends keyof MempoolEvents>(event: K, listener: MempoolListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof MempoolEvents>(event: K, listener: MempoolListener<K>): void {
    this.events.off(event, listener);
  }

  // ── queries ───────────────────────────────────────────────────────────────────────────────────────────────────

  /** Number of transactions held. */
  get size(): number {
    return this.byTxid.size;
  }

  /** Sum of the vsizes of all entries, vbytes (what maxSizeVbytes caps). */
  get totalVsize(): number {
    return this.vsizeTotal;
  }

  /** Sum of the fees of all entries, sats. */
  get totalFees(): Sats {
    return this.feesTotal;
  }

  /** True when a tx with this txid is in the mempool. */
  has(txid: Txid): boolean {
    return this.byTxid.has(hashKey(txid));
  }

  /** The entry of the tx with this txid, or undefined. */
  get(txid: Txid): MempoolEntry | undefined {
    return this.byTxid.get(hashKey(txid));
  }

  /** The entry of the tx with this wtxid, or undefined. */
  getByWtxid(wtxid: Wtxid): MempoolEntry | undefined {
    const txid = this.txidByWtxid.get(hashKey(wtxid));
    return txid === undefined ? undefined : this.byTxid.get(txid);
  }

  /** Every entry, in entry order. */
  entries(): IterableIterator<MempoolEntry> {
    return this.byTxid.values();
  }

  /** The in-mempool ancestors of the tx (not itself), parents before children; [] when it is not in the pool. */
  getAncestors(txid: Txid): MempoolEntry[] {
    const key = hashKey(txid);
    if (!this.byTxid.has(key)) return [];
    return this.topological(this.calculateAncestors(key));
  }

  /** The in-mempool descendants of the tx (not itself), parents before children; [] when it is not in the pool. */
  getDescendants(txid: Txid): MempoolEntry[] {
    const key = hashKey(txid);
    if (!this.byTxid.has(key)) return [];
    return this.topological(this.calculateDescendants(key));
  }

  /** The mempool tx spending the outpoint, or undefined. */
  getSpender(outpoint: Outpoint): MempoolEntry | undefined {
    const txid = this.spenders.get(outpointKey(outpoint));
    return txid === undefined ? undefined : this.byTxid.get(txid);
  }

  /**
   * The coin a mempool tx created at the outpoint and no mempool tx spends, or undefined (also for OP_RETURN
   * outputs). Its height is MEMPOOL_HEIGHT. For the wallet and the block assembler.
   */
  getCoin(outpoint: Outpoint): Coin | undefined {
    const entry = this.byTxid.get(hashKey(outpoint.txid));
    const output = entry?.tx.outputs[outpoint.index];
    if (output === undefined || isUnspendable(output.scriptPubKey)) return undefined;
    if (this.spenders.has(outpointKey(outpoint))) return undefined;
    return { output, height: MEMPOOL_HEIGHT, isCoinbase: false };
  }

  /**
   * The rolling minimum fee rate a tx must pay to enter, sat/kvB (0 when the size cap has not been hit). After an
   * eviction it is the evicted package's rate plus the incremental relay fee; once a block has arrived it decays
   * with a 12-hour half-life (3 h below a quarter of the cap, 6 h below half), and drops to 0 under half the
   * incremental rate. Otherwise at least the incremental relay fee rate.
   * @see Bitcoin Core CTxMemPool::GetMinFee
   */
  getMinFeeRateSatPerKvb(): number {
    if (!this.blockSinceLastRollingFeeBump || this.rollingMinFeeRate === 0) return Math.round(this.rollingMinFeeRate);
    const now = this.deps.nowSec();
    if (now > this.lastRollingFeeUpdateSec + 10) {
      let halfLife = ROLLING_FEE_HALFLIFE_SEC;
      if (this.vsizeTotal < this.options.maxSizeVbytes / 4) halfLife /= 4;
      else if (this.vsizeTotal < this.options.maxSizeVbytes / 2) halfLife /= 2;
      this.rollingMinFeeRate /= 2 ** ((now - this.lastRollingFeeUpdateSec) / halfLife);
      this.lastRollingFeeUpdateSec = now;
      if (this.rollingMinFeeRate < this.options.incrementalRelayFeeRateSatPerKvb / 2) {
        this.rollingMinFeeRate = 0;
        return 0;
      }
    }
    return Math.max(Math.round(this.rollingMinFeeRate), this.options.incrementalRelayFeeRateSatPerKvb);
  }

  /**
   * Txids in the order a block assembler takes them: repeatedly the tx with the best score (the lower of its own
   * fee rate and its fee rate with its not yet selected ancestors), preceded by those ancestors, parents first.
   * @see Bitcoin Core node/miner.cpp BlockAssembler::addPackageTxs
   */
  txidsByAncestorFeeRate(): Txid[] {
    return this.selectAncestorPackages().flatMap((p) => p.txids);
  }

  /**
   * The packages of txidsByAncestorFeeRate with their fee and vsize, in selection order.
   * PERF: O(n log n + Σ descendants) per call.
   */
  selectAncestorPackages(): AncestorPackage[] {
    const packages: AncestorPackage[] = [];
    const selected = new Set<TxKey>();
    const modified = new Map<TxKey, { fee: Sats; vsize: number }>();
    const heap = new BinaryHeap<SelectionCandidate>(compareForSelection);
    for (const entry of this.byTxid.values()) heap.push({ entry, fee: entry.ancestorFees, vsize: entry.ancestorSize });
    for (let c = heap.pop(); c !== undefined; c = heap.pop()) {
      const txid = c.entry.txidKey;
      if (selected.has(txid)) continue;
      const current = modified.get(txid);
      if (current !== undefined && (current.fee !== c.fee || current.vsize !== c.vsize)) continue;
      const members = [...this.calculateAncestors(txid)].filter((a) => !selected.has(a));
      members.push(txid);
      const ordered = this.topological(new Set(members));
      packages.push({ txids: ordered.map((e) => e.txid), fee: c.fee, vsize: c.vsize });
      for (const e of ordered) selected.add(e.txidKey);
      const touched = new Set<TxKey>();
      for (const e of ordered) {
        for (const d of this.calculateDescendants(e.txidKey)) {
          if (selected.has(d)) continue;
          const de = this.byTxid.get(d)!;
          const m = modified.get(d) ?? { fee: de.ancestorFees, vsize: de.ancestorSize };
          modified.set(d, { fee: m.fee - e.fee, vsize: m.vsize - e.vsize });
          touched.add(d);
        }
      }
      for (const d of touched) {
        const m = modified.get(d)!;
        heap.push({ entry: this.byTxid.get(d)!, fee: m.fee, vsize: m.vsize });
      }
    }
    return packages;
  }

  /**
   * The lowest fee rate a tx can enter the mempool with now, sat/kvB (an integer): the min relay fee or the rolling
   * minimum fee, whichever is higher (Core's getmempoolinfo mempoolminfee).
   */
  getMinimumFeeRateSatPerKvb(): number {
    return Math.max(this.options.minRelayFeeRateSatPerKvb, this.getMinFeeRateSatPerKvb());
  }

  /**
   * The node's fee estimator (one for RPC estimatesmartfee, Esplora's /fee-estimates, mempool.space's
   * /v1/fees/recommended and the wallets): for each confirmation target (blocks; below 1 counts as 1), the fee rate of
   * the package found `target` blocks deep (target × maxBlockWeight/4 vbytes) in ancestor-fee-rate order, floored at
   * getMinimumFeeRateSatPerKvb() / 1000; the floor when the backlog is shallower. sat/vB (floats: estimates, not money),
   * keyed by the targets as given. A mempool-depth estimate, not Core's CBlockPolicyEstimator (which needs history).
   * PERF: one selectAncestorPackages walk (O(n log n)) per call, whatever the number of targets.
   */
  estimateFeeRates(targets: readonly number[]): Map<number, number> {
    const floor = this.getMinimumFeeRateSatPerKvb() / 1000;
    const blockVsize = this.deps.params.maxBlockWeight / 4;
    const depthOf = (target: number): number => (Number.isFinite(target) ? Math.max(1, Math.floor(target)) : 1) * blockVsize;
    const pending = [...new Set(targets)].sort((a, b) => depthOf(a) - depthOf(b));
    const result = new Map<number, number>();
    let cumulative = 0;
    let next = 0;
    for (const p of this.selectAncestorPackages()) {
      if (next >= pending.length) break;
      cumulative += p.vsize;
      while (next < pending.length && cumulative >= depthOf(pending[next]!)) {
        result.set(pending[next]!, Math.max(floor, feeRateSatPerVb(p.fee, p.vsize)));
        next++;
      }
    }
    for (; next < pending.length; next++) result.set(pending[next]!, floor);
    return result;
  }

  // ── accepting ─────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Validates the transaction against consensus, policy and the mempool, and adds it (unless `testOnly`), evicting
   * what it replaces. Checks in Bitcoin Core's order (MemPoolAccept::PreChecks, ReplacementChecks,
   * PolicyScriptChecks, Finalize); ban score 0 unless noted:
   * checkTransaction (its reasons and scores) → `coinbase` (100) → standardness (`version`, `tx-size`,
   * `scriptsig-size`, `scriptpubkey`, `dust`, `multi-op-return`) → `tx-size-small` → `non-final` (nLockTime vs the
   * next height and the tip's MTP) → `txn-already-in-mempool` (same wtxid) → `txn-same-nonwitness-data-in-mempool`
   * (same txid) → inputs: a prevout neither a confirmed coin nor an unspent-or-conflicted output of a mempool tx is
   * `txn-already-known` when the tx's own outputs are confirmed, `bad-txns-inputs-missingorspent` when its txid is
   * known (a mempool tx or a recently confirmed one: the output was spent or never existed), else `missing-inputs`
   * (an orphan: the parents are unknown) → checkTxInputs (`bad-txns-premature-spend-of-coinbase` at the next
   * height, `bad-txns-in-belowout` (100), …) → `bad-witness-nonstandard` (taproot annex) → `mempool min fee not
   * met` → `min relay fee not met` → `max-fee-exceeded` (above options.maxFeeRateSatPerKvb) →
   * `too-long-mempool-chain` (ancestor/descendant counts and sizes, counted as if the conflicts were already gone) →
   * `bad-txns-spends-conflicting-tx` (100) → full-RBF rules when it conflicts:
   * `insufficient fee` (rule 6: feerate above each direct conflict's), `too many potential replacements` (rule 5),
   * `replacement-adds-unconfirmed` (rule 2), `insufficient fee` (rules 3 and 4: pays all evicted fees plus its own
   * vsize at the incremental relay rate) → scripts: `mandatory-script-verify-flag-failed (<verifyInput reason>)`
   * (100) → after insertion, `mempool full` when the size cap evicts the tx itself (what it replaced stays gone).
   * BIP-68 sequence locks and sigop limits are not checked (cairn has no relative lock times; a standard-weight
   * P2WPKH/P2TR tx cannot reach Core's sigop limit).
   * @throws VerifyError with the reasons above
   * @see Bitcoin Core validation.cpp MemPoolAccept::AcceptSingleTransaction
   */
  async acceptTransaction(tx: Tx, options: AcceptTransactionOptions = {}): Promise<MempoolAcceptResult> {
    try {
      const result = await this.accept(tx, options.testOnly ?? false, false, options.maxFeeRateSatPerKvb ?? 0n);
      const fields = { txid: hashToHex(result.txid), fee: result.fee.toString(), vsize: result.vsize };
      this.deps.logger.debug(fields, options.testOnly ? 'tx acceptable' : 'tx accepted');
      return result;
    } catch (err) {
      if (err instanceof VerifyError) this.deps.logger.debug({ reason: err.code, detail: err.detail }, 'tx rejected');
      throw err;
    }
  }

  private async accept(tx: Tx, testOnly: boolean, bypassLimits: boolean, maxFeeRateSatPerKvb = 0n): Promise<MempoolAcceptResult> {
    const versionBefore = this.version;
    let ws = this.preChecks(tx, bypassLimits, maxFeeRateSatPerKvb);
    const check = await this.scriptChecks.verify({ tx, prevouts: ws.prevouts, wtxid: ws.wtxid });
    if (!check.ok) {
      throw new VerifyError(`mandatory-script-verify-flag-failed (${check.reason})`, 100, `input ${check.inputIndex}`);
    }
    // The pool or the tip moved while the scripts were checked: the coins an outpoint names never change, so the
    // script result stands, but everything else is checked again.
    if (this.version !== versionBefore) ws = this.preChecks(tx, bypassLimits, maxFeeRateSatPerKvb);
    const result: MempoolAcceptResult = {
      txid: ws.txid,
      wtxid: ws.wtxid,
      fee: ws.fee,
      vsize: ws.vsize,
      feeRateSatPerVb: feeRateSatPerVb(ws.fee, ws.vsize),
      replaced: [...ws.allConflicts].map((t) => this.byTxid.get(t)!.txid),
    };
    if (!testOnly) this.finalize(ws, bypassLimits);
    return result;
  }

  /** Everything but scripts, without side effects. @see Bitcoin Core MemPoolAccept::PreChecks */
  private preChecks(tx: Tx, bypassLimits: boolean, maxFeeRateSatPerKvb: bigint): Workspace {
    const { params } = this.deps;
    checkTransaction(tx, { outputScriptRule: params.outputScriptRule });
    if (isCoinbase(tx)) throw new VerifyError('coinbase', 100, 'coinbase as individual tx');
    checkStandardTx(tx, this.options);
    const baseSize = getTxBaseSize(tx);
    if (baseSize < MIN_STANDARD_TX_NONWITNESS_SIZE) {
      throw new VerifyError('tx-size-small', 0, `${baseSize} bytes without witness < ${MIN_STANDARD_TX_NONWITNESS_SIZE}`);
    }
    const tipHeight = this.deps.tipHeight();
    const tipMtp = this.deps.tipMedianTimePast();
    if (!isFinalTx(tx, tipHeight + 1, tipMtp)) {
      throw new VerifyError('non-final', 0, `locktime ${tx.locktime} at height ${tipHeight + 1}, MTP ${tipMtp}`);
    }

    const txid = computeTxid(tx);
    const txidHex = hashToHex(txid);
    const txidKey = hashKey(txid);
    const wtxid = computeWtxid(tx);
    if (this.txidByWtxid.has(hashKey(wtxid))) throw new VerifyError('txn-already-in-mempool', 0, txidHex);
    if (this.byTxid.has(txidKey)) throw new VerifyError('txn-same-nonwitness-data-in-mempool', 0, txidHex);

    const directConflicts = new Set<TxKey>();
    for (const input of tx.inputs) {
      const spender = this.spenders.get(outpointKey(input.prevout));
      if (spender !== undefined) directConflicts.add(spender);
    }

    const view = new UtxoView();
    const prevouts: TxOut[] = [];
    const parents = new Set<TxKey>();
    const missing: Outpoint[] = [];
    for (const input of tx.inputs) {
      const parentKey = hashKey(input.prevout.txid);
      const parent = this.byTxid.get(parentKey);
      let coin: Coin | undefined;
      if (parent !== undefined) {
        const output = parent.tx.outputs[input.prevout.index];
        if (output !== undefined && !isUnspendable(output.scriptPubKey)) {
          coin = { output, height: MEMPOOL_HEIGHT, isCoinbase: false };
          parents.add(parentKey);
        }
      } else {
        coin = this.deps.getCoin(input.prevout);
      }
      if (coin === undefined) {
        missing.push(input.prevout);
      } else {
        view.addCoin(input.prevout, coin);
        prevouts.push(coin.output);
      }
    }
    if (missing.length > 0) this.rejectMissingInputs(tx, txid, txidHex, missing);

    const fee = checkTxInputs(tx, view, tipHeight + 1, params.coinbaseMaturity);
    checkWitnessStandard(tx, prevouts);
    const weight = getTxWeight(tx);
    const vsize = Math.ceil(weight / 4);
    if (!bypassLimits) this.checkFeeRate(fee, vsize);
    if (maxFeeRateSatPerKvb > 0n) {
      const maxFee = (maxFeeRateSatPerKvb * BigInt(vsize) + 999n) / 1000n;
      if (fee > maxFee) {
        throw new VerifyError('max-fee-exceeded', 0, `fee ${fee} sats > ${maxFee} sats (${maxFeeRateSatPerKvb} sat/kvB for ${vsize} vB)`);
      }
    }

    const allConflicts = this.calculateDescendantsOf(directConflicts);
    const ancestors = this.checkPackageLimits(parents, vsize, allConflicts);
    for (const a of ancestors) {
      if (directConflicts.has(a)) {
        throw new VerifyError('bad-txns-spends-conflicting-tx', 100, `${txidHex} spends conflicting transaction ${this.byTxid.get(a)!.txidHex}`);
      }
    }
    const ws: Workspace = {
      tx, txid, txidHex, txidKey, wtxid, weight, vsize, fee, prevouts, parents, directConflicts, allConflicts,
    };
    if (directConflicts.size > 0) this.replacementChecks(ws);
    return ws;
  }

  /**
   * Rejects a tx with inputs that are neither confirmed coins nor mempool outputs, telling a tx already confirmed,
   * a spent or nonexistent output of a known tx, and an orphan apart.
   * @see Bitcoin Core MemPoolAccept::PreChecks (txn-already-known, TX_MISSING_INPUTS)
   */
  private rejectMissingInputs(tx: Tx, txid: Txid, txidHex: string, missing: readonly Outpoint[]): never {
    for (let index = 0; index < tx.outputs.length; index++) {
      if (!isUnspendable(tx.outputs[index]!.scriptPubKey) && this.deps.getCoin({ txid, index }) !== undefined) {
        throw new VerifyError('txn-already-known', 0, txidHex);
      }
    }
    const detail = missing.map((op) => formatOutpoint(op)).join(', ');
    const known = missing.some((op) => {
      const key = hashKey(op.txid);
      return this.byTxid.has(key) || this.recentConfirmed.has(key);
    });
    throw new VerifyError(known ? 'bad-txns-inputs-missingorspent' : 'missing-inputs', 0, detail);
  }

  /** @see Bitcoin Core MemPoolAccept::CheckFeeRate */
  private checkFeeRate(fee: Sats, vsize: number): void {
    const rejectFee = feeForVsize(this.getMinFeeRateSatPerKvb(), vsize);
    if (rejectFee > 0n && fee < rejectFee) throw new VerifyError('mempool min fee not met', 0, `${fee} < ${rejectFee}`);
    const relayFee = feeForVsize(this.options.minRelayFeeRateSatPerKvb, vsize);
    if (fee < relayFee) throw new VerifyError('min relay fee not met', 0, `${fee} < ${relayFee}`);
  }

  /**
   * The in-mempool ancestors of a tx with these parents and vsize, after checking the ancestor count and size
   * (itself included) and each ancestor's descendant count and size with the tx added. Descendants that a
   * replacement would evict (`evicted`) are not counted (Core approximates this with a one-conflict allowance).
   * @throws VerifyError too-long-mempool-chain (score 0)
   * @see Bitcoin Core CTxMemPool::CalculateMemPoolAncestors, CalculateAncestorsAndCheckLimits
   */
  private checkPackageLimits(parents: ReadonlySet<TxKey>, vsize: number, evicted: ReadonlySet<TxKey>): Set<TxKey> {
    const o = this.options;
    const fail = (detail: string): never => {
      throw new VerifyError('too-long-mempool-chain', 0, detail);
    };
    if (parents.size + 1 > o.ancestorCountLimit) fail(`too many unconfirmed parents [limit: ${o.ancestorCountLimit}]`);
    const ancestors = this.calculateAncestorsOf(parents);
    if (ancestors.size + 1 > o.ancestorCountLimit) fail(`too many unconfirmed ancestors [limit: ${o.ancestorCountLimit}]`);
    let ancestorSize = vsize;
    for (const a of ancestors) ancestorSize += this.byTxid.get(a)!.vsize;
    if (ancestorSize > o.ancestorSizeLimitVbytes) fail(`exceeds ancestor size limit [limit: ${o.ancestorSizeLimitVbytes}]`);

    // What each ancestor loses in descendants when the evicted txs go.
    const lost = new Map<TxKey, { count: number; size: number }>();
    for (const e of evicted) {
      const ev = this.byTxid.get(e)!;
      for (const a of this.calculateAncestors(e)) {
        if (!ancestors.has(a)) continue;
        const l = lost.get(a) ?? { count: 0, size: 0 };
        lost.set(a, { count: l.count + 1, size: l.size + ev.vsize });
      }
    }
    for (const a of ancestors) {
      const ae = this.byTxid.get(a)!;
      const l = lost.get(a) ?? { count: 0, size: 0 };
      if (ae.descendantSize - l.size + vsize > o.descendantSizeLimitVbytes) {
        fail(`exceeds descendant size limit for tx ${ae.txidHex} [limit: ${o.descendantSizeLimitVbytes}]`);
      }
      if (ae.descendantCount - l.count + 1 > o.descendantCountLimit) {
        fail(`too many descendants for tx ${ae.txidHex} [limit: ${o.descendantCountLimit}]`);
      }
    }
    return ancestors;
  }

  /** BIP-125 rules 6, 5, 2, 3 and 4 in Core's order. @see Bitcoin Core MemPoolAccept::ReplacementChecks */
  private replacementChecks(ws: Workspace): void {
    const direct = [...ws.directConflicts].map((t) => this.byTxid.get(t)!);
    checkReplacementFeeRate(ws.txidHex, ws.fee, ws.vsize, direct);

    let candidates = 0;
    for (const c of direct) candidates += c.descendantCount;
    if (candidates > this.options.maxReplacementEvictions) {
      const max = this.options.maxReplacementEvictions;
      const detail = `rejecting replacement ${ws.txidHex}; too many potential replacements (${candidates} > ${max})`;
      throw new VerifyError('too many potential replacements', 0, detail);
    }

    const parentsOfConflicts = new Set<TxKey>();
    for (const c of direct) for (const input of c.tx.inputs) parentsOfConflicts.add(hashKey(input.prevout.txid));
    ws.tx.inputs.forEach((input, j) => {
      const parent = hashKey(input.prevout.txid);
      if (!parentsOfConflicts.has(parent) && this.byTxid.has(parent)) {
        const detail = `replacement ${ws.txidHex} adds unconfirmed input, idx ${j}`;
        throw new VerifyError('replacement-adds-unconfirmed', 0, detail);
      }
    });

    let evictedFees = 0n;
    for (const t of ws.allConflicts) evictedFees += this.byTxid.get(t)!.fee;
    checkReplacementFees(ws.txidHex, ws.fee, ws.vsize, evictedFees, this.options.incrementalRelayFeeRateSatPerKvb);
  }

  /** Removes what the tx replaces, adds it, and enforces the size cap. @see Bitcoin Core MemPoolAccept::Finalize */
  private finalize(ws: Workspace, bypassLimits: boolean): void {
    if (ws.allConflicts.size > 0) this.removeStaged(new Set(ws.allConflicts), 'replaced');
    const entry = new MempoolEntry({
      tx: ws.tx,
      txid: ws.txid,
      wtxid: ws.wtxid,
      fee: ws.fee,
      vsize: ws.vsize,
      weight: ws.weight,
      timeSec: this.deps.nowSec(),
      height: this.deps.tipHeight(),
      sequence: this.nextSequence++,
    });
    this.addUnchecked(entry, ws.parents);
    if (!bypassLimits) {
      this.limitSize();
      if (!this.byTxid.has(ws.txidKey)) throw new VerifyError('mempool full', 0, ws.txidHex);
    }
  }

  /**
   * Inserts an entry whose checks passed, links it to its in-mempool parents (and, after a reorg, to mempool txs
   * already spending its outputs), updates the package statistics and emits `added`.
   * @see Bitcoin Core CTxMemPool::addUnchecked, UpdateTransactionsFromBlock
   */
  private addUnchecked(entry: MempoolEntry, parents: ReadonlySet<TxKey>): void {
    const txid = entry.txidKey;
    this.byTxid.set(txid, entry);
    this.txidByWtxid.set(hashKey(entry.wtxid), txid);
    this.parentsOf.set(txid, new Set(parents));
    const children = new Set<TxKey>();
    this.childrenOf.set(txid, children);
    for (const p of parents) this.childrenOf.get(p)!.add(txid);
    for (const input of entry.tx.inputs) this.spenders.set(outpointKey(input.prevout), txid);
    entry.tx.outputs.forEach((_, index) => {
      const spender = this.spenders.get(outpointKey({ txid: entry.txid, index }));
      if (spender !== undefined) {
        children.add(spender);
        this.parentsOf.get(spender)!.add(txid);
      }
    });
    this.vsizeTotal += entry.vsize;
    this.feesTotal += entry.fee;

    const ancestors = this.calculateAncestors(txid);
    if (children.size === 0) {
      for (const a of ancestors) {
        const ae = this.byTxid.get(a)!;
        ae.updateDescendantState(entry.vsize, entry.fee, 1);
        entry.updateAncestorState(ae.vsize, ae.fee, 1);
      }
    } else {
      // A tx of a disconnected block that already has children in the pool: recompute the statistics it touches.
      const descendants = this.calculateDescendants(txid);
      for (const t of [txid, ...ancestors, ...descendants]) this.recomputeStats(t);
      const overLimit = [...descendants].filter((d) => {
        const de = this.byTxid.get(d)!;
        return de.ancestorCount > this.options.ancestorCountLimit || de.ancestorSize > this.options.ancestorSizeLimitVbytes;
      });
      if (overLimit.length > 0) {
        this.version++;
        this.events.emit('added', entry);
        this.removeStaged(this.calculateDescendantsOf(overLimit), 'sizelimit');
        return;
      }
    }
    this.version++;
    this.events.emit('added', entry);
  }

  /** Sets an entry's ancestor and descendant statistics from a fresh walk of the links. */
  private recomputeStats(txid: TxKey): void {
    const e = this.byTxid.get(txid)!;
    let count = 1;
    let size = e.vsize;
    let fees = e.fee;
    for (const a of this.calculateAncestors(txid)) {
      const ae = this.byTxid.get(a)!;
      count++;
      size += ae.vsize;
      fees += ae.fee;
    }
    e.updateAncestorState(size - e.ancestorSize, fees - e.ancestorFees, count - e.ancestorCount);
    count = 1;
    size = e.vsize;
    fees = e.fee;
    for (const d of this.calculateDescendants(txid)) {
      const de = this.byTxid.get(d)!;
      count++;
      size += de.vsize;
      fees += de.fee;
    }
    e.updateDescendantState(size - e.descendantSize, fees - e.descendantFees, count - e.descendantCount);
  }

  // ── removal and chain events ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Removes a connected block's transactions (matched by txid; reason `block`) and every mempool tx that spends
   * an outpoint a block tx spends, with its descendants (`conflict`). Children of confirmed txs stay: their inputs
   * are now confirmed coins. Call after the chain has connected the block (its UTXO changes applied), in block
   * order. Also lets the rolling minimum fee start decaying.
   * @see Bitcoin Core CTxMemPool::removeForBlock, removeConflicts
   */
  removeForBlock(block: Block, height: number): void {
    let confirmed = 0;
    for (const tx of block.txs) {
      const txid = hashKey(computeTxid(tx));
      this.rememberConfirmed(txid);
      if (this.byTxid.has(txid)) {
        this.removeStaged(new Set([txid]), 'block');
        confirmed++;
      }
      if (isCoinbase(tx)) continue;
      for (const input of tx.inputs) {
        const spender = this.spenders.get(outpointKey(input.prevout));
        if (spender !== undefined && spender !== txid) this.removeRecursive(spender, 'conflict');
      }
    }
    this.lastRollingFeeUpdateSec = this.deps.nowSec();
    this.blockSinceLastRollingFeeBump = true;
    this.version++;
    this.deps.logger.debug({ height, confirmed, size: this.size }, 'mempool updated for block');
  }

  /**
   * After a reorg, re-accepts the non-coinbase transactions of the disconnected blocks (any order: they are sorted
   * parents first) under the normal rules except the fee floors and the size cap (Core's bypass_limits); those
   * that fail are dropped with a debug log, and mempool txs spending their outputs (or a disconnected coinbase's)
   * leave with their descendants. Then every entry is checked against the new tip (final, inputs present, coinbase
   * inputs mature), failures leave with their descendants (`reorg`), and the size cap is enforced.
   * Works whether it runs before the new branch's blocks are connected (then removeForBlock removes what they
   * confirm or conflict with) or after them (Core's order). Call it after every disconnect, even with no txs.
   * Calls run one after another in call order (a second reorg's txs wait for the first's); the promise resolves when
   * this call's update is done, and whenReorgUpdatesDone() resolves when every update started so far is.
   * @see Bitcoin Core Chainstate::MaybeUpdateMempoolForReorg, CTxMemPool::removeForReorg
   */
  addDisconnectedTxs(txs: readonly Tx[]): Promise<void> {
    // The queue goes on after a failed update; the caller of that update gets its error.
    return this.reorgUpdates.run(() => this.applyDisconnectedTxs(txs));
  }

  /**
   * Resolves when every addDisconnectedTxs started before this call has finished (successfully or not): what a
   * caller that fired the update without awaiting it (the node's tipChanged handler) waits on before reading the
   * mempool after a reorg. Never rejects.
   */
  whenReorgUpdatesDone(): Promise<void> {
    return this.reorgUpdates.idle();
  }

  private async applyDisconnectedTxs(txs: readonly Tx[]): Promise<void> {
    const ordered = sortParentsFirst(txs);
    for (const { txidKey } of ordered) this.recentConfirmed.delete(txidKey);
    this.version++;
    const failed: ParentsFirstTx[] = [];
    let added = 0;
    for (const item of ordered) {
      if (isCoinbase(item.tx)) {
        failed.push(item);
        continue;
      }
      try {
        await this.accept(item.tx, false, true);
        added++;
      } catch (err) {
        if (err instanceof VerifyError && err.code === 'txn-already-in-mempool') continue;
        this.deps.logger.debug(
          { txid: hashToHex(item.txid), reason: err instanceof VerifyError ? err.code : String(err) },
          'disconnected tx not re-added',
        );
        failed.push(item);
      }
    }
    for (const { tx, txid, txidKey } of failed) {
      if (this.byTxid.has(txidKey)) continue;
      const spenders = new Set<TxKey>();
      tx.outputs.forEach((_, index) => {
        const s = this.spenders.get(outpointKey({ txid, index }));
        if (s !== undefined) spenders.add(s);
      });
      if (spenders.size > 0) this.removeStaged(this.calculateDescendantsOf(spenders), 'reorg');
    }
    this.removeForReorg();
    this.limitSize();
    this.deps.logger.debug({ offered: txs.length, added, size: this.size }, 'mempool updated for reorg');
  }

  /** Removes entries invalid at the current tip, with their descendants. @see Bitcoin Core CTxMemPool::removeForReorg */
  private removeForReorg(): void {
    const nextHeight = this.deps.tipHeight() + 1;
    const mtp = this.deps.tipMedianTimePast();
    const invalid: TxKey[] = [];
    for (const entry of this.byTxid.values()) {
      if (!isFinalTx(entry.tx, nextHeight, mtp)) {
        invalid.push(entry.txidKey);
        continue;
      }
      for (const input of entry.tx.inputs) {
        if (this.byTxid.has(hashKey(input.prevout.txid))) continue;
        const coin = this.deps.getCoin(input.prevout);
        if (coin === undefined || (coin.isCoinbase && nextHeight - coin.height < this.deps.params.coinbaseMaturity)) {
          invalid.push(entry.txidKey);
          break;
        }
      }
    }
    if (invalid.length > 0) this.removeStaged(this.calculateDescendantsOf(invalid), 'reorg');
  }

  /**
   * Drops every entry that entered before `nowSec - expirySec`, with its descendants (`expiry`). Returns how many
   * txs left. The node calls it periodically; accepting also runs it when the pool is over its cap.
   * PERF: O(n).
   * @see Bitcoin Core CTxMemPool::Expire
   */
  expire(nowSec: number = this.deps.nowSec()): number {
    const cutoff = nowSec - this.options.expirySec;
    const old: TxKey[] = [];
    for (const e of this.byTxid.values()) if (e.timeSec < cutoff) old.push(e.txidKey);
    if (old.length === 0) return 0;
    const stage = this.calculateDescendantsOf(old);
    this.removeStaged(stage, 'expiry');
    return stage.size;
  }

  /**
   * Evicts packages while the total vsize is over maxSizeVbytes: each time the entry with the lowest descendant
   * score (the higher of its own and its with-descendants fee rate; newest first among equals) with all its
   * descendants (`sizelimit`), and raises the rolling minimum fee to that package's rate plus the incremental
   * relay fee. Returns the evicted txids.
   * PERF: O(n) per evicted package (a linear scan for the lowest score).
   * @see Bitcoin Core CTxMemPool::TrimToSize
   */
  trimToSize(): Txid[] {
    const evicted: Txid[] = [];
    while (this.vsizeTotal > this.options.maxSizeVbytes && this.byTxid.size > 0) {
      let worst: MempoolEntry | undefined;
      for (const e of this.byTxid.values()) if (worst === undefined || compareForEviction(e, worst) < 0) worst = e;
      const w = worst!;
      const rate = feeRateSatPerKvb(w.descendantFees, w.descendantSize) + this.options.incrementalRelayFeeRateSatPerKvb;
      if (rate > this.rollingMinFeeRate) {
        this.rollingMinFeeRate = rate;
        this.blockSinceLastRollingFeeBump = false;
      }
      const stage = this.calculateDescendantsOf([w.txidKey]);
      for (const t of stage) evicted.push(this.byTxid.get(t)!.txid);
      this.removeStaged(stage, 'sizelimit');
    }
    if (evicted.length > 0) {
      this.deps.logger.debug({ evicted: evicted.length, minFeeRateSatPerKvb: this.rollingMinFeeRate }, 'mempool trimmed');
    }
    return evicted;
  }

  /** Core's LimitMempoolSize: expire, then trim, when over the cap. */
  private limitSize(): void {
    if (this.vsizeTotal <= this.options.maxSizeVbytes) return;
    this.expire();
    this.trimToSize();
  }

  private removeRecursive(txid: TxKey, reason: MempoolRemovalReason): void {
    this.removeStaged(this.calculateDescendantsOf([txid]), reason);
  }

  /**
   * Removes a set of entries, updating the statistics of the ancestors and descendants that stay, then unlinks
   * them and emits `removed` for each. Normally the set holds every descendant of its members; a confirmed block
   * tx is removed alone (its children stay, their ancestor statistics shrink).
   * @see Bitcoin Core CTxMemPool::RemoveStaged, UpdateForRemoveFromMempool
   */
  private removeStaged(stage: ReadonlySet<TxKey>, reason: MempoolRemovalReason): void {
    if (stage.size === 0) return;
    for (const txid of stage) {
      const e = this.byTxid.get(txid)!;
      for (const a of this.calculateAncestors(txid)) {
        if (!stage.has(a)) this.byTxid.get(a)!.updateDescendantState(-e.vsize, -e.fee, -1);
      }
      for (const d of this.calculateDescendants(txid)) {
        if (!stage.has(d)) this.byTxid.get(d)!.updateAncestorState(-e.vsize, -e.fee, -1);
      }
    }
    const removed: MempoolEntry[] = [];
    for (const txid of stage) {
      const e = this.byTxid.get(txid)!;
      this.byTxid.delete(txid);
      this.txidByWtxid.delete(hashKey(e.wtxid));
      for (const input of e.tx.inputs) {
        const key = outpointKey(input.prevout);
        if (this.spenders.get(key) === txid) this.spenders.delete(key);
      }
      for (const p of this.parentsOf.get(txid) ?? []) this.childrenOf.get(p)?.delete(txid);
      for (const c of this.childrenOf.get(txid) ?? []) this.parentsOf.get(c)?.delete(txid);
      this.parentsOf.delete(txid);
      this.childrenOf.delete(txid);
      this.vsizeTotal -= e.vsize;
      this.feesTotal -= e.fee;
      removed.push(e);
    }
    this.version++;
    for (const entry of removed) this.events.emit('removed', { txid: entry.txid, reason, entry });
  }

  private rememberConfirmed(txid: TxKey): void {
    this.recentConfirmed.delete(txid);
    this.recentConfirmed.add(txid);
    if (this.recentConfirmed.size > RECENT_CONFIRMED_CAPACITY) {
      const oldest = this.recentConfirmed.values().next();
      if (!oldest.done) this.recentConfirmed.delete(oldest.value);
    }
  }

  // ── graph walks ───────────────────────────────────────────────────────────────────────────────────────────────

  /** All in-mempool ancestors of the tx, not itself. */
  private calculateAncestors(txid: TxKey): Set<TxKey> {
    return this.calculateAncestorsOf(this.parentsOf.get(txid) ?? []);
  }

  /** The given txs and all their in-mempool ancestors. */
  private calculateAncestorsOf(start: Iterable<TxKey>): Set<TxKey> {
    return walk(start, (t) => this.parentsOf.get(t));
  }

  /** All in-mempool descendants of the tx, not itself. */
  private calculateDescendants(txid: TxKey): Set<TxKey> {
    return walk(this.childrenOf.get(txid) ?? [], (t) => this.childrenOf.get(t));
  }

  /** The given txs and all their in-mempool descendants. @see Bitcoin Core CTxMemPool::CalculateDescendants */
  private calculateDescendantsOf(start: Iterable<TxKey>): Set<TxKey> {
    return walk(start, (t) => this.childrenOf.get(t));
  }

  /** The entries of a set of txids, parents before children (by ancestor count, then entry order). */
  private topological(txids: ReadonlySet<TxKey>): MempoolEntry[] {
    return [...txids]
      .map((t) => this.byTxid.get(t)!)
      .sort((a, b) => a.ancestorCount - b.ancestorCount || a.sequence - b.sequence);
  }
}

/** Breadth-first closure of `start` under `next`, including `start`. */
function walk(start: Iterable<TxKey>, next: (txid: TxKey) => Iterable<TxKey> | undefined): Set<TxKey> {
  const seen = new Set<TxKey>(start);
  const queue = [...seen];
  for (let i = 0; i < queue.length; i++) {
    for (const n of next(queue[i]!) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}

/** A tx of a disconnected block with its txid and the txid's key. */
interface ParentsFirstTx {
  readonly tx: Tx;
  readonly txid: Txid;
  readonly txidKey: TxKey;
}

/** The txs with their txids, each after the txs of the list it spends from (stable otherwise). */
function sortParentsFirst(txs: readonly Tx[]): ParentsFirstTx[] {
  const items = txs.map((tx): ParentsFirstTx => {
    const txid = computeTxid(tx);
    return { tx, txid, txidKey: hashKey(txid) };
  });
  const byTxid = new Map(items.map((item) => [item.txidKey, item]));
  const done = new Set<TxKey>();
  const out: ParentsFirstTx[] = [];
  for (const root of items) {
    if (done.has(root.txidKey)) continue;
    // Iterative depth-first walk: a frame is an item and how many of its inputs were looked at.
    const stack: { item: ParentsFirstTx; next: number }[] = [{ item: root, next: 0 }];
    done.add(root.txidKey);
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const inputs = frame.item.tx.inputs;
      if (frame.next < inputs.length) {
        const parent = byTxid.get(hashKey(inputs[frame.next++]!.prevout.txid));
        if (parent !== undefined && !done.has(parent.txidKey)) {
          done.add(parent.txidKey);
          stack.push({ item: parent, next: 0 });
        }
      } else {
        out.push(frame.item);
        stack.pop();
      }
    }
  }
  return out;
}
