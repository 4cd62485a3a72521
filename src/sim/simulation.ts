/**
 * Fast mode: a discrete-event simulation of users (real nodes, see SimUser) on a simulated network with a virtual
 * clock. Block discovery is a Poisson process: the next block of the whole network comes after Exp(T) seconds
 * (T = the scenario's block interval) and is found by a miner chosen with probability equal to its hash share —
 * the same as each miner drawing Exp(T / share) independently, since exponentials are memoryless. The finder builds
 * the block on its own tip at that moment with its own mempool (BlockAssembler), grinds the trivial regtest PoW,
 * processes it and relays it. Receivers process the real encoding; a block that becomes a node's tip is relayed on
 * (as Core announces new tips); an orphan makes the receiver ask the sender for the missing parent.
 */
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { encodeBlock, decodeBlock } from '../primitives/block.js';
import { decodeTx, encodeTx } from '../primitives/tx.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import type { Block, BlockHash, Tx } from '../primitives/types.js';
import type { ChainParams } from '../params/chainParams.js';
import { regtest } from '../params/networks.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { EventQueue } from './eventQueue.js';
import { SimNetwork, type NetworkOptions } from './network.js';
import { SimRng } from './simRng.js';
import { SimUser, type MinerBehaviour } from './simUser.js';
import { SimError } from './simError.js';
import { SelfishMiner } from './selfishMiner.js';

/** Size of a getdata-style request for one block, bytes (inv vector 36 + header 24, as Bitcoin's P2P). */
const GETDATA_BYTES = 61;
/** Most blocks one getblocks reply carries (Core's getblocks limit is 500). */
const MAX_BLOCKS_PER_REPLY = 500;

/** A user as a scenario lists it. */
export interface UserSpec {
  readonly name: string;
  /** Share of the network's hash rate (weights; normalised over all users). */
  readonly hashShare: number;
  readonly behaviour?: MinerBehaviour;
}

/** Options of a simulation. */
export interface SimulationOptions {
  readonly seed: string;
  /** Mean block interval of the whole network, seconds (T); default params.targetSpacingSec (600 on regtest). */
  readonly blockIntervalSec?: number;
  readonly network: NetworkOptions;
  /** Default regtest (trivial PoW, no difficulty change). */
  readonly params?: ChainParams;
  /**
   * Time a finder takes before announcing its own block, ms (validation/relay delay once per block, as
   * bitcoin_miningsim's --latency); default 0.
   */
  readonly announceDelayMs?: number;
  /**
   * Size a block message counts on the wire for its transfer time, bytes (a modelled block size, as SimBlock's
   * BLOCK_SIZE); default the real encoding's length. The payload delivered is always the real encoding.
   */
  readonly blockWireBytes?: number;
  /** Record when each user first receives each block (see `arrivalMs`); default false. */
  readonly recordArrivals?: boolean;
  readonly logger?: Logger;
}

/** What a simulation counted. */
export interface SimulationStats {
  /** Blocks found, per user index. */
  readonly minedBy: number[];
  /** Total blocks found. */
  mined: number;
}

/**
 * A fast-mode simulation: users, network, virtual clock, mining process. Deterministic for a given seed and call
 * sequence. Call close() to release the nodes.
 */
export class Simulation {
  readonly queue: EventQueue;
  readonly network: SimNetwork;
  readonly users: SimUser[] = [];
  readonly params: ChainParams;
  readonly blockIntervalSec: number;
  readonly stats: SimulationStats = { minedBy: [], mined: 0 };
  /** Which user found each block (by block hash key). */
  readonly finder = new Map<HashKey<BlockHash>, number>();
  /** Virtual ms at which each block was found. */
  readonly foundAtMs = new Map<HashKey<BlockHash>, number>();
  /**
   * With `recordArrivals`: per block, the virtual ms at which each user (by index) first had it — the finder at
   * discovery, the others when its data arrived (relay or getblocks reply).
   */
  readonly arrivalMs = new Map<HashKey<BlockHash>, Map<number, number>>();
  private readonly rng: SimRng;
  private readonly miningRng: SimRng;
  private readonly selfish = new Map<number, SelfishMiner>();
  private mining = false;
  private readonly publishDelayMs = new Map<number, (peer: number) => number>();
  private nextBlock: { cancel(): void } | undefined;
  private readonly logger: Logger;
  private blockLimit = Infinity;

