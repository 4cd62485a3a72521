/**
 * The simulated network between users: which pairs are linked (topology), how long a message takes on a link
 * (latency drawn per message from a distribution, plus transfer time = size / bandwidth), loss, and partitions that
 * cut links between groups until healed. It carries opaque byte payloads (the real block and tx encodings) and
 * schedules their delivery on the EventQueue; it knows nothing about blocks.
 * Each directed link sends one message at a time at its full bandwidth: a transfer starts when the link is free
 * (start = max(now, linkFreeAt)), so two blocks sent back to back on a slow link arrive one transfer time apart.
 * Model limits (stated so results are read right): a node's links do not share an upload capacity (each has the
 * full bandwidth), a message lost or cut at send does not occupy the link, and a lost message is not retransmitted
 * (the receiver recovers by asking for a missing parent when a later block arrives).
 */
import type { EventQueue } from './eventQueue.js';
import type { SimRng } from './simRng.js';
import { SimError } from './simError.js';

/** Per-message latency of a link, ms: fixed, uniform, exponential, or log-normal (median and sigma of ln). */
export type LatencySpec =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'exponential'; readonly meanMs: number }
  | { readonly kind: 'lognormal'; readonly medianMs: number; readonly sigma: number };

/** Who is linked to whom: full mesh, ring (each node to its two neighbours), or a random graph of a given degree. */
export type TopologySpec =
  | { readonly kind: 'mesh' }
  | { readonly kind: 'ring' }
  | { readonly kind: 'random'; readonly degree: number };

/** Options of the network (plain values, as a scenario file gives them). */
export interface NetworkOptions {
  readonly latency: LatencySpec;
  /** Link bandwidth, bits per second; default Infinity (no transfer time). */
  readonly bandwidthBitsPerSec?: number;
  /** Probability a message is lost, 0..1; default 0. */
  readonly lossRate?: number;
  readonly topology: TopologySpec;
}

/** The expected value of a latency distribution, ms. */
export function meanLatencyMs(spec: LatencySpec): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.ms;
    case 'uniform':
      return (spec.minMs + spec.maxMs) / 2;
    case 'exponential':
      return spec.meanMs;
    case 'lognormal':
      return spec.medianMs * Math.exp((spec.sigma * spec.sigma) / 2);
  }
}

/**
 * Checks a latency spec's numbers.
 * @throws SimError bad-scenario when a value is negative, not finite, or min > max
 */
export function checkLatencySpec(spec: LatencySpec): void {
  const ok = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const good =
    (spec.kind === 'fixed' && ok(spec.ms)) ||
    (spec.kind === 'uniform' && ok(spec.minMs) && ok(spec.maxMs) && spec.minMs <= spec.maxMs) ||
    (spec.kind === 'exponential' && ok(spec.meanMs)) ||
    (spec.kind === 'lognormal' && ok(spec.medianMs) && ok(spec.sigma));
  if (!good) throw new SimError('bad-scenario', `bad latency ${JSON.stringify(spec)}`);
}

/** Counters of what the network carried. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  /** Dropped because the link was cut by a partition (at send or at delivery). */
  cut: number;
  bytes: number;
}

/**
 * The links between `n` nodes (0..n−1) and the delivery of messages on them. Links are undirected; each has a
 * latency spec (the network default unless overridden). A partition assigns nodes to groups; a message between
 * groups is dropped (at send, and at delivery if the cut happened while it was in flight).
 */
