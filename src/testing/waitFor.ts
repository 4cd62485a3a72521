/**
 * The one way tests and benchmarks wait: on a condition or an event, with a deadline, failing with a message that
 * names what was awaited. Never sleep-then-assert (DESIGN.md, Tests). For tests and benchmarks only.
 */

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined/false, and returns that value. A
 * probe that throws is retried (its last error is reported on timeout).
 * @throws Error `timed out after <timeoutMs> ms waiting for <what>` (with the last probe error) when the deadline passes
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const tail = lastError === undefined ? '' : ` (last error: ${(lastError as Error).message})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits for the first event that `subscribe` delivers and `accept` keeps; unsubscribes and returns it. `subscribe`
 * registers a listener and returns its unsubscribe function (as Chain.on, Mempool.on do).
 * @throws Error `timed out after <timeoutMs> ms waiting for <what>` when the deadline passes first
 */
export function waitForEvent<T>(
  what: string,
  subscribe: (listener: (value: T) => void) => () => void,
  timeoutMs: number,
  accept: (value: T) => boolean = () => true,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      unsubscribe?.();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    unsubscribe = subscribe((value) => {
      if (done || !accept(value)) return;
      done = true;
      clearTimeout(timer);
      // The listener may run inside subscribe(), before unsubscribe is assigned.
      queueMicrotask(() => unsubscribe?.());
      resolve(value);
    });
    if (done) unsubscribe();
  });
}
