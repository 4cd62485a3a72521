import { TypedEmitter } from '../async/typedEmitter.js';
import type { Chain } from '../chain/chain.js';
import { hasData, isFailed } from '../chain/blockIndex.js';
import type { Logger } from '../logging/logger.js';
import { computeBlockHash, NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { bytesEqual, hashToHex } from '../primitives/hex.js';
import type { BlockHeader } from '../primitives/types.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { BlockDownload, BlockSizeEstimate, IDLE_WAKE_MS, PeerBackoff, type DownloadLimits, type DownloadOutcome, type SyncIo } from './blockDownload.js';
import { PeerMisbehaviour } from './peerMisbehaviour.js';
import { MAX_HEADERS_PER_RESPONSE } from './wire.js';

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
  /** Block requests in flight over all peers. Default 8. */
  readonly maxRequestsInFlight?: number;
  /** Block requests in flight to one peer (the req/resp server allows 8). Default 3. */
  readonly maxRequestsPerPeer?: number;
  /** Blocks fetched ahead of the next block to connect (Core's BLOCK_DOWNLOAD_WINDOW). Default 1,024. */
  readonly windowBlocks?: number;
  /** Bytes of blocks received or in flight but not connected yet, at most (memory bound). Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** Bytes one blocks request aims at (its block count follows the sizes seen so far). Default 1 MiB. */
  readonly targetRequestBytes?: number;
}

/** Events of the sync (event name → payload). */
interface BlockSyncEvents {
  progress: SyncProgress;
}

/** Interval between progress events while blocks connect, ms. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * Headers-first block download, as Bitcoin Core does it since 0.10: first the headers of the peer with the most work
 * (2,000 per request, checked for proof of work and difficulty by Chain.acceptHeaders), then the blocks of the
 * best header chain (a BlockDownload), from the first batch of headers on, from several peers in parallel within a
 * window ahead of the next block to connect, given to the chain strictly in height order. A peer that answers
 * RATE_LIMITED is left alone for the time it asked; one that serves an invalid header or block is punished; one that
 * lacks a block or times out has the request moved to another peer. One round runs at a time; triggers during a
 * round make it run again, so a block learned by gossip while syncing is never lost.
 * @see Bitcoin Core net_processing.cpp (headers sync, FindNextBlocksToDownload); Lodestar sync/range
 */
export class BlockSync {
  /** Progress listeners (status line, progress bar, /metrics); a listener's error is logged, never thrown here. */
  private readonly events: TypedEmitter<BlockSyncEvents>;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** Peers asked to send headers even though their status shows no more work (they relayed an orphan). */
  private readonly hinted = new Set<string>();
  /** Peers that answered RATE_LIMITED, until when. */
  private readonly backoff: PeerBackoff;
  /** Block sizes seen: how many blocks a request asks for. */
  private readonly sizes = new BlockSizeEstimate();
  private active = false;
  private lastProgressMs = 0;
  private roundStartMs = 0;
  private roundStartHeight = 0;
  /** Called after each batch of headers is accepted (the block download extends its list). */
  private onHeaders: (() => void) | undefined;
  private readonly limits: DownloadLimits;

  constructor(
    options: BlockSyncOptions,
    private readonly chain: Chain,
    private readonly io: SyncIo,
    private readonly logger: Logger,
  ) {
    this.events = new TypedEmitter<BlockSyncEvents>((err, event) =>
      logger.warn({ err, event }, 'sync progress listener failed'),
    );
    this.backoff = new PeerBackoff(logger);
    this.limits = {
      maxInFlight: options.maxRequestsInFlight ?? 8,
      maxPerPeer: options.maxRequestsPerPeer ?? 3,
      windowBlocks: options.windowBlocks ?? 1024,
      maxBufferedBytes: options.maxBufferedBytes ?? 64 * 1024 * 1024,
      targetRequestBytes: options.targetRequestBytes ?? 1024 * 1024,
    };
  }

  /** The current progress. */
  get progress(): SyncProgress {
    return this.snapshot(this.active);
  }

