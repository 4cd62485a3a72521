import { AddressError, addressToScriptPubKey } from '../crypto/address.js';
import type { ChainParams } from '../params/chainParams.js';
import { blockHashFromHex, txidFromHex } from '../primitives/hex.js';
import type { BlockHash, Txid } from '../primitives/types.js';
import { HttpError } from './httpError.js';

/** Largest block height a URL may name (heights are u32 in Esplora). */
const MAX_HEIGHT = 0xffffffff;

/** The URL parameter as 64 hex digits, or Esplora's 400. */
function hashParamText(hex: string): string {
  if (hex.length !== 64 || !/^[0-9a-fA-F]{64}$/.test(hex)) throw new HttpError(400, 'Invalid hex string');
  return hex;
}

/**
 * Parses a txid from a URL (64 hex digits, display order) into internal byte order.
 * @throws HttpError 400 "Invalid hex string" (Esplora's text for a malformed hash)
 */
export function parseTxidParam(hex: string): Txid {
  return txidFromHex(hashParamText(hex));
}

/**
 * Parses a block hash from a URL (64 hex digits, display order) into internal byte order.
 * @throws HttpError 400 "Invalid hex string"
 */
export function parseBlockHashParam(hex: string): BlockHash {
  return blockHashFromHex(hashParamText(hex));
}

/**
 * Parses a non-negative decimal integer from a URL (a height, a page start, an output index).
 * @throws HttpError 400 "Invalid <what>" when it is not a plain decimal integer in 0..2^32-1
 */
export function parseIndexParam(text: string, what: string): number {
  if (!/^\d{1,10}$/.test(text)) throw new HttpError(400, `Invalid ${what}`);
  const n = Number(text);
  if (n > MAX_HEIGHT) throw new HttpError(400, `Invalid ${what}`);
  return n;
}

/**
 * Parses an address of the node's network into the scriptPubKey it pays to (cairn addresses are segwit v0/v1 with
 * params.bech32Hrp).
 * @throws HttpError 400 "Invalid address: <AddressError reason>"
 */
export function parseAddressParam(address: string, params: ChainParams): Uint8Array {
  try {
    return addressToScriptPubKey(address, params.bech32Hrp);
  } catch (err) {
    if (err instanceof AddressError) throw new HttpError(400, `Invalid address: ${err.code}`);
    throw err;
  }
}
