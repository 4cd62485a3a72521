import type { ScriptCheckJob, ScriptCheckResult, ScriptVerifier } from '../interfaces/scriptVerifier.js';

interface Waiting {
  readonly job: ScriptCheckJob;
  readonly resolve: (result: ScriptCheckResult) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Gathers the script checks of transactions accepted concurrently (several REST or RPC submissions, a burst of gossip)
 * into one batch per event-loop turn, so the worker pool verifies them in parallel instead of each one inline on the
 * main thread. A single check goes through as it came. When a batch fails, its jobs are verified one by one (the ones
 * that passed are in the script cache by then, or cheap to redo) so each caller gets its own result; a failure of the
 * verifier itself rejects every caller of the batch.
 * Results are exactly those of `verifier.verify([job])` for each job: same ok/failure, same input index and reason.
 * @see Bitcoin Core checkqueue.h (batching script checks onto worker threads)
 */
export class ScriptCheckBatcher {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly verifier: ScriptVerifier) {}

  /** Verifies one transaction's inputs, batched with the other checks asked for in this event-loop turn. */
  verify(job: ScriptCheckJob): Promise<ScriptCheckResult> {
    return new Promise<ScriptCheckResult>((resolve, reject) => {
      this.waiting.push({ job, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    this.scheduled = false;
    if (batch.length === 0) return;
    try {
      const result = await this.verifier.verify(batch.map((w) => w.job));
      if (result.ok || batch.length === 1) {
        for (const w of batch) w.resolve(result.ok ? result : { ...result, txIndex: 0 });
        return;
      }
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Fall through: one bad job (e.g. prevouts that do not match) must not fail the others.
    }
    for (const w of batch) {
      try {
        w.resolve(await this.verifier.verify([w.job]));
      } catch (err) {
        w.reject(err);
      }
    }
  }
}
