import { blockSizes, checkBlock, checkBlockHeader } from '../consensus/checkBlock.js';
import { checkBlockContext, checkBlockHeaderContext } from '../consensus/contextualChecks.js';
import { getNextWorkRequired } from '../consensus/difficulty.js';
import { checkProofOfWork, computeWork } from '../consensus/pow.js';
import { isUnspendable } from '../consensus/scriptType.js';
import type { Coin } from '../consensus/utxoView.js';
import { VerifyError } from '../consensus/verifyError.js';
import type { Logger } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import { decodeBlock, encodeBlock, getBlockSize, getBlockWeight } from '../primitives/block.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { bytesEqual, hashToHex } from '../primitives/hex.js';
import { outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { computeTxid, isCoinbase } from '../primitives/tx.js';
import type { Block, BlockHash, BlockHeader, Outpoint, Tx, Txid } from '../primitives/types.js';
import type { ChainStore } from '../storage/chainStore.js';
import { BlockStatus, type BlockIndexEntry, type UtxoRecord, type UtxoSetDigest } from '../interfaces/chainTypes.js';
import { BlockIndex, hasData, isFailed, type IndexNode } from './blockIndex.js';
import { computeBlockTxHashes, hashBlockTxsInline, startBlockTxHashes, type BlockTxHasher, type BlockTxHashes } from './blockTxHashes.js';
import type { InputCoinPrefetch } from './blockCoinView.js';
import { ConnectTimer, copyChainConnectStats, emptyChainConnectStats, type ChainConnectStats } from './chainConnectStats.js';
import { ChainError } from './chainError.js';
import { ChainEventEmitter, type ChainListener } from './chainEvents.js';
import type { ChainEvents } from '../interfaces/chainTypes.js';
import { ConnectPipeline, type StartedConnect } from './connectPipeline.js';
import { OrphanPool } from './orphanPool.js';
import type { ScriptVerifier } from '../interfaces/scriptVerifier.js';
import { SerialQueue } from '../async/serialQueue.js';
import type { RejectReason } from '../consensus/rejectReason.js';
import type { ChainReader } from '../interfaces/chainReader.js';
import type { ChainTip, ChainTipStatus, ProcessBlockResult } from '../interfaces/chainTypes.js';

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

/** Result of acceptHeaders. */
export interface AcceptHeadersResult {
  /** Number of headers newly added to the index. */
  readonly accepted: number;
  /** Entry of the last header that is in the index (new or already known), if any. */
  readonly last?: BlockIndexEntry;
  /** The first header that was refused (later headers were not looked at). */
  readonly invalid?: { readonly hash: BlockHash; readonly reason: RejectReason; readonly detail?: string; readonly score: number };
}

/** A remembered failure: why a block was found invalid. */
interface Failure {
  readonly reason: RejectReason;
  readonly detail?: string;
  readonly score: number;
}

/** The state of one processBlock (or open) call: what its events must report at the end. */
interface Batch {
  readonly startTip: IndexNode;
  changed: boolean;
  /** Non-coinbase txs of disconnected blocks not reconnected yet, by txid. */
  readonly disconnected: Map<HashKey<Txid>, { tx: Tx; height: number; position: number }>;
  /** Blocks accepted in this batch with their raw bytes and tx hashes, by hash: connecting them reads no store. */
  readonly blocks: Map<HashKey<BlockHash>, EncodedBlock>;
  /** The connect processBlock started before checkBlock, until connectTip takes it. */
  early?: EarlyConnect;
}

/** A block with its serialization (encodeBlock) and its txs' hashes, made once per block. */
interface EncodedBlock {
  readonly block: Block;
  readonly raw: Uint8Array;
  readonly hashes: BlockTxHashes;
}

/** A connect started before checkBlock for the block `hash` on the tip `parent`, until connectTip takes it. */
interface EarlyConnect {
  readonly hash: BlockHash;
  readonly parent: IndexNode;
  readonly started: StartedConnect;
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
 * store; then activate the best chain: connect block by block (connectBlock.ts: BIP-30, inputs, coinbase amount,
 * then scripts; run by connectPipeline.ts), marking a failing block FAILED and its descendants FAILED_CHILD, until the
 * tip is the most-work valid candidate.
 * Events: see ChainEvents.
 * @see Bitcoin Core validation.cpp ChainstateManager::ProcessNewBlock, AcceptBlock, Chainstate::ActivateBestChain,
 *   ConnectBlock, DisconnectBlock; btcd blockchain/chain.go; bcoin lib/blockchain/chain.js
 */
export class Chain implements ChainReader {
  private readonly params: ChainParams;
  private readonly store: ChainStore;
  private readonly logger: Logger;
  private readonly nowSec: () => number;
  private readonly index = new BlockIndex();
  private readonly orphans: OrphanPool;
  private readonly queue = new SerialQueue();
  private readonly events: ChainEventEmitter;
  /** Blocks with all data whose branch could become the main chain (Core's setBlockIndexCandidates). */
  private readonly candidates = new Set<IndexNode>();
  private readonly failures = new Map<HashKey<BlockHash>, Failure>();
  private bestHeaderNode!: IndexNode;
  private nextSequenceId = 2;
  private readonly timer = new ConnectTimer(emptyChainConnectStats());
  private readonly pipeline: ConnectPipeline;
  /** Hashes a raw block's txs: the verifier's (on its worker threads) when it has one, else on this thread. */
  private readonly txHasher: BlockTxHasher;
  private closed = false;

  private constructor(options: ChainOptions, deps: ChainDeps) {
    this.params = deps.params;
    this.store = deps.store;
    this.logger = deps.logger;
    this.nowSec = deps.nowSec;
    this.events = new ChainEventEmitter(deps.logger);
    this.pipeline = new ConnectPipeline({ params: deps.params, store: deps.store, verifier: deps.scriptVerifier, timer: this.timer });
    const verifierHasher = deps.scriptVerifier.beginHashBlockTxs;
    this.txHasher = verifierHasher === undefined ? hashBlockTxsInline : verifierHasher.bind(deps.scriptVerifier);
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
    chain.timer.restart();
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

  /** Whether a block waits in the orphan pool. */
  hasOrphan(hash: BlockHash): boolean {
    return this.orphans.has(hash);
  }

  /** The params the chain validates with. */
  get chainParams(): ChainParams {
    return this.params;
  }

  /** Time per phase (main-thread wall, process CPU) since open or the last reset, and the work done; a copy. */
  get connectStats(): ChainConnectStats {
    return copyChainConnectStats(this.timer.stats);
  }

  /** Zeroes connectStats. */
  resetConnectStats(): void {
    this.timer.reset();
  }

  /** Subscribes to a chain event; returns the unsubscribe function. */
  on<K extends keyof ChainEvents>(event: K, listener: ChainListener<K>): () => void {
    return this.events.on(event, listener);
  }

  /** Unsubscribes a listener. */
  off<K extends keyof ChainEvents>(event: K, listener: ChainListener<K>): void {
    this.events.off(event, listener);
  }

  /** The index entry of a block, or undefined. */
  getEntry(hash: BlockHash): BlockIndexEntry | undefined {
    return this.index.get(hash)?.entry;
  }

  /** The main-chain entry at a height, or undefined above the tip. */
  getEntryByHeight(height: number): BlockIndexEntry | undefined {
    return this.index.atHeight(height)?.entry;
  }

  /** Whether the entry is on the main chain. */
  isMainChain(entry: BlockIndexEntry): boolean {
    const node = this.index.get(entry.hash);
    return node !== undefined && this.index.contains(node);
  }

  /** The ancestor of `entry` at `height` (the entry itself at its height), or undefined. */
  getAncestor(entry: BlockIndexEntry, height: number): BlockIndexEntry | undefined {
    const node = this.index.get(entry.hash);
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
  getBlock(hash: BlockHash): Block | undefined {
    return this.store.readBlock(hash);
  }

  /** The stored block's serialized bytes (with witnesses), as written, or undefined. For relaying without re-encoding. */
  getRawBlock(hash: BlockHash): Uint8Array | undefined {
    return this.store.readRawBlock(hash);
  }

  /**
   * The undo data of a main-chain block: the coins its non-coinbase inputs spent, in block order; undefined for a
   * block not on the main chain.
   */
  getBlockUndo(hash: BlockHash): readonly Coin[] | undefined {
    return this.store.readUndo(hash);
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
  getLocator(entry?: BlockIndexEntry): BlockHash[] {
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
    const sorted = [...tips].sort((a, b) => b.entry.height - a.entry.height || a.entry.hashHex.localeCompare(b.entry.hashHex));
    const out: ChainTip[] = [];
    for (const node of sorted) {
      const fork = this.index.findFork(node, tip);
      let status: ChainTipStatus;
      if (this.index.contains(node)) status = 'active';
      else if (isFailed(node.entry)) status = 'invalid';
      else if (!node.hasChainData) status = 'headers-only';
      else if ((node.entry.status & BlockStatus.VALID_SCRIPTS) !== 0) status = 'valid-fork';
      else status = 'valid-headers';
      out.push({ height: node.entry.height, hash: node.entry.hash, branchlen: node.entry.height - fork.entry.height, status });
    }
    return out;
  }

  /** The digest of the UTXO set at the tip (store.computeUtxoDigest). PERF: O(UTXO set). */
  computeUtxoDigest(): UtxoSetDigest {
    return this.store.computeUtxoDigest();
  }

  // --- processing -------------------------------------------------------------------------------------------------

  /**
   * Validates a block and, when it makes a branch with more work than the tip, reorganises to it. Calls are queued and
   * run one at a time. An invalid block is a result, not an error.
   * `raw`, when the caller has it, is the serialization `block` was decoded from (a block from the network): it is
   * stored and hashed as is instead of encoding the block again. Precondition: decodeBlock(raw) gives `block`.
   * @throws ChainError script-verifier-failed (the verifier crashed: the block is not marked invalid) | corrupt |
   *   closed; StorageError on database failures
   */
  processBlock(block: Block, raw?: Uint8Array): Promise<ProcessBlockResult> {
    if (this.closed) return Promise.reject(new ChainError('closed', 'the chain is closed'));
    return this.queue.run(() => this.processBlockNow(block, raw));
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
        parent = this.index.get(entry.header.prevBlock);
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
    const tip = tipHash === undefined ? undefined : this.index.get(tipHash);
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

  private async processBlockNow(block: Block, received: Uint8Array | undefined): Promise<ProcessBlockResult> {
    this.timer.restart();
    const hash = computeBlockHash(block.header);
    const existing = this.index.get(hash);
    if (existing !== undefined) {
      if (isFailed(existing.entry)) {
        const why = this.failures.get(hashKey(hash));
        return this.invalidResult(hash, new VerifyError('duplicate-invalid', 100, why ? `known invalid: ${why.reason}` : 'known invalid'), false);
      }
      if (hasData(existing.entry)) {
        // A previous activation may have stopped on an internal error: retry it, as Core's ProcessNewBlock does.
        await this.runBatch(() => this.activateBestChain(this.currentBatch!));
        return { hash, status: 'duplicate' };
      }
    }
    if (this.orphans.has(hash)) return { hash, status: 'duplicate', detail: 'already in the orphan pool' };

    this.timer.lap('accept');
    const raw = received ?? encodeBlock(block);
    // The verifier's workers hash the txs while this thread reads the coins of a block that will connect early.
    const joinHashes = startBlockTxHashes(block, raw, this.txHasher);
    const connectsEarly = this.connectsEarly(block, hash);
    const prefetched = connectsEarly ? this.prefetchInputCoins(block) : undefined;
    this.timer.lap('coins');
    const encoded: EncodedBlock = { block, raw, hashes: joinHashes() };
    this.timer.lap('hash');
    const early = connectsEarly ? this.startEarlyConnect(encoded, hash, prefetched) : undefined;
    try {
      checkBlock(block, this.params, encoded.hashes);
    } catch (err) {
      if (early !== undefined) await this.pipeline.cancel(early.started);
      if (err instanceof VerifyError) return this.invalidResult(hash, err, true);
      throw err;
    }

    const parent = this.index.get(block.header.prevBlock);
    if (parent === undefined) return this.addOrphan(block, hash, raw.length);

    return this.runBatch(async () => {
      const batch = this.currentBatch!;
      batch.early = early;
      try {
        const accepted = this.acceptBlock(block, hash, parent, existing, batch, encoded);
        this.acceptOrphansOf(hash, batch);
        this.timer.lap('accept');
        if (!accepted.ok) {
          // The failing block changed nothing, but orphans it freed may have (they were marked failed as its children).
          return this.invalidResult(hash, accepted.error, false);
        }
        await this.activateBestChain(batch);
        return this.resultFor(accepted.node, batch);
      } finally {
        if (batch.early !== undefined) await this.pipeline.cancel(batch.early.started);
        batch.early = undefined;
      }
    });
  }

  /**
   * For a new block that extends the tip directly and meets its proof of work, starts its connect at once (coins,
   * script checks handed to the verifier, connect rules) before checkBlock and the contextual checks, so those run
   * while the workers verify. Its outcome is used only once the block has passed them, so the reject reason is the
   * one the plain order gives; a block that fails them has its script checks cancelled. The extra work an invalid
   * block can cause is one block's signature checks, which a block with valid proof of work and bad signatures causes
   * anyway. Not for a block with only a coinbase (nothing to overlap). Called only for a block that connectsEarly.
   */
  private startEarlyConnect(encoded: EncodedBlock, hash: BlockHash, prefetched?: InputCoinPrefetch): EarlyConnect | undefined {
    const { block, hashes } = encoded;
    const tip = this.index.tip;
    try {
      const started = this.pipeline.start({ block, height: tip.entry.height + 1, hashes }, prefetched);
      return { hash, parent: tip, started };
    } catch {
      // Only a head start: connectTip starts the connect again in its place, and meets the same error there.
      return undefined;
    }
  }

  /** Whether startEarlyConnect will start the block's connect: it extends the tip, has txs to check, meets its PoW. */
  private connectsEarly(block: Block, hash: BlockHash): boolean {
    return (
      bytesEqual(block.header.prevBlock, this.index.tip.entry.hash) &&
      block.txs.length >= 2 &&
      isCoinbase(block.txs[0]!) &&
      checkProofOfWork(hash, block.header.bits, this.params.powLimit)
    );
  }

  /**
   * For a block startEarlyConnect will start (connectsEarly), the coins at its inputs' prevouts, read before its txids
   * are known (so while the workers hash them); undefined when the read fails (startEarlyConnect then reads again and
   * meets the error there).
   */
  private prefetchInputCoins(block: Block): InputCoinPrefetch | undefined {
    try {
      return this.pipeline.prefetchInputCoins(block);
    } catch {
      return undefined;
    }
  }

  private addOrphan(block: Block, hash: BlockHash, sizeBytes: number): ProcessBlockResult {
    const prevBlock = block.header.prevBlock;
    const { added, evicted } = this.orphans.add({ block, hash, prevBlock, sizeBytes });
    if (evicted.length > 0) this.logger.debug({ evicted: evicted.map(hashToHex) }, 'orphan pool full: evicted the oldest orphans');
    const root = this.orphans.getRoot(hash);
    const missing = root?.prevBlock ?? prevBlock;
    if (!added) return { hash, status: 'orphan', detail: 'orphan not kept: larger than the orphan pool', missing };
    this.logger.debug({ hash: hashToHex(hash), prev: hashToHex(prevBlock), orphans: this.orphans.size }, 'orphan block');
    return { hash, status: 'orphan', missing };
  }

  /**
   * AcceptBlock: the contextual checks of a block whose parent is indexed, then stores it. A block failing its
   * block-level context (not its header's) is indexed as FAILED so that a resend is refused at once.
   */
  private acceptBlock(
    block: Block,
    hash: BlockHash,
    parent: IndexNode,
    existing: IndexNode | undefined,
    batch: Batch,
    encoded?: EncodedBlock,
  ): { ok: true; node: IndexNode } | { ok: false; error: VerifyError } {
    if (existing !== undefined && (isFailed(existing.entry) || hasData(existing.entry))) {
      return isFailed(existing.entry)
        ? { ok: false, error: new VerifyError('duplicate-invalid', 100, 'known invalid') }
        : { ok: true, node: existing };
    }
    if (isFailed(parent.entry)) {
      const node = existing ?? this.addHeaderNode(block.header, hash, parent, BlockStatus.VALID_HEADER);
      const error = new VerifyError('bad-prevblk', 100, `parent ${parent.entry.hashHex} is invalid`);
      this.markFailed(node, BlockStatus.FAILED_CHILD, error);
      return { ok: false, error };
    }
    if (existing === undefined) {
      try {
        this.checkHeaderContext(block.header, parent);
      } catch (err) {
        if (!(err instanceof VerifyError)) throw err;
        this.noteInvalid(hash, err);
        return { ok: false, error: err };
      }
    }
    const height = parent.entry.height + 1;
    try {
      checkBlockContext(block, height, this.index.getMedianTimePast(parent));
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      const node = existing ?? this.addHeaderNode(block.header, hash, parent, BlockStatus.VALID_HEADER);
      this.markFailed(node, BlockStatus.FAILED, err);
      return { ok: false, error: err };
    }

    const raw = encoded?.raw ?? encodeBlock(block);
    const weight = blockSizes(block, encoded?.hashes).weight;
    let node: IndexNode;
    if (existing !== undefined) {
      node = existing;
      const entry = node.entry;
      entry.status |= BlockStatus.HAVE_DATA;
      entry.txCount = block.txs.length;
      entry.sizeBytes = raw.length;
      entry.weight = weight;
      this.store.putBlock(entry, raw);
    } else {
      const entry: BlockIndexEntry = {
        hash,
        hashHex: hashToHex(hash),
        header: block.header,
        height,
        chainWork: parent.entry.chainWork + computeWork(block.header.bits),
        status: BlockStatus.VALID_HEADER | BlockStatus.HAVE_DATA,
        txCount: block.txs.length,
        sizeBytes: raw.length,
        weight,
      };
      this.store.putBlock(entry, raw);
      node = this.index.add(entry, parent, this.nextSequenceId++);
      this.noteHeader(node);
    }
    batch.blocks.set(hashKey(hash), encoded ?? { block, raw, hashes: computeBlockTxHashes(block, raw, this.txHasher) });
    this.linkChainData(node);
    this.logger.debug({ hash: node.entry.hashHex, height }, 'block accepted');
    return { ok: true, node };
  }

  /** Accepts the orphans that were waiting for `hash` (when it is indexed) and, recursively, for them. */
  private acceptOrphansOf(hash: BlockHash, batch: Batch): void {
    if (this.orphans.size === 0) return;
    const queue = [hash];
    for (let h = queue.shift(); h !== undefined; h = queue.shift()) {
      const parent = this.index.get(h);
      if (parent === undefined) continue;
      for (const orphan of this.orphans.takeChildren(h)) {
        const result = this.acceptBlock(orphan.block, orphan.hash, parent, this.index.get(orphan.hash), batch);
        if (!result.ok) this.logger.info({ hash: hashToHex(orphan.hash), reason: result.error.code }, 'orphan block refused');
        if (this.index.get(orphan.hash) !== undefined) queue.push(orphan.hash);
      }
    }
  }

  /** The result for a block that was accepted, once the best chain was activated. */
  private resultFor(node: IndexNode, batch: Batch): ProcessBlockResult {
    const hash = node.entry.hash;
    if (isFailed(node.entry)) {
      const why = this.failures.get(hashKey(hash)) ?? { reason: 'bad-prevblk', score: 100 };
      return { hash, status: 'invalid', reason: why.reason, detail: why.detail, score: why.score };
    }
    if (!this.index.contains(node)) return { hash, status: 'side-chain' };
    const fork = this.index.findFork(batch.startTip, this.index.tip);
    const depth = batch.startTip.entry.height - fork.entry.height;
    return depth > 0
      ? { hash, status: 'connected', reorg: { depth, forkHeight: fork.entry.height } }
      : { hash, status: 'connected' };
  }

  private invalidResult(hash: BlockHash, error: VerifyError, emit: boolean): ProcessBlockResult {
    if (emit) this.noteInvalid(hash, error);
    return { hash, status: 'invalid', reason: error.code, detail: error.detail, score: error.score };
  }

  /** Logs an invalid block and emits blockInvalid. */
  private noteInvalid(hash: BlockHash, error: VerifyError): void {
    this.logger.warn({ hash: hashToHex(hash), reason: error.code, detail: error.detail }, 'invalid block');
    this.events.emit('blockInvalid', { hash, reason: error.code, detail: error.detail, score: error.score });
  }

  // --- headers ----------------------------------------------------------------------------------------------------

  private acceptHeadersNow(headers: readonly BlockHeader[]): AcceptHeadersResult {
    let accepted = 0;
    let last: IndexNode | undefined;
    const refuse = (hash: BlockHash, error: VerifyError): AcceptHeadersResult => {
      this.logger.info({ hash: hashToHex(hash), reason: error.code, detail: error.detail }, 'header refused');
      return { accepted, last: last?.entry, invalid: { hash, reason: error.code, detail: error.detail, score: error.score } };
    };
    for (const header of headers) {
      const hash = computeBlockHash(header);
      const known = this.index.get(hash);
      if (known !== undefined) {
        if (isFailed(known.entry)) return refuse(hash, new VerifyError('duplicate-invalid', 100, 'known invalid'));
        last = known;
        continue;
      }
      const parent = this.index.get(header.prevBlock);
      if (parent === undefined) {
        return refuse(hash, new VerifyError('prev-blk-not-found', 0, `parent ${hashToHex(header.prevBlock)} unknown`));
      }
      try {
        checkBlockHeader(header, this.params, hash);
        if (isFailed(parent.entry)) throw new VerifyError('bad-prevblk', 100, `parent ${parent.entry.hashHex} is invalid`);
        this.checkHeaderContext(header, parent);
      } catch (err) {
        if (err instanceof VerifyError) return refuse(hash, err);
        throw err;
      }
      last = this.addHeaderNode(header, hash, parent, BlockStatus.VALID_HEADER);
      accepted++;
    }
    return { accepted, last: last?.entry };
  }

  /** Indexes and stores a header without data. */
  private addHeaderNode(header: BlockHeader, hash: BlockHash, parent: IndexNode, status: number): IndexNode {
    const entry: BlockIndexEntry = {
      hash,
      hashHex: hashToHex(hash),
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
    this.rememberFailure(node.entry.hash, { reason: error.code, detail: error.detail, score: error.score });
    for (const d of this.index.descendants(node)) {
      if ((d.entry.status & BlockStatus.FAILED_CHILD) === 0) {
        d.entry.status |= BlockStatus.FAILED_CHILD;
        changed.push(d);
      }
      if (!this.failures.has(hashKey(d.entry.hash))) {
        this.rememberFailure(d.entry.hash, {
          reason: 'bad-prevblk',
          detail: `ancestor ${node.entry.hashHex} is invalid (${error.code})`,
          score: 100,
        });
      }
    }
    for (const n of changed) this.candidates.delete(n);
    this.store.updateBlockStatus(changed.map((n) => ({ hash: n.entry.hash, status: n.entry.status })));
    if (isFailed(this.bestHeaderNode.entry)) this.recomputeBestHeader();
    this.noteInvalid(node.entry.hash, error);
  }

  private rememberFailure(hash: BlockHash, failure: Failure): void {
    this.failures.set(hashKey(hash), failure);
    if (this.failures.size > MAX_REMEMBERED_FAILURES) {
      const oldest = this.failures.keys().next();
      if (!oldest.done) this.failures.delete(oldest.value);
    }
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

  /**
   * Connects `node` (a child of the tip) through the pipeline, taking over the connect processBlock started early when
   * it is this block on this tip; false when the block is invalid (it is then marked).
   */
  private async connectTip(node: IndexNode, batch: Batch): Promise<boolean> {
    const entry = node.entry;
    const early = batch.early;
    let started: StartedConnect;
    if (early !== undefined && early.parent === this.index.tip && bytesEqual(early.hash, entry.hash)) {
      batch.early = undefined;
      started = early.started;
    } else {
      const { block, hashes } = this.blockData(entry, batch);
      started = this.pipeline.start({ block, height: entry.height, hashes });
    }
    const result = await this.pipeline.finish(started, entry);
    if (!result.ok) {
      this.markFailed(node, BlockStatus.FAILED, result.error);
      return false;
    }
    const block = started.target.block;
    this.index.setTip(node);
    batch.changed = true;
    if (batch.disconnected.size > 0) {
      for (const txid of result.txids) batch.disconnected.delete(hashKey(txid));
    }
    this.logger.debug({ height: entry.height, hash: entry.hashHex, txs: block.txs.length }, 'block connected');
    this.events.emit('blockConnected', { entry, block, txids: result.txids });
    this.timer.lap('other');
    return true;
  }

  /** The block of an entry with its raw bytes and tx hashes: accepted in this batch, or read from the store. */
  private blockData(entry: BlockIndexEntry, batch: Batch): EncodedBlock {
    const accepted = batch.blocks.get(hashKey(entry.hash));
    if (accepted !== undefined) return accepted;
    const raw = this.store.readRawBlock(entry.hash);
    if (raw === undefined) throw new ChainError('corrupt', `block ${entry.hashHex} has HAVE_DATA but no stored data`);
    let block: Block;
    try {
      block = decodeBlock(raw);
    } catch (err) {
      throw new ChainError('corrupt', `stored block ${entry.hashHex} does not decode`, { cause: err });
    }
    return { block, raw, hashes: computeBlockTxHashes(block, raw, this.txHasher) };
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
    const block = batch.blocks.get(hashKey(entry.hash))?.block ?? this.store.readBlock(entry.hash);
    if (block === undefined) throw new ChainError('corrupt', `main-chain block ${entry.hashHex} has no stored data`);
    const undo = this.store.readUndo(entry.hash);
    if (undo === undefined) throw new ChainError('corrupt', `main-chain block ${entry.hashHex} has no undo data`);
    const txids = block.txs.map(computeTxid);
    const txidsInBlock = new Set(txids.map(hashKey));
    const spentInBlock = new Set<OutpointKey>();
    const restored: UtxoRecord[] = [];
    let u = 0;
    for (let i = 1; i < block.txs.length; i++) {
      for (const input of block.txs[i]!.inputs) {
        const coin = undo[u++];
        if (coin === undefined) throw new ChainError('corrupt', `undo data of ${entry.hashHex} is shorter than its inputs`);
        if (txidsInBlock.has(hashKey(input.prevout.txid))) spentInBlock.add(outpointKey(input.prevout));
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
      if (position > 0) batch.disconnected.set(hashKey(txids[position]!), { tx, height: entry.height, position });
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

  private requireNode(entry: BlockIndexEntry): IndexNode {
    const node = this.index.get(entry.hash);
    if (node === undefined) throw new RangeError(`block ${entry.hashHex} is not in the block index`);
    return node;
  }
}
