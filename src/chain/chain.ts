import { checkBlock, checkBlockHeader } from '../consensus/checkBlock.js';
import { checkTxInputs } from '../consensus/checkTxInputs.js';
import { getNextWorkRequired } from '../consensus/difficulty.js';
import { checkProofOfWork, computeWork } from '../consensus/pow.js';
import { isUnspendable } from '../consensus/scriptType.js';
import { computeBlockSubsidy } from '../consensus/subsidy.js';
import { UtxoView, type Coin } from '../consensus/utxoView.js';
import { VerifyError } from '../consensus/verifyError.js';
import type { Logger } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import { encodeBlock, getBlockSize, getBlockWeight } from '../primitives/block.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { hashToHex, hexToHash } from '../primitives/hex.js';
import { outpointKey } from '../primitives/outpoint.js';
import { computeTxid, isCoinbase } from '../primitives/tx.js';
import type { Block, BlockHeader, Hash256, Outpoint, Tx, TxOut } from '../primitives/types.js';
import {
  BlockStatus,
  type BlockIndexEntry,
  type ChainStore,
  type ConnectBlockUpdate,
  type UtxoRecord,
  type UtxoSetDigest,
} from '../storage/chainStore.js';
import { BlockIndex, hasData, isFailed, prevHexOf, type IndexNode } from './blockIndex.js';
import { computeBlockTxHashes } from './blockTxHashes.js';
import { emptyChainConnectStats, type ChainConnectStats } from './chainConnectStats.js';
import { ChainError } from './chainError.js';
import { ChainEventEmitter, type ChainEvents, type ChainListener } from './chainEvents.js';
import { checkBlockContext, checkBlockHeaderContext } from '../consensus/contextualChecks.js';
import { OrphanPool } from './orphanPool.js';
import type { ScriptCheckJob, ScriptCheckResult, ScriptCheckSession, ScriptVerifier } from './scriptVerifier.js';
import { SerialQueue } from '../async/serialQueue.js';

/** Default most orphan blocks kept. */
export const DEFAULT_MAX_ORPHAN_BLOCKS = 100;
/** Default most bytes of orphan blocks kept (20 MB: five full blocks' worth of witness data). */
export const DEFAULT_MAX_ORPHAN_BYTES = 20_000_000;
/** Most failure reasons remembered for the results of later calls (oldest forgotten first). */
const MAX_REMEMBERED_FAILURES = 1_000;

/** Options of the Chain (plain values; the CLI maps flags onto them in node/). */
export interface ChainOptions {
  /** Most orphan blocks kept; default DEFAULT_MAX_ORPHAN_BLOCKS (100). */
  readonly maxOrphanBlocks?: number;
  /** Most bytes of orphan blocks kept; default DEFAULT_MAX_ORPHAN_BYTES (20 MB). */
  readonly maxOrphanBytes?: number;
}

/** What the Chain is built on; wired by the composition root (node/). */
export interface ChainDeps {
  readonly params: ChainParams;
  /** Persistent chain state; the chain uses it but does not close it. */
  readonly store: ChainStore;
  /** Checks the scripts of a block's transactions; the chain uses it but does not close it. */
  readonly scriptVerifier: ScriptVerifier;
  /** Logger of module `chain`. */
  readonly logger: Logger;
  /** The node's current time, seconds since the epoch (for the time-too-new rule). */
  readonly nowSec: () => number;
}

/**
 * Outcome of processBlock for the block given:
 * - `connected`: it is on the main chain now (possibly after a reorg, see `reorg`);
 * - `side-chain`: valid so far and stored, but its branch has no more work than the main chain;
 * - `orphan`: its parent is unknown; it waits in the orphan pool (`missing` = the block to ask peers for);
 * - `duplicate`: already stored (or already an orphan); nothing was done;
 * - `invalid`: it breaks a consensus rule; `reason` is Bitcoin Core's reject string, `score` the sender's ban score.
 */
export type ProcessBlockStatus = 'connected' | 'side-chain' | 'orphan' | 'duplicate' | 'invalid';

/** Result of processBlock. */
export interface ProcessBlockResult {
  /** Display hex of the block hash. */
  readonly hashHex: string;
  readonly status: ProcessBlockStatus;
  /** Reject reason (Core's string) when invalid; e.g. `bad-txns-inputs-missingorspent`, `duplicate-invalid`. */
  readonly reason?: string;
  /** Human-readable context. */
  readonly detail?: string;
  /** Ban score of the block's sender (0..100) when invalid. */
  readonly score?: number;
  /** When connecting it disconnected main-chain blocks: how many, and the height of the fork point. */
  readonly reorg?: { readonly depth: number; readonly forkHeight: number };
  /** For an orphan: display hex of the missing ancestor (parent of the oldest orphan of its run) to request. */
  readonly missing?: string;
}

/** Result of acceptHeaders. */
export interface AcceptHeadersResult {
  /** Number of headers newly added to the index. */
  readonly accepted: number;
  /** Entry of the last header that is in the index (new or already known), if any. */
  readonly last?: BlockIndexEntry;
  /** The first header that was refused (later headers were not looked at). */
  readonly invalid?: { readonly hashHex: string; readonly reason: string; readonly detail?: string; readonly score: number };
}

/** Status of a chain tip, as Core's getchaintips. */
export type ChainTipStatus = 'active' | 'valid-fork' | 'valid-headers' | 'headers-only' | 'invalid';

/** One tip of the block tree, as Core's getchaintips reports it. */
export interface ChainTip {
  readonly height: number;
  /** Display hex of the tip's hash. */
  readonly hash: string;
  /** Blocks between the tip and its fork point with the main chain (0 for the active tip). */
  readonly branchlen: number;
  readonly status: ChainTipStatus;
}

/** A remembered failure: why a block was found invalid. */
interface Failure {
  readonly reason: string;
  readonly detail?: string;
  readonly score: number;
}

/** The state of one processBlock (or open) call: what its events must report at the end. */
interface Batch {
  readonly startTip: IndexNode;
  changed: boolean;
  /** Non-coinbase txs of disconnected blocks not reconnected yet, by txid display hex. */
  readonly disconnected: Map<string, { tx: Tx; height: number; position: number }>;
  /** Blocks accepted in this batch with their raw bytes, by hash display hex, so connecting them reads no store. */
  readonly blocks: Map<string, { readonly block: Block; readonly raw: Uint8Array }>;
  /** The connect processBlock started before checkBlock, until connectTip takes it. */
  early?: EarlyConnect;
}

/** Script checks of a block whose other checks passed: handed to the verifier (`session`) or still to hand over. */
interface PendingScripts {
  readonly jobs: readonly ScriptCheckJob[];
  readonly session?: ScriptCheckSession;
}

/** A consensus failure found while connecting a block, or the store update (less the entry) with the script checks still to join. */
type ConnectOutcome =
  | { ok: true; update: Omit<ConnectBlockUpdate, 'entry'>; scripts?: PendingScripts }
  | { ok: false; error: VerifyError };