export class SimNetwork {
  private readonly adjacency: Set<number>[] = [];
  private readonly linkLatency = new Map<string, LatencySpec>();
  /** Bandwidth of directed links that have their own (key `a>b`), bits per second. */
  private readonly linkBandwidth = new Map<string, number>();
  /** Virtual ms at which each directed link (key `a>b`) finishes its last queued transfer. */
  private readonly linkFreeAtMs = new Map<string, number>();
  private group: number[] | undefined;
  private latencyDefault: LatencySpec;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, bytes: 0 };

  constructor(
    private readonly options: NetworkOptions,
    private readonly queue: EventQueue,
    private readonly rng: SimRng,
  ) {
    checkLatencySpec(options.latency);
    this.latencyDefault = options.latency;
    const loss = options.lossRate ?? 0;
    if (!(loss >= 0 && loss < 1)) throw new SimError('bad-scenario', `lossRate must be in [0, 1), got ${loss}`);
    const bw = options.bandwidthBitsPerSec ?? Infinity;
    if (!(bw > 0)) throw new SimError('bad-scenario', `bandwidthBitsPerSec must be > 0, got ${bw}`);
  }

  /** Number of nodes. */
  get size(): number {
    return this.adjacency.length;
  }

  /** The default latency of links without their own. */
  get defaultLatency(): LatencySpec {
    return this.latencyDefault;
  }

  /**
   * Adds node number `size` and links it as the topology says: mesh → to every node; ring → the ring is rebuilt
   * (last node between the previous last and node 0); random → to `degree` distinct random earlier nodes (or all).
   * Returns the new node's index.
   */
  addNode(): number {
    const id = this.adjacency.length;
    this.adjacency.push(new Set());
    const topo = this.options.topology;
    if (topo.kind === 'mesh') {
      for (let i = 0; i < id; i++) this.link(i, id);
    } else if (topo.kind === 'ring') {
      if (id >= 2 && id !== 2) this.unlink(id - 1, 0);
      if (id >= 1) this.link(id - 1, id);
      if (id >= 2) this.link(id, 0);
    } else {
      const others = this.rng.shuffle([...Array(id).keys()]).slice(0, Math.max(1, topo.degree));
      for (const o of others) this.link(o, id);
    }
    return id;
  }

  /** Links two nodes (idempotent). */
  link(a: number, b: number): void {
    if (a === b) return;
    this.adjacency[a]!.add(b);
    this.adjacency[b]!.add(a);
  }

  /** Removes the link between two nodes, if any. */
  unlink(a: number, b: number): void {
    this.adjacency[a]?.delete(b);
    this.adjacency[b]?.delete(a);
    this.linkLatency.delete(linkKey(a, b));
  }

  /** The nodes linked to `a`, ascending. */
  peers(a: number): number[] {
    return [...(this.adjacency[a] ?? [])].sort((x, y) => x - y);
  }

  /** Sets the latency of every link (and forgets per-link overrides). */
  setDefaultLatency(spec: LatencySpec): void {
    checkLatencySpec(spec);
    this.latencyDefault = spec;
    this.linkLatency.clear();
  }

  /** Sets the latency of one link. */
  setLinkLatency(a: number, b: number, spec: LatencySpec): void {
    checkLatencySpec(spec);
    this.linkLatency.set(linkKey(a, b), spec);
  }

  /** Splits the nodes into groups (each node's group number); messages between groups are dropped until heal(). */
  partition(groupOf: readonly number[]): void {
    this.group = [...groupOf];
  }

  /** Ends the partition. */
  heal(): void {
    this.group = undefined;
  }

  /** Whether a and b can talk now (linked and in the same group). */
  connected(a: number, b: number): boolean {
    return this.adjacency[a]?.has(b) === true && this.sameGroup(a, b);
  }

  /** Whether a partition is in force. */
  get partitioned(): boolean {
    return this.group !== undefined;
  }

  /**
   * Sets the bandwidth of the directed link a→b, bits per second (e.g. min(a's upload, b's download), as SimBlock's
   * regions give it); overrides the network's bandwidthBitsPerSec for that direction.
   * @throws SimError bad-scenario when it is not > 0
   */
  setLinkBandwidth(a: number, b: number, bitsPerSec: number): void {
    if (!(bitsPerSec > 0)) throw new SimError('bad-scenario', `bandwidth must be > 0, got ${bitsPerSec}`);
    this.linkBandwidth.set(`${a}>${b}`, bitsPerSec);
  }

  /**
   * Time `sizeBytes` takes to go onto the directed link a→b at its bandwidth (size × 8 / bandwidth), ms; 0 without a
   * bandwidth.
   */
  transferMs(a: number, b: number, sizeBytes: number): number {
    const bw = this.linkBandwidth.get(`${a}>${b}`) ?? this.options.bandwidthBitsPerSec ?? Infinity;
    return bw === Infinity ? 0 : (sizeBytes * 8 * 1000) / bw;
  }

  /** One latency draw of the link a→b (its own spec or the default), ms, never negative. */
  drawLatencyMs(a: number, b: number): number {
    return Math.max(0, this.drawLatency(this.linkLatency.get(linkKey(a, b)) ?? this.latencyDefault));
  }

  /**
   * Sends `sizeBytes` from a to b; `deliver` runs at arrival unless the message is lost or the link is cut. Returns
   * false when it was dropped at once (no link, partition, loss). The transfer waits for the directed link a→b to be
   * free: it starts at max(now + extraDelayMs, end of the link's previous transfer), takes transferMs(a, b, sizeBytes), and
   * arrives one latency draw after it ends. `extraDelayMs` holds the message back before it is sent (a sender that
   * chooses whom to tell first, as the selfish pool's γ model).
   */
  send(a: number, b: number, sizeBytes: number, deliver: () => void | Promise<void>, extraDelayMs = 0): boolean {
    this.stats.sent++;
    if (!this.connected(a, b)) {
      this.stats.cut++;
      return false;
    }
    const loss = this.options.lossRate ?? 0;
    if (loss > 0 && this.rng.chance(loss)) {
      this.stats.lost++;
      return false;
    }
    this.stats.bytes += sizeBytes;
    const now = this.queue.nowMs;
    const key = `${a}>${b}`;
    const startMs = Math.max(now + Math.max(0, extraDelayMs), this.linkFreeAtMs.get(key) ?? -Infinity);
    const endMs = startMs + this.transferMs(a, b, sizeBytes);
    // Only a transfer that takes time occupies the link (a held message keeps its place in the link's queue).
    if (endMs > startMs) this.linkFreeAtMs.set(key, endMs);
    this.queue.schedule(endMs - now + this.drawLatencyMs(a, b), () => {
      if (!this.sameGroup(a, b)) {
        this.stats.cut++;
        return;
      }
      this.stats.delivered++;
      return deliver();
    });
    return true;
  }

  private sameGroup(a: number, b: number): boolean {
    return this.group === undefined || this.group[a] === this.group[b];
  }

  private drawLatency(spec: LatencySpec): number {
    switch (spec.kind) {
      case 'fixed':
        return spec.ms;
      case 'uniform':
        return spec.minMs + this.rng.next() * (spec.maxMs - spec.minMs);
      case 'exponential':
        return this.rng.exponential(spec.meanMs);
      case 'lognormal':
        return spec.medianMs * Math.exp(spec.sigma * this.rng.normal());
    }
  }
}

function linkKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
