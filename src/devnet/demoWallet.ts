/**
 * The devnet's demo wallet: one BIP-39 mnemonic kept UNENCRYPTED in `<dir>/demo-wallet.json` (a devnet-only demo; the
 * file says so), from which come the nodes' mining addresses and the demo addresses the DemoSpender pays between.
 *
 * Addresses (BIP-84/86 on devnet, coin type 1):
 * - mining address of node i (0-based): P2WPKH m/84'/1'/0'/0/i — these receive only coinbases;
 * - demo addresses: P2WPKH m/84'/1'/0'/1/0..3 and P2TR m/86'/1'/0'/0/0..3 — these receive the demo payments.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateMnemonic } from '../crypto/hd.js';
import type { ChainParams } from '../params/chainParams.js';
import { HdAccount, INTERNAL_CHAIN, EXTERNAL_CHAIN, mnemonicToWalletSeed, type DerivedAddress } from '../wallet/hdAccount.js';
import { DevnetError } from './devnetError.js';

/** Demo addresses per account kind. */
export const DEMO_ADDRESSES_PER_KIND = 4;

/** What demo-wallet.json holds. */
export interface DemoWalletFile {
  readonly warning: string;
  readonly network: string;
  /** SECRET (devnet only): the BIP-39 mnemonic, no passphrase. */
  readonly mnemonic: string;
  readonly createdAtSec: number;
  /** For reading only; the wallet derives them again from the mnemonic. */
  readonly miningAddresses: readonly string[];
  readonly demoAddresses: readonly string[];
}

const WARNING =
  'DEVNET DEMO WALLET. The mnemonic below is stored UNENCRYPTED so that `cairn devnet` can sign demo transactions ' +
  'unattended. It controls devnet coins only; never use it, or these addresses, for anything of value.';

/** The demo wallet's keys: mining addresses, demo addresses, and the private key of any of them. */
export class DemoKeys {
  private readonly segwit: HdAccount;
  private readonly taproot: HdAccount;
  /** Demo payment addresses (P2WPKH change chain and P2TR receive chain). */
  readonly demoAddresses: readonly DerivedAddress[];

  constructor(
    readonly params: ChainParams,
    mnemonic: string,
  ) {
    const seed = mnemonicToWalletSeed(mnemonic);
    this.segwit = HdAccount.fromSeed(seed, params, 'p2wpkh', 0);
    this.taproot = HdAccount.fromSeed(seed, params, 'p2tr', 0);
    const demo: DerivedAddress[] = [];
    for (let i = 0; i < DEMO_ADDRESSES_PER_KIND; i++) {
      demo.push(this.segwit.deriveAddress(INTERNAL_CHAIN, i), this.taproot.deriveAddress(EXTERNAL_CHAIN, i));
    }
    this.demoAddresses = demo;
  }

  /** The mining (coinbase payout) address of node `index` (0-based). */
  miningAddress(index: number): DerivedAddress {
    return this.segwit.deriveAddress(EXTERNAL_CHAIN, index);
  }

  /** SECRET: the private key of one of the wallet's addresses (untweaked for P2TR). */
  privateKeyOf = (address: DerivedAddress): Uint8Array =>
    (address.kind === 'p2wpkh' ? this.segwit : this.taproot).derivePrivateKey(address.chain, address.index);
}

/**
 * Opens demo-wallet.json, or creates it with a fresh 12-word mnemonic; lists the mining addresses of `nodeCount` nodes.
 * @throws DevnetError bad-manifest (unreadable file, other network, invalid mnemonic)
 */
export function openDemoWallet(path: string, params: ChainParams, nodeCount: number): { keys: DemoKeys; created: boolean } {
  let file: DemoWalletFile | undefined;
  if (existsSync(path)) {
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as DemoWalletFile;
    } catch (err) {
      throw new DevnetError('bad-manifest', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (file.network !== params.name || typeof file.mnemonic !== 'string') {
      throw new DevnetError('bad-manifest', `${path} is not a demo wallet of ${params.name}`);
    }
  }
  const mnemonic = file?.mnemonic ?? generateMnemonic(new Uint8Array(randomBytes(16)));
  let keys: DemoKeys;
  try {
    keys = new DemoKeys(params, mnemonic);
  } catch (err) {
    throw new DevnetError('bad-manifest', `${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const miningAddresses = Array.from({ length: nodeCount }, (_, i) => keys.miningAddress(i).address);
  const sameList = file !== undefined && file.miningAddresses.join() === miningAddresses.join();
  if (!sameList) {
    const out: DemoWalletFile = {
      warning: WARNING,
      network: params.name,
      mnemonic,
      createdAtSec: file?.createdAtSec ?? Math.floor(Date.now() / 1000),
      miningAddresses,
      demoAddresses: keys.demoAddresses.map((a) => a.address),
    };
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(out, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, path);
  }
  return { keys, created: file === undefined };
}
