/**
 * One in-process lock per key (e.g. per account): runExclusive(key, fn) runs fn after every earlier call with the same
 * key has settled; calls with different keys run concurrently. Keys with no holder are forgotten.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` alone for `key` (FIFO among waiters); its result or error is passed through. */
  async runExclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** True while a call for `key` runs or waits. */
  isLocked(key: string): boolean {
    return this.tails.has(key);
  }
}
