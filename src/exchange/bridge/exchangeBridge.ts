/**
 * The exchange ↔ chain bridge: deposit addresses from the exchange's HD wallet (BIP-84, one receive index per account,
 * never reused), a watcher that walks the node's best chain through its Esplora REST API (cursor = block hash, walks
 * back to the fork point on a reorg), credits deposits at N confirmations and reverses credited ones that a reorg
 * removed (engine commands CREDIT_DEPOSIT / REVERSE_DEPOSIT, idempotent per (txid, vout)), and a hot wallet that pays
 * withdrawals in batches (one transaction, many outputs), storing the signed transaction before broadcasting it so a
 * restart rebroadcasts the same one and never pays twice. All state lives in `bridge.sqlite` next to the engine's
 * command log; the engine's ledger is changed only through its commands.
 * @see OpenDAX/peatio deposit and withdrawal states; Blockstream esplora API.md
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { addressToScriptPubKey } from '../../crypto/address.js';
import { taggedHash } from '../../crypto/hash.js';
import { entropyToMnemonic } from '../../crypto/hd.js';
import type { Logger } from '../../logging/logger.js';
import type { ChainParams } from '../../params/chainParams.js';
import { bytesToHex, hashToHex, hexToBytes, txidFromHex } from '../../primitives/hex.js';
import { computeTxid, decodeTx, encodeTx, getTxVsize } from '../../primitives/tx.js';
import type { Sats, TxOut } from '../../primitives/types.js';
import { satPerVbToSatPerKvb } from '../../wallet/coinSelection.js';
import { HdAccount, mnemonicToWalletSeed, type DerivedAddress } from '../../wallet/hdAccount.js';
import { EsploraClient } from '../../wallet/nodeClient.js';
import { buildBumpFee, buildPayment, makeWalletCoin, signTransaction, type UnsignedTx, type WalletCoin } from '../../wallet/txBuilder.js';
import { isWalletError } from '../../wallet/walletError.js';
import type { EngineCommand } from '../engineCommand.js';
import type { CommandOutcome } from '../engineEvent.js';
import { BRIDGE_STORE_FILE, BridgeStore, type OutputRow, type WithdrawalRow, type WithdrawalStatus } from './bridgeStore.js';
import { ChainReader } from './chainReader.js';
import { ChainWatcher, type OwnedScript } from './chainWatcher.js';
import { BridgeError } from './bridgeError.js';

/** File of the hot wallet's BIP-39 mnemonic inside the exchange data dir (mode 0600). SECRET. */
export const BRIDGE_SEED_FILE = 'bridge-seed.txt';

/** Confirmations a deposit needs before it is credited, per network (issue 12: regtest 1, devnet 3, main 6). */
export const DEFAULT_DEPOSIT_CONFIRMATIONS: Readonly<Record<string, number>> = Object.freeze({ regtest: 1, devnet: 3, test: 6, main: 6 });

/** Binance's withdrawOrderId shape, used for the client id of a withdrawal. */
export const WITHDRAWAL_CLIENT_ID_RE = /^[A-Za-z0-9_-]{1,36}$/;

/** Options of the bridge. */
export interface ExchangeBridgeOptions {
  readonly params: ChainParams;
  /** The exchange's data dir (bridge.sqlite and the seed file go there). */
  readonly datadir: string;
  /** Esplora base URL of the node, with its prefix, e.g. `http://127.0.0.1:8730/api`. */
  readonly nodeUrl: string;
  /** The on-chain asset's symbol in the engine (default CRN). */
  readonly asset?: string;
  /** Confirmations to credit a deposit and complete a withdrawal (default DEFAULT_DEPOSIT_CONFIRMATIONS). */
  readonly confirmations?: number;
  /** The published withdrawal fee charged on top of the amount, sats (default 10,000). */
  readonly withdrawalFeeSats?: Sats;
  /** Smallest withdrawal amount, sats (default 10,000: well above the dust threshold). */
  readonly minWithdrawalSats?: Sats;
  /** Period of the watcher and the batcher, ms (default 1,000; 0: no timer, the owner calls tick()). */
  readonly pollIntervalMs?: number;
  /** A batch is built at most this often, ms (default 3,000). */
  readonly batchIntervalMs?: number;
  /** Follow the node's websocket for new blocks and mempool changes (default true; polling goes on either way). */
  readonly websocket?: boolean;
  /** Height the watcher starts at on its first run (default the node's tip then). */
  readonly startHeight?: number;
  /** The smallest fee rate used, sat/vB (default 1). */
  readonly minFeeRateSatPerVb?: number;
  /** An unconfirmed batch older than this whose fee rate is below the market's is replaced by RBF, ms (default 60,000). */
  readonly bumpAfterMs?: number;
  /**
   * The cold wallet: its BIP-84 account-level extended public key (watch-only; vpub/tpub on test networks). With
   * hotWalletLimitSats, a withdrawal batch also sends what the hot wallet holds above the limit to the cold wallet's
   * next receive address.
   */
  readonly coldXpub?: string;
  /** Most the hot wallet keeps after a batch, sats (with coldXpub). */
  readonly hotWalletLimitSats?: Sats;
  /** A withdrawal the hot wallet could not pay for this long fails and its funds are unlocked, ms (default 1 hour). */
  readonly withdrawalTimeoutMs?: number;
}

