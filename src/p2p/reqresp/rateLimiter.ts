/** A quota: `quota` tokens per `quotaTimeMs`, which is also the largest burst. */
export interface RateQuota {
  readonly quota: number;
  readonly quotaTimeMs: number;
}

/**
 * Generic Cell Rate Algorithm over keys: each key has a theoretical arrival time (TAT); a cost of `n` tokens is allowed
 * when it keeps the TAT within one quota period of now. One number per key, no timers.
 * @see Lodestar reqresp rate_limiter/rateLimiterGRCA.ts; ATM Forum GCRA
 */
export class GcraLimiter<K> {
  private readonly tatMs = new Map<K, number>();
  private readonly msPerToken: number;

  constructor(private readonly quota: RateQuota) {
    if (!(quota.quota > 0) || !(quota.quotaTimeMs > 0)) throw new RangeError('a rate quota needs a positive quota and period');
    this.msPerToken = quota.quotaTimeMs / quota.quota;
  }

  /**
   * Milliseconds until `tokens` can be taken for `key` (0: now). A cost above the whole quota is allowed when the
   * bucket is full, so no request is refused for ever.
   */
  waitMs(key: K, tokens: number, nowMs: number): number {
    const tat = Math.max(this.tatMs.get(key) ?? nowMs, nowMs);
    const cost = Math.min(tokens * this.msPerToken, this.quota.quotaTimeMs);
    return Math.max(0, tat + cost - this.quota.quotaTimeMs - nowMs);
  }

  /** Takes `tokens` for `key` without checking (check waitMs first, or charge a cost known only afterwards). */
  charge(key: K, tokens: number, nowMs: number): void {
    const tat = Math.max(this.tatMs.get(key) ?? nowMs, nowMs);
    this.tatMs.set(key, tat + tokens * this.msPerToken);
  }

  /** Forgets a key (its bucket is full again). */
  forget(key: K): void {
    this.tatMs.delete(key);
  }
}

/**
 * Limits of one request protocol, per peer. Sized from the node's own sync: an honest node keeps at most
 * BlockSync's `maxRequestsPerPeer` (3) block requests and one headers and one status request open per peer, and asks
 * for blocks at the pace it connects them.
 */
export interface ProtocolLimits {
  /** Requests one peer may have open at once on this protocol. */
  readonly maxConcurrent: number;
  /** Requests per period (each costs 1). */
  readonly requests?: RateQuota;
  /** Items per period (each request costs the number of items it asks for: blocks). */
  readonly items?: RateQuota;
  /** Response bytes per period, charged after the response was sent. */
  readonly bytes?: RateQuota;
}

/** How long a peer over its concurrency limit is asked to wait, ms. */
export const CONCURRENCY_RETRY_MS = 250;
/** Ban score of each request a peer sends during its back-off beyond the grace (it ignores RATE_LIMITED). */
export const IGNORED_BACKOFF_BAN_SCORE = 10;

/** What the limiter decided about one request. */
export type AdmitDecision =
  | {
      readonly allowed: true;
      /** Call once the response is sent (or failed), with the bytes sent: frees the concurrency slot, charges bytes. */
      readonly release: (bytesSent: number) => void;
    }
  | {
      readonly allowed: false;
      /** When the peer may ask again, ms from now. */
      readonly retryAfterMs: number;
      /** Which limit refused it, for the RATE_LIMITED message. */
      readonly reason: string;
      /**
       * Set when the peer keeps requesting during its back-off beyond the grace of `maxConcurrent` requests (those
       * an honest peer may have had in flight when it was told to wait): the offence to score.
       */
      readonly abuse?: string;
    };

/** Back-off state of one peer on one protocol. */
interface PeerProtocolState {
  inFlight: number;
  /** Until when the peer was told to wait (clock ms). */
  backoffUntilMs: number;
  /** Requests that arrived during the current back-off. */
  duringBackoff: number;
}

/**
 * Inbound request limits of the req/resp server, per peer and protocol: concurrent requests, and requests, items and
 * bytes per period (GCRA). A request over a limit is answered RATE_LIMITED with the time to wait; that is not an
 * offence. Only a peer that goes on requesting during its back-off, beyond what it may have had in flight when told
 * to wait, is scored (IGNORED_BACKOFF_BAN_SCORE a request): an honest node waits, so it is never punished, however
 * fast it syncs.
 * @see Lodestar reqresp rate_limiter/ReqRespRateLimiter.ts (per-protocol quotas from the protocol's max request
 *   counts, RATE_LIMITED response)
 */
