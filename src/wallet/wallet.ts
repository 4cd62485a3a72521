/**
 * The HD wallet: BIP-84 (P2WPKH) and BIP-86 (P2TR) accounts from one seed, synced from a node through a NodeClient
 * (address discovery with a gap limit, history, UTXOs including the mempool's), balances, fresh receive addresses,
 * payments (coin selection, change to a fresh change address, RBF signalled, anti-fee-sniping locktime, fee rate from
 * the node's estimates when none is given), broadcasting, fee bumps, and PSBT export. Secrets stay inside: nothing
 * here logs or returns a key, seed or password.
 * @see Bitcoin Core wallet/ (getbalances, listtransactions, getnewaddress, send, bumpfee,)
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { addressToScriptPubKey, decodeSegwitAddress } from '../crypto/address.js';
import { CryptoError } from '../crypto/cryptoError.js';
import { DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB } from '../policy/feeRate.js';
import type { ChainParams } from '../params/chainParams.js';
import { bytesToHex, hashToHex, hexToBytes, txidFromHex } from '../primitives/hex.js';
import { outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { computeTxid, decodeTx, encodeTx, getTxVsize } from '../primitives/tx.js';
import type { Sats, Tx } from '../primitives/types.js';
import { AddressBook } from './addressBook.js';
import { satPerVbToSatPerKvb } from './coinSelection.js';
import { HdAccount, INTERNAL_CHAIN, mnemonicToWalletSeed, type AccountKind, type DerivedAddress } from './hdAccount.js';
import { openKeystore } from './keystore.js';
import type { ChainTx, NodeClient, TxStatus } from './nodeClient.js';
import {
  buildBumpFee,
  buildPayment,
  DEFAULT_DUST_RELAY_FEE_SAT_PER_KVB,
  DEFAULT_INCREMENTAL_RELAY_FEE_SAT_PER_KVB,
  makeWalletCoin,
  signTransaction,
  type UnsignedTx,
  type WalletCoin,
} from './txBuilder.js';
import { WalletError } from './walletError.js';

/**
 * The most fee one wallet transaction may pay unless the payment allows high fees: 0.10 coin.
 * @see Bitcoin Core wallet/wallet.h DEFAULT_TRANSACTION_MAXFEE (-maxtxfee)
 */
export const DEFAULT_WALLET_MAX_TX_FEE_SATS: Sats = 10_000_000n;

/** Options of a Wallet (a plain struct; the CLI maps flags onto it). */
export interface WalletOptions {
  /** The network. */
  readonly params: ChainParams;
  /** Accounts to use (default P2WPKH account 0 and P2TR account 0). */
  readonly accounts?: readonly { readonly kind: AccountKind; readonly account: number }[];
  /** Kind of the receive addresses newAddress hands out and of change outputs (default p2wpkh). */
  readonly receiveKind?: AccountKind;
  /** Address gap limit of discovery (default 20). */
  readonly gapLimit?: number;
  /** Confirmation target of the node's fee estimate used when a payment gives no fee rate, blocks (default 6). */
  readonly feeTargetBlocks?: number;
  /** Lowest fee rate the wallet pays, sat/kvB (default 1000, Core's -minrelaytxfee). */
  readonly minRelayFeeRateSatPerKvb?: number;
  /** Core's -incrementalrelayfee, sat/kvB (default 1000), for fee bumps. */
  readonly incrementalRelayFeeRateSatPerKvb?: number;
  /** Core's -dustrelayfee, sat/kvB (default 3000). */
  readonly dustRelayFeeRateSatPerKvb?: number;
  /** nLockTime = tip height (default true) or 0. @see Bitcoin Core wallet/spend.cpp DiscourageFeeSniping */
  readonly antiFeeSniping?: boolean;
  /**
   * Highest fee rate a payment or fee bump may pay without `allowHighFee`, sat/kvB (default 10,000,000 = 10,000
   * sat/vB = 0.10 coin/kvB, the node's sendrawtransaction ceiling).
   */
  readonly maxFeeRateSatPerKvb?: bigint;
  /** Highest fee one transaction may pay without `allowHighFee`, sats (default 0.10 coin, Core's -maxtxfee). */
  readonly maxTxFeeSats?: Sats;
}