/** What the bridge needs from the exchange: a way to submit engine commands. */
export interface ExchangeBridgeDeps {
  readonly submit: (command: EngineCommand) => Promise<CommandOutcome>;
  readonly logger: Logger;
  /** Clock, ms (default Date.now). */
  readonly nowMs?: () => number;
  /** Called after a batch is stored signed and before it is broadcast (tests inject a crash here). */
  readonly onBatchSigned?: (txid: string) => void;
}

/** A deposit's state: seen (not in a block), confirming (n of N), credited, or dropped (left the chain before N). */
export type DepositStatus = 'seen' | 'confirming' | 'credited' | 'dropped';

/** A deposit as users see it. */
export interface DepositView {
  readonly txid: string;
  readonly vout: number;
  readonly userId: number;
  readonly amountSats: Sats;
  readonly blockHash: string | null;
  readonly height: number | null;
  readonly confirmations: number;
  readonly confirmationsNeeded: number;
  readonly status: DepositStatus;
}

/** A withdrawal as users see it. */
export interface WithdrawalView {
  readonly id: string;
  readonly userId: number;
  readonly clientId: string;
  readonly address: string;
  readonly amountSats: Sats;
  readonly feeSats: Sats;
  readonly status: WithdrawalStatus;
  readonly txid: string | null;
  readonly confirmations: number;
  readonly reason: string | null;
}

/** The outcome of one tick. */
export interface TickReport {
  readonly tipHeight: number;
  readonly connected: number;
  readonly disconnected: number;
  readonly credited: number;
  readonly reversed: number;
  readonly batchTxid: string | null;
  readonly completed: number;
}

/** A websocket message starts a round after this long (messages in a burst share it), ms. */
const NUDGE_DELAY_MS = 50;
/** Withdrawals considered for one batch at most (the rest go in the next). */
const MAX_BATCH_OUTPUTS = 200;
/** An unconfirmed broadcast batch is sent again this often, ms (after a reorg or a mempool eviction). */
const REBROADCAST_MS = 10_000;

/** `REASON: message` of a refused command (the bridge's commands never answer a cancel-replace). */
function refusal(out: CommandOutcome): string {
  const r = out.result;
  return 'reason' in r && !r.ok ? `${r.reason}: ${r.message}` : 'refused';
}

