/**
 * The devnet/regtest faucet: a service-owned HD wallet (BIP-84 account 0) that pays a fixed amount to whoever asks
 * (the service rate-limits the asking). Its coins come from miners paying the faucet address (the first receive
 * address, printed at start-up). Its seed lives in `<datadir>/faucet-keystore.json` (created on first start, mode 0600,
 * encrypted under the service's master key) or comes from a BIP-39 mnemonic file given by the operator.
 */
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ChainParams } from '../params/chainParams.js';
import type { Sats } from '../primitives/types.js';
import { mnemonicToWalletSeed } from '../wallet/hdAccount.js';
import { createKeystore, openKeystore } from '../wallet/keystore.js';
import type { NodeClient } from '../wallet/nodeClient.js';
import { Wallet, type SignedTx, type WalletBalance } from '../wallet/wallet.js';
import { isWalletError } from '../wallet/walletError.js';
import { CUSTODIAL_ACCOUNTS, SERVICE_KEYSTORE_SCRYPT } from './custodialWallets.js';
import { faucetReceiveAddress } from './faucetDefaults.js';
import { KeyedSerialQueue } from '../async/serialQueue.js';
import { ServiceError } from './serviceError.js';

/** Networks the faucet runs on: coins there are worth nothing. */
export const FAUCET_NETWORKS: readonly string[] = Object.freeze(['devnet', 'regtest']);

/** True when the faucet may run on this network (devnet, regtest). */
export function isFaucetNetwork(params: ChainParams): boolean {
  return FAUCET_NETWORKS.includes(params.name);
}

/** File name of the faucet keystore in the service's data dir. */
export const FAUCET_KEYSTORE_FILE = 'faucet-keystore.json';

/** Options of Faucet.open. */
export interface FaucetOptions {
  readonly params: ChainParams;
  /** The service's data dir (the faucet keystore lives there). */
  readonly datadir: string;
  /** The service's master key (32 bytes): the faucet keystore's password is its hex. */
  readonly masterKey: Uint8Array;
  /** A file holding the faucet's BIP-39 mnemonic (instead of the keystore in datadir). */
  readonly mnemonicFile?: string;
  /** What one request pays, sats. */
  readonly amountSats: Sats;
}

/** Services the faucet uses. */
export interface FaucetDeps {
  readonly client: NodeClient;
  readonly logger?: Logger;
}

/** The faucet wallet. */
export class Faucet {
  private readonly mutex = new KeyedSerialQueue();
  private lastBalance: { atMs: number; balance: WalletBalance } | undefined;

  private constructor(
    private readonly wallet: Wallet,
    /** Where miners pay the faucet: its first receive address. */
    readonly address: string,
    /** What one request pays, sats. */
    readonly amountSats: Sats,
    /** Where its seed comes from (a path, for the start-up line). */
    readonly source: string,
  ) {}

  /**
   * Opens the faucet wallet: from the mnemonic file, else from `<datadir>/faucet-keystore.json`, created with a new
   * seed on first start.
   * @throws ServiceError 403 faucet-disabled (not devnet or regtest); WalletError bad-mnemonic | wrong-password |
   *   corrupt-keystore | keystore-io; RangeError (amount not positive)
   */
  static async open(options: FaucetOptions, deps: FaucetDeps): Promise<Faucet> {
    const { params } = options;
    if (!isFaucetNetwork(params)) throw new ServiceError(403, 'faucet-disabled', `the faucet runs on ${FAUCET_NETWORKS.join(' and ')} only, not ${params.name}`);
    if (options.amountSats <= 0n) throw new RangeError('the faucet amount must be positive');
    const walletDeps = { client: deps.client, ...(deps.logger ? { logger: deps.logger.child({ wallet: 'faucet' }, { level: 'warn' }) } : {}) };
    let seed: Uint8Array;
    let source: string;
    if (options.mnemonicFile !== undefined) {
      const mnemonic = (await readFile(options.mnemonicFile, 'utf8')).trim().split(/\s+/).join(' ');
      seed = mnemonicToWalletSeed(mnemonic);
      source = options.mnemonicFile;
    } else {
      const path = join(options.datadir, FAUCET_KEYSTORE_FILE);
      const password = Buffer.from(options.masterKey).toString('hex');
      const exists = await access(path).then(() => true, () => false);
      const keystore = exists
        ? await openKeystore(path, password)
        : await createKeystore(path, { params, password, accounts: CUSTODIAL_ACCOUNTS, scrypt: SERVICE_KEYSTORE_SCRYPT });
      if (keystore.params.name !== params.name) throw new Error(`${path} is a ${keystore.params.name} keystore, the service runs ${params.name}`);
      seed = keystore.computeSeed();
      source = path;
    }
    const wallet = Wallet.fromSeed(seed, { params, accounts: CUSTODIAL_ACCOUNTS }, walletDeps);
    const address = faucetReceiveAddress(seed, params);
    return new Faucet(wallet, address, options.amountSats, source);
  }

  /**
   * Pays amountSats to `to` (synced first, so newly mined coins count; fee rate from the node's estimates).
   * @throws ServiceError 503 faucet-empty; WalletError bad-address and node client errors
   */
  pay(to: string): Promise<SignedTx> {
    return this.mutex.run('faucet', async () => {
      this.lastBalance = undefined;
      await this.wallet.sync();
      try {
        return await this.wallet.send({ to, amountSats: this.amountSats });
      } catch (e) {
        if (isWalletError(e, 'insufficient-funds')) {
          throw new ServiceError(503, 'faucet-empty', `the faucet has run dry; mine to ${this.address} to refill it`, { faucetAddress: this.address });
        }
        throw e;
      }
    });
  }

  /**
   * The faucet's balances, synced from the node; an answer less than `maxAgeMs` old is reused (GET /v1/faucet is
   * public, and a sync costs the node dozens of requests).
   */
  readBalance(maxAgeMs = 5_000): Promise<WalletBalance> {
    return this.mutex.run('faucet', async () => {
      if (this.lastBalance !== undefined && Date.now() - this.lastBalance.atMs < maxAgeMs) return this.lastBalance.balance;
      await this.wallet.sync();
      const balance = this.wallet.getBalance();
      this.lastBalance = { atMs: Date.now(), balance };
      return balance;
    });
  }
}
