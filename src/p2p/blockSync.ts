import { EventEmitter } from 'node:events';
import type { Chain } from '../chain/chain.js';
import { hasData, isFailed } from '../chain/blockIndex.js';
import type { Logger } from '../logging/logger.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { bytesEqual } from '../primitives/hex.js';
import type { Block, BlockHeader, Hash256 } from '../primitives/types.js';
import type { BlockIndexEntry } from '../storage/chainStore.js';
import { PeerMisbehaviour } from './peerMisbehaviour.js';
import type { SyncPeer } from './peers/peerManager.js';
import { ResponseError } from './reqresp/reqResp.js';
import { MAX_BLOCKS_PER_REQUEST, MAX_HEADERS_PER_RESPONSE, RespStatus, type HeadersRequest } from './wire.js';

export type { SyncPeer };

/** A block a peer sent, decoded, with its serialized size. */
export interface ReceivedBlock {
  readonly block: Block;
  readonly sizeBytes: number;
}

/** The network operations the sync drives; the Networker implements them with ReqResp. */
export interface SyncIo {
  /** Connected peers that finished the status handshake. */
  peers(): readonly SyncPeer[];
  /**
   * A headers request to one peer.
   * @throws ResponseError (RATE_LIMITED: wait and ask again); PeerMisbehaviour (reported already); Error on timeouts
   */
  requestHeaders(peerId: string, request: HeadersRequest): Promise<BlockHeader[]>;
  /**
   * A blocks request: one entry per block served, in the order asked, undefined where the peer does not have it; fewer
   * entries than asked when the server stopped early (the rest is asked again). @throws as requestHeaders
   */
  requestBlocks(peerId: string, hashes: readonly Hash256[]): Promise<(ReceivedBlock | undefined)[]>;
  /** Reports an offence the sync found (PeerManager.punish). */
  punish(peerId: string, offence: PeerMisbehaviour): void;
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

/** Events of the sync. */
interface BlockSyncEvents {
  progress: [SyncProgress];
}

const ZERO_HASH = new Uint8Array(32);
/** Blocks asked for in the first request, before any size is known. */
const FIRST_REQUEST_BLOCKS = 16;
/** Interval between progress events while blocks connect, ms. */
const PROGRESS_INTERVAL_MS = 200;
/** Longest run of block connects without a turn of the event loop (network I/O), ms. */
const YIELD_INTERVAL_MS = 50;
/** Longest wait of the download loop without an event (a peer may connect meanwhile), ms. */
const IDLE_WAKE_MS = 1000;

/** How a block download ended: its list connected, a peer's invalid block, or no peer to serve the rest. */
type DownloadOutcome = 'done' | 'aborted' | 'stalled';

/** A block request handed out, or to hand out: consecutive entries of the missing list. */
type Batch = BlockIndexEntry[];

/**
 * Headers-first block download, as Bitcoin Core does it since 0.10: first the headers of the peer with the most work
 * (2,000 per request, checked for proof of work and difficulty by Chain.acceptHeaders), then the blocks of the
 * best header chain, requested from several peers in parallel within a window ahead of the next block to connect, and
 * given to the chain strictly in height order. Requests are sized by bytes (up to MAX_BLOCKS_PER_REQUEST blocks), new
 * ones go out as soon as a response arrives, while blocks connect. A peer that answers RATE_LIMITED is left alone for
 * the time it asked; one that serves an invalid header or block is punished (banned); one that lacks a block or
 * times out has the request moved to another peer. One round runs at a time; triggers during a round make it run
 * again, so a block learned by gossip while syncing is never lost.
 * @see Bitcoin Core net_processing.cpp (headers sync, FindNextBlocksToDownload); Lodestar sync/range
 */
export class BlockSync extends EventEmitter<BlockSyncEvents> {
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** Peers asked to send headers even though their status shows no more work (they relayed an orphan). */
  private readonly hinted = new Set<string>();
  /** Peers that answered RATE_LIMITED: not asked again before this time (performance.now() ms). */
  private readonly backoffUntilMs = new Map<string, number>();
  private active = false;
  private lastProgressMs = 0;
  private roundStartMs = 0;
  private roundStartHeight = 0;
  /** Called after each batch of headers is accepted (the block download extends its list). */
  private onHeaders: (() => void) | undefined;
  /** Moving average of the block sizes received, bytes (0 until one arrived). */
  private avgBlockBytes = 0;
  private readonly maxInFlight: number;
  private readonly maxPerPeer: number;
  private readonly windowBlocks: number;
  private readonly maxBufferedBytes: number;
  private readonly targetRequestBytes: number;