/** Services a Wallet uses. */
export interface WalletDeps {
  readonly client: NodeClient;
  /** Logger (module 'wallet'); it never receives secrets. Default: none. */
  readonly logger?: Logger;
}

/** Balances in sats, as Core's getbalances: spendable confirmed, unconfirmed (pending), immature coinbase. */
export interface WalletBalance {
  /** Confirmed outputs that can be spent now. */
  readonly confirmed: Sats;
  /** Outputs of mempool txs (own change included). */
  readonly unconfirmed: Sats;
  /** Coinbase outputs not yet coinbaseMaturity blocks deep. */
  readonly immature: Sats;
}

/** One transaction of the wallet's history. */
export interface WalletTxRecord {
  /** Display hex txid. */
  readonly txid: string;
  /** Received − sent, sats (negative for a payment: amount + fee). */
  readonly netSats: Sats;
  /** Sum of the outputs paying the wallet. */
  readonly receivedSats: Sats;
  /** Sum of the wallet's outputs it spends. */
  readonly sentSats: Sats;
  /** Fee, when the wallet paid it (it spends wallet coins). */
  readonly feeSats?: Sats;
  readonly status: TxStatus;
  readonly isCoinbase: boolean;
}

/** What sync found. */
export interface SyncSummary {
  readonly tipHeight: number;
  readonly txCount: number;
  readonly utxoCount: number;
}

/** A payment to make. */
export interface PaymentOptions {
  /** Destination address of the wallet's network. */
  readonly to: string;
  readonly amountSats: Sats;
  /** Fee rate, sat/vB (may be fractional); default the node's estimate for feeTargetBlocks. */
  readonly feeRateSatPerVb?: number;
  /**
   * Pay a fee above the wallet's ceilings (maxFeeRateSatPerKvb, maxTxFeeSats) and lift the node's broadcast ceiling.
   * Without it such a payment is refused with `fee-too-high`.
   */
  readonly allowHighFee?: boolean;
}

/** Options of a fee bump. */
export interface BumpFeeOptions {
  /** As PaymentOptions.allowHighFee. */
  readonly allowHighFee?: boolean;
}

/** A signed payment or fee bump, not necessarily broadcast. */
export interface SignedTx {
  readonly tx: Tx;
  /** Display hex txid. */
  readonly txid: string;
  /** Serialized tx, hex. */
  readonly hex: string;
  readonly feeSats: Sats;
  readonly vsize: number;
  /** Fee rate actually paid, sat/vB. */
  readonly feeRateSatPerVb: number;
  /** Index of the change output, -1 when none. */
  readonly changeIndex: number;
  readonly changeSats: Sats;
  /** The coins spent, in input order. */
  readonly inputs: readonly WalletCoin[];
}

/** A fee bump: the replacement and the fee of the tx it replaces. */
export interface SignedBump extends SignedTx {
  readonly replacesTxid: string;
  readonly originalFeeSats: Sats;
}

/** A spendable output the wallet holds, with its confirmation state. */
interface WalletUtxo {
  readonly coin: WalletCoin;
  readonly confirmed: boolean;
  /** Unconfirmed and created by a tx spending only the wallet's coins (own change): safe to spend. */
  readonly trusted: boolean;
}

const DEFAULT_ACCOUNTS: readonly { kind: AccountKind; account: number }[] = [
  { kind: 'p2wpkh', account: 0 },
  { kind: 'p2tr', account: 0 },
];

/**
 * An HD wallet over a node. Construct with Wallet.open (keystore file), Wallet.fromMnemonic or Wallet.fromSeed, then
 * sync() before reading balances; createPayment/send/bumpFee sync first when the wallet never has.
 */
export class Wallet {
  readonly params: ChainParams;
  private readonly client: NodeClient;
  private readonly logger: Logger | undefined;
  private readonly books: AddressBook[];
  private readonly receiveBook: AddressBook;
  readonly masterFingerprint: number;
  private readonly minRelayRate: number;
  private readonly incrementalRate: number;
  private readonly dustRate: number;
  private readonly feeTargetBlocks: number;
  private readonly antiFeeSniping: boolean;
  private readonly maxFeeRate: bigint;
  private readonly maxTxFee: Sats;
  private history = new Map<string, ChainTx>();
  private utxos: WalletUtxo[] = [];
  private tipHeight = -1;
  /** Outpoints spent by txs this wallet broadcast since the last sync. */
  private readonly spentLocally = new Set<OutpointKey>();