/** A connect computed before the block's context-free checks, for the block `hashHex` on the tip `parentHex`. */
interface EarlyConnect {
  readonly hashHex: string;
  readonly parentHex: string;
  readonly outcome: Promise<ConnectOutcome>;
}

/** Drops an early connect that will not be used: its script checks are cancelled, its errors ignored. */
async function dropEarlyConnect(early: EarlyConnect | undefined): Promise<void> {
  if (early === undefined) return;
  const outcome = await early.outcome.catch(() => undefined);
  if (outcome?.ok) await outcome.scripts?.session?.cancel();
}

/** Thrown inside the store's beforeCommit to roll the block's writes back when its scripts did not (yet) pass. */
const NOT_COMMITTED = new Error('block connect not committed: its scripts did not pass');

/**
 * Map key of a txid: its 32 bytes as a latin1 string (internal byte order). Cheaper than display hex, and only ever
 * compared with other keys made here.
 */
function txidMapKey(txid: Hash256): string {
  return Buffer.from(txid.buffer, txid.byteOffset, 32).toString('latin1');
}

/** Adds the time since `start` to one phase of the stats; returns now. */
function lap(times: ChainConnectStats, phase: 'acceptMs' | 'utxoMs' | 'overlapMs' | 'scriptsMs' | 'commitMs' | 'otherMs', start: number): number {
  const now = performance.now();
  times[phase] += now - start;
  return now;
}

/**
 * The UtxoView checkTxInputs sees for one tx: its inputs' coins keyed by the prevout objects themselves (filled and
 * cleared per tx by computeConnect), so each lookup is an identity Map hit instead of building a string key.
 */
class TxInputsView extends UtxoView {
  readonly byPrevout = new Map<Outpoint, Coin>();

  override has(outpoint: Outpoint): boolean {
    return this.byPrevout.has(outpoint);
  }

  override getCoin(outpoint: Outpoint): Coin | undefined {
    return this.byPrevout.get(outpoint);
  }
}

/**
 * The block chain of a node (the origin system's "Manager"): validates blocks, keeps the block index and the orphan
 * pool, and adopts the valid chain with the most work, reorganising through undo data when another branch overtakes.
 * Blocks are processed one at a time (an internal queue serialises processBlock and acceptHeaders), so callers may
 * submit concurrently. Sync accessors read in-memory state and may observe a reorg in progress while a call awaits
 * script checks (as Core's cs_main is released between steps).
 *
 * Validation order per block, as Bitcoin Core's ProcessNewBlock → AcceptBlock → ActivateBestChain:
 * duplicate check; checkBlock (context-free); parent lookup (unknown → orphan pool); parent invalid → bad-prevblk;
 * contextual header checks (bits, median-time-past, future limit); contextual block checks (final txs, BIP-34);
 * store; then activate the best chain: connect (inputs, BIP-30, coinbase amount, scripts) block by block, marking a
 * failing block FAILED and its descendants FAILED_CHILD, until the tip is the most-work valid candidate.
 * Events: see ChainEvents.
 * @see Bitcoin Core validation.cpp ChainstateManager::ProcessNewBlock, AcceptBlock, Chainstate::ActivateBestChain,
 *   ConnectBlock, DisconnectBlock; btcd blockchain/chain.go; bcoin lib/blockchain/chain.js
 */
export class Chain {
  private readonly params: ChainParams;
  private readonly store: ChainStore;
  private readonly verifier: ScriptVerifier;
  private readonly logger: Logger;
  private readonly nowSec: () => number;
  private readonly index = new BlockIndex();
  private readonly orphans: OrphanPool;
  private readonly queue = new SerialQueue();
  private readonly events: ChainEventEmitter;
  /** Blocks with all data whose branch could become the main chain (Core's setBlockIndexCandidates). */
  private readonly candidates = new Set<IndexNode>();
  private readonly failures = new Map<string, Failure>();
  private bestHeaderNode!: IndexNode;
  private nextSequenceId = 2;
  private readonly connectTimes: ChainConnectStats = emptyChainConnectStats();
  private closed = false;

  private constructor(options: ChainOptions, deps: ChainDeps) {
    this.params = deps.params;
    this.store = deps.store;
    this.verifier = deps.scriptVerifier;
    this.logger = deps.logger;
    this.nowSec = deps.nowSec;
    this.events = new ChainEventEmitter(deps.logger);
    this.orphans = new OrphanPool({
      maxBlocks: options.maxOrphanBlocks ?? DEFAULT_MAX_ORPHAN_BLOCKS,
      maxBytes: options.maxOrphanBytes ?? DEFAULT_MAX_ORPHAN_BYTES,
    });
  }

  /**
   * Opens the chain on a store: loads the block index into memory (initialising an empty store with the genesis),
   * checks that the store's tip is indexed and every entry links to its parent with the right chainWork, then
   * activates the best chain (connecting blocks that were stored but not connected before a crash).
   * @throws ChainError wrong-network | corrupt; StorageError from the store
   */
  static async open(options: ChainOptions, deps: ChainDeps): Promise<Chain> {
    const chain = new Chain(options, deps);
    chain.load();
    await chain.queue.run(() => chain.runBatch(() => chain.activateBestChain(chain.currentBatch!)));
    return chain;
  }

  // --- accessors --------------------------------------------------------------------------------------------------

  /** The main-chain tip. */
  get tip(): BlockIndexEntry {
    return this.index.tip.entry;
  }

  /** Height of the main-chain tip. */
  get height(): number {
    return this.index.height;
  }

  /** The header with the most work that is not known invalid (may be ahead of the tip during headers-first sync). */
  get bestHeader(): BlockIndexEntry {
    return this.bestHeaderNode.entry;
  }

  /** Number of blocks in the orphan pool. */
  get orphanCount(): number {
    return this.orphans.size;
  }

  /** Whether a block (by display hex) waits in the orphan pool. */
  hasOrphan(hashHex: string): boolean {
    return this.orphans.has(hashHex);
  }

  /** The params the chain validates with. */
  get chainParams(): ChainParams {
    return this.params;
  }

  /** Main-thread time per phase of the blocks connected since open (or the last reset), and the work done; a copy. */
  get connectStats(): ChainConnectStats {
    return { ...this.connectTimes };
  }

  /** Zeroes connectStats. */
  resetConnectStats(): void {
    Object.assign(this.connectTimes, emptyChainConnectStats());
  }

