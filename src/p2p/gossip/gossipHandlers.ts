import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import type { Chain } from '../../chain/chain.js';
import { hasData } from '../../chain/blockIndex.js';
import { VerifyError } from '../../consensus/verifyError.js';
import type { Logger } from '../../logging/logger.js';
import type { Mempool } from '../../mempool/mempool.js';
import type { ChainParams } from '../../params/chainParams.js';
import { decodeBlock } from '../../primitives/block.js';
import { computeBlockHash } from '../../primitives/blockHeader.js';
import { hashKey, type HashKey } from '../../primitives/hashKey.js';
import { hashToHex } from '../../primitives/hex.js';
import { computeTxid, decodeTx, encodeTx } from '../../primitives/tx.js';
import type { Block, BlockHash, Tx, Txid } from '../../primitives/types.js';
import type { BlockIndexEntry } from '../../interfaces/chainTypes.js';
import { PeerMisbehaviour } from '../peerMisbehaviour.js';
import { BAN_THRESHOLD } from '../peers/peerBook.js';
import { TxOrphanage } from './txOrphanage.js';
import { maxBlockMessageBytes, MAX_TX_MESSAGE_BYTES, type ProtocolIds } from '../wire.js';

/** Outcome of a gossip validation, counted by /metrics. */
export type GossipOutcome = 'accept' | 'ignore' | 'reject';

/** Gossip validation outcomes by topic kind since start. */
export type GossipStats = Record<'block' | 'tx', Record<GossipOutcome, number>>;

/** What the gossip handlers drive and report to. */
export interface GossipHandlersDeps {
  readonly params: ChainParams;
  readonly ids: ProtocolIds;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly logger: Logger;
  /** Scores a peer's offence (PeerManager.punish). */
  readonly punish: (peerId: string, offence: PeerMisbehaviour) => void;
  /** Remembers that a peer has at least this chain. */
  readonly noteBest: (peerId: string, entry: BlockIndexEntry) => void;
  /** Runs the sync; `hintPeer`: ask this peer for headers (it relayed a block whose parents we lack). */
  readonly triggerSync: (hintPeer?: string) => void;
}

/**
 * Blocks and txs received from the network recently, by hash (a block hash and a txid never collide), so they are not
 * published back as local ones.
 */
class RecentSet {
  private readonly items = new Set<HashKey<BlockHash | Txid>>();
  constructor(private readonly max: number) {}
  add(hash: BlockHash | Txid): void {
    this.items.add(hashKey(hash));
    if (this.items.size > this.max) {
      const first = this.items.values().next();
      if (!first.done) this.items.delete(first.value);
    }
  }
  has(hash: BlockHash | Txid): boolean {
    return this.items.has(hashKey(hash));
  }
}

/**
 * Block and tx gossip: the topic validators (Accept only what passes consensus; Reject scores the sender; Ignore for
 * what is known, an orphan, or mere policy), the tx orphanage retried when a parent arrives, and the relay of our own
 * new tips and mempool txs (never one that came from the network: gossipsub forwards those itself).
 * @see Lodestar network/processor/gossipHandlers.ts, gossipValidatorFn.ts; Bitcoin Core net_processing.cpp
 *   ProcessMessage (block, tx), TxOrphanage
 */
export class GossipHandlers {
  private pubsub: GossipSub | undefined;
  private readonly fromNetwork = new RecentSet(20_000);
  /** Relayed txs whose parents are not known yet. */
  private readonly orphans = new TxOrphanage();
  private readonly unsubscribers: (() => void)[] = [];
  private stopped = false;
  /** Gossip validation outcomes by topic kind, for /metrics. */
  readonly stats: GossipStats = { block: { accept: 0, ignore: 0, reject: 0 }, tx: { accept: 0, ignore: 0, reject: 0 } };

  constructor(private readonly deps: GossipHandlersDeps) {}

  /** Installs the validators on `pubsub` (before libp2p starts). */
  install(pubsub: GossipSub): void {
    this.pubsub = pubsub;
    pubsub.topicValidators.set(this.deps.ids.blockTopic, (peer, msg) => this.validateBlock(peer, msg));
    pubsub.topicValidators.set(this.deps.ids.txTopic, (peer, msg) => this.validateTx(peer, msg));
  }

  /** Subscribes to the topics and starts relaying our tips and mempool txs (after libp2p started). */
  start(): void {
    const { chain, mempool, ids } = this.deps;
    const pubsub = this.requirePubsub();
    pubsub.subscribe(ids.blockTopic);
    pubsub.subscribe(ids.txTopic);
    this.unsubscribers.push(
      chain.on('tipChanged', ({ tip }) => this.relayTip(tip)),
      // A parent may be confirmed without passing through our mempool.
      chain.on('blockConnected', ({ txids }) => {
        if (this.orphans.size > 0) for (const txid of txids) this.retryOrphansOf(txid);
      }),
      mempool.on('added', (entry) => {
        this.relayTx(entry.tx);
        this.retryOrphansOf(entry.txid);
      }),
    );
  }

  /** Stops relaying. */
  stop(): void {
    this.stopped = true;
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers.length = 0;
  }

  /** Notes a block or tx that came from the network by another path (the sync), so it is not relayed as ours. */
  noteFromNetwork(hash: BlockHash | Txid): void {
    this.fromNetwork.add(hash);
  }

  private requirePubsub(): GossipSub {
    if (this.pubsub === undefined) throw new Error('gossip is not installed');
    return this.pubsub;
  }