  private constructor(accounts: readonly HdAccount[], options: WalletOptions, deps: WalletDeps) {
    this.params = options.params;
    this.client = deps.client;
    this.logger = deps.logger;
    this.books = accounts.map((a) => new AddressBook(a, { ...(options.gapLimit !== undefined ? { gapLimit: options.gapLimit } : {}) }));
    const receiveKind = options.receiveKind ?? 'p2wpkh';
    const receiveBook = this.books.find((b) => b.account.kind === receiveKind);
    if (receiveBook === undefined) throw new WalletError('bad-account', `no ${receiveKind} account`);
    this.receiveBook = receiveBook;
    this.masterFingerprint = accounts[0]!.masterFingerprint;
    this.minRelayRate = options.minRelayFeeRateSatPerKvb ?? 1000;
    this.incrementalRate = options.incrementalRelayFeeRateSatPerKvb ?? DEFAULT_INCREMENTAL_RELAY_FEE_SAT_PER_KVB;
    this.dustRate = options.dustRelayFeeRateSatPerKvb ?? DEFAULT_DUST_RELAY_FEE_SAT_PER_KVB;
    this.feeTargetBlocks = options.feeTargetBlocks ?? 6;
    this.antiFeeSniping = options.antiFeeSniping ?? true;
    this.maxFeeRate = options.maxFeeRateSatPerKvb ?? DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB;
    this.maxTxFee = options.maxTxFeeSats ?? DEFAULT_WALLET_MAX_TX_FEE_SATS;
  }

  /**
   * A wallet of a 64-byte BIP-39 (or any 16..64-byte BIP-32) seed.
   * @throws WalletError bad-seed | bad-account
   */
  static fromSeed(seed: Uint8Array, options: WalletOptions, deps: WalletDeps): Wallet {
    const accounts = (options.accounts ?? DEFAULT_ACCOUNTS).map((a) => HdAccount.fromSeed(seed, options.params, a.kind, a.account));
    if (accounts.length === 0) throw new WalletError('bad-account', 'a wallet needs at least one account');
    return new Wallet(accounts, options, deps);
  }

  /**
   * A wallet of a BIP-39 mnemonic and optional passphrase.
   * @throws WalletError bad-mnemonic | bad-account
   */
  static fromMnemonic(mnemonic: string, passphrase: string, options: WalletOptions, deps: WalletDeps): Wallet {
    return Wallet.fromSeed(mnemonicToWalletSeed(mnemonic, passphrase), options, deps);
  }

  /**
   * Opens the wallet of a keystore file with its password; the network and accounts are the keystore's.
   * @throws WalletError wrong-password | corrupt-keystore | keystore-io | bad-account (options.params of another network)
   */
  static async open(path: string, password: string, options: Omit<WalletOptions, 'params' | 'accounts'> & { params?: ChainParams }, deps: WalletDeps): Promise<Wallet> {
    const keystore = await openKeystore(path, password);
    const params = keystore.params;
    if (options.params !== undefined && options.params.name !== params.name) {
      throw new WalletError('bad-account', `the keystore is for ${params.name}, not ${options.params.name}`);
    }
    const accounts = keystore.file.accounts.map(({ kind, account }) => ({ kind, account }));
    return Wallet.fromSeed(keystore.computeSeed(), { ...options, params, accounts }, deps);
  }

  private findAddress(scriptPubKey: Uint8Array): DerivedAddress | undefined {
    for (const book of this.books) {
      const a = book.lookup(scriptPubKey);
      if (a !== undefined) return a;
    }
    return undefined;
  }

  private bookOf(address: DerivedAddress): AddressBook {
    return this.books.find((b) => b.account.kind === address.kind && b.account.account === address.account)!;
  }

  private getPrivateKey = (address: DerivedAddress): Uint8Array => this.bookOf(address).account.derivePrivateKey(address.chain, address.index);

