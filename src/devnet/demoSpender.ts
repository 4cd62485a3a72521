/**
 * The devnet's demo traffic: signs transactions between the demo wallet's addresses at a steady rate and broadcasts
 * them through the nodes' REST APIs (POST /api/tx), spread over the nodes, so blocks carry real transactions.
 *
 * The spender keeps its own view of its coins instead of waiting for the nodes after each payment:
 * - confirmed coins come from a reference node (the highest node that answers): /api/address/:a/utxo, read again
 *   whenever that node's tip changes, right after the new blocks were scanned for the spender's txids (this order
 *   keeps a just-confirmed tx's inputs out of the view until its outputs are in it);
 * - its own unconfirmed txs (pending) add their outputs and hide their inputs, so payments chain on unconfirmed change
 *   within the mempool's ancestor/descendant limits (25; the spender stays at 20), each chained tx sent to the node
 *   that has its parent;
 * - blocks are followed by hash (a reorg puts the txs of disconnected blocks back to pending); a tx not confirmed
 *   within pendingTimeoutMs is dropped with its descendants.
 * Transaction shapes keep the coin count near targetCoins: a mature coinbase is split into several outputs, a
 * payment spends one coin into a payment and change, and above the target two or three coins are consolidated.
 *
 * Payments to outside addresses (pay(): the devnet's demo traders' deposit addresses on the exchange) go first, in
 * the same loop, so they never race a demo tx for a coin; the loop runs for them even at a tx rate of 0.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { ChainParams } from '../params/chainParams.js';
import { addressToScriptPubKey } from '../crypto/address.js';
import { bytesToHex, hashToHex, txidFromHex } from '../primitives/hex.js';
import { outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { computeTxid, encodeTx } from '../primitives/tx.js';
import type { Sats, Tx, TxOut } from '../primitives/types.js';
import type { DerivedAddress } from '../wallet/hdAccount.js';
import { computeBaseWeight, getInputWeight, makeWalletCoin, RBF_SEQUENCE, signTransaction, type WalletCoin } from '../wallet/txBuilder.js';
import type { DemoKeys } from './demoWallet.js';
import { HttpStatusError, httpJson, httpText } from './nodeHttp.js';

/** Options of a DemoSpender (plain values). */
export interface DemoSpenderOptions {
  readonly params: ChainParams;
  /** Transactions per second to send; 0 = none. */
  readonly txRate: number;
  /** Number of nodes: their mining addresses hold the coinbases. */
  readonly nodeCount: number;
  /** Fee rate paid, sat/vB (default 2). */
  readonly feeRateSatPerVb?: number;
  /** Most in-mempool ancestors (itself included) a demo tx may have, and most descendants any may reach (default 20). */
  readonly maxChainLength?: number;
  /** A tx not seen in a block after this long is forgotten, ms (default 300,000). */
  readonly pendingTimeoutMs?: number;
  /** Coin count the tx shapes steer towards (default 32). */
  readonly targetCoins?: number;
  /** Timeout of each HTTP request, ms (default 5,000). */
  readonly requestTimeoutMs?: number;
}

/** One node as the spender sees it (the supervisor's latest poll). */
export interface SpenderNodeView {
  /** 0-based node index. */
  readonly index: number;
  /** REST base URL ending in `/api/`. */
  readonly apiUrl: string;
  /** It answered the last poll. */
  readonly up: boolean;
  /** Tip height at the last poll (-1 when unknown). */
  readonly height: number;
}

/** Services of a DemoSpender. */
export interface DemoSpenderDeps {
  readonly keys: DemoKeys;
  /** The nodes now. */
  readonly nodes: () => readonly SpenderNodeView[];
  readonly logger?: Logger;
}

