import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

/**
 * The node's libp2p identity key (Ed25519), kept in `file` (protobuf bytes, mode 0600) so its peer id stays the same
 * across restarts; created on first use. A damaged file is an error, never silently replaced (the peer id would
 * change under the operator's feet).
 * @throws Error when the file exists but does not hold a libp2p private key
 */
export async function loadOrCreatePeerKey(file: string): Promise<PrivateKey> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (err) {
      throw new Error(`${file} does not hold a libp2p private key (${(err as Error).message}); move it away to create a new identity`);
    }
  }
  const key = await generateKeyPair('Ed25519');
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return key;
}
