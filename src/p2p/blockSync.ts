import { EventEmitter } from 'node:events';
import type { Chain } from '../chain/chain.js';
import { hasData, isFailed } from '../chain/blockIndex.js';
import type { Logger } from '../logging/logger.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { bytesEqual } from '../primitives/hex.js';
import type { Block, BlockHeader, Hash256 } from '../primitives/types.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { MAX_BLOCKS_PER_REQUEST, MAX_HEADERS_PER_RESPONSE, type HeadersRequest } from './wire.js';

/** What the sync needs to know of one connected peer. */
export interface SyncPeer {
  /** libp2p peer id, as text. */
  readonly peerId: string;
  /** Most chain work the peer is known to have (from its status, or blocks it relayed). */
  readonly chainWork: bigint;
  readonly tipHeight: number;
}

/** The network operations the sync drives; the Networker implements them over libp2p streams. */
export interface SyncIo {
  /** Connected peers that finished the status handshake. */
  peers(): readonly SyncPeer[];
  /** A headers request to one peer. @throws on timeout, stream errors or a malformed response */
  requestHeaders(peerId: string, request: HeadersRequest): Promise<BlockHeader[]>;
  /** A blocks request; one entry per hash asked, undefined where the peer does not have it. @throws as requestHeaders */
  requestBlocks(peerId: string, hashes: readonly Hash256[]): Promise<(Block | undefined)[]>;
  /** Reports a peer's misbehaviour (the Networker scores, bans and disconnects). */
  misbehave(peerId: string, points: number, reason: string): void;
  /** Remembers that a peer has at least this chain (it served these headers). */
  noteBest(peerId: string, entry: BlockIndexEntry): void;
}

/** Progress of the initial (or catch-up) block download, for the progress bar, the status line and /metrics. */
export interface SyncProgress {
  /** True while headers or blocks are being fetched. */
  readonly active: boolean;
  /** Height of the best header known (the target). */
  readonly headersHeight: number;
  /** Height of the active tip. */
  readonly blocksHeight: number;
  /** Blocks connected per second over the current round (0 when idle). */
  readonly blocksPerSec: number;
  /** Estimated seconds left, or undefined when unknown. */
  readonly etaSec: number | undefined;
}

/** Options of the sync (defaults suit loopback and the devnet). */
export interface BlockSyncOptions {
  /** Block requests in flight over all peers (each up to MAX_BLOCKS_PER_REQUEST blocks). Default 8. */
  readonly maxRequestsInFlight?: number;
  /** Block requests in flight to one peer. Default 3. */
  readonly maxRequestsPerPeer?: number;
  /** Blocks fetched ahead of the next block to connect. Default 512. */
  readonly windowBlocks?: number;
}

/** Events of the sync. */
interface BlockSyncEvents {
  progress: [SyncProgress];
}

const ZERO_HASH = new Uint8Array(32);

/**
 * Headers-first block download, as Bitcoin Core does it since 0.10: first the headers of the peer with the most work
 * (2,000 per request, checked for proof of work and difficulty by Chain.acceptHeaders), then the blocks of the
 * best header chain, requested in windows of MAX_BLOCKS_PER_REQUEST from several peers in parallel and given to the
 * chain strictly in height order. A peer that serves an invalid header or block is scored 100 (banned); a peer that
 * lacks a block or times out has the request moved to another peer. One round runs at a time; triggers during a
 * round make it run again, so a block learned by gossip while syncing is never lost.
 * @see Bitcoin Core net_processing.cpp (headers sync, FindNextBlocksToDownload); Lodestar sync/range
 */
export class BlockSync extends EventEmitter<BlockSyncEvents> {
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** Peers asked to send headers even though their status shows no more work (they relayed an orphan). */
  private readonly hinted = new Set<string>();
  private progressState: SyncProgress;
  private roundStartMs = 0;
  private roundStartHeight = 0;
  private readonly maxInFlight: number;
  private readonly maxPerPeer: number;
  private readonly windowBlocks: number;

  constructor(
    options: BlockSyncOptions,
    private readonly chain: Chain,
    private readonly io: SyncIo,
    private readonly logger: Logger,
  ) {
    super();
    this.maxInFlight = options.maxRequestsInFlight ?? 8;
    this.maxPerPeer = options.maxRequestsPerPeer ?? 3;
    this.windowBlocks = options.windowBlocks ?? 512;
    this.progressState = this.snapshot(false);
  }

  /** The latest progress. */
  get progress(): SyncProgress {
    return this.progressState;
  }

