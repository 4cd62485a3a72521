import type { Chain } from '../chain/chain.js';
import { hasData, isFailed } from '../chain/blockIndex.js';
import type { Logger } from '../logging/logger.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { bytesEqual } from '../primitives/hex.js';
import type { Block, BlockHash, BlockHeader } from '../primitives/types.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { PeerMisbehaviour } from './peerMisbehaviour.js';
import type { SyncPeer } from './peers/peerManager.js';
import { ResponseError } from './reqresp/reqResp.js';
import { MAX_BLOCKS_PER_REQUEST, RespStatus, type HeadersRequest } from './wire.js';

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
  requestBlocks(peerId: string, hashes: readonly BlockHash[]): Promise<(ReceivedBlock | undefined)[]>;
  /** Reports an offence the sync found (PeerManager.punish). */
  punish(peerId: string, offence: PeerMisbehaviour): void;
  /** Remembers that a peer has at least this chain (it served these headers). */
  noteBest(peerId: string, entry: BlockIndexEntry): void;
}

/** Limits of a block download. */
export interface DownloadLimits {
  /** Block requests in flight over all peers. */
  readonly maxInFlight: number;
  /** Block requests in flight to one peer (the req/resp server allows 8). */
  readonly maxPerPeer: number;
  /** Blocks fetched ahead of the next block to connect (Core's BLOCK_DOWNLOAD_WINDOW). */
  readonly windowBlocks: number;
  /** Bytes of blocks received or in flight but not connected yet, at most (memory bound). */
  readonly maxBufferedBytes: number;
  /** Bytes one blocks request aims at (its block count follows the sizes seen so far). */
  readonly targetRequestBytes: number;
}

/** How a block download ended: its list connected, a peer's invalid block, or no peer to serve the rest. */
export type DownloadOutcome = 'done' | 'aborted' | 'stalled';

/** Where a download's time went, ms, and what each peer served (logged at its end). */
export interface DownloadReport {
  readonly blocks: number;
  readonly blocksByPeer: Record<string, number>;
  readonly blocksMs: number;
  /** Inside Chain.processBlock. */
  readonly connectMs: number;
  /** Waiting for the next block to arrive (network, and the work done in the meantime: decoding responses). */
  readonly waitMs: number;
}

/** Blocks asked for in the first request, before any size is known. */
const FIRST_REQUEST_BLOCKS = 16;
/** Longest run of block connects without a turn of the event loop (network I/O), ms. */
const YIELD_INTERVAL_MS = 50;
/** Longest wait of the download loop without an event (a peer may connect meanwhile), ms. */
export const IDLE_WAKE_MS = 1000;

/**
 * Peers that answered RATE_LIMITED, and until when they asked to be left alone. Shared by the header sync and every
 * block download of a BlockSync.
 */
export class PeerBackoff {
  private readonly untilMs = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  /** Notes a RATE_LIMITED answer (ResponseError): the peer is not asked again before it said. Returns whether it was one. */
  note(peerId: string, err: unknown): boolean {
    if (!(err instanceof ResponseError) || err.status !== RespStatus.RATE_LIMITED) return false;
    const until = performance.now() + Math.max(1, err.retryAfterMs);
    this.untilMs.set(peerId, Math.max(this.untilMs.get(peerId) ?? 0, until));
    this.logger.debug({ peer: peerId, retryAfterMs: err.retryAfterMs, reason: err.message }, 'peer asked us to wait');
    return true;
  }

  /** How long `peerId` asked us to wait still, ms (0: not waiting). */
  remainingMs(peerId: string): number {
    return Math.max(0, (this.untilMs.get(peerId) ?? 0) - performance.now());
  }

  /** The soonest end of a back-off still running, ms from now, or undefined when none runs. */
  nextEndMs(): number | undefined {
    const now = performance.now();
    let next: number | undefined;
    for (const until of this.untilMs.values()) if (until > now && (next === undefined || until - now < next)) next = until - now;
    return next;
  }
}

/** Moving average of the block sizes received, bytes: how many blocks one request should ask for. */
export class BlockSizeEstimate {
  private avgBytes = 0;