  constructor(readonly options: SimulationOptions) {
    this.params = options.params ?? regtest;
    this.blockIntervalSec = options.blockIntervalSec ?? this.params.targetSpacingSec;
    if (!(this.blockIntervalSec > 0)) throw new SimError('bad-scenario', `blockIntervalSec must be > 0, got ${this.blockIntervalSec}`);
    this.rng = new SimRng(options.seed);
    this.miningRng = this.rng.fork('mining');
    // The clock starts 1 s after genesis, so block times follow the virtual clock from there.
    this.queue = new EventQueue((this.params.genesis.header.time + 1) * 1000);
    this.network = new SimNetwork(options.network, this.queue, this.rng.fork('network'));
    this.logger = options.logger ?? silentLogger();
  }

  /** The virtual clock, whole seconds (what every node's nowSec reads). */
  nowSec(): number {
    return this.queue.nowSec();
  }

  /**
   * Adds a user (a new real node linked per the topology). It starts at genesis; it learns the chain from its peers'
   * next announcements (an orphan triggers requests for the missing blocks) or from `syncFrom`.
   * @throws SimError duplicate-user | bad-scenario (hash share < 0)
   */
  async addUser(spec: UserSpec): Promise<SimUser> {
    if (this.users.some((u) => u.name === spec.name)) throw new SimError('duplicate-user', `user ${spec.name} exists`);
    if (!(spec.hashShare >= 0) || !Number.isFinite(spec.hashShare)) throw new SimError('bad-scenario', `bad hash share ${spec.hashShare}`);
    const index = this.network.addNode();
    const user = await SimUser.create(
      this.params,
      { name: spec.name, index, hashShare: spec.hashShare, behaviour: spec.behaviour ?? 'honest', seed: this.options.seed },
      () => this.queue.nowSec(),
      this.logger,
    );
    this.users.push(user);
    this.stats.minedBy.push(0);
    if (user.behaviour === 'selfish') this.selfish.set(index, new SelfishMiner(user, (b) => this.broadcast(user, b)));
    // Bring the new node up to date the way a joining node does: ask a peer for the blocks after its locator.
    const first = this.network.peers(index)[0];
    if (first !== undefined) this.requestBranch(user, first);
    return user;
  }

  /** The user with this name. @throws SimError unknown-user */
  user(name: string): SimUser {
    const u = this.users.find((x) => x.name === name);
    if (u === undefined) throw new SimError('unknown-user', `no user named ${name}`);
    return u;
  }

  /** Starts the Poisson mining process (idempotent). Stops by itself after `maxBlocks` more blocks. */
  startMining(maxBlocks = Infinity): void {
    this.blockLimit = this.stats.mined + maxBlocks;
    if (this.mining) return;
    this.mining = true;
    this.scheduleNextBlock();
  }

  /** Stops the mining process (blocks in flight are still delivered). */
  stopMining(): void {
    this.mining = false;
    this.nextBlock?.cancel();
    this.nextBlock = undefined;
  }

  private scheduleNextBlock(): void {
    const total = this.users.reduce((s, u) => s + u.hashShare, 0);
    if (!this.mining || total <= 0 || this.stats.mined >= this.blockLimit) {
      this.mining = false;
      return;
    }
    const delayMs = this.miningRng.exponential(this.blockIntervalSec * 1000);
    const pick = this.miningRng.next() * total;
    this.nextBlock = this.queue.schedule(delayMs, async () => {
      let acc = 0;
      let finder = this.users[this.users.length - 1]!;
      for (const u of this.users) {
        acc += u.hashShare;
        if (pick < acc) {
          finder = u;
          break;
        }
      }
      await this.mineBlock(finder);
      this.scheduleNextBlock();
    });
  }