  /**
   * Refreshes the wallet from the node: tip height, address discovery on every account's receive and change chains
   * (an address is used when it has any history), the history of every used address, and their unspent outputs
   * (confirmed and mempool, less those spent in the mempool).
   * @throws WalletError http-error | not-found | network-error | timeout | bad-response
   */
  async sync(): Promise<SyncSummary> {
    const tipHeight = await this.client.getTipHeight();
    const history = new Map<string, ChainTx>();
    const used: DerivedAddress[] = [];
    for (const book of this.books) {
      await book.discover(async (_script, address) => {
        const txs = await this.client.getAddressTxs(address.address);
        for (const tx of txs) history.set(tx.txid, tx);
        if (txs.length > 0) used.push(address);
        return txs.length > 0;
      });
    }
    const utxos: WalletUtxo[] = [];
    for (const address of used) {
      for (const u of await this.client.getAddressUtxos(address.address)) {
        let tx = history.get(u.txid);
        if (tx === undefined) {
          // Confirmed or broadcast between the two requests: fetch it.
          tx = await this.client.getTx(u.txid);
          history.set(tx.txid, tx);
        }
        const output = tx.vout[u.vout];
        if (output === undefined || bytesToHex(output.scriptPubKey) !== bytesToHex(address.scriptPubKey)) continue;
        const isCoinbase = tx.vin.some((i) => i.isCoinbase);
        const coin = makeWalletCoin({ txid: txidFromHex(u.txid), index: u.vout }, output, address, {
          ...(u.status.confirmed && u.status.blockHeight !== undefined ? { height: u.status.blockHeight } : {}),
          isCoinbase,
        });
        const trusted = !u.status.confirmed && tx.vin.every((i) => i.prevout !== null && this.findAddress(i.prevout.scriptPubKey) !== undefined);
        utxos.push({ coin, confirmed: u.status.confirmed, trusted });
      }
    }
    this.history = history;
    this.utxos = utxos;
    this.tipHeight = tipHeight;
    this.spentLocally.clear();
    this.logger?.info({ tipHeight, txCount: history.size, utxoCount: utxos.length }, 'wallet synced');
    return { tipHeight, txCount: history.size, utxoCount: utxos.length };
  }

  private async ensureSynced(): Promise<void> {
    if (this.tipHeight < 0) await this.sync();
  }

  private isMature(coin: WalletCoin): boolean {
    if (!coin.isCoinbase) return true;
    // Spendable in the next block when it is coinbaseMaturity deep there (Core's CheckTxInputs).
    return coin.height !== undefined && this.tipHeight + 1 - coin.height >= this.params.coinbaseMaturity;
  }

  /** Coins that may fund a payment: mature confirmed ones and own unconfirmed change, not spent since the last sync. */
  private spendableCoins(confirmedOnly = false): WalletCoin[] {
    return this.utxos
      .filter((u) => !this.spentLocally.has(outpointKey(u.coin.outpoint)))
      .filter((u) => (u.confirmed ? this.isMature(u.coin) : !confirmedOnly && u.trusted))
      .map((u) => u.coin);
  }

  /** Balances as of the last sync (and the wallet's own broadcasts since). */
  getBalance(): WalletBalance {
    let confirmed = 0n;
    let unconfirmed = 0n;
    let immature = 0n;
    for (const u of this.utxos) {
      if (this.spentLocally.has(outpointKey(u.coin.outpoint))) continue;
      if (!u.confirmed) unconfirmed += u.coin.value;
      else if (this.isMature(u.coin)) confirmed += u.coin.value;
      else immature += u.coin.value;
    }
    return { confirmed, unconfirmed, immature };
  }

  /** The wallet's transactions: mempool ones first, then confirmed, newest first. */
  getHistory(): WalletTxRecord[] {
    const records = [...this.history.values()].map((tx): WalletTxRecord => {
      let receivedSats = 0n;
      let sentSats = 0n;
      for (const o of tx.vout) if (this.findAddress(o.scriptPubKey) !== undefined) receivedSats += o.value;
      for (const i of tx.vin) if (i.prevout !== null && this.findAddress(i.prevout.scriptPubKey) !== undefined) sentSats += i.prevout.value;
      return {
        txid: tx.txid,
        netSats: receivedSats - sentSats,
        receivedSats,
        sentSats,
        ...(sentSats > 0n ? { feeSats: tx.feeSats } : {}),
        status: tx.status,
        isCoinbase: tx.vin.some((i) => i.isCoinbase),
      };
    });
    const height = (r: WalletTxRecord) => (r.status.confirmed ? (r.status.blockHeight ?? 0) : Number.MAX_SAFE_INTEGER);
    return records.sort((a, b) => height(b) - height(a));
  }

