import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONCURRENCY_RETRY_MS, GcraLimiter, ReqRespRateLimiter, type AdmitDecision } from './rateLimiter.js';

test('GCRA: a burst of the whole quota, then one token per period/quota; a cost above the quota waits for a full bucket', () => {
  const gcra = new GcraLimiter<string>({ quota: 10, quotaTimeMs: 1000 });
  for (let i = 0; i < 10; i++) {
    assert.equal(gcra.waitMs('p', 1, 0), 0);
    gcra.charge('p', 1, 0);
  }
  assert.equal(gcra.waitMs('p', 1, 0), 100, 'the 11th token comes after 100 ms');
  assert.equal(gcra.waitMs('p', 1, 100), 0);
  assert.equal(gcra.waitMs('q', 1, 0), 0, 'keys are independent');
  assert.equal(gcra.waitMs('p', 50, 0), 1000, 'a cost of 50 tokens needs the whole bucket');
  gcra.forget('p');
  assert.equal(gcra.waitMs('p', 10, 0), 0);
});

/** A clock the test moves. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('a peer that waits as told is never scored, however often it hits the limit', () => {
  const c = clock();
  const limiter = new ReqRespRateLimiter({ blocks: { maxConcurrent: 8, items: { quota: 256, quotaTimeMs: 1000 } } }, c.now);
  // An honest syncer: three 128-block requests in flight; when answered RATE_LIMITED it waits retryAfterMs (plus a
  // round trip) before it asks again. Its requests already in flight arrive during the back-off: that is allowed.
  let served = 0;
  let limited = 0;
  const open: ((bytes: number) => void)[] = [];
  let resumeAt = 0;
  for (let step = 0; step < 2000; step++) {
    c.advance(1);
    while (open.length > 0 && step % 3 === 0) open.shift()!(100_000);
    if (c.now() < resumeAt || open.length >= 3) continue;
    const d: AdmitDecision = limiter.admit('honest', 'blocks', 128);
    if (d.allowed) {
      served++;
      open.push(d.release);
    } else {
      limited++;
      assert.equal(d.abuse, undefined, `step ${step}: an honest peer was scored`);
      // Its other in-flight requests reach the server before it read the answer.
      for (let k = 0; k < open.length; k++) {
        const also = limiter.admit('honest', 'blocks', 128);
        assert.equal(also.allowed, false);
        if (!also.allowed) assert.equal(also.abuse, undefined);
      }
      resumeAt = c.now() + d.retryAfterMs + 2;
    }
  }
  assert.ok(limited >= 3, `the limit was hit (${limited} times)`);
  // 2 s of 256 blocks/s after a 256-block burst: the honest peer got about what the quota allows.
  assert.ok(served * 128 >= 256 + 2 * 256 - 128 && served * 128 <= 256 + 2 * 256 + 256, `served ${served} requests`);
});

test('a peer that keeps asking during its back-off is scored past the grace of maxConcurrent requests', () => {
  const c = clock();
  const limiter = new ReqRespRateLimiter({ headers: { maxConcurrent: 2, requests: { quota: 5, quotaTimeMs: 10_000 } } }, c.now);
  for (let i = 0; i < 5; i++) {
    const d = limiter.admit('flood', 'headers', 1);
    assert.equal(d.allowed, true);
    if (d.allowed) d.release(100);
  }
  const refusals: AdmitDecision[] = [];
  for (let i = 0; i < 6; i++) {
    c.advance(1);
    refusals.push(limiter.admit('flood', 'headers', 1));
  }
  assert.ok(refusals.every((d) => !d.allowed));
  const abuses = refusals.map((d) => (!d.allowed ? d.abuse : undefined));
  // The first refusal starts the back-off; two more are in-flight grace; from the fourth on each is an offence.
  assert.deepEqual(abuses.map((a) => a !== undefined), [false, false, false, true, true, true]);
  assert.match(abuses[5]!, /request rate limit exceeded: 5 headers requests while told to wait/);
  assert.ok(!refusals[0]!.allowed && refusals[0]!.retryAfterMs === 1999, 'the first wait is until the next token');
  // Once the back-off is over, a new request is judged afresh (served: a token has come back meanwhile).
  c.advance(2000);
  assert.equal(limiter.admit('flood', 'headers', 1).allowed, true);
});

test('concurrency: the (maxConcurrent+1)th open request is refused for a short wait; releasing frees the slot; bytes are charged after', () => {
  const c = clock();
  const limiter = new ReqRespRateLimiter({ blocks: { maxConcurrent: 2, bytes: { quota: 1000, quotaTimeMs: 1000 } } }, c.now);
  const a = limiter.admit('p', 'blocks', 1);
  const b = limiter.admit('p', 'blocks', 1);
  assert.ok(a.allowed && b.allowed);
  const third = limiter.admit('p', 'blocks', 1);
  assert.ok(!third.allowed && third.retryAfterMs === CONCURRENCY_RETRY_MS && /concurrent/.test(third.reason));
  assert.equal(limiter.admit('other', 'blocks', 1).allowed, true, 'per peer');
  c.advance(CONCURRENCY_RETRY_MS);
  if (a.allowed) a.release(1500); // one response past the byte quota
  if (b.allowed) b.release(0);
  const fourth = limiter.admit('p', 'blocks', 1);
  assert.ok(!fourth.allowed && /response bytes/.test(fourth.reason), 'the byte debt must be paid off first');
  c.advance(fourth.allowed ? 0 : fourth.retryAfterMs);
  assert.equal(limiter.admit('p', 'blocks', 1).allowed, true);
  limiter.forget('p');
});