  /**
   * The user finds a block now: built on its tip, processed by its node, then relayed (or withheld by a selfish
   * miner). Returns the block.
   * @throws SimError block-rejected when the user's own node refuses it (a bug, never expected)
   */
  async mineBlock(user: SimUser): Promise<Block> {
    const block = user.buildBlock(this.nowSec(), `/sim:${user.name}:${this.stats.mined}/`);
    await this.submitMinedBlock(user, block);
    return block;
  }

  /**
   * A block the user solved (fast mode's trivial PoW or live mode's real grinding): counted, processed by its own
   * node, then relayed (or withheld by a selfish miner).
   * @throws SimError block-rejected when the user's own node refuses it
   */
  async submitMinedBlock(user: SimUser, block: Block): Promise<void> {
    const hash = computeBlockHash(block.header);
    this.finder.set(hashKey(hash), user.index);
    this.foundAtMs.set(hashKey(hash), this.queue.nowMs);
    this.recordArrival(hash, user.index);
    this.stats.mined++;
    this.stats.minedBy[user.index]!++;
    const result = await user.processBlock(block);
    if (result.status !== 'connected') throw new SimError('block-rejected', `${user.name}'s own block was ${result.status}: ${result.reason ?? ''}`);
    const selfish = this.selfish.get(user.index);
    if (selfish) selfish.onOwnBlock(block);
    else this.broadcast(user, block, undefined, this.options.announceDelayMs ?? 0);
  }

  private recordArrival(hash: BlockHash, userIndex: number): void {
    if (this.options.recordArrivals !== true) return;
    const key = hashKey(hash);
    let m = this.arrivalMs.get(key);
    if (m === undefined) this.arrivalMs.set(key, (m = new Map()));
    if (!m.has(userIndex)) m.set(userIndex, this.queue.nowMs);
  }

  /** Sends a block to every peer of `from` (the real encoding; delay from its size or blockWireBytes). */
  broadcast(from: SimUser, block: Block, except?: number, delayMs = 0): void {
    const raw = encodeBlock(block);
    const wire = this.options.blockWireBytes ?? raw.length;
    const extra = this.publishDelayMs.get(from.index);
    for (const p of this.network.peers(from.index)) {
      if (p === except) continue;
      const d = delayMs + (extra ? extra(p) : 0);
      this.network.send(from.index, p, wire, () => this.receiveBlock(this.users[p]!, raw, from.index), d);
    }
  }

  /**
   * Makes a user's broadcasts reach some peers later than the link says (ms, by peer index): the selfish pool's
   * γ model, where the pool's published block reaches a γ share of the honest miners before the honest block.
   */
  setPublishDelay(userIndex: number, delayMs: (peer: number) => number): void {
    this.publishDelayMs.set(userIndex, delayMs);
  }

  /**
   * Relays a transaction from `from` to its peers (the real encoding); a receiver that accepts it into its mempool
   * relays it on, one that refuses it (already known, conflict, missing inputs) drops it, as Core's relay does.
   */
  broadcastTx(from: SimUser, tx: Tx, except?: number): void {
    const raw = encodeTx(tx);
    for (const p of this.network.peers(from.index)) {
      if (p === except) continue;
      this.network.send(from.index, p, raw.length, async () => {
        const user = this.users[p]!;
        const received = decodeTx(raw);
        try {
          await user.submit(received);
        } catch (err) {
          if (err instanceof SimError) return;
          throw err;
        }
        this.broadcastTx(user, received, from.index);
      });
    }
  }

  /** Sends `from`'s tip to one peer (on join and on heal, as a tip announcement). */
  announceTip(from: SimUser, to: number): void {
    if (from.chain.height === 0) return;
    const block = from.chain.getBlock(from.chain.tip.hash);
    if (block === undefined) return;
    const raw = encodeBlock(block);
    this.network.send(from.index, to, this.options.blockWireBytes ?? raw.length, () => this.receiveBlock(this.users[to]!, raw, from.index));
  }