/** Counters and balances for the status table. */
export interface DemoSpenderStats {
  /** off (tx rate 0) | syncing (no node answered yet) | waiting (no mature coins yet) | sending. */
  readonly state: 'off' | 'syncing' | 'waiting' | 'sending';
  readonly sent: number;
  /** Sent txs seen in a block of the reference node's chain (reorged-out ones subtracted). */
  readonly confirmed: number;
  /** Broadcasts the node refused. */
  readonly failed: number;
  /** Txs forgotten after pendingTimeoutMs. */
  readonly dropped: number;
  /** Sent, not yet confirmed. */
  readonly pending: number;
  /** Confirmed sends by the node they were broadcast through. */
  readonly confirmedByNode: readonly number[];
  /** Spendable value: mature confirmed coins and own unconfirmed outputs, sats. */
  readonly spendableSats: Sats;
  /** Coinbase outputs not yet mature, sats. */
  readonly immatureSats: Sats;
  /** Reference node's tip height at the last refresh (-1 before). */
  readonly tipHeight: number;
  /** Reason of the last refused broadcast or failed refresh. */
  readonly lastError?: string;
}

interface OwnCoin {
  readonly key: OutpointKey;
  readonly coin: WalletCoin;
  /** txid of the own unconfirmed tx that created it. */
  readonly parentTxid?: string;
}

interface SentTx {
  readonly txid: string;
  readonly nodeIndex: number;
  readonly inputKeys: readonly OutpointKey[];
  readonly outputs: readonly OwnCoin[];
  /** Own unconfirmed txs it spends from (at send time). */
  readonly parents: readonly string[];
  readonly sentAtMs: number;
  confirmedHeight?: number;
}

interface BlockSummary {
  readonly id: string;
  readonly height: number;
  readonly previousblockhash: string | null;
}

/** A payment to an outside address waiting for the loop. */
interface PaymentRequest {
  readonly address: string;
  readonly scriptPubKey: Uint8Array;
  readonly valueSats: Sats;
  readonly resolve: (txid: string) => void;
  readonly reject: (err: Error) => void;
}

/** Why pay() could not pay: `no-funds` (no mature coins enough yet: try again later), `stopped`, `refused` (node). */
export class DemoPaymentError extends Error {
  constructor(
    readonly code: 'no-funds' | 'stopped' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'DemoPaymentError';
  }
}

/** How far back a tip change is followed block by block. */
const MAX_WALK_BLOCKS = 64;
/** Confirmed sends are kept this many blocks for reorgs, then forgotten. */
const KEEP_CONFIRMED_BLOCKS = 30;
/** Smallest output the spender makes or splits further, sats. */
const MIN_COIN_SATS = 100_000n;

/** Sends the devnet's demo transactions; start() begins, stop() ends the loop. */
export class DemoSpender {
  private readonly params: ChainParams;
  private readonly txRate: number;
  private readonly feeRate: number;
  private readonly maxChain: number;
  private readonly pendingTimeoutMs: number;
  private readonly targetCoins: number;
  private readonly timeoutMs: number;
  private readonly keys: DemoKeys;
  private readonly nodes: () => readonly SpenderNodeView[];
  private readonly logger: Logger | undefined;
  /** Every address the wallet watches, by address string; `true` = mining address (coinbases only). */
  private readonly watched: { address: DerivedAddress; mining: boolean }[];

  private chainCoins = new Map<OutpointKey, OwnCoin>();
  private readonly sentTxs = new Map<string, SentTx>();
  /** Inputs a node refused, hidden until the next refresh. */
  private blocked = new Set<OutpointKey>();
  /** Main chain of the reference node as scanned: height → block hash (a recent window). */
  private readonly scanned = new Map<number, string>();
  private lastTipHash = '';
  private tipHeight = -1;
  private counters = { sent: 0, confirmed: 0, failed: 0, dropped: 0 };
  private readonly confirmedByNode: number[];
  private lastError: string | undefined;
  private roundRobin = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly payments: PaymentRequest[] = [];

  constructor(options: DemoSpenderOptions, deps: DemoSpenderDeps) {
    this.params = options.params;
    this.txRate = options.txRate;
    this.feeRate = options.feeRateSatPerVb ?? 2;
    this.maxChain = options.maxChainLength ?? 20;
    this.pendingTimeoutMs = options.pendingTimeoutMs ?? 300_000;
    this.targetCoins = options.targetCoins ?? 32;
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.keys = deps.keys;
    this.nodes = deps.nodes;
    this.logger = deps.logger;
    this.confirmedByNode = new Array<number>(options.nodeCount).fill(0);
    this.watched = [
      ...Array.from({ length: options.nodeCount }, (_, i) => ({ address: deps.keys.miningAddress(i), mining: true })),
      ...deps.keys.demoAddresses.map((address) => ({ address, mining: false })),
    ];
  }

