import type { ChainParams } from '../params/chainParams.js';
import type { Sats } from '../primitives/types.js';
import { EXTERNAL_CHAIN, HdAccount } from '../wallet/hdAccount.js';

/** What the faucet pays per request by default: 10 coins, in sats (kept apart so the CLI help needs no service code). */
export const DEFAULT_FAUCET_AMOUNT_SATS: Sats = 1_000_000_000n;

/**
 * The faucet's receive address, where miners pay it: the first receive address (P2WPKH m/84'/coin'/0'/0/0) of its
 * wallet seed. The one derivation of the faucet address: Faucet.open uses it, and so does `cairn devnet` to point a
 * miner at the faucet before the service runs (kept here, away from the service code, so the CLI loads no more).
 */
export function faucetReceiveAddress(seed: Uint8Array, params: ChainParams): string {
  return HdAccount.fromSeed(seed, params, 'p2wpkh', 0).deriveAddress(EXTERNAL_CHAIN, 0).address;
}