  /** Subscribes to a chain event; returns the unsubscribe function. */
  on<K extends keyof ChainEvents>(event: K, listener: ChainListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Unsubscribes a listener. */
  off<K extends keyof ChainEvents>(event: K, listener: ChainListener<K>): void {
    this.events.off(event, listener);
  }

  /** The index entry of a block by hash (internal byte order) or display hex, or undefined. */
  getEntry(hashOrHex: Hash256 | string): BlockIndexEntry | undefined {
    return this.nodeOf(hashOrHex)?.entry;
  }

  /** The main-chain entry at a height, or undefined above the tip. */
  getEntryByHeight(height: number): BlockIndexEntry | undefined {
    return this.index.atHeight(height)?.entry;
  }

  /** Whether the entry is on the main chain. */
  isMainChain(entry: BlockIndexEntry): boolean {
    const node = this.index.get(entry.hashHex);
    return node !== undefined && this.index.contains(node);
  }

  /** The ancestor of `entry` at `height` (the entry itself at its height), or undefined. */
  getAncestor(entry: BlockIndexEntry, height: number): BlockIndexEntry | undefined {
    const node = this.index.get(entry.hashHex);
    return node === undefined ? undefined : this.index.getAncestor(node, height)?.entry;
  }

  /**
   * Median-time-past at `entry` (median time of it and its 10 predecessors), seconds: a child must have a later time,
   * and it is the BIP-113 lock-time cutoff for the child's transactions.
   * @throws RangeError when the entry is not indexed
   */
  getMedianTimePast(entry: BlockIndexEntry): number {
    return this.index.getMedianTimePast(this.requireNode(entry));
  }

  /**
   * The bits a child of `prevEntry` must carry (for block templates), by params.difficulty.
   * @throws RangeError when the entry is not indexed
   * @see Bitcoin Core pow.cpp GetNextWorkRequired
   */
  getNextBits(prevEntry: BlockIndexEntry): number {
    return this.nextBitsAfter(this.requireNode(prevEntry));
  }

  /** The stored block, or undefined (unknown or header only). */
  getBlock(hash: Hash256 | string): Block | undefined {
    return this.store.readBlock(typeof hash === 'string' ? hexToHash(hash) : hash);
  }

  /** The stored block's serialized bytes (with witnesses), as written, or undefined. For relaying without re-encoding. */
  getRawBlock(hash: Hash256 | string): Uint8Array | undefined {
    return this.store.readRawBlock(typeof hash === 'string' ? hexToHash(hash) : hash);
  }

  /** The unspent coin at the outpoint in the main chain's UTXO set, or undefined. */
  getCoin(outpoint: Outpoint): Coin | undefined {
    return this.store.getCoin(outpoint);
  }

  /**
   * Block locator from `entry` (default the tip): hashes going back one block at a time for 10 blocks, then with
   * doubling steps, ending with the genesis.
   * @see Bitcoin Core chain.cpp GetLocator
   */
  getLocator(entry?: BlockIndexEntry): Hash256[] {
    return this.index.getLocator(entry === undefined ? this.index.tip : this.requireNode(entry));
  }

  /**
   * The last common ancestor of two entries.
   * @throws RangeError when an entry is not indexed
   */
  findFork(a: BlockIndexEntry, b: BlockIndexEntry): BlockIndexEntry {
    return this.index.findFork(this.requireNode(a), this.requireNode(b)).entry;
  }

  /**
   * Every tip of the block tree (blocks without children, plus the active tip), highest first, with the length of its
   * branch off the main chain and its status.
   * @see Bitcoin Core rpc/blockchain.cpp getchaintips
   */
  getChainTips(): ChainTip[] {
    const tip = this.index.tip;
    const tips = new Set(this.index.leaves());
    tips.add(tip);
    const out: ChainTip[] = [];
    for (const node of tips) {
      const fork = this.index.findFork(node, tip);
      let status: ChainTipStatus;
      if (this.index.contains(node)) status = 'active';
      else if (isFailed(node.entry)) status = 'invalid';
      else if (!node.hasChainData) status = 'headers-only';
      else if ((node.entry.status & BlockStatus.VALID_SCRIPTS) !== 0) status = 'valid-fork';
      else status = 'valid-headers';
      out.push({ height: node.entry.height, hash: node.entry.hashHex, branchlen: node.entry.height - fork.entry.height, status });
    }
    return out.sort((a, b) => b.height - a.height || a.hash.localeCompare(b.hash));
  }

  /** The digest of the UTXO set at the tip (store.computeUtxoDigest). PERF: O(UTXO set). */
  computeUtxoDigest(): UtxoSetDigest {
    return this.store.computeUtxoDigest();
  }

  // --- processing -------------------------------------------------------------------------------------------------

  /**
   * Validates a block and, when it makes a branch with more work than the tip, reorganises to it. Calls are queued and
   * run one at a time. An invalid block is a result, not an error.
   * @throws ChainError script-verifier-failed (the verifier crashed: the block is not marked invalid) | corrupt |
   *   closed; StorageError on database failures
   */
  processBlock(block: Block): Promise<ProcessBlockResult> {
    if (this.closed) return Promise.reject(new ChainError('closed', 'the chain is closed'));
    return this.queue.run(() => this.processBlockNow(block));
  }

  /**
   * Adds headers to the index for headers-first sync: each must link to a known header (the first to any, the others
   * to the one before or any known), meet its proof of work and the contextual header rules. They are stored as
   * VALID_HEADER entries without data; their blocks can then be fetched and given to processBlock. Stops at the first
   * refused header.
   * Reasons: high-hash | bad-diffbits | time-too-old | time-too-new | bad-prevblk (parent invalid) |
   * prev-blk-not-found (parent unknown) | duplicate-invalid.
   * @see Bitcoin Core validation.cpp ChainstateManager::ProcessNewBlockHeaders / AcceptBlockHeader
   */
  acceptHeaders(headers: readonly BlockHeader[]): Promise<AcceptHeadersResult> {
    if (this.closed) return Promise.reject(new ChainError('closed', 'the chain is closed'));
    return this.queue.run(() => this.acceptHeadersNow(headers));
  }

  /** Waits for queued work, then refuses new calls. Does not close the store or the script verifier (the node does). */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.idle();
  }

  // --- loading ----------------------------------------------------------------------------------------------------