  /** Asks for a sync round (now, or right after the running one). `hintPeer`: ask this peer for headers too. */
  trigger(hintPeer?: string): void {
    if (this.closed) return;
    if (hintPeer !== undefined) this.hinted.add(hintPeer);
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no round is running. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Stops starting rounds; the running one ends at its next step. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.round();
      } catch (err) {
        if (this.closed) return;
        this.logger.warn({ err }, 'sync round failed');
      }
    } while (this.again && !this.closed);
    this.publish(false);
  }

  private async round(): Promise<void> {
    this.roundStartMs = performance.now();
    this.roundStartHeight = this.chain.height;
    await this.syncHeaders();
    await this.syncBlocks();
  }

  /** Headers from every peer claiming more work than our best header, best peer first, until each has nothing new. */
  private async syncHeaders(): Promise<void> {
    const peers = [...this.io.peers()].sort((a, b) => (b.chainWork > a.chainWork ? 1 : b.chainWork < a.chainWork ? -1 : 0));
    for (const peer of peers) {
      if (this.closed) return;
      const hinted = this.hinted.delete(peer.peerId);
      if (!hinted && peer.chainWork <= this.chain.bestHeader.chainWork) continue;
      let from: BlockIndexEntry = this.chain.bestHeader;
      for (let rounds = 0; rounds < 100_000 && !this.closed; rounds++) {
        const locator = this.chain.getLocator(from);
        let headers: BlockHeader[];
        try {
          headers = await this.io.requestHeaders(peer.peerId, { locator, stopHash: ZERO_HASH, maxCount: MAX_HEADERS_PER_RESPONSE });
        } catch (err) {
          this.logger.debug({ peer: peer.peerId, err: (err as Error).message }, 'headers request failed');
          break;
        }
        if (headers.length === 0) break;
        if (!this.linked(headers)) {
          this.io.misbehave(peer.peerId, 20, 'non-continuous headers');
          break;
        }
        const result = await this.chain.acceptHeaders(headers);
        if (result.invalid !== undefined) {
          this.logger.warn({ peer: peer.peerId, reason: result.invalid.reason, hash: result.invalid.hashHex }, 'peer sent an invalid header');
          if (result.invalid.score > 0) this.io.misbehave(peer.peerId, result.invalid.score, `invalid header: ${result.invalid.reason}`);
          break;
        }
        if (result.last === undefined) break;
        this.io.noteBest(peer.peerId, result.last);
        from = result.last;
        this.publish(true);
        if (headers.length < MAX_HEADERS_PER_RESPONSE) break;
      }
    }
  }

  private linked(headers: readonly BlockHeader[]): boolean {
    for (let i = 1; i < headers.length; i++) {
      if (!bytesEqual(headers[i]!.prevBlock, computeBlockHash(headers[i - 1]!))) return false;
    }
    return true;
  }

  /** The entries of the best header chain whose blocks are missing, lowest first. */
  private missingBlocks(): BlockIndexEntry[] {
    const target = this.chain.bestHeader;
    if (isFailed(target)) return [];
    const out: BlockIndexEntry[] = [];
    // Down to the fork with the main chain: blocks in between that already have data (a gossiped block stored
    // ahead of its parents) are skipped; the chain links them once their parents arrive.
    let entry: BlockIndexEntry | undefined = target;
    while (entry !== undefined && !this.chain.isMainChain(entry)) {
      if (!hasData(entry)) out.push(entry);
      entry = entry.height === 0 ? undefined : this.chain.getEntry(entry.header.prevBlock);
    }
    return out.reverse();
  }

  /** Downloads and connects the missing blocks of the best header chain. */
  private async syncBlocks(): Promise<void> {
    const missing = this.missingBlocks();
    if (missing.length === 0) return;
    this.logger.info({ from: missing[0]!.height, to: missing[missing.length - 1]!.height, blocks: missing.length }, 'downloading blocks');
    const target = missing[missing.length - 1]!;
    const received = new Map<string, { block: Block; peerId: string }>();
    const queue: BlockIndexEntry[][] = [];
    for (let i = 0; i < missing.length; i += MAX_BLOCKS_PER_REQUEST) queue.push(missing.slice(i, i + MAX_BLOCKS_PER_REQUEST));
    const inFlight = new Map<string, number>();
    const failedBy = new Map<BlockIndexEntry[], Set<string>>();
    let aborted = false;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };

    const fetchBatch = async (batch: BlockIndexEntry[], peerId: string): Promise<void> => {
      inFlight.set(peerId, (inFlight.get(peerId) ?? 0) + 1);
      try {
        const blocks = await this.io.requestBlocks(peerId, batch.map((e) => e.hash));
        const lacking: BlockIndexEntry[] = [];
        batch.forEach((entry, i) => {
          const block = blocks[i];
          if (block === undefined) {
            lacking.push(entry);
          } else if (!bytesEqual(computeBlockHash(block.header), entry.hash)) {
            throw Object.assign(new Error('peer sent a block other than the one asked for'), { misbehaviour: 100 });
          } else {
            received.set(entry.hashHex, { block, peerId });
          }
        });
        if (lacking.length > 0) requeue(lacking, peerId);
      } catch (err) {
        const points = (err as { misbehaviour?: number }).misbehaviour;
        if (points !== undefined) this.io.misbehave(peerId, points, (err as Error).message);
        this.logger.debug({ peer: peerId, err: (err as Error).message }, 'blocks request failed');
        requeue(batch, peerId);
      } finally {
        inFlight.set(peerId, (inFlight.get(peerId) ?? 1) - 1);
        notify();
      }
    };
    const requeue = (batch: BlockIndexEntry[], peerId: string): void => {
      const failed = failedBy.get(batch) ?? new Set<string>();
      failed.add(peerId);
      failedBy.set(batch, failed);
      queue.unshift(batch);
    };

    let connected = 0;
    while (!this.closed && !aborted) {
      // Connect what is ready, in order.
      while (connected < missing.length) {
        const entry = missing[connected]!;
        const got = received.get(entry.hashHex);
        if (got === undefined) break;
        received.delete(entry.hashHex);
        const result = await this.chain.processBlock(got.block);
        if (result.status === 'invalid') {
          this.logger.warn({ peer: got.peerId, hash: result.hashHex, reason: result.reason }, 'peer sent an invalid block');
          this.io.misbehave(got.peerId, result.score ?? 100, `invalid block: ${result.reason ?? 'unknown'}`);
          aborted = true;
          break;
        }
        connected++;
        this.publish(true);
      }
      if (aborted || connected >= missing.length) break;
      // Hand out batches inside the window to peers with capacity.
      const peers = this.io.peers().filter((p) => p.chainWork >= target.chainWork || p.tipHeight >= target.height);
      const candidates = peers.length > 0 ? peers : this.io.peers();
      let totalInFlight = [...inFlight.values()].reduce((a, b) => a + b, 0);
      const windowEnd = missing[Math.min(missing.length - 1, connected + this.windowBlocks)]!.height;
      let handedOut = false;
      for (let qi = 0; qi < queue.length && totalInFlight < this.maxInFlight; qi++) {
        const batch = queue[qi]!;
        if (batch[0]!.height > windowEnd) break;
        const failed = failedBy.get(batch);
        const peer = candidates
          .filter((p) => (inFlight.get(p.peerId) ?? 0) < this.maxPerPeer && !(failed?.has(p.peerId) ?? false))
          .sort((a, b) => (inFlight.get(a.peerId) ?? 0) - (inFlight.get(b.peerId) ?? 0))[0];
        if (peer === undefined) continue;
        queue.splice(qi, 1);
        qi--;
        totalInFlight++;
        handedOut = true;
        void fetchBatch(batch, peer.peerId);
      }
      if (totalInFlight === 0 && !handedOut) {
        // Nobody can serve what is left (every peer lacked it or went away): try again on the next trigger.
        if (queue.length > 0) this.logger.info({ left: missing.length - connected }, 'no peer can serve the missing blocks now');
        break;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        // Wake up periodically as well, so a peer that connects mid-round is used.
        setTimeout(resolve, 1000).unref();
      });
    }
    // Let requests still in flight settle before the next round starts (their results are dropped).
    const deadline = Date.now() + 5000;
    while ([...inFlight.values()].some((n) => n > 0) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200).unref();
      });
    }
    if (aborted) this.again = true;
    this.logger.info({ height: this.chain.height, tip: this.chain.tip.hashHex }, 'block download round done');
  }

  private snapshot(active: boolean): SyncProgress {
    const headersHeight = this.chain.bestHeader.height;
    const blocksHeight = this.chain.height;
    const elapsedSec = (performance.now() - this.roundStartMs) / 1000;
    const done = blocksHeight - this.roundStartHeight;
    const blocksPerSec = active && elapsedSec > 0 ? done / elapsedSec : 0;
    const etaSec = blocksPerSec > 0 ? (headersHeight - blocksHeight) / blocksPerSec : undefined;
    return { active, headersHeight, blocksHeight, blocksPerSec, etaSec };
  }

  private publish(active: boolean): void {
    this.progressState = this.snapshot(active);
    this.emit('progress', this.progressState);
  }
}
