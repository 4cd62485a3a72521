import { hashKey, type HashKey } from '../primitives/hashKey.js';
import type { Wtxid } from '../primitives/types.js';

/** Default number of wtxids a ScriptCache holds: about one mempool's worth of transactions. */
export const DEFAULT_SCRIPT_CACHE_SIZE = 100_000;

/**
 * Bounded set of wtxids of transactions whose every input passed its script (signature) checks, so a tx
 * checked on mempool entry is not checked again when its block connects (Core's script execution cache).
 *
 * Why the wtxid alone is a sound key: the wtxid commits to the whole tx including its witnesses (signatures), and
 * each input's outpoint commits, through the spent tx's txid, to the spent output's value and scriptPubKey — the
 * only prevout data verifyInput reads. So one wtxid always meets the same prevouts and gets the same answer. Core also
 * keys on the script verification flags; cairn has one fixed rule set (no soft-fork flags), so there is nothing to
 * add. The cache says nothing about whether the inputs exist or are unspent: checkTxInputs runs every time.
 *
 * Eviction is FIFO by insertion, and re-adding an entry moves it to the back (so a tx seen in the mempool and again
 * in a block lives longer). `maxEntries` 0 disables the cache (add keeps nothing), which benchmarks use.
 * PERF: a JS Set of hash keys keeps insertion order, so add, has and eviction are O(1); 100,000 entries of 32-char
 * keys take about 6 MB.
 * @see Bitcoin Core validation.cpp g_scriptExecutionCache (CuckooCache keyed by wtxid and flags), CheckInputScripts
 */
export class ScriptCache {
  private readonly entries = new Set<HashKey<Wtxid>>();

  /**
   * @param maxEntries most wtxids kept (default DEFAULT_SCRIPT_CACHE_SIZE); 0 disables caching.
   * @throws RangeError when maxEntries is not a non-negative integer
   */
  constructor(readonly maxEntries: number = DEFAULT_SCRIPT_CACHE_SIZE) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`maxEntries must be a non-negative integer, got ${maxEntries}`);
    }
  }

  /** True when the tx with this wtxid passed its script checks and is still cached. */
  has(wtxid: Wtxid): boolean {
    return this.entries.has(hashKey(wtxid));
  }

  /** Records that every input of the tx with this wtxid passed, evicting the oldest entry if full. */
  add(wtxid: Wtxid): void {
    if (this.maxEntries === 0) return;
    const key = hashKey(wtxid);
    if (this.entries.delete(key)) {
      this.entries.add(key);
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.values().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.add(key);
  }

  /** Forgets one wtxid (e.g. once its block is buried and the tx cannot come back). Returns whether it was cached. */
  delete(wtxid: Wtxid): boolean {
    return this.entries.delete(hashKey(wtxid));
  }

  /** Number of wtxids held. */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every entry. */
  clear(): void {
    this.entries.clear();
  }
}