  private load(): void {
    const { params, store } = this;
    if (store.params.genesisHashHex !== params.genesisHashHex) {
      throw new ChainError('wrong-network', `the store is for ${store.params.name}, the chain for ${params.name}`);
    }
    let entries = store.loadBlockIndex();
    if (entries.length === 0) {
      const genesis = params.genesis;
      const hash = computeBlockHash(genesis.header);
      const entry: BlockIndexEntry = {
        hash,
        hashHex: hashToHex(hash),
        header: genesis.header,
        height: 0,
        chainWork: computeWork(genesis.header.bits),
        status: BlockStatus.VALID_HEADER | BlockStatus.HAVE_DATA | BlockStatus.VALID_SCRIPTS,
        txCount: genesis.txs.length,
        sizeBytes: getBlockSize(genesis),
        weight: getBlockWeight(genesis),
      };
      store.initGenesis(entry, encodeBlock(genesis));
      entries = [entry];
      this.logger.info({ genesis: entry.hashHex, network: params.name }, 'initialised chain store with the genesis block');
    }
    entries.sort((a, b) => a.height - b.height);
    for (const entry of entries) {
      let parent: IndexNode | undefined;
      if (entry.height === 0) {
        if (entry.hashHex !== params.genesisHashHex) {
          throw new ChainError('corrupt', `height-0 entry ${entry.hashHex} is not the genesis ${params.genesisHashHex}`);
        }
      } else {
        parent = this.index.get(prevHexOf(entry));
        if (parent === undefined || parent.entry.height !== entry.height - 1) {
          throw new ChainError('corrupt', `block index entry ${entry.hashHex} does not link to an indexed parent`);
        }
      }
      const expectedWork = (parent?.entry.chainWork ?? 0n) + computeWork(entry.header.bits);
      if (entry.chainWork !== expectedWork) {
        throw new ChainError('corrupt', `block index entry ${entry.hashHex} has chainWork ${entry.chainWork}, expected ${expectedWork}`);
      }
      this.index.add(entry, parent, 1);
    }
    const tipHash = store.getTipHash();
    const tip = tipHash === undefined ? undefined : this.index.get(hashToHex(tipHash));
    if (tip === undefined) {
      throw new ChainError('corrupt', `the store's tip ${tipHash === undefined ? '(none)' : hashToHex(tipHash)} is not in the block index`);
    }
    if (!tip.hasChainData || isFailed(tip.entry)) {
      throw new ChainError('corrupt', `the store's tip ${tip.entry.hashHex} lacks block data or is marked invalid`);
    }
    this.index.setTip(tip);
    let best = tip;
    for (const node of this.index.values()) {
      if (this.index.contains(node)) node.sequenceId = 0;
      if (isFailed(node.entry)) continue;
      if (node.entry.chainWork > best.entry.chainWork) best = node;
      if (node.hasChainData && node.entry.chainWork >= tip.entry.chainWork) this.candidates.add(node);
    }
    this.bestHeaderNode = best;
    this.logger.info(
      { height: tip.entry.height, tip: tip.entry.hashHex, entries: this.index.size, bestHeader: best.entry.height },
      'block index loaded',
    );
  }

  // --- processBlock -----------------------------------------------------------------------------------------------

  private currentBatch: Batch | undefined;

  /** Runs `body` as one batch: events of connects/disconnects inside it end with one tipChanged. */
  private async runBatch<T>(body: () => Promise<T>): Promise<T> {
    const batch: Batch = { startTip: this.index.tip, changed: false, disconnected: new Map(), blocks: new Map() };
    this.currentBatch = batch;
    try {
      return await body();
    } finally {
      this.currentBatch = undefined;
      if (batch.changed) this.emitTipChanged(batch);
    }
  }

  private async processBlockNow(block: Block): Promise<ProcessBlockResult> {
    const hash = computeBlockHash(block.header);
    const hashHex = hashToHex(hash);
    const existing = this.index.get(hashHex);
    if (existing !== undefined) {
      if (isFailed(existing.entry)) {
        const why = this.failures.get(hashHex);
        return this.invalidResult(hashHex, new VerifyError('duplicate-invalid', 100, why ? `known invalid: ${why.reason}` : 'known invalid'), false);
      }
      if (hasData(existing.entry)) {
        // A previous activation may have stopped on an internal error: retry it, as Core's ProcessNewBlock does.
        await this.runBatch(() => this.activateBestChain(this.currentBatch!));
        return { hashHex, status: 'duplicate' };
      }
    }
    if (this.orphans.has(hashHex)) return { hashHex, status: 'duplicate', detail: 'already in the orphan pool' };

    const prevHex = hashToHex(block.header.prevBlock);
    const { raw, early } = this.startEarlyConnect(block, hash, hashHex, prevHex);
    const acceptStart = performance.now();
    try {
      checkBlock(block, this.params);
    } catch (err) {
      await dropEarlyConnect(early);
      if (err instanceof VerifyError) return this.invalidResult(hashHex, err, true);
      throw err;
    }

    const parent = this.index.get(prevHex);
    if (parent === undefined) return this.addOrphan(block, hashHex, prevHex);

    return this.runBatch(async () => {
      const batch = this.currentBatch!;
      batch.early = early;
      try {
        const accepted = this.acceptBlock(block, hash, hashHex, parent, existing, batch, raw);
        this.connectTimes.acceptMs += performance.now() - acceptStart;
        if (this.index.get(hashHex) !== undefined) this.acceptOrphansOf(hashHex, batch);
        if (!accepted.ok) {
          // The failing block changed nothing, but orphans it freed may have (they were marked failed as its children).
          return this.invalidResult(hashHex, accepted.error, false);
        }
        await this.activateBestChain(batch);
        return this.resultFor(accepted.node, batch);
      } finally {
        await dropEarlyConnect(batch.early);
        batch.early = undefined;
      }
    });
  }

  /**
   * For a new block that extends the tip directly and meets its proof of work, starts its connect at once (UTXO pass,
   * scripts handed to the verifier, BIP-30 and coinbase checks) before checkBlock and the contextual checks, so those
   * run while the workers verify. Its outcome is used only once the block has passed them, so the reject reason is
   * the one the plain order gives; a block that fails them has its script checks cancelled. The extra work an
   * invalid block can cause is one block's signature checks, which a block with valid proof of work and bad
   * signatures causes anyway. Only with a verifier that has begin(), for a block not stored yet (new, or a header
   * from headers-first sync); also returns the raw block when it encoded it.
   */
  private startEarlyConnect(
    block: Block,
    hash: Hash256,
    hashHex: string,
    prevHex: string,
  ): { raw?: Uint8Array; early?: EarlyConnect } {
    const tip = this.index.tip;
    if (
      this.verifier.begin === undefined ||
      prevHex !== tip.entry.hashHex ||
      block.txs.length < 2 ||
      !isCoinbase(block.txs[0]!) ||
      !checkProofOfWork(hash, block.header.bits, this.params.powLimit)
    ) {
      return {};
    }
    const raw = encodeBlock(block);
    const outcome = this.computeConnect({ height: tip.entry.height + 1, hashHex }, block, raw);
    return { raw, early: { hashHex, parentHex: tip.entry.hashHex, outcome } };
  }

  private addOrphan(block: Block, hashHex: string, prevHex: string): ProcessBlockResult {
    const { added, evicted } = this.orphans.add({ block, hashHex, prevHex, sizeBytes: getBlockSize(block) });
    if (evicted.length > 0) this.logger.debug({ evicted }, 'orphan pool full: evicted the oldest orphans');
    const root = this.orphans.getRoot(hashHex);
    const missing = root?.prevHex ?? prevHex;
    if (!added) return { hashHex, status: 'orphan', detail: 'orphan not kept: larger than the orphan pool', missing };
    this.logger.debug({ hash: hashHex, prev: prevHex, orphans: this.orphans.size }, 'orphan block');
    return { hashHex, status: 'orphan', missing };
  }

