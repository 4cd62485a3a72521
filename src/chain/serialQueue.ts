/**
 * Runs async tasks one at a time in arrival order (a promise-chain mutex): the chain validates and connects one block
 * at a time, as Core does under cs_main. A task that fails rejects its own promise only; the queue goes on.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pendingCount = 0;

  /** Number of tasks queued or running. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Queues `task`; resolves or rejects with its result once every earlier task has settled and it has run. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.pendingCount++;
    const result = this.tail.then(task).finally(() => {
      this.pendingCount--;
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