  /** Starts the refresh-and-send loop (idempotent; at a tx rate of 0 it sends only what pay() asks). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Ends the loop after the request in flight; payments still waiting are rejected (`stopped`). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    for (const p of this.payments.splice(0)) p.reject(new DemoPaymentError('stopped', 'the demo wallet stopped'));
  }

  /**
   * Pays `valueSats` to `address` (a segwit address of this network) from the demo wallet's mature coins, paying the
   * spender's fee rate on top; resolves with the txid once a node accepted the broadcast.
   * @throws DemoPaymentError no-funds (no mature coins enough yet: the first coinbases mature after coinbaseMaturity
   *   blocks), refused (the node refused the tx), stopped; AddressError for an address of another network
   */
  pay(address: string, valueSats: Sats): Promise<string> {
    const scriptPubKey = addressToScriptPubKey(address, this.params.bech32Hrp);
    if (!this.running) return Promise.reject(new DemoPaymentError('stopped', 'the demo wallet is not running'));
    return new Promise((resolve, reject) => {
      this.payments.push({ address, scriptPubKey, valueSats, resolve, reject });
      this.wake?.();
    });
  }

  /** The counters and balances now. */
  getStats(): DemoSpenderStats {
    let spendable = 0n;
    let immature = 0n;
    for (const c of this.candidateCoins()) {
      if (c.coin.isCoinbase && !this.isMature(c.coin)) immature += c.coin.value;
      else spendable += c.coin.value;
    }
    const pending = this.pendingTxs().length;
    const state = this.txRate <= 0 ? 'off' : this.tipHeight < 0 ? 'syncing' : this.counters.sent === 0 && spendable === 0n ? 'waiting' : 'sending';
    return {
      state,
      ...this.counters,
      pending,
      confirmedByNode: [...this.confirmedByNode],
      spendableSats: spendable,
      immatureSats: immature,
      tipHeight: this.tipHeight,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const tickMs = this.txRate > 0 ? Math.max(20, Math.min(1000, 1000 / this.txRate)) : 1000;
    let credits = 0;
    let lastMs = Date.now();
    let lastRefreshCheckMs = 0;
    while (this.running) {
      const now = Date.now();
      if (now - lastRefreshCheckMs >= 1000) {
        lastRefreshCheckMs = now;
        await this.refresh().catch((err: unknown) => this.noteError('refresh', err));
      }
      while (this.running && this.tipHeight >= 0 && this.payments.length > 0) {
        const request = this.payments.shift()!;
        await this.payOne(request).then(request.resolve, (err: unknown) => request.reject(err instanceof Error ? err : new Error(String(err))));
      }
      // A token bucket: txRate sends per second on average, at most one second's worth at once.
      credits = Math.min(Math.max(1, this.txRate), credits + ((now - lastMs) / 1000) * this.txRate);
      lastMs = now;
      while (this.running && credits >= 1 && this.tipHeight >= 0) {
        credits -= 1;
        const sent = await this.sendOne().catch((err: unknown) => {
          this.noteError('send', err);
          return false;
        });
        if (!sent) break;
      }
      if (this.running) await this.sleep(tickMs);
    }
  }

  private noteError(what: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.lastError = `${what}: ${message}`.slice(0, 200);
    this.logger?.debug({ err: message }, `demo wallet ${what} failed`);
  }

  /** The reference node: the highest that answers. */
  private referenceNode(): SpenderNodeView | undefined {
    let best: SpenderNodeView | undefined;
    for (const n of this.nodes()) if (n.up && (best === undefined || n.height > best.height)) best = n;
    return best;
  }

  /** Follows the reference node's tip: scans new blocks for own txids, then reads the confirmed coins again. */
  private async refresh(): Promise<void> {
    const ref = this.referenceNode();
    if (ref === undefined) return;
    const tipHash = (await httpText(`${ref.apiUrl}blocks/tip/hash`, this.timeoutMs)).trim();
    this.dropExpired();
    if (tipHash === this.lastTipHash) return;
    await this.scanTo(ref, tipHash);
    const coins = new Map<OutpointKey, OwnCoin>();
    for (const { address, mining } of this.watched) {
      let utxos: { txid: string; vout: number; value: number; status: { confirmed: boolean; block_height?: number } }[];
      try {
        utxos = await httpJson(`${ref.apiUrl}address/${address.address}/utxo`, this.timeoutMs);
      } catch (err) {
        // An address over the REST limit of unspent outputs cannot be listed: skip it, keep the others.
        if (err instanceof HttpStatusError && err.status === 400) {
          this.noteError(`utxo ${address.address}`, err);
          continue;
        }
        throw err;
      }
      for (const u of utxos) {
        if (!u.status.confirmed || u.status.block_height === undefined) continue;
        const outpoint = { txid: txidFromHex(u.txid), index: u.vout };
        const output: TxOut = { value: BigInt(u.value), scriptPubKey: address.scriptPubKey };
        const coin = makeWalletCoin(outpoint, output, address, { height: u.status.block_height, isCoinbase: mining });
        coins.set(outpointKey(outpoint), { key: outpointKey(outpoint), coin });
      }
    }
    this.chainCoins = coins;
    this.blocked = new Set();
    this.lastTipHash = tipHash;
  }

  /** Walks back from the new tip to the scanned chain, undoes what a reorg disconnected, and scans the new blocks. */
  private async scanTo(ref: SpenderNodeView, tipHash: string): Promise<void> {
    const fresh: BlockSummary[] = [];
    let hash: string | null = tipHash;
    while (hash !== null && fresh.length < MAX_WALK_BLOCKS) {
      const block: BlockSummary = await httpJson<BlockSummary>(`${ref.apiUrl}block/${hash}`, this.timeoutMs);
      if (this.scanned.get(block.height) === block.id) break;
      fresh.push(block);
      // The first scan starts at the tip: the spender has sent nothing older.
      if (this.scanned.size === 0) break;
      hash = block.previousblockhash;
    }
    if (fresh.length === 0) return;
    const forkHeight = fresh.at(-1)!.height - 1;
    for (const height of [...this.scanned.keys()]) if (height > forkHeight) this.scanned.delete(height);
    for (const tx of this.sentTxs.values()) {
      if (tx.confirmedHeight !== undefined && tx.confirmedHeight > forkHeight) {
        tx.confirmedHeight = undefined;
        this.counters.confirmed--;
        this.confirmedByNode[tx.nodeIndex]!--;
      }
    }
    for (const block of fresh.reverse()) {
      if (this.pendingTxs().length > 0) {
        const txids = await httpJson<string[]>(`${ref.apiUrl}block/${block.id}/txids`, this.timeoutMs);
        for (const txid of txids) {
          const tx = this.sentTxs.get(txid);
          if (tx !== undefined && tx.confirmedHeight === undefined) {
            tx.confirmedHeight = block.height;
            this.counters.confirmed++;
            this.confirmedByNode[tx.nodeIndex]!++;
          }
        }
      }
      this.scanned.set(block.height, block.id);
      this.tipHeight = block.height;
    }
    for (const height of this.scanned.keys()) if (height < this.tipHeight - 2 * MAX_WALK_BLOCKS) this.scanned.delete(height);
    for (const [txid, tx] of this.sentTxs) {
      if (tx.confirmedHeight !== undefined && tx.confirmedHeight < this.tipHeight - KEEP_CONFIRMED_BLOCKS) this.sentTxs.delete(txid);
    }
  }

  /** Forgets pending txs older than pendingTimeoutMs, with their pending descendants. */
  private dropExpired(): void {
    const now = Date.now();
    const dropped = new Set<string>();
    for (const tx of this.pendingTxs()) if (now - tx.sentAtMs > this.pendingTimeoutMs) dropped.add(tx.txid);
    if (dropped.size === 0) return;
    let grew = true;
    while (grew) {
      grew = false;
      for (const tx of this.pendingTxs()) {
        if (!dropped.has(tx.txid) && tx.parents.some((p) => dropped.has(p))) {
          dropped.add(tx.txid);
          grew = true;
        }
      }
    }
    for (const txid of dropped) this.sentTxs.delete(txid);
    this.counters.dropped += dropped.size;
    this.logger?.warn({ count: dropped.size }, 'demo wallet dropped txs that were not confirmed in time');
  }

  private pendingTxs(): SentTx[] {
    return [...this.sentTxs.values()].filter((t) => t.confirmedHeight === undefined);
  }

  private isMature(coin: WalletCoin): boolean {
    // One block of margin over consensus, so a node one block behind the reference still accepts the spend.
    return !coin.isCoinbase || (coin.height !== undefined && this.tipHeight - coin.height >= this.params.coinbaseMaturity);
  }

  /** Coins not spent by a pending tx: confirmed ones and the outputs of pending txs. */
  private candidateCoins(): OwnCoin[] {
    const pending = this.pendingTxs();
    const spent = new Set<OutpointKey>(this.blocked);
    for (const tx of pending) for (const k of tx.inputKeys) spent.add(k);
    const out: OwnCoin[] = [];
    for (const c of this.chainCoins.values()) if (!spent.has(c.key)) out.push(c);
    for (const tx of pending) for (const c of tx.outputs) if (!spent.has(c.key) && !this.chainCoins.has(c.key)) out.push(c);
    return out;
  }

  /** Pending ancestors of each pending tx (itself excluded), and pending descendants counts. */
  private chainShape(): { ancestors: Map<string, Set<string>>; descendants: Map<string, number> } {
    const pending = new Map(this.pendingTxs().map((t) => [t.txid, t]));
    const ancestors = new Map<string, Set<string>>();
    const ancestorsOf = (txid: string): Set<string> => {
      let set = ancestors.get(txid);
      if (set !== undefined) return set;
      set = new Set();
      ancestors.set(txid, set);
      for (const p of pending.get(txid)?.parents ?? []) {
        if (!pending.has(p)) continue;
        set.add(p);
        for (const a of ancestorsOf(p)) set.add(a);
      }
      return set;
    };
    const descendants = new Map<string, number>();
    for (const txid of pending.keys()) for (const a of ancestorsOf(txid)) descendants.set(a, (descendants.get(a) ?? 0) + 1);
    return { ancestors, descendants };
  }

  /**
   * Picks the next tx shape and its inputs, signs it, and broadcasts it. Returns false when there is nothing to
   * spend (or the broadcast was refused).
   */
  private async sendOne(): Promise<boolean> {
    const { ancestors, descendants } = this.chainShape();
    const pendingById = new Map(this.pendingTxs().map((t) => [t.txid, t]));
    // The pending txs a new tx spending `c` would have as ancestors (c's parent and its ancestors).
    const chainOf = (c: OwnCoin): Set<string> =>
      c.parentTxid !== undefined && pendingById.has(c.parentTxid) ? new Set([c.parentTxid, ...ancestors.get(c.parentTxid)!]) : new Set();
    const fits = (chain: Set<string>): boolean =>
      chain.size + 1 <= this.maxChain && [...chain].every((a) => (descendants.get(a) ?? 0) + 2 <= this.maxChain);
    const nodeOf = (c: OwnCoin): number | undefined => (c.parentTxid !== undefined ? pendingById.get(c.parentTxid)?.nodeIndex : undefined);

    const candidates = this.candidateCoins().filter((c) => this.isMature(c.coin) && fits(chainOf(c)));
    const coinbases = candidates.filter((c) => c.coin.isCoinbase);
    const regular = candidates.filter((c) => !c.coin.isCoinbase);
    const confirmed = regular.filter((c) => nodeOf(c) === undefined);
    const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!;
    const demo = this.keys.demoAddresses;

    let inputs: OwnCoin[];
    let payments: { address: DerivedAddress; value: Sats }[] = [];
    if (coinbases.length > 0 && (regular.length < this.targetCoins / 2 || coinbases.length > 4 || randomInt(5) === 0)) {
      // Split a coinbase into 4..6 outputs (the last one takes the remainder).
      inputs = [pick(coinbases)];
      const parts = 4 + randomInt(3);
      const share = inputs[0]!.coin.value / BigInt(parts);
      payments = Array.from({ length: parts - 1 }, () => ({ address: pick(demo), value: share }));
    } else if (regular.length > this.targetCoins && regular.length >= 2) {
      // Consolidate 2..3 coins that can go to the same node.
      const first = confirmed.length > 0 ? pick(confirmed) : pick(regular);
      const node = nodeOf(first);
      const rest = regular.filter((c) => c !== first && (nodeOf(c) === undefined || nodeOf(c) === node));
      inputs = [first];
      for (let i = 0; i < 1 + randomInt(2) && rest.length > 0; i++) inputs.push(rest.splice(randomInt(rest.length), 1)[0]!);
    } else {
      const big = regular.filter((c) => c.coin.value >= 4n * MIN_COIN_SATS);
      const bigConfirmed = big.filter((c) => nodeOf(c) === undefined);
      if (big.length === 0) return false;
      inputs = [bigConfirmed.length > 0 ? pick(bigConfirmed) : pick(big)];
      const value = inputs[0]!.coin.value;
      const amount = (value * BigInt(5 + randomInt(40))) / 100n;
      payments = [{ address: pick(demo), value: amount > MIN_COIN_SATS ? amount : MIN_COIN_SATS }];
    }
    if (inputs.length === 1 && inputs[0]!.coin.isCoinbase === false && payments.length === 0) return false;

    const chain = new Set<string>();
    for (const c of inputs) for (const a of chainOf(c)) chain.add(a);
    if (!fits(chain)) return false;
    const built = this.buildSigned(inputs, payments, pick(demo));
    if (built === undefined) return false;

    const forcedNode = inputs.map(nodeOf).find((n) => n !== undefined);
    const nodeIndex = forcedNode ?? this.pickNode(Math.max(...inputs.map((c) => c.coin.height ?? 0)));
    const node = this.nodes().find((n) => n.index === nodeIndex);
    if (node === undefined || !node.up) return false;
    const txid = hashToHex(computeTxid(built.tx));
    try {
      await httpText(`${node.apiUrl}tx`, this.timeoutMs, bytesToHex(encodeTx(built.tx)));
    } catch (err) {
      this.counters.failed++;
      if (err instanceof HttpStatusError) for (const c of inputs) this.blocked.add(c.key);
      this.noteError(`tx to node${nodeIndex + 1}`, err);
      return false;
    }
    const outputs: OwnCoin[] = built.tx.outputs.map((output, index) => {
      const outpoint = { txid: txidFromHex(txid), index };
      const address = built.outputAddresses[index]!;
      return { key: outpointKey(outpoint), coin: makeWalletCoin(outpoint, output, address), parentTxid: txid };
    });
    this.sentTxs.set(txid, {
      txid,
      nodeIndex,
      inputKeys: inputs.map((c) => c.key),
      outputs,
      parents: [...new Set(inputs.map((c) => c.parentTxid).filter((p): p is string => p !== undefined && pendingById.has(p)))],
      sentAtMs: Date.now(),
    });
    this.counters.sent++;
    return true;
  }

  /**
   * Pays one outside request: confirmed mature coins, largest first, until they cover the value and the fee; change
   * to a demo address. @throws DemoPaymentError
   */
  private async payOne(request: PaymentRequest): Promise<string> {
    const coins = this.candidateCoins()
      .filter((c) => this.isMature(c.coin) && c.parentTxid === undefined)
      .sort((a, b) => (a.coin.value > b.coin.value ? -1 : a.coin.value < b.coin.value ? 1 : 0));
    const demo = this.keys.demoAddresses;
    const change = demo[randomInt(demo.length)]!;
    const inputs: OwnCoin[] = [];
    let total = 0n;
    for (const c of coins) {
      if (inputs.length >= 50) break;
      inputs.push(c);
      total += c.coin.value;
      const draft: TxOut[] = [{ value: request.valueSats, scriptPubKey: request.scriptPubKey }, { value: 0n, scriptPubKey: change.scriptPubKey }];
      const weight = computeBaseWeight(draft, inputs.length) + inputs.reduce((s, x) => s + getInputWeight(x.coin.address.kind), 0);
      const fee = BigInt(Math.ceil((weight / 4) * this.feeRate));
      const remainder = total - request.valueSats - fee;
      if (remainder < MIN_COIN_SATS) continue;
      const unsigned: Tx = {
        version: 2,
        inputs: inputs.map((x) => ({ prevout: x.coin.outpoint, scriptSig: new Uint8Array(0), sequence: RBF_SEQUENCE, witness: [] })),
        outputs: [draft[0]!, { value: remainder, scriptPubKey: change.scriptPubKey }],
        locktime: 0,
      };
      const tx = signTransaction(unsigned, inputs.map((x) => x.coin), this.keys.privateKeyOf, { auxRand: () => new Uint8Array(randomBytes(32)) });
      const nodeIndex = this.pickNode(Math.max(...inputs.map((x) => x.coin.height ?? 0)));
      const node = this.nodes().find((n) => n.index === nodeIndex);
      if (node === undefined || !node.up) throw new DemoPaymentError('refused', 'no node is up to broadcast through');
      const txid = hashToHex(computeTxid(tx));
      try {
        await httpText(`${node.apiUrl}tx`, this.timeoutMs, bytesToHex(encodeTx(tx)));
      } catch (err) {
        this.counters.failed++;
        if (err instanceof HttpStatusError) for (const x of inputs) this.blocked.add(x.key);
        this.noteError(`payment to node${nodeIndex + 1}`, err);
        throw new DemoPaymentError('refused', `node${nodeIndex + 1} refused the payment: ${err instanceof Error ? err.message : String(err)}`);
      }
      const outpoint = { txid: txidFromHex(txid), index: 1 };
      this.sentTxs.set(txid, {
        txid,
        nodeIndex,
        inputKeys: inputs.map((x) => x.key),
        outputs: [{ key: outpointKey(outpoint), coin: makeWalletCoin(outpoint, tx.outputs[1]!, change), parentTxid: txid }],
        parents: [],
        sentAtMs: Date.now(),
      });
      this.counters.sent++;
      this.logger?.info({ txid, address: request.address, valueSats: request.valueSats.toString() }, 'demo wallet paid an outside address');
      return txid;
    }
    throw new DemoPaymentError('no-funds', `the demo wallet has no mature coins enough for ${request.valueSats} sats yet`);
  }

  /** A node to broadcast a tx of confirmed inputs through: the next up node that has the inputs' block. */
  private pickNode(minHeight: number): number {
    const nodes = this.nodes().filter((n) => n.up && n.height >= minHeight);
    if (nodes.length === 0) return this.referenceNode()?.index ?? 0;
    this.roundRobin = (this.roundRobin + 1) % nodes.length;
    return nodes[this.roundRobin]!.index;
  }

  /**
   * Builds and signs inputs → payments + a remainder output to `remainderTo` paying feeRate; undefined when the
   * remainder would fall under MIN_COIN_SATS.
   */
  private buildSigned(
    inputs: readonly OwnCoin[],
    payments: readonly { address: DerivedAddress; value: Sats }[],
    remainderTo: DerivedAddress,
  ): { tx: Tx; outputAddresses: DerivedAddress[] } | undefined {
    const outputAddresses = [...payments.map((p) => p.address), remainderTo];
    const draft: TxOut[] = [...payments.map((p) => ({ value: p.value, scriptPubKey: p.address.scriptPubKey })), { value: 0n, scriptPubKey: remainderTo.scriptPubKey }];
    const weight = computeBaseWeight(draft, inputs.length) + inputs.reduce((s, c) => s + getInputWeight(c.coin.address.kind), 0);
    const fee = BigInt(Math.ceil((weight / 4) * this.feeRate));
    const total = inputs.reduce((s, c) => s + c.coin.value, 0n);
    const remainder = total - payments.reduce((s, p) => s + p.value, 0n) - fee;
    if (remainder < MIN_COIN_SATS) return undefined;
    const outputs = draft.map((o, i) => (i === draft.length - 1 ? { ...o, value: remainder } : o));
    const unsigned: Tx = {
      version: 2,
      inputs: inputs.map((c) => ({ prevout: c.coin.outpoint, scriptSig: new Uint8Array(0), sequence: RBF_SEQUENCE, witness: [] })),
      outputs,
      locktime: 0,
    };
    const tx = signTransaction(unsigned, inputs.map((c) => c.coin), this.keys.privateKeyOf, { auxRand: () => new Uint8Array(randomBytes(32)) });
    return { tx, outputAddresses };
  }
}
