/**
 * Runs async tasks one at a time in arrival order (a promise-chain mutex), as Core serialises block processing under
 * cs_main: the chain validates one block at a time, generatetoaddress calls never build on the same tip, the mempool
 * applies reorg updates in call order. A task that fails rejects its own promise only; the queue goes on.
 * The one promise lock of cairn (KeyedSerialQueue gives one per key).
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

  /** Resolves when every task queued so far has settled (successfully or not); never rejects. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/**
 * One SerialQueue per key (e.g. per account): run(key, task) runs after every earlier task with the same key has
 * settled; tasks with different keys run concurrently. Keys with nothing queued are forgotten, so memory follows the
 * keys in use, not every key ever seen.
 */
export class KeyedSerialQueue {
  private readonly queues = new Map<string, SerialQueue>();

  /** Queues `task` for `key` (FIFO among that key's tasks); its result or error is passed through. */
  async run<T>(key: string, task: () => Promise<T> | T): Promise<T> {
    let queue = this.queues.get(key);
    if (queue === undefined) {
      queue = new SerialQueue();
      this.queues.set(key, queue);
    }
    try {
      return await queue.run(task);
    } finally {
      if (queue.pending === 0 && this.queues.get(key) === queue) this.queues.delete(key);
    }
  }

  /** True while a task for `key` runs or waits. */
  isBusy(key: string): boolean {
    return this.queues.has(key);
  }
}