  /**
   * AcceptBlock: the contextual checks of a block whose parent is indexed, then stores it. A block failing its
   * block-level context (not its header's) is indexed as FAILED so that a resend is refused at once.
   */
  private acceptBlock(
    block: Block,
    hash: Hash256,
    hashHex: string,
    parent: IndexNode,
    existing: IndexNode | undefined,
    batch: Batch,
    encoded?: Uint8Array,
  ): { ok: true; node: IndexNode } | { ok: false; error: VerifyError } {
    if (existing !== undefined && (isFailed(existing.entry) || hasData(existing.entry))) {
      return isFailed(existing.entry)
        ? { ok: false, error: new VerifyError('duplicate-invalid', 100, 'known invalid') }
        : { ok: true, node: existing };
    }
    if (isFailed(parent.entry)) {
      const node = existing ?? this.addHeaderNode(block.header, hash, hashHex, parent, BlockStatus.VALID_HEADER);
      const error = new VerifyError('bad-prevblk', 100, `parent ${parent.entry.hashHex} is invalid`);
      this.markFailed(node, BlockStatus.FAILED_CHILD, error);
      return { ok: false, error };
    }
    if (existing === undefined) {
      try {
        this.checkHeaderContext(block.header, parent);
      } catch (err) {
        if (!(err instanceof VerifyError)) throw err;
        this.noteInvalid(hashHex, err);
        return { ok: false, error: err };
      }
    }
    const height = parent.entry.height + 1;
    try {
      checkBlockContext(block, height, this.index.getMedianTimePast(parent));
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      const node = existing ?? this.addHeaderNode(block.header, hash, hashHex, parent, BlockStatus.VALID_HEADER);
      this.markFailed(node, BlockStatus.FAILED, err);
      return { ok: false, error: err };
    }

    const raw = encoded ?? encodeBlock(block);
    let node: IndexNode;
    if (existing !== undefined) {
      node = existing;
      const entry = node.entry;
      entry.status |= BlockStatus.HAVE_DATA;
      entry.txCount = block.txs.length;
      entry.sizeBytes = raw.length;
      entry.weight = getBlockWeight(block);
      this.store.putBlock(entry, raw);
    } else {
      const entry: BlockIndexEntry = {
        hash,
        hashHex,
        header: block.header,
        height,
        chainWork: parent.entry.chainWork + computeWork(block.header.bits),
        status: BlockStatus.VALID_HEADER | BlockStatus.HAVE_DATA,
        txCount: block.txs.length,
        sizeBytes: raw.length,
        weight: getBlockWeight(block),
      };
      this.store.putBlock(entry, raw);
      node = this.index.add(entry, parent, this.nextSequenceId++);
      this.noteHeader(node);
    }
    batch.blocks.set(hashHex, { block, raw });
    this.linkChainData(node);
    this.logger.debug({ hash: hashHex, height }, 'block accepted');
    return { ok: true, node };
  }

  /** Accepts the orphans that were waiting for `hashHex` and, recursively, for them. */
  private acceptOrphansOf(hashHex: string, batch: Batch): void {
    const queue = [hashHex];
    for (let h = queue.shift(); h !== undefined; h = queue.shift()) {
      const parent = this.index.get(h);
      if (parent === undefined) continue;
      for (const orphan of this.orphans.takeChildren(h)) {
        const hash = computeBlockHash(orphan.block.header);
        const result = this.acceptBlock(orphan.block, hash, orphan.hashHex, parent, this.index.get(orphan.hashHex), batch);
        if (!result.ok) this.logger.info({ hash: orphan.hashHex, reason: result.error.reason }, 'orphan block refused');
        if (this.index.get(orphan.hashHex) !== undefined) queue.push(orphan.hashHex);
      }
    }
  }

  /** The result for a block that was accepted, once the best chain was activated. */
  private resultFor(node: IndexNode, batch: Batch): ProcessBlockResult {
    const hashHex = node.entry.hashHex;
    if (isFailed(node.entry)) {
      const why = this.failures.get(hashHex) ?? { reason: 'bad-prevblk', score: 100 };
      return { hashHex, status: 'invalid', reason: why.reason, detail: why.detail, score: why.score };
    }
    if (!this.index.contains(node)) return { hashHex, status: 'side-chain' };
    const fork = this.index.findFork(batch.startTip, this.index.tip);
    const depth = batch.startTip.entry.height - fork.entry.height;
    return depth > 0
      ? { hashHex, status: 'connected', reorg: { depth, forkHeight: fork.entry.height } }
      : { hashHex, status: 'connected' };
  }

  private invalidResult(hashHex: string, error: VerifyError, emit: boolean): ProcessBlockResult {
    if (emit) this.noteInvalid(hashHex, error);
    return { hashHex, status: 'invalid', reason: error.reason, detail: error.detail, score: error.score };
  }

  /** Logs an invalid block and emits blockInvalid. */
  private noteInvalid(hashHex: string, error: VerifyError): void {
    this.logger.warn({ hash: hashHex, reason: error.reason, detail: error.detail }, 'invalid block');
    this.events.emit('blockInvalid', { hashHex, reason: error.reason, detail: error.detail, score: error.score });
  }

  // --- headers ----------------------------------------------------------------------------------------------------

  private acceptHeadersNow(headers: readonly BlockHeader[]): AcceptHeadersResult {
    let accepted = 0;
    let last: IndexNode | undefined;
    const refuse = (hashHex: string, error: VerifyError): AcceptHeadersResult => {
      this.logger.info({ hash: hashHex, reason: error.reason, detail: error.detail }, 'header refused');
      return { accepted, last: last?.entry, invalid: { hashHex, reason: error.reason, detail: error.detail, score: error.score } };
    };
    for (const header of headers) {
      const hash = computeBlockHash(header);
      const hashHex = hashToHex(hash);
      const known = this.index.get(hashHex);
      if (known !== undefined) {
        if (isFailed(known.entry)) return refuse(hashHex, new VerifyError('duplicate-invalid', 100, 'known invalid'));
        last = known;
        continue;
      }
      const parent = this.index.get(hashToHex(header.prevBlock));
      if (parent === undefined) {
        return refuse(hashHex, new VerifyError('prev-blk-not-found', 0, `parent ${hashToHex(header.prevBlock)} unknown`));
      }
      try {
        checkBlockHeader(header, this.params, hash);
        if (isFailed(parent.entry)) throw new VerifyError('bad-prevblk', 100, `parent ${parent.entry.hashHex} is invalid`);
        this.checkHeaderContext(header, parent);
      } catch (err) {
        if (err instanceof VerifyError) return refuse(hashHex, err);
        throw err;
      }
      last = this.addHeaderNode(header, hash, hashHex, parent, BlockStatus.VALID_HEADER);
      accepted++;
    }
    return { accepted, last: last?.entry };
  }

  /** Indexes and stores a header without data. */
  private addHeaderNode(header: BlockHeader, hash: Hash256, hashHex: string, parent: IndexNode, status: number): IndexNode {
    const entry: BlockIndexEntry = {
      hash,
      hashHex,
      header,
      height: parent.entry.height + 1,
      chainWork: parent.entry.chainWork + computeWork(header.bits),
      status,
      txCount: 0,
      sizeBytes: 0,
      weight: 0,
    };
    this.store.putBlockIndexEntry(entry);
    const node = this.index.add(entry, parent, this.nextSequenceId++);
    this.noteHeader(node);
    return node;
  }

  /** Keeps bestHeader the most-work header not known invalid (first seen wins ties). */
  private noteHeader(node: IndexNode): void {
    if (!isFailed(node.entry) && node.entry.chainWork > this.bestHeaderNode.entry.chainWork) this.bestHeaderNode = node;
  }