  /**
   * Listens for progress events (at once when a round starts or ends, else at most every 200 ms).
   * Returns an unsubscribe function.
   */
  onProgress(listener: (progress: SyncProgress) => void): () => void {
    return this.events.on('progress', listener);
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
      // Each round starts from the event loop, so rounds that find nothing to do can never starve timers and I/O.
      await new Promise<void>((resolve) => setImmediate(resolve));
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

  /**
   * One round: headers and blocks at once (as Core since 0.10): the block download starts with the first batch of
   * headers and follows the rest as they come.
   */
  private async round(): Promise<void> {
    this.roundStartMs = performance.now();
    this.roundStartHeight = this.chain.height;
    const headers = { done: false, ms: 0 };
    const headersSync = this.syncHeaders().finally(() => {
      headers.done = true;
      headers.ms = performance.now() - this.roundStartMs;
      this.onHeaders?.();
    });
    let outcome: DownloadOutcome;
    try {
      outcome = await this.syncBlocks(headers);
    } finally {
      await headersSync;
    }
    // The download finished its list while the best header moved to another branch: another round fetches that one.
    // (A download that stalled, with no peer to serve it, waits for the next trigger: a peer connecting.)
    if (outcome === 'done' && !this.closed && this.missingBlocks().length > 0) this.again = true;
  }

  /** Waits out a peer's back-off, if any (at most `maxMs`). */
  private async waitBackoff(peerId: string, maxMs = 30_000): Promise<void> {
    const waitMs = this.backoff.remainingMs(peerId);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, maxMs)).unref());
  }

  /** Headers from every peer claiming more work than our best header, best peer first, until each has nothing new. */
  private async syncHeaders(): Promise<void> {
    const peers = [...this.io.peers()].sort((a, b) => (b.chainWork > a.chainWork ? 1 : b.chainWork < a.chainWork ? -1 : 0));
    for (const peer of peers) {
      if (this.closed) return;
      const hinted = this.hinted.delete(peer.peerId);
      if (!hinted && peer.chainWork <= this.chain.bestHeader.chainWork) continue;
      let from: BlockIndexEntry = this.chain.bestHeader;
      let rateLimited = 0;
      for (let rounds = 0; rounds < 100_000 && !this.closed; rounds++) {
        await this.waitBackoff(peer.peerId);
        const locator = this.chain.getLocator(from);
        let headers: BlockHeader[];
        try {
          headers = await this.io.requestHeaders(peer.peerId, { locator, stopHash: NULL_BLOCK_HASH, maxCount: MAX_HEADERS_PER_RESPONSE });
        } catch (err) {
          if (this.backoff.note(peer.peerId, err) && ++rateLimited <= 10) continue;
          this.logger.debug({ peer: peer.peerId, err: (err as Error).message }, 'headers request failed');
          break;
        }
        if (headers.length === 0) break;
        if (!this.linked(headers)) {
          this.io.punish(peer.peerId, new PeerMisbehaviour('non-continuous headers', 20));
          break;
        }
        const result = await this.chain.acceptHeaders(headers);
        if (result.invalid !== undefined) {
          this.logger.warn({ peer: peer.peerId, reason: result.invalid.reason, hash: hashToHex(result.invalid.hash) }, 'peer sent an invalid header');
          if (result.invalid.score > 0) this.io.punish(peer.peerId, new PeerMisbehaviour(`invalid header: ${result.invalid.reason}`, result.invalid.score));
          break;
        }
        if (result.last === undefined) break;
        this.io.noteBest(peer.peerId, result.last);
        from = result.last;
        this.publish(true, true);
        this.onHeaders?.();
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

  /**
   * Downloads and connects the missing blocks of the best header chain, following `headers` (the header sync running
   * alongside) as it accepts more. Logs where the round's time went: headers (`headersMs`, concurrent with the rest),
   * connecting blocks (`connectMs`: inside Chain.processBlock), waiting for the next block to arrive (`waitMs`), the
   * rest being the download loop and the network on the same thread; and how many blocks each peer served.
   */
  private async syncBlocks(headers: { readonly done: boolean; readonly ms: number }): Promise<DownloadOutcome> {
    let missing = this.missingBlocks();
    while (missing.length === 0 && !headers.done && !this.closed) {
      // No header beyond our blocks yet: wait for the first batch.
      await new Promise<void>((resolve) => {
        this.onHeaders = resolve;
        setTimeout(resolve, IDLE_WAKE_MS).unref();
      });
      missing = this.missingBlocks();
    }
    this.onHeaders = undefined;
    if (missing.length === 0 || this.closed) return 'done';
    const download = new BlockDownload(
      {
        chain: this.chain,
        io: this.io,
        logger: this.logger,
        limits: this.limits,
        backoff: this.backoff,
        sizes: this.sizes,
        headersDone: () => headers.done,
        closed: () => this.closed,
        onConnected: () => this.publish(true),
      },
      missing,
    );
    this.onHeaders = () => download.notify();
    this.publish(true, true);
    try {
      const { outcome, report } = await download.run();
      if (outcome === 'aborted') this.again = true;
      const ms = (value: number): number => Math.round(value);
      this.logger.info(
        {
          height: this.chain.height,
          tip: this.chain.tip.hashHex,
          blocks: report.blocks,
          blocksByPeer: report.blocksByPeer,
          headersMs: ms(headers.done ? headers.ms : performance.now() - this.roundStartMs),
          blocksMs: ms(report.blocksMs),
          connectMs: ms(report.connectMs),
          waitMs: ms(report.waitMs),
        },
        'block download round done',
      );
      return outcome;
    } finally {
      this.onHeaders = undefined;
    }
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

  /** Emits progress: at once when the state changes or `force`, else at most every PROGRESS_INTERVAL_MS. */
  private publish(active: boolean, force = false): void {
    const now = performance.now();
    if (active === this.active && !force && now - this.lastProgressMs < PROGRESS_INTERVAL_MS) return;
    this.active = active;
    this.lastProgressMs = now;
    this.events.emit('progress', this.snapshot(active));
  }
}