  /** The unspent outputs as of the last sync, less those spent by the wallet's broadcasts since. */
  getUtxos(): readonly WalletCoin[] {
    return this.utxos.filter((u) => !this.spentLocally.has(outpointKey(u.coin.outpoint))).map((u) => u.coin);
  }

  /** A fresh receive address of the receive account (a new one each call, as Core's getnewaddress). */
  newAddress(): string {
    return this.receiveBook.newReceiveAddress().address;
  }

  /** The account-level extended public keys (zpub/xpub on main, vpub/tpub elsewhere). */
  getExtendedPublicKeys(): { kind: AccountKind; account: number; path: string; extendedPublicKey: string }[] {
    return this.books.map((b) => b.account.toJSON());
  }

  private parseDestination(to: string): Uint8Array {
    let script: Uint8Array;
    let version: number;
    let programLength: number;
    try {
      const decoded = decodeSegwitAddress(to, this.params.bech32Hrp);
      version = decoded.witnessVersion;
      programLength = decoded.program.length;
      script = addressToScriptPubKey(to, this.params.bech32Hrp);
    } catch (e) {
      throw new WalletError('bad-address', `not a ${this.params.name} address: ${e instanceof CryptoError ? e.code : String(e)}`);
    }
    // cairn networks accept only P2WPKH and P2TR outputs (DESIGN.md, Scripts): paying elsewhere makes an invalid tx.
    const spendable = (version === 0 && programLength === 20) || (version === 1 && programLength === 32);
    if (this.params.outputScriptRule === 'cairn' && !spendable) {
      throw new WalletError('bad-address', `${this.params.name} only pays to P2WPKH and P2TR addresses`);
    }
    return script;
  }

  /** The fee rate to use, sat/kvB: the one given, else the node's estimate for feeTargetBlocks; never below min relay. */
  private async resolveFeeRate(feeRateSatPerVb: number | undefined): Promise<number> {
    let rate: number;
    if (feeRateSatPerVb !== undefined) {
      rate = satPerVbToSatPerKvb(feeRateSatPerVb);
      if (rate < this.minRelayRate) {
        throw new WalletError('bad-fee-rate', `fee rate ${feeRateSatPerVb} sat/vB is below the minimum relay fee ${this.minRelayRate / 1000} sat/vB`);
      }
      return rate;
    }
    const estimates = await this.client.getFeeEstimates();
    const targets = [...estimates.keys()].sort((a, b) => a - b);
    // The estimate for the target, else for the nearest shorter target, else for the shortest one there is.
    const target = targets.filter((t) => t <= this.feeTargetBlocks).at(-1) ?? targets[0];
    rate = target === undefined ? 0 : satPerVbToSatPerKvb(estimates.get(target)!);
    return Math.max(rate, this.minRelayRate);
  }

  /**
   * Refuses a fee above the wallet's ceilings unless allowed: more than ceil(maxFeeRate × vsize / 1000) sats, or more
   * than maxTxFee sats.
   * @throws WalletError fee-too-high (with feeSats)
   * @see Bitcoin Core wallet/spend.cpp CreateTransactionInternal (MAX_FEE_EXCEEDED), node/transaction.cpp
   */
  private checkFeeCeiling(feeSats: Sats, vsize: number, allowHighFee: boolean | undefined): void {
    if (allowHighFee === true) return;
    const maxByRate = (this.maxFeeRate * BigInt(vsize) + 999n) / 1000n;
    if (feeSats <= maxByRate && feeSats <= this.maxTxFee) return;
    const rateSatPerVb = Math.round((Number(feeSats) / vsize) * 1000) / 1000;
    const limit =
      feeSats > maxByRate
        ? `the ceiling of ${Number(this.maxFeeRate) / 1000} sat/vB (${maxByRate} sats for ${vsize} vB)`
        : `the ceiling of ${this.maxTxFee} sats per transaction`;
    throw new WalletError(
      'fee-too-high',
      `the fee of ${feeSats} sats (${rateSatPerVb} sat/vB) is above ${limit}: refused as a likely mistake`,
      { feeSats },
    );
  }