  /** Adds one block's size. */
  note(sizeBytes: number): void {
    this.avgBytes = this.avgBytes === 0 ? sizeBytes : this.avgBytes * 0.95 + sizeBytes * 0.05;
  }

  /** The average, bytes (0 before any block). */
  get averageBytes(): number {
    return this.avgBytes;
  }

  /** Blocks per request: `targetBytes` over the average size, within 1..MAX_BLOCKS_PER_REQUEST. */
  blocksPerRequest(targetBytes: number): number {
    if (this.avgBytes === 0) return FIRST_REQUEST_BLOCKS;
    return Math.max(1, Math.min(MAX_BLOCKS_PER_REQUEST, Math.floor(targetBytes / this.avgBytes)));
  }
}

/** What a BlockDownload works with: BlockSync's parts. */
export interface BlockDownloadDeps {
  readonly chain: Chain;
  readonly io: SyncIo;
  readonly logger: Logger;
  readonly limits: DownloadLimits;
  readonly backoff: PeerBackoff;
  readonly sizes: BlockSizeEstimate;
  /** Whether the header sync running alongside has finished (until then, more blocks may be added). */
  readonly headersDone: () => boolean;
  /** Whether the sync is closing. */
  readonly closed: () => boolean;
  /** A block was connected (progress). */
  readonly onConnected: () => void;
}

/** A block request handed out, or to hand out: consecutive entries of the missing list. */
type Batch = BlockIndexEntry[];

/**
 * One download of the missing blocks of the best header chain (Core's FindNextBlocksToDownload and the blocks it
 * keeps in flight, in one object per round): requests of consecutive blocks, sized by bytes, handed to the least busy
 * peers that are not backed off, within a window ahead of the next block to connect and a memory bound; responses may
 * arrive in any order, blocks are connected strictly in height order. Blocks a peer lacks are asked of another; blocks
 * a response did not include (its size cap) are asked again; a peer that sends a block other than the one asked for
 * is banned, one whose block is invalid is punished with the block's score and the download ends ('aborted'). New
 * headers accepted meanwhile extend the list (see extend()).
 */
export class BlockDownload {
  private target: BlockIndexEntry;
  /** Position of each block in `missing`, by hash. */
  private readonly indexOf: Map<HashKey<BlockHash>, number>;
  /** Received blocks waiting for their turn, by hash. */
  private readonly received = new Map<HashKey<BlockHash>, { block: Block; sizeBytes: number; peerId: string }>();
  private receivedBytes = 0;
  /** Batches to ask again (a failed or partly served request), lowest first. */
  private readonly retry: Batch[] = [];
  /** Index in `missing` of the first block never asked for. */
  private nextNew = 0;
  private readonly inFlight = new Map<string, number>();
  private inFlightTotal = 0;
  private inFlightBlocks = 0;
  /** Peers that lacked a block or failed a request for it, by block hash. */
  private readonly failedBy = new Map<HashKey<BlockHash>, Set<string>>();
  private readonly blocksByPeer: Record<string, number> = {};
  private connected = 0;
  private aborted = false;
  private wake: (() => void) | undefined;

  /** @param missing the blocks to fetch, lowest first (not empty) */
  constructor(
    private readonly deps: BlockDownloadDeps,
    private readonly missing: BlockIndexEntry[],
  ) {
    this.target = missing[missing.length - 1]!;
    this.indexOf = new Map(missing.map((e, i) => [hashKey(e.hash), i]));
  }

  /** Wakes the download loop (a response arrived, headers were accepted). */
  notify(): void {
    this.wake?.();
    this.wake = undefined;
  }