  private async receiveBlock(user: SimUser, raw: Uint8Array, fromIndex: number, relay = true): Promise<void> {
    const block = decodeBlock(raw);
    const hash = computeBlockHash(block.header);
    this.recordArrival(hash, user.index);
    // Already have its data (or hold it as an orphan): nothing to do, as a node ignores an inv it has.
    if (user.chain.getBlock(hash) !== undefined || user.chain.hasOrphan(hash)) return;
    const result = await user.processBlock(block, raw);
    if (result.status === 'orphan') {
      this.requestBranch(user, fromIndex);
      return;
    }
    const selfish = this.selfish.get(user.index);
    if (selfish && (result.status === 'connected' || result.status === 'side-chain')) {
      selfish.onOthersBlock(block, result.hash);
      return;
    }
    if (result.status === 'connected' && relay) {
      // Relay what became our tip (possibly after a reorg, the new tip); Core announces new tips, not side blocks.
      const tipBlock = result.hash === user.chain.tip.hash ? block : user.chain.getBlock(user.chain.tip.hash);
      if (tipBlock) this.broadcast(user, tipBlock, fromIndex);
    }
  }

  /**
   * getblocks with a locator (Core's way to catch up): the user sends its block locator to the peer, which answers
   * with up to MAX_BLOCKS_PER_REPLY blocks of its main chain after the last locator block it has, in one transfer;
   * the user processes them in order (the orphan that triggered the request then connects from the orphan pool).
   */
  requestBranch(user: SimUser, fromIndex: number): void {
    const locator = user.chain.getLocator();
    this.network.send(user.index, fromIndex, GETDATA_BYTES + 32 * locator.length, () => {
      const holder = this.users[fromIndex]!;
      let forkHeight = 0;
      for (const h of locator) {
        const e = holder.chain.getEntry(h);
        if (e !== undefined && holder.chain.isMainChain(e)) {
          forkHeight = e.height;
          break;
        }
      }
      const blocks: Uint8Array[] = [];
      let bytes = 0;
      for (let h = forkHeight + 1; h <= Math.min(holder.chain.height, forkHeight + MAX_BLOCKS_PER_REPLY); h++) {
        const block = holder.chain.getBlock(holder.chain.getEntryByHeight(h)!.hash);
        if (block === undefined) break;
        const raw = encodeBlock(block);
        blocks.push(raw);
        bytes += this.options.blockWireBytes ?? raw.length;
      }
      if (blocks.length === 0) return;
      this.network.send(fromIndex, user.index, bytes, async () => {
        for (const raw of blocks) await this.receiveBlock(user, raw, fromIndex, false);
        const tip = user.chain.getBlock(user.chain.tip.hash);
        if (tip && !this.selfish.has(user.index)) this.broadcast(user, tip, fromIndex);
      });
    });
  }

  /** Cuts the network into groups (see SimNetwork.partition). */
  partition(groupOf: readonly number[]): void {
    this.network.partition(groupOf);
  }

  /** Heals the partition; every node announces its tip to each peer, and orphans pull the missing branch. */
  heal(): void {
    this.network.heal();
    for (const u of this.users) for (const p of this.network.peers(u.index)) this.announceTip(u, p);
  }

  /** Runs events until virtual time `untilMs` (or the queue empties). */
  runUntil(untilMs: number): Promise<number> {
    return this.queue.runUntil(untilMs);
  }

  /** Runs until the mining process has found its blocks and every message in flight is delivered. */
  async runToEnd(): Promise<void> {
    await this.queue.runUntil(Infinity);
    for (const u of this.users) await u.settle();
  }

  /** Whether all users have the same tip. */
  oneTip(): boolean {
    const t = this.users[0]?.chain.tip.hashHex;
    return this.users.every((u) => u.chain.tip.hashHex === t);
  }

  /** Closes every node. */
  async close(): Promise<void> {
    this.stopMining();
    for (const u of this.users) await u.close();
  }
}