function loadOrCreateMnemonic(datadir: string): string {
  const path = join(datadir, BRIDGE_SEED_FILE);
  if (!existsSync(path)) {
    try {
      writeFileSync(path, `${entropyToMnemonic(randomBytes(32))}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another opener won the race: use its file.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(path, 'utf8').trim();
}

/**
 * The salt of the liabilities tree's user tags, derived from the hot wallet's mnemonic file in `datadir` (a tagged
 * hash: it reveals nothing about the mnemonic), so every proof of the same state reaches the same root.
 * @throws Error when the data dir has no bridge seed file
 */
export function readLiabilitiesSalt(datadir: string): Uint8Array {
  return taggedHash('cairn/liabilities/salt', new TextEncoder().encode(readFileSync(join(datadir, BRIDGE_SEED_FILE), 'utf8').trim()));
}

/**
 * The bridge. `open` creates or reopens its store and wallet, `start` runs the poll timer; `tick` does one round
 * (walk the chain, credit/reverse deposits, lock new withdrawals, sign and broadcast a batch, complete confirmed ones).
 * Rounds never overlap. Not for several processes on one data dir (the exchange's lock covers that).
 */
export class ExchangeBridge {
  readonly confirmations: number;
  readonly withdrawalFeeSats: Sats;
  readonly minWithdrawalSats: Sats;
  private readonly asset: string;
  private readonly scripts = new Map<string, OwnedScript>();
  private readonly watcher: ChainWatcher;
  private readonly chain: ChainReader;
  private readonly esplora: EsploraClient;
  private readonly nowMs: () => number;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private nudged = false;
  private socket: WebSocket | undefined;
  private socketRetry: NodeJS.Timeout | undefined;
  private running: Promise<TickReport> | undefined;
  private lastBatchMs = 0;
  /** A change address taken for a batch that could not be built yet. */
  private unusedChange: { index: number; address: string } | undefined;
  private readonly lastBroadcastMs = new Map<string, number>();
  private tipHeight = -1;
  /** The node's mempool at the last round. */
  private mempool: ReadonlySet<string> = new Set<string>();
  private closed = false;

  private constructor(
    private readonly options: ExchangeBridgeOptions,
    private readonly deps: ExchangeBridgeDeps,
    private readonly store: BridgeStore,
    private readonly account: HdAccount,
    private readonly cold: HdAccount | undefined,
  ) {
    this.asset = options.asset ?? 'CRN';
    this.confirmations = options.confirmations ?? DEFAULT_DEPOSIT_CONFIRMATIONS[options.params.name] ?? 6;
    this.withdrawalFeeSats = options.withdrawalFeeSats ?? 10_000n;
    this.minWithdrawalSats = options.minWithdrawalSats ?? 10_000n;
    this.chain = new ChainReader({ baseUrl: options.nodeUrl });
    this.esplora = new EsploraClient({ baseUrl: options.nodeUrl });
    this.nowMs = deps.nowMs ?? Date.now;
    this.watcher = new ChainWatcher(store, this.chain, this.esplora, this.scripts, deps.logger, options.startHeight);
    for (const a of store.listDepositAddresses()) this.remember(a.address, a.userId, 0, a.index);
    for (const a of store.listChangeAddresses()) this.remember(a.address, null, 1, a.index);
  }

  /**
   * Opens the bridge on an exchange data dir: the store (created if missing) and the hot wallet (its mnemonic
   * created on first use in `bridge-seed.txt`, mode 0600).
   * @throws BridgeError BAD_COLD_WALLET | WalletError bad-account (a cold xpub of another network or kind) | Error when
   *   the store or the seed file cannot be opened
   */
  static open(options: ExchangeBridgeOptions, deps: ExchangeBridgeDeps): ExchangeBridge {
    const store = BridgeStore.open(join(options.datadir, BRIDGE_STORE_FILE));
    try {
      const mnemonic = loadOrCreateMnemonic(options.datadir);
      const account = HdAccount.fromSeed(mnemonicToWalletSeed(mnemonic), options.params, 'p2wpkh', 0);
      if ((options.coldXpub === undefined) !== (options.hotWalletLimitSats === undefined)) throw new BridgeError('BAD_COLD_WALLET', 'a cold wallet needs both its xpub and the hot-wallet limit');
      const cold = options.coldXpub === undefined ? undefined : HdAccount.fromExtendedKey(options.coldXpub, options.params, 'p2wpkh', 0);
      if (cold !== undefined && !cold.isWatchOnly) throw new BridgeError('BAD_COLD_WALLET', 'give the cold wallet as an extended public key, not a private one');
      return new ExchangeBridge(options, deps, store, account, cold);
    } catch (err) {
      store.close();
      throw err;
    }
  }

  private remember(address: string, userId: number | null, chain: 0 | 1, index: number): void {
    this.scripts.set(bytesToHex(addressToScriptPubKey(address, this.options.params.bech32Hrp)), { userId, chain, index });
  }

  /** The hot wallet account's extended public key (for a watch-only copy). */
  get extendedPublicKey(): string {
    return this.account.extendedPublicKey;
  }

  // ---- deposits --------------------------------------------------------------------------------------------------

  /**
   * The user's deposit address: the receive index the user got first (assigned durably on first call, the next
   * unused index). Never shared between users, never changed.
   * @throws BridgeError BAD_USER
   */
  getDepositAddress(userId: number): { address: string; index: number; path: string } {
    if (!Number.isSafeInteger(userId) || userId < 1) throw new BridgeError('BAD_USER', `user id ${userId} is not a positive integer`);
    const { index, address } = this.store.assignDepositIndex(userId, (i) => this.account.deriveAddress(0, i).address);
    if (!this.scripts.has(bytesToHex(addressToScriptPubKey(address, this.options.params.bech32Hrp)))) this.remember(address, userId, 0, index);
    return { address, index, path: `${this.account.path}/0/${index}` };
  }

  private neededConfirmations(o: OutputRow): number {
    return o.isCoinbase ? Math.max(this.confirmations, this.options.params.coinbaseMaturity) : this.confirmations;
  }

  private confirmationsOf(height: number | null): number {
    return height === null || this.tipHeight < height ? 0 : this.tipHeight - height + 1;
  }

  /** The user's deposits (or everyone's), oldest first. */
  listDeposits(userId?: number): DepositView[] {
    return this.store.listDeposits(userId).map((o) => {
      const confirmations = this.confirmationsOf(o.height);
      const status: DepositStatus = o.credited ? 'credited' : o.height !== null ? 'confirming' : o.everConfirmed && !this.mempool.has(o.txid) ? 'dropped' : 'seen';
      return {
        txid: o.txid,
        vout: o.vout,
        userId: o.userId!,
        amountSats: o.valueSats,
        blockHash: o.blockHash,
        height: o.height,
        confirmations,
        confirmationsNeeded: this.neededConfirmations(o),
        status,
      };
    });
  }

  // ---- withdrawals -----------------------------------------------------------------------------------------------

  /**
   * Requests a withdrawal: checks the address is a segwit address of the node's network and the amount, records the
   * request, and has the engine lock amount + the published fee. Idempotent per (userId, clientId): a repeat returns
   * the stored withdrawal; the same client id with other details is refused.
   * @throws BridgeError BAD_USER | BAD_CLIENT_ID | BAD_ADDRESS (not of this network) | BAD_AMOUNT | CLIENT_ID_REUSED |
   *   REFUSED (the engine refused the lock: insufficient balance, frozen account; the withdrawal is recorded failed)
   */
  async requestWithdrawal(req: { userId: number; clientId: string; address: string; amountSats: Sats }): Promise<WithdrawalView> {
    if (!Number.isSafeInteger(req.userId) || req.userId < 1) throw new BridgeError('BAD_USER', `user id ${req.userId} is not a positive integer`);
    if (typeof req.clientId !== 'string' || !WITHDRAWAL_CLIENT_ID_RE.test(req.clientId)) throw new BridgeError('BAD_CLIENT_ID', `client id must match ${String(WITHDRAWAL_CLIENT_ID_RE)}`);
    let script: Uint8Array;
    try {
      script = addressToScriptPubKey(req.address, this.options.params.bech32Hrp);
    } catch (err) {
      throw new BridgeError('BAD_ADDRESS', `not a ${this.options.params.name} address (${this.options.params.bech32Hrp}1…): ${(err as Error).message}`);
    }
    // The chain accepts only P2WPKH and P2TR outputs: another witness program would make the whole batch invalid.
    const payable = (script[0] === 0x00 && script.length === 22) || (script[0] === 0x51 && script.length === 34);
    if (!payable) throw new BridgeError('BAD_ADDRESS', 'only P2WPKH (…1q…, 20-byte) and P2TR (…1p…) addresses can be paid on this chain');
    if (typeof req.amountSats !== 'bigint' || req.amountSats < this.minWithdrawalSats || req.amountSats > 21_000_000n * 100_000_000n) {
      throw new BridgeError('BAD_AMOUNT', `amount must be at least ${this.minWithdrawalSats} sats`);
    }
    const id = `w-${req.userId}-${req.clientId}`;
    const { row, created } = this.store.insertWithdrawal({
      id,
      userId: req.userId,
      clientId: req.clientId,
      address: req.address,
      amountSats: req.amountSats,
      feeSats: this.withdrawalFeeSats,
      createdMs: this.nowMs(),
    });
    if (!created && (row.address !== req.address || row.amountSats !== req.amountSats)) {
      throw new BridgeError('CLIENT_ID_REUSED', `client id ${req.clientId} was used for another withdrawal`);
    }
    if (!row.locked && row.finished === null) await this.lock(row);
    const view = this.viewWithdrawal(this.store.getWithdrawal(id)!);
    if (view.status === 'failed' && created) throw new BridgeError('REFUSED', view.reason ?? 'refused');
    return view;
  }

  private async lock(w: WithdrawalRow): Promise<void> {
    const out = await this.deps.submit({ type: 'LOCK_WITHDRAWAL', withdrawalId: w.id, userId: w.userId, asset: this.asset, amount: w.amountSats + w.feeSats });
    if (out.result.ok) this.store.setWithdrawalLocked(w.id);
    else this.store.finishWithdrawal(w.id, 'failed', refusal(out));
  }

  private viewWithdrawal(w: WithdrawalRow): WithdrawalView {
    const batch = w.batchTxid === null ? undefined : this.store.getBatch(w.batchTxid);
    let status: WithdrawalStatus;
    if (w.finished !== null) status = w.finished;
    else if (batch === undefined) status = 'requested';
    else if (batch.height !== null) status = 'confirmed';
    else status = batch.broadcast ? 'broadcast' : 'signed';
    return {
      id: w.id,
      userId: w.userId,
      clientId: w.clientId,
      address: w.address,
      amountSats: w.amountSats,
      feeSats: w.feeSats,
      status,
      txid: w.batchTxid,
      confirmations: this.confirmationsOf(batch?.height ?? null),
      reason: w.reason,
    };
  }

  /** The user's withdrawals (or everyone's), oldest first. */
  listWithdrawals(userId?: number): WithdrawalView[] {
    return this.store.listWithdrawals(userId).map((w) => this.viewWithdrawal(w));
  }

  // ---- the round -----------------------------------------------------------------------------------------------------

  /**
   * Starts the poll timer (no-op when pollIntervalMs is 0), and follows the node's websocket (`<nodeUrl>/v1/ws`,
   * mempool.space's `want blocks` and `mempool-blocks`): a message starts a round at once instead of at the next
   * poll. Without a websocket (another Esplora server, or it drops) polling alone goes on; it reconnects every minute.
   */
  start(): void {
    const every = this.options.pollIntervalMs ?? 1_000;
    if (every <= 0 || this.polling) return;
    this.polling = true;
    this.schedule(every);
    if (this.options.websocket !== false) this.connectSocket();
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.nudged = false;
      this.tick()
        .then(
          () => undefined,
          (err: unknown) => this.deps.logger.warn({ err }, 'bridge round failed; retrying'),
        )
        .finally(() => this.schedule(this.nudged ? NUDGE_DELAY_MS : (this.options.pollIntervalMs ?? 1_000)));
    }, delayMs);
  }

  /** A new block or mempool change: run a round now (or right after the running one). */
  private nudge(): void {
    this.nudged = true;
    if (this.timer !== undefined) this.schedule(NUDGE_DELAY_MS);
  }

  private connectSocket(): void {
    if (this.closed) return;
    const url = `${this.options.nodeUrl.replace(/\/+$/, '').replace(/^http/i, 'ws')}/v1/ws`;
    const socket = new WebSocket(url, { maxPayload: 1 << 20 });
    this.socket = socket;
    socket.on('open', () => socket.send(JSON.stringify({ action: 'want', data: ['blocks', 'mempool-blocks'] })));
    socket.on('message', () => this.nudge());
    socket.on('error', (err) => this.deps.logger.debug({ err: err.message, url }, 'bridge: node websocket error; polling goes on'));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (!this.closed) this.socketRetry = setTimeout(() => this.connectSocket(), 60_000);
    });
  }

  /** Runs one round now (or waits for the running one and runs another). */
  async tick(): Promise<TickReport> {
    while (this.running !== undefined) await this.running.catch(() => undefined);
    if (this.closed) throw new BridgeError('CLOSED', 'the bridge is closed');
    this.running = this.round();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async round(): Promise<TickReport> {
    const { connected, disconnected } = await this.syncChain();
    await this.scanMempool();
    const { credited, reversed } = await this.settleDeposits();
    for (const w of this.store.listOpenWithdrawals()) if (!w.locked) await this.lock(w);
    await this.rebroadcast();
    await this.bumpStuck();
    const batchTxid = await this.maybeBatch();
    const completed = await this.completeConfirmed();
    return { tipHeight: this.tipHeight, connected, disconnected, credited, reversed, batchTxid, completed };
  }

  /** Walks the chain to the node's tip (see ChainWatcher.sync). */
  private async syncChain(): Promise<{ connected: number; disconnected: number }> {
    const r = await this.watcher.sync();
    this.tipHeight = r.tipHeight;
    return r;
  }

  /** Records mempool deposits as seen (see ChainWatcher.scanMempool). */
  private async scanMempool(): Promise<void> {
    this.mempool = await this.watcher.scanMempool();
  }

  /** Credits deposits with enough confirmations and reverses credited ones that left the chain. */
  private async settleDeposits(): Promise<{ credited: number; reversed: number }> {
    let credited = 0;
    let reversed = 0;
    // All commands of a round are submitted together so the sequencer commits them with one fsync; each is applied
    // (and answered) in submission order, and each bridge row changes only after its own command is durable.
    const work: Array<Promise<void>> = [];
    for (const o of this.store.listDepositsToSettle()) {
      if (o.height !== null && !o.credited && this.confirmationsOf(o.height) >= this.neededConfirmations(o)) {
        const cmd = { type: 'CREDIT_DEPOSIT', txid: o.txid, vout: o.vout, userId: o.userId!, asset: this.asset, amount: o.valueSats } as const;
        work.push(
          this.deps.submit(cmd).then((out) => {
            if (out.result.ok) {
              this.store.setCredited(o.txid, o.vout, true);
              credited++;
              this.deps.logger.info({ txid: o.txid, vout: o.vout, userId: o.userId, amount: o.valueSats.toString() }, 'bridge: deposit credited');
            } else {
              this.deps.logger.error({ txid: o.txid, vout: o.vout, reason: refusal(out) }, 'bridge: the engine refused a deposit credit');
            }
          }),
        );
      } else if (o.height === null && o.credited) {
        work.push(
          this.deps.submit({ type: 'REVERSE_DEPOSIT', txid: o.txid, vout: o.vout }).then((out) => {
            this.store.setCredited(o.txid, o.vout, false);
            reversed++;
            const frozen = out.events.some((e) => e.type === 'account' && e.frozen);
            this.deps.logger.warn(
              { txid: o.txid, vout: o.vout, userId: o.userId, amount: o.valueSats.toString(), frozen, applied: out.result.ok },
              frozen ? 'bridge: credited deposit reorged out; reversed, the account is negative and frozen' : 'bridge: credited deposit reorged out; reversed',
            );
          }),
        );
      }
    }
    await Promise.all(work);
    return { credited, reversed };
  }

  private async broadcast(txid: string, rawHex: string): Promise<void> {
    try {
      await this.esplora.broadcast(rawHex);
    } catch (err) {
      const msg = (err as Error).message;
      // Already in the mempool or the chain: the node has it.
      if (!/already|duplicate/i.test(msg)) {
        this.deps.logger.warn({ txid, err: msg }, 'bridge: batch broadcast refused; will retry');
        return;
      }
    }
    this.store.setBatchBroadcast(txid);
    this.lastBroadcastMs.set(txid, this.nowMs());
  }

  /** Sends signed batches the node has not accepted yet, and unconfirmed ones again now and then. */
  private async rebroadcast(): Promise<void> {
    for (const b of this.store.listOpenBatches()) {
      if (b.height !== null) continue;
      if (b.broadcast && this.nowMs() - (this.lastBroadcastMs.get(b.txid) ?? 0) < REBROADCAST_MS) continue;
      await this.broadcast(b.txid, b.rawHex);
    }
  }

  private walletCoin(o: OutputRow): WalletCoin {
    const address: DerivedAddress = this.account.deriveAddress(o.chain, o.index);
    return makeWalletCoin({ txid: txidFromHex(o.txid), index: o.vout }, { value: o.valueSats, scriptPubKey: address.scriptPubKey }, address, {
      height: o.height!,
      isCoinbase: o.isCoinbase,
    });
  }

  private async feeRateSatPerKvb(): Promise<number> {
    const min = this.options.minFeeRateSatPerVb ?? 1;
    let rate = min;
    try {
      const est = await this.esplora.getFeeEstimates();
      rate = Math.max(min, est.get(2) ?? est.get(1) ?? est.get(3) ?? min);
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message }, 'bridge: no fee estimates; using the minimum fee rate');
    }
    return satPerVbToSatPerKvb(rate);
  }

  /**
   * Pays every locked withdrawal not yet in a batch with one transaction: coins are the exchange's outputs with N
   * confirmations (coinbases mature), change to a fresh change address, fee rate from the node's estimates. The
   * signed transaction is stored with its withdrawals before it is broadcast.
   */
  private async maybeBatch(): Promise<string | null> {
    let pending = this.store.listOpenWithdrawals().filter((w) => w.locked && w.batchTxid === null);
    if (pending.length === 0) return null;
    if (this.nowMs() - this.lastBatchMs < (this.options.batchIntervalMs ?? 3_000)) return null;
    this.lastBatchMs = this.nowMs();
    const coins = this.store
      .listSpendableOutputs()
      .filter((o) => this.confirmationsOf(o.height) >= this.neededConfirmations(o))
      .map((o) => this.walletCoin(o));
    const feeRateSatPerKvb = await this.feeRateSatPerKvb();
    // A change index is taken once and kept until a batch uses it (never given to two batches).
    const change = (this.unusedChange ??= this.store.nextChangeIndex((i) => this.account.deriveAddress(1, i).address));
    this.remember(change.address, null, 1, change.index);
    const changeAddress = this.account.deriveAddress(1, change.index);
    // Oldest first: each withdrawal joins the batch if the hot wallet can still pay it; the others wait.
    const build = (ws: readonly WithdrawalRow[]): UnsignedTx | undefined => {
      try {
        return buildPayment({ outputs: this.paymentOutputs(ws), coins, feeRateSatPerKvb, changeAddress, locktime: Math.max(0, this.tipHeight) });
      } catch (err) {
        if (isWalletError(err, 'insufficient-funds') || isWalletError(err, 'too-many-inputs')) return undefined;
        throw err;
      }
    };
    const paying: WithdrawalRow[] = [];
    let unsigned: UnsignedTx | undefined;
    for (const w of pending.slice(0, MAX_BATCH_OUTPUTS)) {
      const attempt = build([...paying, w]);
      if (attempt === undefined) continue;
      paying.push(w);
      unsigned = attempt;
    }
    await this.failOverdue(pending.slice(0, MAX_BATCH_OUTPUTS).filter((w) => !paying.includes(w)));
    if (unsigned === undefined) return null;
    pending = paying;
    const sweep = this.planSweep(coins, paying, unsigned, (outputs) => {
      try {
        return buildPayment({ outputs, coins, feeRateSatPerKvb, changeAddress, locktime: Math.max(0, this.tipHeight) });
      } catch {
        return undefined;
      }
    });
    if (sweep !== undefined) unsigned = sweep.unsigned;
    const signed = signTransaction(unsigned.tx, unsigned.inputs, (a) => this.account.derivePrivateKey(a.chain, a.index), { auxRand: () => randomBytes(32) });
    const txid = hashToHex(computeTxid(signed));
    const rawHex = bytesToHex(encodeTx(signed));
    this.store.insertBatch(
      { txid, rawHex, networkFeeSats: unsigned.feeSats, createdMs: this.nowMs() },
      pending.map((w) => w.id),
      unsigned.inputs.map((c) => ({ txid: hashToHex(c.outpoint.txid), vout: c.outpoint.index })),
      sweep?.cold,
    );
    this.unusedChange = undefined;
    this.deps.logger.info({ txid, withdrawals: pending.length, fee: unsigned.feeSats.toString() }, 'bridge: withdrawal batch signed');
    this.deps.onBatchSigned?.(txid);
    await this.broadcast(txid, rawHex);
    return txid;
  }

  /**
   * Replaces (BIP-125 RBF) each broadcast, unconfirmed batch older than bumpAfterMs whose fee rate is below the
   * node's current estimate: same payments, the change reduced (or more coins added), signed and stored before it
   * is broadcast. Whichever of the two confirms, the withdrawals follow it (BridgeStore.settleReplacements).
   */
  private async bumpStuck(): Promise<void> {
    const bumpAfterMs = this.options.bumpAfterMs ?? 60_000;
    const stuck = this.store.listOpenBatches().filter((b) => b.height === null && b.broadcast && b.replacedBy === null && this.nowMs() - b.createdMs >= bumpAfterMs);
    if (stuck.length === 0) return;
    const marketSatPerKvb = await this.feeRateSatPerKvb();
    for (const b of stuck) {
      const original = decodeTx(hexToBytes(b.rawHex));
      const paidSatPerKvb = Number((b.networkFeeSats * 1000n) / BigInt(getTxVsize(original)));
      if (paidSatPerKvb >= marketSatPerKvb) continue;
      const originalInputs: WalletCoin[] = [];
      for (const input of original.inputs) {
        const o = this.store.getOutput(hashToHex(input.prevout.txid), input.prevout.index);
        if (o === undefined) throw new Error(`batch ${b.txid} spends an output the bridge does not know`);
        originalInputs.push(this.walletCoin(o));
      }
      const changeIndex = original.outputs.findIndex((o) => this.scripts.get(bytesToHex(o.scriptPubKey))?.chain === 1);
      const extraCoins = this.store
        .listSpendableOutputs()
        .filter((o) => this.confirmationsOf(o.height) >= this.neededConfirmations(o))
        .map((o) => this.walletCoin(o));
      const change = (this.unusedChange ??= this.store.nextChangeIndex((i) => this.account.deriveAddress(1, i).address));
      this.remember(change.address, null, 1, change.index);
      let bump;
      try {
        bump = buildBumpFee({ originalTx: original, originalInputs, changeIndex, feeRateSatPerKvb: Math.max(marketSatPerKvb, paidSatPerKvb + 1000), extraCoins, changeAddress: this.account.deriveAddress(1, change.index) });
      } catch (err) {
        this.deps.logger.warn({ txid: b.txid, err: (err as Error).message }, 'bridge: cannot bump a stuck batch yet');
        continue;
      }
      const signed = signTransaction(bump.tx, bump.inputs, (a) => this.account.derivePrivateKey(a.chain, a.index), { auxRand: () => randomBytes(32) });
      const txid = hashToHex(computeTxid(signed));
      const rawHex = bytesToHex(encodeTx(signed));
      this.store.replaceBatch(b.txid, { txid, rawHex, networkFeeSats: bump.feeSats, createdMs: this.nowMs() }, bump.inputs.map((c) => ({ txid: hashToHex(c.outpoint.txid), vout: c.outpoint.index })));
      if (bump.changeIndex >= 0 && bytesToHex(signed.outputs[bump.changeIndex]!.scriptPubKey) === bytesToHex(this.account.deriveAddress(1, change.index).scriptPubKey)) this.unusedChange = undefined;
      this.deps.logger.info({ replaced: b.txid, txid, fee: bump.feeSats.toString(), originalFee: b.networkFeeSats.toString() }, 'bridge: stuck batch bumped (RBF)');
      this.deps.onBatchSigned?.(txid);
      await this.broadcast(txid, rawHex);
    }
  }

  /**
   * With a cold wallet: the batch rebuilt with one more output sending the hot wallet's excess over the limit (after
   * the payments, keeping twice the batch's fee as margin) to the cold wallet's next address; undefined when there is
   * no cold wallet, the excess is under 0.001 coin, or the rebuild fails.
   */
  private planSweep(
    coins: readonly WalletCoin[],
    paying: readonly WithdrawalRow[],
    unsigned: UnsignedTx,
    rebuild: (outputs: TxOut[]) => UnsignedTx | undefined,
  ): { unsigned: UnsignedTx; cold: { index: number; address: string } } | undefined {
    if (this.cold === undefined || this.options.hotWalletLimitSats === undefined) return undefined;
    const hotSats = coins.reduce((s, c) => s + c.value, 0n);
    const paid = paying.reduce((s, w) => s + w.amountSats, 0n);
    const excess = hotSats - paid - this.options.hotWalletLimitSats - 2n * unsigned.feeSats;
    if (excess < 100_000n) return undefined;
    const index = this.store.nextColdIndex();
    const address = this.cold.deriveAddress(0, index);
    const swept = rebuild([...this.paymentOutputs(paying), { value: excess, scriptPubKey: address.scriptPubKey }]);
    if (swept === undefined) return undefined;
    this.deps.logger.info({ excess: excess.toString(), address: address.address }, 'bridge: sweeping the hot wallet excess to the cold wallet');
    return { unsigned: swept, cold: { index, address: address.address } };
  }

  private paymentOutputs(ws: readonly WithdrawalRow[]): TxOut[] {
    const hrp = this.options.params.bech32Hrp;
    return ws.map((w) => ({ value: w.amountSats, scriptPubKey: addressToScriptPubKey(w.address, hrp) }));
  }

  /** Fails (FAIL_WITHDRAWAL: funds unlocked) the unpaid withdrawals older than withdrawalTimeoutMs. */
  private async failOverdue(unpaid: readonly WithdrawalRow[]): Promise<void> {
    if (unpaid.length > 0) this.deps.logger.warn({ withdrawals: unpaid.length }, 'bridge: the hot wallet cannot pay every pending withdrawal yet');
    const timeoutMs = this.options.withdrawalTimeoutMs ?? 3_600_000;
    for (const w of unpaid) {
      if (this.nowMs() - w.createdMs < timeoutMs) continue;
      const out = await this.deps.submit({ type: 'FAIL_WITHDRAWAL', withdrawalId: w.id });
      if (!out.result.ok) this.deps.logger.error({ id: w.id, reason: refusal(out) }, 'bridge: the engine refused to fail a withdrawal');
      this.store.finishWithdrawal(w.id, 'failed', `not paid within ${timeoutMs} ms: the hot wallet lacks funds; the amount is unlocked`);
      this.deps.logger.warn({ id: w.id, userId: w.userId }, 'bridge: withdrawal failed (hot wallet short); funds unlocked');
    }
  }

  /** Completes the withdrawals of batches with N confirmations (COMPLETE_WITHDRAWAL with the txid). */
  private async completeConfirmed(): Promise<number> {
    let completed = 0;
    for (const b of this.store.listOpenBatches()) {
      if (this.confirmationsOf(b.height) < this.confirmations) continue;
      for (const w of this.store.listOpenWithdrawals()) {
        if (w.batchTxid !== b.txid) continue;
        const out = await this.deps.submit({ type: 'COMPLETE_WITHDRAWAL', withdrawalId: w.id, txid: b.txid });
        if (!out.result.ok) this.deps.logger.error({ id: w.id, reason: refusal(out) }, 'bridge: the engine refused to complete a withdrawal');
        this.store.finishWithdrawal(w.id, 'completed', null);
        completed++;
      }
    }
    return completed;
  }

  // ---- reserves ------------------------------------------------------------------------------------------------------

  /** Every address of the exchange (deposit, change and cold), for the reserves. */
  listAddresses(): string[] {
    return [
      ...this.store.listDepositAddresses().map((a) => a.address),
      ...this.store.listChangeAddresses().map((a) => a.address),
      ...this.store.listColdAddresses().map((a) => a.address),
    ];
  }

  /** Stops the timer, waits for the running round, closes the store (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.socketRetry !== undefined) clearTimeout(this.socketRetry);
    this.socket?.terminate();
    await this.running?.catch(() => undefined);
    this.store.close();
  }
}