  private finishSigned(unsigned: UnsignedTx, allowHighFee: boolean | undefined): SignedTx {
    const tx = signTransaction(unsigned.tx, unsigned.inputs, this.getPrivateKey, { auxRand: () => new Uint8Array(randomBytes(32)) });
    const vsize = getTxVsize(tx);
    this.checkFeeCeiling(unsigned.feeSats, vsize, allowHighFee);
    return {
      tx,
      txid: hashToHex(computeTxid(tx)),
      hex: bytesToHex(encodeTx(tx)),
      feeSats: unsigned.feeSats,
      vsize,
      feeRateSatPerVb: Number(unsigned.feeSats) / vsize,
      changeIndex: unsigned.changeIndex,
      changeSats: unsigned.changeSats,
      inputs: unsigned.inputs,
    };
  }

  private async buildUnsignedPayment(options: PaymentOptions): Promise<UnsignedTx> {
    // Bad input is refused before any request: no sync, and the error does not depend on the node being up.
    const scriptPubKey = this.parseDestination(options.to);
    if (typeof options.amountSats !== 'bigint' || options.amountSats <= 0n) throw new WalletError('bad-amount', 'the amount must be a positive number of sats');
    await this.ensureSynced();
    const feeRateSatPerKvb = await this.resolveFeeRate(options.feeRateSatPerVb);
    const changeAddress = this.receiveBook.getChangeAddress();
    const unsigned = buildPayment({
      outputs: [{ value: options.amountSats, scriptPubKey }],
      coins: this.spendableCoins(),
      feeRateSatPerKvb,
      changeAddress,
      locktime: this.antiFeeSniping ? Math.max(0, this.tipHeight) : 0,
      // Change at a random position, so it cannot be told from the payment by its place.
      changePosition: randomInt(2),
      dustRelayFeeRateSatPerKvb: this.dustRate,
    });
    return unsigned;
  }

  /**
   * Builds and signs a payment (not broadcast): coins selected at the fee rate, change to a fresh change address,
   * RBF signalled, nLockTime = tip height. A fee above the wallet's ceilings is refused unless options.allowHighFee.
   * @throws WalletError bad-address | bad-amount | dust-output | bad-fee-rate | insufficient-funds | too-many-inputs |
   *   fee-too-high | node client errors
   */
  async createPayment(options: PaymentOptions): Promise<SignedTx> {
    const unsigned = await this.buildUnsignedPayment(options);
    return this.finishSigned(unsigned, options.allowHighFee);
  }

  /**
   * Broadcasts a signed tx and records its effect until the next sync: inputs spent, change used and spendable.
   * A tx whose high fee the caller allowed goes out with the node's ceiling lifted too.
   */
  private async broadcast(signed: SignedTx, allowHighFee: boolean | undefined): Promise<void> {
    const txid = await this.client.broadcast(signed.hex, allowHighFee === true ? { maxFeeRateSatPerKvb: 0n } : {});
    if (txid !== signed.txid) throw new WalletError('bad-response', `the node answered txid ${txid} for ${signed.txid}`);
    for (const c of signed.inputs) this.spentLocally.add(outpointKey(c.outpoint));
    signed.tx.outputs.forEach((output, index) => {
      const address = this.findAddress(output.scriptPubKey);
      if (address === undefined) return;
      this.bookOf(address).markUsed(address.chain, address.index);
      const coin = makeWalletCoin({ txid: txidFromHex(txid), index }, output, address);
      this.utxos.push({ coin, confirmed: false, trusted: true });
    });
    this.history.set(txid, {
      txid,
      version: signed.tx.version,
      locktime: signed.tx.locktime,
      vin: signed.tx.inputs.map((input, i) => ({
        txid: hashToHex(input.prevout.txid),
        vout: input.prevout.index,
        prevout: signed.inputs[i]!.output,
        isCoinbase: false,
        sequence: input.sequence,
      })),
      vout: signed.tx.outputs,
      weight: signed.vsize * 4,
      feeSats: signed.feeSats,
      status: { confirmed: false },
    });
    this.logger?.info({ txid, feeSats: String(signed.feeSats), vsize: signed.vsize }, 'wallet broadcast');
  }