  /** Sleeps until notify() or `ms` passes; returns the time slept, ms. */
  private async sleep(ms: number): Promise<number> {
    const startMs = performance.now();
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      setTimeout(resolve, Math.max(1, ms)).unref();
    });
    return performance.now() - startMs;
  }

  /** Fetches and connects the blocks; returns how it ended and where its time went. */
  async run(): Promise<{ outcome: DownloadOutcome; report: DownloadReport }> {
    const { chain, io, logger, backoff } = this.deps;
    const startMs = performance.now();
    let connectMs = 0;
    let waitMs = 0;
    let stalled = false;
    let lastYieldMs = performance.now();
    logger.info({ from: this.missing[0]!.height, to: this.target.height, blocks: this.missing.length }, 'downloading blocks');
    this.pump();
    while (!this.deps.closed() && !this.aborted) {
      this.extend();
      if (this.connected >= this.missing.length && this.deps.headersDone()) break;
      // Connect what is ready, in order; new requests go out as responses arrive (fetch pumps).
      const next = this.missing[this.connected];
      const nextKey = next !== undefined ? hashKey(next.hash) : undefined;
      const got = nextKey !== undefined ? this.received.get(nextKey) : undefined;
      if (next !== undefined && nextKey !== undefined && got !== undefined) {
        this.received.delete(nextKey);
        this.receivedBytes -= got.sizeBytes;
        const connectStartMs = performance.now();
        const result = await chain.processBlock(got.block);
        connectMs += performance.now() - connectStartMs;
        if (result.status === 'invalid') {
          logger.warn({ peer: got.peerId, hash: next.hashHex, reason: result.reason }, 'peer sent an invalid block');
          const score = result.score ?? 100;
          if (score > 0) io.punish(got.peerId, new PeerMisbehaviour(`invalid block: ${result.reason ?? 'unknown'}`, score));
          this.aborted = true;
          break;
        }
        this.connected++;
        if (this.connected % 64 === 0) this.pump();
        this.deps.onConnected();
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
      this.pump();
      const waitingForHeaders = this.connected >= this.missing.length;
      const backoffEndMs = backoff.nextEndMs();
      if (this.inFlightTotal === 0 && !waitingForHeaders && backoffEndMs === undefined) {
        // Nobody can serve what is left (every peer lacked it or went away): try again on the next trigger.
        logger.info({ left: this.missing.length - this.connected, peers: io.peers().length }, 'no peer can serve the missing blocks now');
        stalled = true;
        break;
      }
      // Wake up on a response or new headers, when a back-off ends, and periodically (a peer may connect meanwhile).
      waitMs += await this.sleep(Math.min(backoffEndMs ?? IDLE_WAKE_MS, IDLE_WAKE_MS));
    }
    // Let requests still in flight settle before the next round starts (their results are dropped).
    const deadline = performance.now() + 5000;
    while (this.inFlightTotal > 0 && performance.now() < deadline) await this.sleep(200);
    const outcome: DownloadOutcome = this.aborted ? 'aborted' : stalled || this.deps.closed() ? 'stalled' : 'done';
    const report = { blocks: this.connected, blocksByPeer: this.blocksByPeer, blocksMs: performance.now() - startMs, connectMs, waitMs };
    return { outcome, report };
  }

  /** Appends the blocks of headers accepted since, when they extend the same branch (another branch: next round). */
  private extend(): void {
    const best = this.deps.chain.bestHeader;
    if (best.chainWork <= this.target.chainWork || isFailed(best)) return;
    const added: BlockIndexEntry[] = [];
    let entry: BlockIndexEntry | undefined = best;
    while (entry !== undefined && entry.height > this.target.height) {
      if (!hasData(entry)) added.push(entry);
      entry = this.deps.chain.getEntry(entry.header.prevBlock);
    }
    if (entry === undefined || !bytesEqual(entry.hash, this.target.hash)) return;
    for (const e of added.reverse()) {
      this.indexOf.set(hashKey(e.hash), this.missing.length);
      this.missing.push(e);
    }
    this.target = best;
  }

  /** Puts a batch back to be asked again, lowest first; `failedPeer` is not asked for its blocks again. */
  private requeue(batch: Batch, failedPeer?: string): void {
    if (batch.length === 0) return;
    if (failedPeer !== undefined) {
      for (const entry of batch) {
        const key = hashKey(entry.hash);
        const set = this.failedBy.get(key) ?? new Set<string>();
        set.add(failedPeer);
        this.failedBy.set(key, set);
      }
    }
    const at = this.retry.findIndex((b) => b[0]!.height > batch[0]!.height);
    this.retry.splice(at === -1 ? this.retry.length : at, 0, batch);
  }

  /** Takes the next batch `peerId` may fetch: a retry it did not fail, else new blocks; up to `windowEnd`. */
  private takeBatch(peerId: string, windowEnd: number): Batch | undefined {
    for (let i = 0; i < this.retry.length; i++) {
      const batch = this.retry[i]!;
      if (batch[0]!.height > windowEnd) break;
      if (this.failedBy.size > 0 && batch.some((e) => this.failedBy.get(hashKey(e.hash))?.has(peerId) ?? false)) continue;
      this.retry.splice(i, 1);
      return batch;
    }
    if (this.nextNew >= this.missing.length || this.missing[this.nextNew]!.height > windowEnd) return undefined;
    const size = this.deps.sizes.blocksPerRequest(this.deps.limits.targetRequestBytes);
    let end = this.nextNew;
    while (end < this.missing.length && end - this.nextNew < size && this.missing[end]!.height <= windowEnd) end++;
    const batch = this.missing.slice(this.nextNew, end);
    this.nextNew = end;
    return batch;
  }

  /** Hands out requests to peers with capacity (least busy first), within the window and the memory bound. */
  private pump(): void {
    if (this.deps.closed() || this.aborted) return;
    this.extend();
    const { limits, backoff, io, sizes } = this.deps;
    const all = io.peers();
    const withChain = all.filter((p) => p.chainWork >= this.target.chainWork || p.tipHeight >= this.target.height);
    const candidates = (withChain.length > 0 ? withChain : all).filter((p) => backoff.remainingMs(p.peerId) === 0);
    const windowEnd = this.missing[Math.min(this.missing.length - 1, this.connected + limits.windowBlocks)]!.height;
    for (;;) {
      if (this.inFlightTotal >= limits.maxInFlight) return;
      // The memory bound never stops the only request: the block to connect next may be the one it fetches.
      const buffered = this.receivedBytes + this.inFlightBlocks * sizes.averageBytes;
      if (this.inFlightTotal > 0 && buffered >= limits.maxBufferedBytes) return;
      const peers = candidates
        .filter((p) => (this.inFlight.get(p.peerId) ?? 0) < limits.maxPerPeer)
        .sort((a, b) => (this.inFlight.get(a.peerId) ?? 0) - (this.inFlight.get(b.peerId) ?? 0));
      let handedOut = false;
      for (const peer of peers) {
        const batch = this.takeBatch(peer.peerId, windowEnd);
        if (batch === undefined) continue;
        this.inFlight.set(peer.peerId, (this.inFlight.get(peer.peerId) ?? 0) + 1);
        this.inFlightTotal++;
        this.inFlightBlocks += batch.length;
        handedOut = true;
        void this.fetch(batch, peer.peerId);
        break;
      }
      if (!handedOut) return;
    }
  }

  /** One blocks request: keeps what came, requeues the rest. */
  private async fetch(batch: Batch, peerId: string): Promise<void> {
    const { io, logger, sizes, backoff } = this.deps;
    try {
      const blocks = await io.requestBlocks(
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
          io.punish(peerId, offence);
          throw offence;
        }
        sizes.note(got.sizeBytes);
        const key = hashKey(entry.hash);
        if ((this.indexOf.get(key) ?? -1) >= this.connected && !this.received.has(key)) {
          this.received.set(key, { block: got.block, sizeBytes: got.sizeBytes, peerId });
          this.receivedBytes += got.sizeBytes;
          this.blocksByPeer[peerId] = (this.blocksByPeer[peerId] ?? 0) + 1;
        }
      }
      this.requeue(lacking, peerId);
      // Not served this time (the response reached its size cap): ask again, from anyone.
      this.requeue(batch.slice(blocks.length));
    } catch (err) {
      if (backoff.note(peerId, err)) {
        this.requeue(batch);
      } else {
        logger.debug({ peer: peerId, err: (err as Error).message }, 'blocks request failed');
        this.requeue(batch, peerId);
      }
    } finally {
      this.inFlight.set(peerId, (this.inFlight.get(peerId) ?? 1) - 1);
      this.inFlightTotal--;
      this.inFlightBlocks -= batch.length;
      this.pump();
      this.notify();
    }
  }
}
