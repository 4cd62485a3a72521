import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { xOnlyPublicKey } from '../crypto/schnorr.js';
import { ElectError } from './electError.js';
import type { ElectGenesis } from './genesis.js';

/** File name of a peer's key inside its data dir (mode 0600). */
export const PEER_KEY_FILE = 'elect-key.json';

/** A peer's identity: its member index and private key. */
export interface PeerKey {
  readonly chainId: string;
  readonly index: number;
  readonly privateKey: Uint8Array;
}

/** Writes a peer's key file into its data dir (readable by the owner only). */
export function writePeerKey(datadir: string, key: PeerKey): void {
  const text = JSON.stringify({ chainId: key.chainId, index: key.index, privateKeyHex: Buffer.from(key.privateKey).toString('hex') }, null, 2) + '\n';
  writeFileSync(join(datadir, PEER_KEY_FILE), text, { mode: 0o600 });
}

/**
 * Reads a peer's key file and checks it against the genesis: same chain, and the key is the listed member's.
 * @throws ElectError bad-key (missing, malformed, other chain, not the member's key)
 */
export function readPeerKey(datadir: string, genesis: ElectGenesis): PeerKey {
  let parsed: { chainId?: unknown; index?: unknown; privateKeyHex?: unknown };
  try {
    parsed = JSON.parse(readFileSync(join(datadir, PEER_KEY_FILE), 'utf8')) as typeof parsed;
  } catch (err) {
    throw new ElectError('bad-key', `cannot read ${join(datadir, PEER_KEY_FILE)}: ${(err as Error).message}`);
  }
  if (parsed.chainId !== genesis.chainId) throw new ElectError('bad-key', `key is for chain ${String(parsed.chainId)}, genesis is ${genesis.chainId}`);
  const index = parsed.index;
  if (typeof index !== 'number' || genesis.members[index] === undefined) throw new ElectError('bad-key', `index ${String(index)} is not a member`);
  if (typeof parsed.privateKeyHex !== 'string' || !/^[0-9a-f]{64}$/.test(parsed.privateKeyHex)) throw new ElectError('bad-key', 'privateKeyHex must be 64 hex chars');
  const privateKey = new Uint8Array(Buffer.from(parsed.privateKeyHex, 'hex'));
  let pub: string;
  try {
    pub = Buffer.from(xOnlyPublicKey(privateKey)).toString('hex');
  } catch {
    throw new ElectError('bad-key', 'not a valid secp256k1 private key');
  }
  if (pub !== genesis.members[index]!.publicKeyHex) throw new ElectError('bad-key', `key does not match member ${index}'s public key`);
  return { chainId: genesis.chainId, index, privateKey };
}