  constructor(
    options: BlockSyncOptions,
    private readonly chain: Chain,
    private readonly io: SyncIo,
    private readonly logger: Logger,
  ) {
    super();
    this.maxInFlight = options.maxRequestsInFlight ?? 8;
    this.maxPerPeer = options.maxRequestsPerPeer ?? 3;
    this.windowBlocks = options.windowBlocks ?? 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.targetRequestBytes = options.targetRequestBytes ?? 1024 * 1024;
  }

  /** The current progress. */
  get progress(): SyncProgress {
    return this.snapshot(this.active);
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
    const waitMs = (this.backoffUntilMs.get(peerId) ?? 0) - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, maxMs)).unref());
  }

  /** Notes a RATE_LIMITED answer: the peer is not asked again before it said. Returns whether `err` was one. */
  private noteRateLimited(peerId: string, err: unknown): boolean {
    if (!(err instanceof ResponseError) || err.status !== RespStatus.RATE_LIMITED) return false;
    const until = performance.now() + Math.max(1, err.retryAfterMs);
    this.backoffUntilMs.set(peerId, Math.max(this.backoffUntilMs.get(peerId) ?? 0, until));
    this.logger.debug({ peer: peerId, retryAfterMs: err.retryAfterMs, reason: err.message }, 'peer asked us to wait');
    return true;
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
          headers = await this.io.requestHeaders(peer.peerId, { locator, stopHash: ZERO_HASH, maxCount: MAX_HEADERS_PER_RESPONSE });
        } catch (err) {
          if (this.noteRateLimited(peer.peerId, err) && ++rateLimited <= 10) continue;
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
          this.logger.warn({ peer: peer.peerId, reason: result.invalid.reason, hash: result.invalid.hashHex }, 'peer sent an invalid header');
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

  /** Blocks per request: the target bytes over the average block size seen, within 1..MAX_BLOCKS_PER_REQUEST. */
  private blocksPerRequest(): number {
    if (this.avgBlockBytes === 0) return FIRST_REQUEST_BLOCKS;
    return Math.max(1, Math.min(MAX_BLOCKS_PER_REQUEST, Math.floor(this.targetRequestBytes / this.avgBlockBytes)));
  }

  private noteBlockSize(sizeBytes: number): void {
    this.avgBlockBytes = this.avgBlockBytes === 0 ? sizeBytes : this.avgBlockBytes * 0.95 + sizeBytes * 0.05;
  }

  /**
   * Downloads and connects the missing blocks of the best header chain, extending the list as `headers` (the header
   * sync running alongside) accepts more. Logs where the round's time went: headers (`headersMs`, concurrent with
   * the rest), connecting blocks (`connectMs`: inside Chain.processBlock), waiting for the next block to arrive
   * (`waitMs`), the rest being this loop, decoding and the network on the same thread.
   */
  private async syncBlocks(headers: { readonly done: boolean; readonly ms: number }): Promise<DownloadOutcome> {
    let wake: (() => void) | undefined;
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };
    const sleep = async (ms: number): Promise<number> => {
      const startMs = performance.now();
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.max(1, ms)).unref();
      });
      return performance.now() - startMs;
    };
    this.onHeaders = notify;
    try {
      let missing = this.missingBlocks();
      while (missing.length === 0 && !headers.done && !this.closed) {
        await sleep(IDLE_WAKE_MS);
        missing = this.missingBlocks();
      }
      if (missing.length === 0 || this.closed) return 'done';
      return await this.downloadBlocks(missing, headers, sleep, notify);
    } finally {
      this.onHeaders = undefined;
    }
  }

  /** The block download of syncBlocks, from the missing blocks known at its start. */
  private async downloadBlocks(
    missing: BlockIndexEntry[],
    headers: { readonly done: boolean; readonly ms: number },
    sleep: (ms: number) => Promise<number>,
    notify: () => void,
  ): Promise<DownloadOutcome> {
    const blocksStartMs = performance.now();
    let connectMs = 0;
    let waitMs = 0;
    this.logger.info({ from: missing[0]!.height, to: missing[missing.length - 1]!.height, blocks: missing.length }, 'downloading blocks');
    let target = missing[missing.length - 1]!;
    /** Position of each missing block in `missing`, by hash. */
    const indexOf = new Map<string, number>(missing.map((e, i) => [e.hashHex, i]));
    /** Received blocks waiting for their turn, by hash. */
    const received = new Map<string, { block: Block; sizeBytes: number; peerId: string }>();
    let receivedBytes = 0;
    /** Batches to ask again (a failed or partly served request), lowest first. */
    const retry: Batch[] = [];
    /** Index in `missing` of the first block never asked for. */
    let nextNew = 0;
    const inFlight = new Map<string, number>();
    let inFlightTotal = 0;
    let inFlightBlocks = 0;
    /** Peers that lacked a block or failed a request for it, by block hash. */
    const failedBy = new Map<string, Set<string>>();
    /** Blocks received from each peer this round (logged at the end). */
    const blocksByPeer: Record<string, number> = {};
    let aborted = false;
    let stalled = false;
    let connected = 0;
    let lastYieldMs = performance.now();

    /** Appends the blocks of headers accepted since (when they extend the same branch; else the next round). */
    const extend = (): void => {
      const best = this.chain.bestHeader;
      if (best.chainWork <= target.chainWork || isFailed(best)) return;
      const added: BlockIndexEntry[] = [];
      let entry: BlockIndexEntry | undefined = best;
      while (entry !== undefined && entry.height > target.height) {
        if (!hasData(entry)) added.push(entry);
        entry = this.chain.getEntry(entry.header.prevBlock);
      }
      if (entry?.hashHex !== target.hashHex) return;
      for (const e of added.reverse()) {
        indexOf.set(e.hashHex, missing.length);
        missing.push(e);
      }
      target = best;
    };

    const requeue = (batch: Batch, failedPeer?: string): void => {
      if (batch.length === 0) return;
      if (failedPeer !== undefined) {
        for (const entry of batch) {
          const set = failedBy.get(entry.hashHex) ?? new Set<string>();
          set.add(failedPeer);
          failedBy.set(entry.hashHex, set);
        }
      }
      const at = retry.findIndex((b) => b[0]!.height > batch[0]!.height);
      retry.splice(at === -1 ? retry.length : at, 0, batch);
    };

    const fetchBatch = async (batch: Batch, peerId: string): Promise<void> => {
      try {
        const blocks = await this.io.requestBlocks(
          peerId,
          batch.map((e) => e.hash),
        );
        const lacking: Batch = [];
        for (let i = 0; i < blocks.length; i++) {
          const entry = batch[i]!;
          const got = blocks[i];
          if (got === undefined) {
            lacking.push(entry);
            continue;
          }
          if (!bytesEqual(computeBlockHash(got.block.header), entry.hash)) {
            const offence = PeerMisbehaviour.ban('peer sent a block other than the one asked for');
            this.io.punish(peerId, offence);
            throw offence;
          }
          this.noteBlockSize(got.sizeBytes);
          if ((indexOf.get(entry.hashHex) ?? -1) >= connected && !received.has(entry.hashHex)) {
            received.set(entry.hashHex, { block: got.block, sizeBytes: got.sizeBytes, peerId });
            receivedBytes += got.sizeBytes;
            blocksByPeer[peerId] = (blocksByPeer[peerId] ?? 0) + 1;
          }
        }
        requeue(lacking, peerId);
        // Not served this time (the response reached its size cap): ask again, from anyone.
        requeue(batch.slice(blocks.length));
      } catch (err) {
        if (this.noteRateLimited(peerId, err)) {
          requeue(batch);
        } else {
          this.logger.debug({ peer: peerId, err: (err as Error).message }, 'blocks request failed');
          requeue(batch, peerId);
        }
      } finally {
        inFlight.set(peerId, (inFlight.get(peerId) ?? 1) - 1);
        inFlightTotal--;
        inFlightBlocks -= batch.length;
        pump();
        notify();
      }
    };

    /** Takes the next batch `peerId` may fetch: a retry it did not fail, else new blocks; up to `windowEnd`. */
    const takeBatch = (peerId: string, windowEnd: number): Batch | undefined => {
      for (let i = 0; i < retry.length; i++) {
        const batch = retry[i]!;
        if (batch[0]!.height > windowEnd) break;
        if (batch.some((e) => failedBy.get(e.hashHex)?.has(peerId) ?? false)) continue;
        retry.splice(i, 1);
        return batch;
      }
      if (nextNew >= missing.length || missing[nextNew]!.height > windowEnd) return undefined;
      const size = this.blocksPerRequest();
      let end = nextNew;
      while (end < missing.length && end - nextNew < size && missing[end]!.height <= windowEnd) end++;
      const batch = missing.slice(nextNew, end);
      nextNew = end;
      return batch;
    };

    /** Hands out requests to peers with capacity (least busy first), within the window and the memory bound. */
    const pump = (): void => {
      if (this.closed || aborted) return;
      extend();
      const now = performance.now();
      const all = this.io.peers();
      const withChain = all.filter((p) => p.chainWork >= target.chainWork || p.tipHeight >= target.height);
      const candidates = (withChain.length > 0 ? withChain : all).filter((p) => (this.backoffUntilMs.get(p.peerId) ?? 0) <= now);
      const windowEnd = missing[Math.min(missing.length - 1, connected + this.windowBlocks)]!.height;
      for (;;) {
        if (inFlightTotal >= this.maxInFlight) return;
        // The memory bound never stops the only request: the block to connect next may be the one it fetches.
        if (inFlightTotal > 0 && receivedBytes + inFlightBlocks * this.avgBlockBytes >= this.maxBufferedBytes) return;
        const peers = candidates
          .filter((p) => (inFlight.get(p.peerId) ?? 0) < this.maxPerPeer)
          .sort((a, b) => (inFlight.get(a.peerId) ?? 0) - (inFlight.get(b.peerId) ?? 0));
        let handedOut = false;
        for (const peer of peers) {
          const batch = takeBatch(peer.peerId, windowEnd);
          if (batch === undefined) continue;
          inFlight.set(peer.peerId, (inFlight.get(peer.peerId) ?? 0) + 1);
          inFlightTotal++;
          inFlightBlocks += batch.length;
          handedOut = true;
          void fetchBatch(batch, peer.peerId);
          break;
        }
        if (!handedOut) return;
      }
    };

    this.publish(true, true);
    pump();
    while (!this.closed && !aborted) {
      extend();
      if (connected >= missing.length && headers.done) break;
      // Connect what is ready, in order; new requests go out as responses arrive (fetchBatch pumps).
      const next = missing[connected];
      const got = next !== undefined ? received.get(next.hashHex) : undefined;
      if (next !== undefined && got !== undefined) {
        received.delete(next.hashHex);
        receivedBytes -= got.sizeBytes;
        const connectStartMs = performance.now();
        const result = await this.chain.processBlock(got.block);
        connectMs += performance.now() - connectStartMs;
        if (result.status === 'invalid') {
          this.logger.warn({ peer: got.peerId, hash: result.hashHex, reason: result.reason }, 'peer sent an invalid block');
          const score = result.score ?? 100;
          if (score > 0) this.io.punish(got.peerId, new PeerMisbehaviour(`invalid block: ${result.reason ?? 'unknown'}`, score));
          aborted = true;
          break;
        }
        connected++;
        if (connected % 64 === 0) pump();
        this.publish(true);
        // A block whose connect needs no I/O resolves in microtasks: without a turn of the event loop now and then,
        // new requests (a stream opens in a round trip) and responses would wait until every received block is
        // connected, and the sink would then sit idle for a round trip. A turn every 50 ms keeps them flowing
        // (every 4 ms cost more than the idle time it saved on loopback).
        if (performance.now() - lastYieldMs >= YIELD_INTERVAL_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          lastYieldMs = performance.now();
        }
        continue;
      }
      pump();
      const waitingForHeaders = connected >= missing.length;
      const backedOff = [...this.backoffUntilMs.values()].some((until) => until > performance.now());
      if (inFlightTotal === 0 && !waitingForHeaders && !backedOff) {
        // Nobody can serve what is left (every peer lacked it or went away): try again on the next trigger.
        this.logger.info({ left: missing.length - connected, peers: this.io.peers().length }, 'no peer can serve the missing blocks now');
        stalled = true;
        break;
      }
      // Wake up on a response or new headers, when a back-off ends, and periodically (a peer may connect meanwhile).
      const backoffEnds = Math.min(...[...this.backoffUntilMs.values()].map((until) => until - performance.now()).filter((ms) => ms > 0), IDLE_WAKE_MS);
      waitMs += await sleep(backoffEnds);
    }
    // Let requests still in flight settle before the next round starts (their results are dropped).
    const deadline = performance.now() + 5000;
    while (inFlightTotal > 0 && performance.now() < deadline) await sleep(200);
    if (aborted) this.again = true;
    const round = (ms: number): number => Math.round(ms);
    this.logger.info(
      {
        height: this.chain.height,
        tip: this.chain.tip.hashHex,
        blocks: connected,
        blocksByPeer,
        headersMs: round(headers.done ? headers.ms : performance.now() - this.roundStartMs),
        blocksMs: round(performance.now() - blocksStartMs),
        connectMs: round(connectMs),
        waitMs: round(waitMs),
      },
      'block download round done',
    );
    return aborted ? 'aborted' : stalled || this.closed ? 'stalled' : 'done';
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
    this.emit('progress', this.snapshot(active));
  }
}