  /**
   * createPayment, then broadcast through the node.
   * @throws WalletError as createPayment | http-error (the node refused it; the message has its reason)
   */
  async send(options: PaymentOptions): Promise<SignedTx> {
    const signed = await this.createPayment(options);
    await this.broadcast(signed, options.allowHighFee);
    return signed;
  }

  /**
   * Builds and signs a replacement of the wallet's unconfirmed tx `txid` at `feeRateSatPerVb` (not broadcast): same
   * inputs, same payments, less change (or more confirmed inputs), meeting BIP-125 rules 3, 4 and 6. A fee above the
   * wallet's ceilings is refused unless options.allowHighFee.
   * @throws WalletError not-found | tx-confirmed | not-own-tx | has-descendants | fee-rate-too-low | bad-fee-rate |
   *   insufficient-funds | fee-too-high
   * @see Bitcoin Core wallet/feebumper.cpp
   */
  async createBumpFee(txid: string, feeRateSatPerVb: number, options: BumpFeeOptions = {}): Promise<SignedBump> {
    await this.ensureSynced();
    // Ask the node, not the last sync: the tx may have confirmed or been replaced since.
    const info = await this.client.getTx(txid);
    if (info.status.confirmed) throw new WalletError('tx-confirmed', `${txid} is already confirmed`);
    const original = decodeTx(hexToBytes(await this.client.getTxHex(txid)));
    if (hashToHex(computeTxid(original)) !== info.txid) throw new WalletError('bad-response', 'the node sent another tx');
    const outspends = await this.client.getOutspends(info.txid);
    if (outspends.some((o) => o.spent)) throw new WalletError('has-descendants', `an output of ${txid} is already spent`);
    const originalInputs = original.inputs.map((input, i) => {
      const prevout = info.vin[i]?.prevout;
      const address = prevout ? this.findAddress(prevout.scriptPubKey) : undefined;
      if (prevout === undefined || prevout === null || address === undefined) throw new WalletError('not-own-tx', `input ${i} of ${txid} is not the wallet's`);
      return makeWalletCoin(input.prevout, prevout, address);
    });
    const changeIndex = original.outputs.findIndex((o) => this.findAddress(o.scriptPubKey)?.chain === INTERNAL_CHAIN);
    const unsigned = buildBumpFee({
      originalTx: original,
      originalInputs,
      changeIndex,
      feeRateSatPerKvb: satPerVbToSatPerKvb(feeRateSatPerVb),
      extraCoins: this.spendableCoins(true),
      changeAddress: this.receiveBook.getChangeAddress(),
      incrementalRelayFeeRateSatPerKvb: this.incrementalRate,
      dustRelayFeeRateSatPerKvb: this.dustRate,
    });
    return { ...this.finishSigned(unsigned, options.allowHighFee), replacesTxid: info.txid, originalFeeSats: unsigned.originalFeeSats };
  }

  /**
   * createBumpFee, then broadcast the replacement (the node evicts the original).
   * @throws WalletError as createBumpFee | http-error
   */
  async bumpFee(txid: string, feeRateSatPerVb: number, options: BumpFeeOptions = {}): Promise<SignedBump> {
    const bump = await this.createBumpFee(txid, feeRateSatPerVb, options);
    await this.broadcast(bump, options.allowHighFee);
    // The replaced tx's outputs are gone with it.
    this.utxos = this.utxos.filter((u) => hashToHex(u.coin.outpoint.txid) !== bump.replacesTxid);
    this.history.delete(bump.replacesTxid);
    return bump;
  }

  /** Public description only: JSON.stringify never writes a key. */
  toJSON(): { network: string; accounts: ReturnType<Wallet['getExtendedPublicKeys']> } {
    return { network: this.params.name, accounts: this.getExtendedPublicKeys() };
  }

  /** util.inspect / console.log show public data only. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Wallet(${this.params.name}, ${this.books.map((b) => b.account.path).join(', ')})`;
  }
}
