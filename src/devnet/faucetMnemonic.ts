/**
 * The devnet's faucet seed: `<dir>/faucet-mnemonic.txt`, a BIP-39 mnemonic (devnet only, mode 0600) that the devnet's
 * `cairn wallet-service` child reads with --faucet-mnemonic-file, and from which the devnet derives the faucet's receive
 * address — the same derivation as the service (faucetReceiveAddress) — so that node1's miner funds the faucet.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateMnemonic } from '../crypto/hd.js';
import type { ChainParams } from '../params/chainParams.js';
import { mnemonicToWalletSeed } from '../wallet/hdAccount.js';
import { faucetReceiveAddress } from '../walletService/faucetDefaults.js';
import { DevnetError } from './devnetError.js';

/** File name of the faucet mnemonic in the devnet dir. */
export const FAUCET_MNEMONIC_FILE = 'faucet-mnemonic.txt';

/**
 * Reads the faucet mnemonic file, or creates it (mode 0600, written atomically) with a fresh 12-word mnemonic; returns
 * the faucet's receive address as the wallet service derives it.
 * @throws DevnetError bad-manifest (unreadable file or invalid mnemonic)
 */
export function openFaucetMnemonic(path: string, params: ChainParams): { address: string; created: boolean } {
  let mnemonic: string;
  const created = !existsSync(path);
  try {
    if (created) {
      mnemonic = generateMnemonic(new Uint8Array(randomBytes(16)));
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, mnemonic + '\n', { mode: 0o600 });
      renameSync(tmp, path);
    } else {
      // Read as the service reads it (walletService/faucet.ts): words separated by any white space.
      mnemonic = readFileSync(path, 'utf8').trim().split(/\s+/).join(' ');
    }
    return { address: faucetReceiveAddress(mnemonicToWalletSeed(mnemonic), params), created };
  } catch (err) {
    throw new DevnetError('bad-manifest', `${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
