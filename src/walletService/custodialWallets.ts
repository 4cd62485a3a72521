/**
 * The custodial HD wallets of the service's accounts: one BIP-84 (P2WPKH) wallet per account whose seed is stored as
 * keystore JSON (keystore.ts: scrypt + AES-256-GCM) in the database, encrypted under the service's master key, not
 * the user's password, so the service can sign for its users. Wallets are opened on first use, kept in a bounded cache,
 * and used one request at a time per account (their sync and payment state is not shared between requests). The
 * receive addresses handed out are recorded so a restart hands out fresh ones.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ChainParams } from '../params/chainParams.js';
import type { AccountKind } from '../wallet/hdAccount.js';
import { parseKeystoreFile, sealKeystore, unsealKeystore, type ScryptParams } from '../wallet/keystore.js';
import type { NodeClient } from '../wallet/nodeClient.js';
import { Wallet } from '../wallet/wallet.js';
import { KeyedSerialQueue } from '../async/serialQueue.js';
import { nowIso, type WalletServiceTables } from './walletDb.js';

/**
 * scrypt cost of the service's keystores. The password is the 256-bit random master key, which needs no stretching
 * against guessing, so the cost is kept low (1 MiB, about 2 ms) for opening wallets on demand.
 */
export const SERVICE_KEYSTORE_SCRYPT: ScryptParams = Object.freeze({ N: 1024, r: 8, p: 1 });
/** The one account of a custodial wallet: BIP-84 P2WPKH account 0. */
export const CUSTODIAL_ACCOUNTS: readonly { kind: AccountKind; account: number }[] = Object.freeze([{ kind: 'p2wpkh', account: 0 }]);

/** Options of CustodialWallets. */
export interface CustodialWalletsOptions {
  readonly params: ChainParams;
  /** The service's master key (32 bytes); its hex is the keystores' password. */
  readonly masterKey: Uint8Array;
  /** Most wallets kept open (default 1,000; the least recently used is dropped). */
  readonly maxCached?: number;
  /** Address gap limit of the wallets (default 20). */
  readonly gapLimit?: number;
}

/** Services CustodialWallets uses. */
export interface CustodialWalletsDeps {
  readonly db: Kysely<WalletServiceTables>;
  readonly client: NodeClient;
  /** Logger (module wallet-service); wallets log under it at warn and above. */
  readonly logger?: Logger;
}

/** The accounts' custodial wallets. */
export class CustodialWallets {
  private readonly params: ChainParams;
  private readonly password: string;
  private readonly maxCached: number;
  private readonly gapLimit: number | undefined;
  private readonly db: Kysely<WalletServiceTables>;
  private readonly client: NodeClient;
  private readonly logger: Logger | undefined;
  private readonly cache = new Map<string, Wallet>();
  private readonly mutex = new KeyedSerialQueue();

  constructor(options: CustodialWalletsOptions, deps: CustodialWalletsDeps) {
    if (options.masterKey.length !== 32) throw new RangeError('the master key must be 32 bytes');
    this.params = options.params;
    this.password = Buffer.from(options.masterKey).toString('hex');
    this.maxCached = options.maxCached ?? 1_000;
    this.gapLimit = options.gapLimit;
    this.db = deps.db;
    this.client = deps.client;
    this.logger = deps.logger;
  }

  /** A new wallet's keystore JSON: a fresh 24-word seed encrypted under the master key (store it with the account). */
  async createKeystoreJson(): Promise<string> {
    const keystore = await sealKeystore({ params: this.params, password: this.password, accounts: CUSTODIAL_ACCOUNTS, scrypt: SERVICE_KEYSTORE_SCRYPT });
    return JSON.stringify(keystore.file);
  }

  private async open(accountId: string): Promise<Wallet> {
    const cached = this.cache.get(accountId);
    if (cached !== undefined) {
      // Most recently used last.
      this.cache.delete(accountId);
      this.cache.set(accountId, cached);
      return cached;
    }
    const row = await this.db.selectFrom('wallet_keystores').select(['keystore', 'network']).where('account_id', '=', accountId).executeTakeFirst();
    if (row === undefined) throw new Error(`account ${accountId} has no wallet`);
    const file = parseKeystoreFile(row.keystore);
    if (file.network !== this.params.name) throw new Error(`the wallet of account ${accountId} is on ${file.network}, the service on ${this.params.name}`);
    const keystore = await unsealKeystore(file, this.password, `account ${accountId}`);
    const wallet = Wallet.fromSeed(
      keystore.computeSeed(),
      { params: this.params, accounts: file.accounts.map(({ kind, account }) => ({ kind, account })), ...(this.gapLimit !== undefined ? { gapLimit: this.gapLimit } : {}) },
      { client: this.client, ...(this.logger ? { logger: this.logger.child({ account: accountId }, { level: 'warn' }) } : {}) },
    );
    // Hand the recorded addresses out again (in order), so the next one is fresh.
    const issued = await this.db.selectFrom('wallet_addresses').select(['address']).where('account_id', '=', accountId).orderBy('seq').execute();
    for (const { address } of issued) {
      const again = wallet.newAddress();
      if (again !== address) this.logger?.warn({ account: accountId, expected: address, got: again }, 'recorded address differs from the derived one');
    }
    this.cache.set(accountId, wallet);
    while (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    return wallet;
  }

  /**
   * Runs `fn` with the account's wallet, alone among the account's requests (sync, payments and addresses do not
   * interleave). The wallet is not synced here: call wallet.sync() for fresh balances.
   * @throws Error when the account has no wallet or its keystore does not open (a wrong master key)
   */
  withWallet<T>(accountId: string, fn: (wallet: Wallet) => Promise<T>): Promise<T> {
    return this.mutex.run(accountId, async () => fn(await this.open(accountId)));
  }

  /** Hands out a fresh receive address of the account's wallet and records it; returns it and its sequence number. */
  newAddress(accountId: string): Promise<{ address: string; seq: number }> {
    return this.withWallet(accountId, async (wallet) => {
      const address = wallet.newAddress();
      try {
        const { count } = await this.db
          .selectFrom('wallet_addresses')
          .select((eb) => eb.fn.countAll<number | string>().as('count'))
          .where('account_id', '=', accountId)
          .executeTakeFirstOrThrow();
        const seq = Number(count);
        await this.db.insertInto('wallet_addresses').values({ account_id: accountId, seq, address, created_at: nowIso() }).execute();
        return { address, seq };
      } catch (e) {
        // The open wallet counted an address the database has not: reopen from the records next time.
        this.cache.delete(accountId);
        throw e;
      }
    });
  }

  /** The receive addresses handed out to the account, oldest first. */
  async readAddresses(accountId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('wallet_addresses').select(['address']).where('account_id', '=', accountId).orderBy('seq').execute();
    return rows.map((r) => r.address);
  }
}