  /** ContextualCheckBlockHeader against the parent: bits, median-time-past, future limit. */
  private checkHeaderContext(header: BlockHeader, parent: IndexNode): void {
    checkBlockHeaderContext(header, {
      expectedBits: this.nextBitsAfter(parent),
      medianTimePastSec: this.index.getMedianTimePast(parent),
      nowSec: this.nowSec(),
      maxFutureBlockTimeSec: this.params.maxFutureBlockTimeSec,
    });
  }

  private nextBitsAfter(parent: IndexNode): number {
    const header = parent.entry.header;
    return getNextWorkRequired(this.params, { height: parent.entry.height, time: header.time, bits: header.bits }, (height) => {
      const ancestor = this.index.getAncestor(parent, height);
      if (ancestor === undefined) throw new RangeError(`no ancestor at height ${height}`);
      return { time: ancestor.entry.header.time, bits: ancestor.entry.header.bits };
    });
  }

  // --- candidates and failures ------------------------------------------------------------------------------------

  /**
   * Sets hasChainData on a node that just got its data (when its parent has chain data) and on every descendant with
   * data that was waiting for it, and makes them candidates.
   */
  private linkChainData(node: IndexNode): void {
    if (node.hasChainData) {
      this.addCandidate(node);
      return;
    }
    if (node.parent !== undefined && !node.parent.hasChainData) return;
    const stack = [node];
    for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
      n.hasChainData = true;
      this.addCandidate(n);
      for (const child of n.children) if (hasData(child.entry) && !child.hasChainData) stack.push(child);
    }
  }

  private addCandidate(node: IndexNode): void {
    if (node.hasChainData && !isFailed(node.entry) && node.entry.chainWork >= this.index.tip.entry.chainWork) {
      this.candidates.add(node);
    }
  }

  /**
   * The candidate with the most work (earliest seen among equals), after dropping candidates that are invalid or
   * have less work than the tip (Core's FindMostWorkChain + PruneBlockIndexCandidates).
   */
  private findBestCandidate(): IndexNode | undefined {
    const tip = this.index.tip;
    let best: IndexNode | undefined;
    for (const node of this.candidates) {
      if (isFailed(node.entry) || (node !== tip && node.entry.chainWork < tip.entry.chainWork)) {
        this.candidates.delete(node);
        continue;
      }
      if (
        best === undefined ||
        node.entry.chainWork > best.entry.chainWork ||
        (node.entry.chainWork === best.entry.chainWork && node.sequenceId < best.sequenceId)
      ) {
        best = node;
      }
    }
    return best;
  }

  /**
   * Marks `node` with `bit` (FAILED, or FAILED_CHILD for a child of an invalid block) and every descendant
   * FAILED_CHILD, persists the new status bits, drops them from the candidates and reports the failure.
   */
  private markFailed(node: IndexNode, bit: number, error: VerifyError): void {
    const changed: IndexNode[] = [];
    node.entry.status |= bit;
    changed.push(node);
    this.rememberFailure(node.entry.hashHex, { reason: error.reason, detail: error.detail, score: error.score });
    for (const d of this.index.descendants(node)) {
      if ((d.entry.status & BlockStatus.FAILED_CHILD) === 0) {
        d.entry.status |= BlockStatus.FAILED_CHILD;
        changed.push(d);
      }
      if (!this.failures.has(d.entry.hashHex)) {
        this.rememberFailure(d.entry.hashHex, {
          reason: 'bad-prevblk',
          detail: `ancestor ${node.entry.hashHex} is invalid (${error.reason})`,
          score: 100,
        });
      }
    }
    for (const n of changed) this.candidates.delete(n);
    this.store.updateBlockStatus(changed.map((n) => ({ hash: n.entry.hash, status: n.entry.status })));
    if (isFailed(this.bestHeaderNode.entry)) this.recomputeBestHeader();
    this.noteInvalid(node.entry.hashHex, error);
  }

  private rememberFailure(hashHex: string, failure: Failure): void {
    this.failures.set(hashHex, failure);
    if (this.failures.size > MAX_REMEMBERED_FAILURES) this.failures.delete(this.failures.keys().next().value as string);
  }

  private recomputeBestHeader(): void {
    let best = this.index.tip;
    for (const node of this.index.values()) {
      if (!isFailed(node.entry) && node.entry.chainWork > best.entry.chainWork) best = node;
    }
    this.bestHeaderNode = best;
  }

  // --- activation -------------------------------------------------------------------------------------------------

  /**
   * ActivateBestChain: while a valid candidate has more work than the tip, disconnect to the fork point and connect
   * its branch block by block. A block that fails to connect is marked invalid (descendants too) and the loop goes on,
   * so the chain ends on the most-work chain of valid blocks, possibly the old one.
   */
  private async activateBestChain(batch: Batch): Promise<void> {
    for (;;) {
      const tip = this.index.tip;
      const best = this.findBestCandidate();
      if (best === undefined || best.entry.chainWork <= tip.entry.chainWork) return;
      const fork = this.index.findFork(tip, best);
      if (fork !== tip) {
        this.logger.info(
          { from: tip.entry.hashHex, to: best.entry.hashHex, forkHeight: fork.entry.height, depth: tip.entry.height - fork.entry.height },
          'reorganising to a branch with more work',
        );
      }
      while (this.index.tip !== fork) this.disconnectTip(batch);
      const path: IndexNode[] = [];
      for (let n: IndexNode | undefined = best; n !== undefined && n !== fork; n = n.parent) path.push(n);
      path.reverse();
      for (const node of path) {
        if (!(await this.connectTip(node, batch))) break;
      }
    }
  }

  /** Connects `node` (a child of the tip); false when the block is invalid (it is then marked). */
  private async connectTip(node: IndexNode, batch: Batch): Promise<boolean> {
    const entry = node.entry;
    const accepted = batch.blocks.get(entry.hashHex);
    const block = accepted?.block ?? this.store.readBlock(entry.hash);
    if (block === undefined) throw new ChainError('corrupt', `block ${entry.hashHex} has HAVE_DATA but no stored data`);
    let outcome: ConnectOutcome;
    const early = batch.early;
    if (early !== undefined && early.hashHex === entry.hashHex && early.parentHex === this.index.tip.entry.hashHex) {
      batch.early = undefined;
      outcome = await early.outcome;
    } else {
      outcome = await this.computeConnect(entry, block, accepted?.raw ?? encodeBlock(block));
    }
    if (!outcome.ok) {
      this.markFailed(node, BlockStatus.FAILED, outcome.error);
      return false;
    }
    const update: ConnectBlockUpdate = { ...outcome.update, entry };
    const scriptError = await this.commitConnect(entry, update, outcome.scripts);
    if (scriptError !== undefined) {
      this.markFailed(node, BlockStatus.FAILED, scriptError);
      return false;
    }
    const times = this.connectTimes;
    let t = performance.now();
    this.index.setTip(node);
    batch.changed = true;
    if (batch.disconnected.size > 0) {
      for (const txid of update.txids) batch.disconnected.delete(hashToHex(txid));
    }
    this.logger.debug({ height: entry.height, hash: entry.hashHex, txs: block.txs.length }, 'block connected');
    this.events.emit('blockConnected', { entry, block, txids: update.txids });
    times.blocks++;
    times.txs += block.txs.length;
    times.inputs += update.undo.length;
    t = lap(times, 'otherMs', t);
    return true;
  }

  /**
   * Writes the block connect, committing only once its scripts passed. With a verifier session that can be joined
   * synchronously, the SQLite writes run while the workers verify and the join happens inside the write transaction
   * (beforeCommit), so the event loop never sees uncommitted state and a script failure rolls everything back.
   * Otherwise (or when the workers stall) it awaits the scripts first, then writes. Returns the script failure, if any.
   * @throws ChainError script-verifier-failed; StorageError from the store
   */
  private async commitConnect(
    entry: BlockIndexEntry,
    update: ConnectBlockUpdate,
    scripts: PendingScripts | undefined,
  ): Promise<VerifyError | undefined> {
    const times = this.connectTimes;
    const session = scripts?.session;
    const scriptError = (result: ScriptCheckResult): VerifyError | undefined => {
      if (result.ok) return undefined;
      const i = result.txIndex + 1;
      return new VerifyError(
        `mandatory-script-verify-flag-failed (${result.reason})`,
        100,
        `tx ${i} (${hashToHex(update.txids[i]!)}) input ${result.inputIndex}`,
      );
    };
    const verifierFailed = (err: unknown): ChainError =>
      new ChainError('script-verifier-failed', `script checks of block ${entry.hashHex} did not complete`, { cause: err });
    const before = entry.status;
    entry.status |= BlockStatus.VALID_SCRIPTS;
    let committed = false;
    let t = performance.now();
    try {
      if (scripts !== undefined && session?.finishSync !== undefined) {
        const finishSync = session.finishSync.bind(session);
        let joined: ScriptCheckResult | undefined;
        try {
          this.store.connectBlock(update, {
            beforeCommit: () => {
              t = lap(times, 'overlapMs', t);
              try {
                joined = finishSync();
              } catch (err) {
                throw verifierFailed(err);
              } finally {
                t = lap(times, 'scriptsMs', t);
              }
              if (joined === undefined || !joined.ok) throw NOT_COMMITTED;
            },
          });
          committed = true;
          lap(times, 'commitMs', t);
          return undefined;
        } catch (err) {
          if (err !== NOT_COMMITTED) throw err;
        }
        if (joined !== undefined) return scriptError(joined);
        // The workers stalled: the writes were rolled back; wait for the verdict the ordinary way, then write again.
        t = performance.now();
      }
      if (scripts !== undefined) {
        let result: ScriptCheckResult;
        try {
          result = await (session !== undefined ? session.finish() : this.verifier.verify(scripts.jobs));
        } catch (err) {
          throw verifierFailed(err);
        } finally {
          t = lap(times, 'scriptsMs', t);
        }
        const error = scriptError(result);
        if (error !== undefined) return error;
      }
      this.store.connectBlock(update);
      committed = true;
      lap(times, 'commitMs', t);
      return undefined;
    } catch (err) {
      await session?.cancel();
      throw err;
    } finally {
      if (!committed) entry.status = before;
    }
  }

  /**
   * ConnectBlock without the writes: fills a view with the coins the block spends (from the store, or created
   * earlier in the block), runs checkTxInputs per tx at the block's height, refuses outputs that would overwrite an
   * unspent coin (BIP-30), checks the coinbase claims at most subsidy + fees, and checks every script in one verifier
   * batch. Returns the store update (net UTXO diff, undo coins in block order) or the consensus failure; when a block
   * breaks several rules, the one Core's ConnectBlock meets first (tx by tx: inputs, then BIP-30 per output; then the
   * coinbase amount; scripts last).
   * As Core queues script checks while it goes on with the block, the scripts are handed to the verifier as soon as
   * the inputs are known (verifier.begin), and the BIP-30 lookups and the coinbase check run while workers verify;
   * the main thread then joins the checks. `raw` is encodeBlock(block): txs are hashed from it, not re-serialized.
   * @throws ChainError script-verifier-failed when the verifier throws
   * @see Bitcoin Core validation.cpp Chainstate::ConnectBlock
   */
  private async computeConnect(
    entry: { readonly height: number; readonly hashHex: string },
    block: Block,
    raw: Uint8Array,
  ): Promise<ConnectOutcome> {
    const times = this.connectTimes;
    let t = performance.now();
    const height = entry.height;
    const txs = block.txs;
    const { txids, wtxids, txBytes } = computeBlockTxHashes(block, raw);
    const txidKeys = txids.map(txidMapKey);
    const txidsInBlock = new Set(txidKeys);
    const fail = (error: VerifyError, i: number): ConnectOutcome => ({
      ok: false,
      error: new VerifyError(error.reason, error.score, `tx ${i} (${hashToHex(txids[i]!)})${error.detail ? `: ${error.detail}` : ''}`),
    });

    // Read every coin the block spends from outside itself in one read transaction. Coins spent inside the block
    // then leave `live`, so a second spend finds nothing. Keys: txidMapKey(txid) + ':' + index, made once per input.
    const inputKeys: string[] = [];
    const fetched = new Set<string>();
    const external: Outpoint[] = [];
    const externalKeys: string[] = [];
    for (let i = 1; i < txs.length; i++) {
      for (const input of txs[i]!.inputs) {
        const txidKey = txidMapKey(input.prevout.txid);
        const key = `${txidKey}:${input.prevout.index}`;
        inputKeys.push(key);
        if (fetched.has(key) || txidsInBlock.has(txidKey)) continue;
        fetched.add(key);
        external.push(input.prevout);
        externalKeys.push(key);
      }
    }
    /** The unspent coins the block can see, by outpoint key (Core's CCoinsViewCache for this block). */
    const live = new Map<string, Coin>();
    this.store.getCoins(external).forEach((coin, n) => {
      if (coin !== undefined) live.set(externalKeys[n]!, coin);
    });

    const view = new TxInputsView();
    const created = new Map<string, UtxoRecord>();
    const spent: Outpoint[] = [];
    const undo: Coin[] = [];
    const jobs: ScriptCheckJob[] = [];
    /** Every spendable output the loop reached, for the BIP-30 lookup in the store. */
    const outputs: { outpoint: Outpoint; key: string; tx: number }[] = [];
    let fees = 0n;
    let failure: ConnectOutcome | undefined;
    let u = 0;
    txLoop: for (let i = 0; i < txs.length; i++) {
      const tx = txs[i]!;
      const txid = txids[i]!;
      if (i > 0) {
        const first = u;
        for (const input of tx.inputs) {
          const coin = live.get(inputKeys[u++]!);
          if (coin !== undefined) view.byPrevout.set(input.prevout, coin);
        }
        try {
          fees += checkTxInputs(tx, view, height, this.params.coinbaseMaturity);
        } catch (err) {
          if (!(err instanceof VerifyError)) throw err;
          failure = fail(err, i);
          break;
        } finally {
          view.byPrevout.clear();
        }
        const prevouts: TxOut[] = [];
        for (let k = 0; k < tx.inputs.length; k++) {
          const key = inputKeys[first + k]!;
          const coin = live.get(key)!;
          live.delete(key);
          undo.push(coin);
          if (!created.delete(key)) spent.push(tx.inputs[k]!.prevout);
          prevouts.push(coin.output);
        }
        jobs.push({ tx, prevouts, wtxidHex: hashToHex(wtxids[i]!), txBytes: txBytes[i] });
      }
      for (let index = 0; index < tx.outputs.length; index++) {
        const output = tx.outputs[index]!;
        if (isUnspendable(output.scriptPubKey)) continue;
        const key = `${txidKeys[i]!}:${index}`;
        // BIP-30: never overwrite an unspent coin (here: one in the view; the store's are looked up below).
        if (live.has(key)) {
          failure = fail(new VerifyError('bad-txns-BIP30', 100, `tried to overwrite transaction output ${index}`), i);
          break txLoop;
        }
        const outpoint = { txid, index };
        const coin: Coin = { output, height, isCoinbase: i === 0 };
        live.set(key, coin);
        created.set(key, { outpoint, coin });
        outputs.push({ outpoint, key, tx: i });
      }
    }
    t = lap(times, 'utxoMs', t);

    // BIP-30 against the store: an unspent coin there that the block did not spend. Each output the loop reached
    // comes before the loop's failure (if any) in Core's order, so a hit here is the block's first failure.
    // PERF: one batched lookup per block, while the workers verify; Core skips BIP-30 under BIP-34, cairn keeps the
    // check as its DESIGN says.
    const overwrite = (): ConnectOutcome | undefined => {
      const found = this.store.getCoins(outputs.map((o) => o.outpoint));
      for (let n = 0; n < outputs.length; n++) {
        const o = outputs[n]!;
        if (found[n] !== undefined && !fetched.has(o.key)) {
          return fail(new VerifyError('bad-txns-BIP30', 100, `tried to overwrite transaction output ${o.outpoint.index}`), o.tx);
        }
      }
      return undefined;
    };
    if (failure !== undefined) {
      const result = overwrite() ?? failure;
      lap(times, 'overlapMs', t);
      return result;
    }

    let session: ScriptCheckSession | undefined;
    try {
      session = jobs.length > 0 ? this.verifier.begin?.(jobs) : undefined;
    } catch (err) {
      throw new ChainError('script-verifier-failed', `script checks of block ${entry.hashHex} could not start`, { cause: err });
    }
    try {
      failure = overwrite();
      if (failure === undefined) {
        const coinbaseOut = txs[0]!.outputs.reduce((sum, o) => sum + o.value, 0n);
        const limit = computeBlockSubsidy(height, this.params) + fees;
        if (coinbaseOut > limit) {
          failure = { ok: false, error: new VerifyError('bad-cb-amount', 100, `coinbase pays too much (actual=${coinbaseOut} vs limit=${limit})`) };
        }
      }
    } catch (err) {
      await session?.cancel();
      throw err;
    }
    lap(times, 'overlapMs', t);
    if (failure !== undefined) {
      await session?.cancel();
      return failure;
    }

    return {
      ok: true,
      update: { block, txids, spent, created: [...created.values()], undo },
      scripts: jobs.length > 0 ? { jobs, session } : undefined,
    };
  }

  /**
   * DisconnectBlock of the tip: reads its block and undo data, removes the coins it created (those still unspent:
   * all but the ones spent inside the block) and restores the coins it spent (except those it created itself).
   * @see Bitcoin Core validation.cpp Chainstate::DisconnectBlock
   */
  private disconnectTip(batch: Batch): void {
    const node = this.index.tip;
    const entry = node.entry;
    if (node.parent === undefined) throw new ChainError('corrupt', 'asked to disconnect the genesis block');
    const block = batch.blocks.get(entry.hashHex)?.block ?? this.store.readBlock(entry.hash);
    if (block === undefined) throw new ChainError('corrupt', `main-chain block ${entry.hashHex} has no stored data`);
    const undo = this.store.readUndo(entry.hash);
    if (undo === undefined) throw new ChainError('corrupt', `main-chain block ${entry.hashHex} has no undo data`);
    const txids = block.txs.map(computeTxid);
    const txidsInBlock = new Set(txids.map(hashToHex));
    const spentInBlock = new Set<string>();
    const restored: UtxoRecord[] = [];
    let u = 0;
    for (let i = 1; i < block.txs.length; i++) {
      for (const input of block.txs[i]!.inputs) {
        const coin = undo[u++];
        if (coin === undefined) throw new ChainError('corrupt', `undo data of ${entry.hashHex} is shorter than its inputs`);
        if (txidsInBlock.has(hashToHex(input.prevout.txid))) spentInBlock.add(outpointKey(input.prevout));
        else restored.push({ outpoint: input.prevout, coin });
      }
    }
    if (u !== undo.length) throw new ChainError('corrupt', `undo data of ${entry.hashHex} is longer than its inputs`);
    const removed: Outpoint[] = [];
    block.txs.forEach((tx, i) => {
      tx.outputs.forEach((output, index) => {
        if (isUnspendable(output.scriptPubKey)) return;
        const outpoint = { txid: txids[i]!, index };
        if (!spentInBlock.has(outpointKey(outpoint))) removed.push(outpoint);
      });
    });
    this.store.disconnectBlock({ entry, block, txids, removed, restored });
    this.index.setTip(node.parent);
    batch.changed = true;
    block.txs.forEach((tx, position) => {
      if (position > 0) batch.disconnected.set(hashToHex(txids[position]!), { tx, height: entry.height, position });
    });
    this.logger.debug({ height: entry.height, hash: entry.hashHex }, 'block disconnected');
    this.events.emit('blockDisconnected', { entry, block, txids });
  }

  private emitTipChanged(batch: Batch): void {
    const tip = this.index.tip;
    const fork = this.index.findFork(batch.startTip, tip);
    const disconnectedTxs = [...batch.disconnected.values()]
      .sort((a, b) => a.height - b.height || a.position - b.position)
      .map((d) => d.tx);
    const reorgDepth = batch.startTip.entry.height - fork.entry.height;
    this.logger.info(
      { height: tip.entry.height, hash: tip.entry.hashHex, chainWork: tip.entry.chainWork.toString(16), reorgDepth },
      'new tip',
    );
    this.events.emit('tipChanged', { tip: tip.entry, previousTip: batch.startTip.entry, reorgDepth, disconnectedTxs });
  }

  // --- helpers ----------------------------------------------------------------------------------------------------

  private nodeOf(hashOrHex: Hash256 | string): IndexNode | undefined {
    return this.index.get(typeof hashOrHex === 'string' ? hashOrHex.toLowerCase() : hashToHex(hashOrHex));
  }

  private requireNode(entry: BlockIndexEntry): IndexNode {
    const node = this.index.get(entry.hashHex);
    if (node === undefined) throw new RangeError(`block ${entry.hashHex} is not in the block index`);
    return node;
  }
}
