/**
 * The bridge's view of the chain: walks the node's best chain block by block through Esplora (raw blocks; cursor = the
 * last walked block's hash; on a reorg it disconnects back to the fork point first), recording outputs to the
 * exchange's addresses and spends of its outputs in the bridge store (up to 50 blocks per SQLite transaction); and lists the
 * node's mempool for deposits not yet in a block.
 * @see Blockstream esplora API.md; Bitcoin Core's reorg: disconnect to the fork point, then connect the new branch
 */
import type { Logger } from '../../logging/logger.js';
import { decodeBlock } from '../../primitives/block.js';
import { bytesToHex, hashToHex } from '../../primitives/hex.js';
import { computeTxid } from '../../primitives/tx.js';
import type { Sats } from '../../primitives/types.js';
import type { EsploraClient } from '../../wallet/nodeClient.js';
import { isWalletError } from '../../wallet/walletError.js';
import type { BlockChanges, BridgeStore } from './bridgeStore.js';
import type { ChainReader } from './chainReader.js';

/** Blocks walked per round at most (the next round continues). */
const MAX_BLOCKS_PER_TICK = 500;
/** Blocks connected per SQLite transaction while catching up. */
const BLOCKS_PER_TRANSACTION = 50;
/** Mempool transactions fetched per round at most (the rest in later rounds). */
const MAX_MEMPOOL_FETCHES = 1_000;

/** An exchange script: whose deposit address (userId; null for change), and where in the HD account. */
export interface OwnedScript {
  readonly userId: number | null;
  readonly chain: 0 | 1;
  readonly index: number;
}

/** Walks the chain and the mempool for the bridge. `scripts` (hex scriptPubKey → owner) is the bridge's, kept current by it. */
export class ChainWatcher {
  /** The mempool at the last scan. */
  private mempool = new Set<string>();

  constructor(
    private readonly store: BridgeStore,
    private readonly chain: ChainReader,
    private readonly esplora: EsploraClient,
    private readonly scripts: ReadonlyMap<string, OwnedScript>,
    private readonly logger: Logger,
    /** Height of the first walk (default the node's tip then). */
    private readonly startHeight: number | undefined,
  ) {}

  /** Walks back to the fork point, then forward to the node's tip, one block per SQLite transaction. */
  async sync(): Promise<{ connected: number; disconnected: number; tipHeight: number }> {
    let disconnected = 0;
    let cursor = this.store.getCursor();
    while (cursor !== undefined && (await this.chain.getBlockHashAt(cursor.height)) !== cursor.hash) {
      disconnected += this.store.disconnectAbove(cursor.height - 1);
      this.logger.warn({ height: cursor.height, hash: cursor.hash }, 'bridge: block left the best chain (reorg)');
      cursor = this.store.getCursor();
    }
    const tip = await this.chain.getTipHeight();
    // The first walk starts at startHeight (default the tip); after a reorg deeper than every walked block, the walk
    // starts again there, so no block after it is skipped.
    const first = this.store.getMeta('firstHeight');
    let next = cursor !== undefined ? cursor.height + 1 : first !== undefined ? Number(first) : Math.min(this.startHeight ?? tip, tip);
    if (first === undefined) this.store.setMeta('firstHeight', String(next));
    let connected = 0;
    const pending: BlockChanges[] = [];
    const flush = (): void => {
      if (pending.length > 0) this.store.connectBlocks(pending.splice(0));
    };
    for (; next <= tip && connected < MAX_BLOCKS_PER_TICK; next++) {
      const hash = await this.chain.getBlockHashAt(next);
      if (hash === undefined) break;
      const block = decodeBlock(await this.chain.getRawBlock(hash));
      // A reorg between two reads: the next round walks back.
      if (cursor !== undefined && hashToHex(block.header.prevBlock) !== cursor.hash) break;
      const outputs: Array<{ txid: string; vout: number; valueSats: Sats; userId: number | null; chain: 0 | 1; index: number; isCoinbase: boolean }> = [];
      const spends: Array<{ txid: string; vout: number; spentBy: string }> = [];
      const txids: string[] = [];
      block.txs.forEach((tx, i) => {
        const txid = hashToHex(computeTxid(tx));
        txids.push(txid);
        if (i > 0) for (const input of tx.inputs) spends.push({ txid: hashToHex(input.prevout.txid), vout: input.prevout.index, spentBy: txid });
        tx.outputs.forEach((o, vout) => {
          const ours = this.scripts.get(bytesToHex(o.scriptPubKey));
          if (ours !== undefined) outputs.push({ txid, vout, valueSats: o.value, userId: ours.userId, chain: ours.chain, index: ours.index, isCoinbase: i === 0 });
        });
      });
      pending.push({ block: { height: next, hash }, outputs, spends, txids });
      if (pending.length >= BLOCKS_PER_TRANSACTION) flush();
      cursor = { height: next, hash };
      connected++;
    }
    flush();
    return { connected, disconnected, tipHeight: cursor?.height ?? tip };
  }

  /**
   * Records deposits in the node's mempool as `seen` (shown, not spendable, not credited): fetches each new mempool
   * tx once (at most MAX_MEMPOOL_FETCHES per round) and forgets seen deposits that left the mempool unconfirmed.
   */
  async scanMempool(): Promise<ReadonlySet<string>> {
    const now = new Set(await this.chain.getMempoolTxids());
    let fetched = 0;
    for (const txid of now) {
      if (this.mempool.has(txid)) continue;
      if (fetched++ >= MAX_MEMPOOL_FETCHES) {
        now.delete(txid); // looked at in a later round
        continue;
      }
      let tx;
      try {
        tx = await this.esplora.getTx(txid);
      } catch (err) {
        if (isWalletError(err, 'not-found')) continue; // mined or evicted meanwhile
        throw err;
      }
      if (tx.status.confirmed) continue;
      tx.vout.forEach((o, vout) => {
        const ours = this.scripts.get(bytesToHex(o.scriptPubKey));
        if (ours !== undefined && ours.userId !== null) this.store.insertSeenDeposit({ txid, vout, valueSats: o.value, userId: ours.userId, index: ours.index });
      });
    }
    this.mempool = now;
    this.store.forgetVanishedSeen(now);
    return now;
  }
}
