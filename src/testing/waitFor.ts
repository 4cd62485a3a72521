/** Options of waitFor. */
export interface WaitForOptions {
  /** Give up after this long, ms. */
  readonly timeoutMs: number;
  /** What is awaited, for the timeout message ("the tx back in the mempool"). */
  readonly what: string;
  /** Pause between probes, ms (default 20). */
  readonly intervalMs?: number;
}

/**
 * Waits for a state: calls `probe` until it returns something other than undefined or false (a probe that throws
 * counts as not yet) and returns that value. Tests wait on a state or an event with it instead of sleeping a guessed
 * time and asserting; the timeout only bounds a hang, it never decides a test that works.
 * @throws Error "timed out after <timeoutMs> ms waiting for <what>" with the last probe error, if any
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: WaitForOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const tail = lastError === undefined ? '' : ` (last probe error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${tail}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