  private count(kind: 'block' | 'tx', outcome: GossipOutcome): TopicValidatorResult {
    this.stats[kind][outcome]++;
    return outcome === 'accept' ? TopicValidatorResult.Accept : outcome === 'ignore' ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject;
  }

  private reject(kind: 'block' | 'tx', peerId: string, offence: PeerMisbehaviour): TopicValidatorResult {
    this.deps.punish(peerId, offence);
    return this.count(kind, 'reject');
  }

  private async validateBlock(from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const id = from.toString();
    const { chain, logger } = this.deps;
    if (msg.data.length > maxBlockMessageBytes(this.deps.params)) {
      return this.reject('block', id, PeerMisbehaviour.ban(`oversized block message (${msg.data.length} bytes)`));
    }
    let block: Block;
    try {
      block = decodeBlock(msg.data);
    } catch (err) {
      return this.reject('block', id, PeerMisbehaviour.ban(`undecodable block message: ${(err as Error).message}`));
    }
    const hash = computeBlockHash(block.header);
    const hashHex = hashToHex(hash);
    this.fromNetwork.add(hash);
    const known = chain.getEntry(hash);
    if (known !== undefined && hasData(known)) return this.count('block', 'ignore');
    const result = await chain.processBlock(block);
    switch (result.status) {
      case 'connected':
      case 'side-chain': {
        const entry = chain.getEntry(hash);
        if (entry !== undefined) this.deps.noteBest(id, entry);
        logger.debug({ peer: id, hash: hashHex, status: result.status }, 'gossip block accepted');
        return this.count('block', 'accept');
      }
      case 'orphan':
        // We miss its ancestors: ask this peer for headers from our locator (a reorg or a gap).
        this.deps.triggerSync(id);
        return this.count('block', 'ignore');
      case 'duplicate':
        return this.count('block', 'ignore');
      case 'invalid': {
        logger.warn({ peer: id, hash: hashHex, reason: result.reason, detail: result.detail }, 'invalid block from gossip');
        const score = result.score ?? BAN_THRESHOLD;
        if (score > 0) this.deps.punish(id, new PeerMisbehaviour(`invalid block: ${result.reason ?? ''}`, score));
        return this.count('block', 'reject');
      }
    }
  }

  private async validateTx(from: PeerId, msg: Message): Promise<TopicValidatorResult> {
    const id = from.toString();
    if (msg.data.length > MAX_TX_MESSAGE_BYTES) {
      return this.reject('tx', id, PeerMisbehaviour.ban(`oversized tx message (${msg.data.length} bytes)`));
    }
    let tx: Tx;
    try {
      tx = decodeTx(msg.data);
    } catch (err) {
      return this.reject('tx', id, PeerMisbehaviour.ban(`undecodable tx message: ${(err as Error).message}`));
    }
    const txid = computeTxid(tx);
    this.fromNetwork.add(txid);
    const { mempool } = this.deps;
    if (mempool.has(txid)) return this.count('tx', 'ignore');
    try {
      await mempool.acceptTransaction(tx);
      return this.count('tx', 'accept');
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      if (err.code === 'missing-inputs') {
        // Its parent has not reached us yet (gossip does not keep a sender's order): keep it and retry when it does.
        this.orphans.add(tx, txid, id);
        return this.count('tx', 'ignore');
      }
      // Consensus failures carry a score (Core's TxValidationResult::TX_CONSENSUS); policy and "already known"
      // rejections do not, and are not the sender's fault.
      if (err.score >= BAN_THRESHOLD) return this.reject('tx', id, new PeerMisbehaviour(`invalid tx ${hashToHex(txid)}: ${err.code}`, err.score));
      return this.count('tx', 'ignore');
    }
  }

  /** Retries the orphans waiting for this tx (each accepted one retries its own children in turn, via `added`). */
  private retryOrphansOf(parentTxid: Txid): void {
    for (const orphan of this.orphans.takeChildrenOf(parentTxid)) {
      this.deps.mempool.acceptTransaction(orphan.tx).catch((err: unknown) => {
        if (err instanceof VerifyError && err.code === 'missing-inputs') this.orphans.add(orphan.tx, orphan.txid, orphan.fromPeer);
        else this.deps.logger.debug({ txid: hashToHex(orphan.txid), err: (err as Error).message }, 'orphan tx refused');
      });
    }
  }

  private relayTip(tip: BlockIndexEntry): void {
    if (this.stopped || this.fromNetwork.has(tip.hash)) return;
    const raw = this.deps.chain.getRawBlock(tip.hash);
    if (raw === undefined) return;
    this.fromNetwork.add(tip.hash);
    this.publish(this.deps.ids.blockTopic, raw, tip.hashHex);
  }

  private relayTx(tx: Tx): void {
    if (this.stopped) return;
    const txid = computeTxid(tx);
    if (this.fromNetwork.has(txid)) return;
    this.fromNetwork.add(txid);
    this.publish(this.deps.ids.txTopic, encodeTx(tx), hashToHex(txid));
  }

  private publish(topic: string, data: Uint8Array, what: string): void {
    this.requirePubsub()
      .publish(topic, data)
      .then((r) => this.deps.logger.debug({ topic, what, recipients: r.recipients.length }, 'published'))
      .catch((err: unknown) => this.deps.logger.debug({ topic, what, err: (err as Error).message }, 'publish failed'));
  }
}