export class ReqRespRateLimiter {
  private readonly states = new Map<string, PeerProtocolState>();
  private readonly requestLimiters = new Map<string, GcraLimiter<string>>();
  private readonly itemLimiters = new Map<string, GcraLimiter<string>>();
  private readonly byteLimiters = new Map<string, GcraLimiter<string>>();

  /**
   * @param limits by protocol name (`status`, `headers`, `blocks`)
   * @param nowMs monotonic clock, ms
   */
  constructor(
    private readonly limits: Readonly<Record<string, ProtocolLimits>>,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    for (const [protocol, l] of Object.entries(limits)) {
      if (l.requests) this.requestLimiters.set(protocol, new GcraLimiter(l.requests));
      if (l.items) this.itemLimiters.set(protocol, new GcraLimiter(l.items));
      if (l.bytes) this.byteLimiters.set(protocol, new GcraLimiter(l.bytes));
    }
  }

  /** Decides whether `peerId` may have a `protocol` request of `items` items served now. */
  admit(peerId: string, protocol: string, items: number): AdmitDecision {
    const limits = this.limits[protocol];
    if (limits === undefined) throw new Error(`no rate limits for protocol ${protocol}`);
    const now = this.nowMs();
    const key = `${protocol} ${peerId}`;
    let state = this.states.get(key);
    if (state === undefined) {
      state = { inFlight: 0, backoffUntilMs: 0, duringBackoff: 0 };
      this.states.set(key, state);
    }
    let waitMs = 0;
    let reason = '';
    if (now < state.backoffUntilMs) {
      waitMs = state.backoffUntilMs - now;
      reason = 'asked to wait';
    } else if (state.inFlight >= limits.maxConcurrent) {
      waitMs = CONCURRENCY_RETRY_MS;
      reason = `more than ${limits.maxConcurrent} concurrent ${protocol} requests`;
    } else {
      const waits: [number, string][] = [
        [this.requestLimiters.get(protocol)?.waitMs(peerId, 1, now) ?? 0, `${limits.requests?.quota} ${protocol} requests per ${limits.requests?.quotaTimeMs} ms`],
        [this.itemLimiters.get(protocol)?.waitMs(peerId, items, now) ?? 0, `${limits.items?.quota} ${protocol} per ${limits.items?.quotaTimeMs} ms`],
        [this.byteLimiters.get(protocol)?.waitMs(peerId, 0, now) ?? 0, `${limits.bytes?.quota} response bytes per ${limits.bytes?.quotaTimeMs} ms`],
      ];
      for (const [w, why] of waits) {
        if (w > waitMs) {
          waitMs = w;
          reason = why;
        }
      }
    }
    if (waitMs > 0) {
      if (now < state.backoffUntilMs) {
        state.duringBackoff++;
      } else {
        state.backoffUntilMs = now + waitMs;
        state.duringBackoff = 0;
      }
      const abuse =
        state.duringBackoff > limits.maxConcurrent
          ? `request rate limit exceeded: ${state.duringBackoff} ${protocol} requests while told to wait`
          : undefined;
      return { allowed: false, retryAfterMs: Math.ceil(waitMs), reason: `rate limited (${reason})`, ...(abuse !== undefined ? { abuse } : {}) };
    }
    this.requestLimiters.get(protocol)?.charge(peerId, 1, now);
    this.itemLimiters.get(protocol)?.charge(peerId, items, now);
    state.inFlight++;
    let released = false;
    const held = state;
    return {
      allowed: true,
      release: (bytesSent: number) => {
        if (released) return;
        released = true;
        held.inFlight--;
        if (bytesSent > 0) this.byteLimiters.get(protocol)?.charge(peerId, bytesSent, this.nowMs());
      },
    };
  }

  /** Forgets a disconnected peer. */
  forget(peerId: string): void {
    for (const protocol of Object.keys(this.limits)) {
      this.states.delete(`${protocol} ${peerId}`);
      this.requestLimiters.get(protocol)?.forget(peerId);
      this.itemLimiters.get(protocol)?.forget(peerId);
      this.byteLimiters.get(protocol)?.forget(peerId);
    }
  }
}
