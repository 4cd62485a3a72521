import type { MempoolEntryView } from '../interfaces/mempoolTypes.js';
import type { MempoolRemoval } from '../interfaces/mempoolTypes.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { bytesToHex, hashToHex } from '../primitives/hex.js';
import type { Txid } from '../primitives/types.js';
import type { EsploraMempoolRecent } from './esploraSchemas.js';
import type { NodeContext } from '../interfaces/nodeContext.js';

/** Esplora's /mempool/recent length. */
const RECENT_COUNT = 10;
/** Window of the vbytes-per-second rate, seconds. */
const RATE_WINDOW_SEC = 10;

/**
 * What the REST API tracks about the mempool beyond what the Mempool itself indexes, kept up to date from its
 * `added`/`removed` events: which mempool txs touch each scriptPubKey (outputs paying it and inputs spending from it,
 * for /address/:address/txs/mempool, /utxo and mempool_stats), the last 10 txs to enter (/mempool/recent) and the rate
 * at which vbytes enter (websocket `vBytesPerSecond`).
 * PERF: one UTXO-set read per input of each accepted tx that spends a confirmed coin (to learn the script it spends
 * from); outputs and mempool parents cost no I/O.
 */
export class MempoolTracker {
  /** scriptPubKey hex → the mempool txs touching it, by txid, in entry order. */
  private readonly byScript = new Map<string, Map<HashKey<Txid>, Txid>>();
  /** txid → the script keys it was indexed under (so removal needs no lookups). */
  private readonly scriptsOfTx = new Map<HashKey<Txid>, string[]>();
  private readonly recentTxs: EsploraMempoolRecent[] = [];
  /** vbytes added per whole second (ring of RATE_WINDOW_SEC buckets) for vBytesPerSecond. */
  private readonly rateBuckets = new Array<number>(RATE_WINDOW_SEC).fill(0);
  private rateSecond = 0;
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly node: NodeContext,
    private readonly nowMs: () => number = Date.now,
  ) {
    for (const entry of node.mempool.entries()) this.indexEntry(entry);
    this.unsubscribe = [
      node.mempool.on('added', (entry) => this.onAdded(entry)),
      node.mempool.on('removed', (removal) => this.onRemoved(removal)),
    ];
  }

  /** Txids of the mempool txs that pay to or spend from the script, newest first. */
  txidsForScript(scriptPubKey: Uint8Array): Txid[] {
    const txids = this.byScript.get(bytesToHex(scriptPubKey));
    return txids === undefined ? [] : [...txids.values()].reverse();
  }

  /** The last (up to) 10 transactions to enter the mempool, newest first. */
  recent(): EsploraMempoolRecent[] {
    return [...this.recentTxs];
  }

  /** Mean vbytes entering the mempool per second over the last 10 seconds. */
  vbytesPerSecond(): number {
    this.advanceRate();
    return Math.round(this.rateBuckets.reduce((a, b) => a + b, 0) / RATE_WINDOW_SEC);
  }

  /** Stops following the mempool. */
  close(): void {
    for (const off of this.unsubscribe) off();
  }

  private onAdded(entry: MempoolEntryView): void {
    this.indexEntry(entry);
    this.recentTxs.unshift({
      txid: hashToHex(entry.txid),
      fee: Number(entry.fee),
      vsize: entry.vsize,
      value: Number(entry.tx.outputs.reduce((sum, o) => sum + o.value, 0n)),
    });
    if (this.recentTxs.length > RECENT_COUNT) this.recentTxs.pop();
    this.advanceRate();
    this.rateBuckets[this.rateSecond % RATE_WINDOW_SEC]! += entry.vsize;
  }

  private onRemoved(removal: MempoolRemoval): void {
    const txidKey = hashKey(removal.txid);
    const keys = this.scriptsOfTx.get(txidKey);
    if (keys === undefined) return;
    this.scriptsOfTx.delete(txidKey);
    for (const key of keys) {
      const txids = this.byScript.get(key);
      if (txids === undefined) continue;
      txids.delete(txidKey);
      if (txids.size === 0) this.byScript.delete(key);
    }
  }

  private indexEntry(entry: MempoolEntryView): void {
    const keys = new Set<string>();
    for (const output of entry.tx.outputs) keys.add(bytesToHex(output.scriptPubKey));
    const { mempool, chain } = this.node;
    for (const input of entry.tx.inputs) {
      const parent = mempool.get(input.prevout.txid);
      const spent = parent !== undefined ? parent.tx.outputs[input.prevout.index] : chain.getCoin(input.prevout)?.output;
      if (spent !== undefined) keys.add(bytesToHex(spent.scriptPubKey));
    }
    const list = [...keys];
    const txidKey = hashKey(entry.txid);
    this.scriptsOfTx.set(txidKey, list);
    for (const key of list) {
      let txids = this.byScript.get(key);
      if (txids === undefined) this.byScript.set(key, (txids = new Map()));
      txids.set(txidKey, entry.txid);
    }
  }

  /** Moves the rate ring to the current second, zeroing the seconds that passed without additions. */
  private advanceRate(): void {
    const second = Math.floor(this.nowMs() / 1000);
    if (this.rateSecond === 0) this.rateSecond = second;
    const steps = Math.min(second - this.rateSecond, RATE_WINDOW_SEC);
    for (let i = 1; i <= steps; i++) this.rateBuckets[(this.rateSecond + i) % RATE_WINDOW_SEC] = 0;
    if (second > this.rateSecond) this.rateSecond = second;
  }
}
