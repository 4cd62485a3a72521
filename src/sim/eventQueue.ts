/**
 * The discrete-event core: a priority queue of timed events (binary min-heap) ordered by virtual time, then by
 * insertion order, so events at the same instant run first-scheduled first and a run is deterministic.
 */

/** An event waiting in the queue: when (virtual ms) and what to run. */
interface QueuedEvent {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void | Promise<void>;
  cancelled: boolean;
}

/** A handle to cancel a scheduled event (e.g. a miner's pending block after it switched tips). */
export interface EventHandle {
  cancel(): void;
  readonly atMs: number;
}

/**
 * A virtual clock with a binary-heap event queue. `nowMs` advances only when the next event is taken; nothing reads
 * the wall clock. Events may be async (a node processing a block): the runner awaits each before taking the next,
 * so a run is one deterministic sequence.
 */
export class EventQueue {
  private readonly heap: QueuedEvent[] = [];
  private seq = 0;
  private now: number;
  private processed = 0;

  /** @param startMs virtual time the clock starts at, ms since the epoch */
  constructor(startMs: number) {
    this.now = startMs;
  }

  /** Current virtual time, ms since the epoch. */
  get nowMs(): number {
    return this.now;
  }

  /** Current virtual time, whole seconds since the epoch (what the node code's `nowSec` gets). */
  nowSec(): number {
    return Math.floor(this.now / 1000);
  }

  /** Events waiting (including cancelled ones not yet popped). */
  get size(): number {
    return this.heap.length;
  }

  /** Events run so far. */
  get processedCount(): number {
    return this.processed;
  }

  /**
   * Schedules `run` `delayMs` after now (0 = after the events already due now).
   * @throws RangeError on a negative or non-finite delay
   */
  schedule(delayMs: number, run: () => void | Promise<void>): EventHandle {
    if (!(delayMs >= 0) || !Number.isFinite(delayMs)) throw new RangeError(`EventQueue.schedule: bad delay ${delayMs}`);
    const ev: QueuedEvent = { atMs: this.now + delayMs, seq: this.seq++, run, cancelled: false };
    this.push(ev);
    return {
      atMs: ev.atMs,
      cancel: () => {
        ev.cancelled = true;
      },
    };
  }

  /**
   * Runs events in time order until the queue is empty, the next event is later than `untilMs`, or `stop()` says so.
   * Returns the number of events run.
   */
  async runUntil(untilMs: number, stop: () => boolean = () => false): Promise<number> {
    let n = 0;
    while (this.heap.length > 0 && !stop()) {
      const top = this.heap[0]!;
      if (top.atMs > untilMs) break;
      this.pop();
      if (top.cancelled) continue;
      this.now = top.atMs;
      await top.run();
      this.processed++;
      n++;
    }
    if (untilMs !== Infinity && this.now < untilMs && !stop() && (this.heap.length === 0 || this.heap[0]!.atMs > untilMs)) this.now = untilMs;
    return n;
  }

  private less(a: QueuedEvent, b: QueuedEvent): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(ev: QueuedEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): QueuedEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
