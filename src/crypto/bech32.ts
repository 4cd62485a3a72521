import { bech32, bech32m } from '@scure/base';
import { AddressError } from './addressError.js';

/** The two checksum variants: bech32 (BIP-173, witness v0) and bech32m (BIP-350, witness v1+). */
export type Bech32Encoding = 'bech32' | 'bech32m';

/** A decoded bech32/bech32m string: lower-case HRP and the 5-bit data words without the 6-word checksum. */
export interface Bech32Decoded {
  hrp: string;
  words: number[];
  encoding: Bech32Encoding;
}

/** BIP-173's overall length limit for a bech32 string. */
const MAX_LENGTH = 90;
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function coder(encoding: Bech32Encoding): typeof bech32 {
  return encoding === 'bech32' ? bech32 : bech32m;
}

/**
 * Decodes a bech32 or bech32m string (BIP-173 / BIP-350) and checks its checksum: under `encoding` when given, else
 * under either (the result says which). The HRP is returned lower-case.
 * @throws AddressError too-long | bad-char | mixed-case | no-separator | empty-hrp | short-checksum | bad-checksum
 * @see BIP-173 "Bech32", BIP-350 "Bech32m"; sipa/bech32 ref/python segwit_addr.bech32_decode
 */
export function decodeBech32(text: string, encoding?: Bech32Encoding): Bech32Decoded {
  if (typeof text !== 'string') throw new AddressError('bad-char', 'expected a string');
  if (text.length > MAX_LENGTH) throw new AddressError('too-long', `${text.length} characters, at most ${MAX_LENGTH}`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 33 || c > 126) throw new AddressError('bad-char', `character code ${c} at position ${i}`);
  }
  const lower = text.toLowerCase();
  if (lower !== text && text.toUpperCase() !== text) throw new AddressError('mixed-case');
  const sep = lower.lastIndexOf('1');
  if (sep === -1) throw new AddressError('no-separator');
  if (sep === 0) throw new AddressError('empty-hrp');
  const data = lower.slice(sep + 1);
  if (data.length < 6) throw new AddressError('short-checksum', `data part has ${data.length} characters`);
  for (let i = 0; i < data.length; i++) {
    if (!CHARSET.includes(data[i]!)) throw new AddressError('bad-char', `'${data[i]}' is not a bech32 data character`);
  }
  // All format checks are done above, so the library can only refuse the checksum now.
  for (const enc of encoding ? [encoding] : (['bech32', 'bech32m'] as const)) {
    try {
      const { prefix, words } = coder(enc).decode(lower as `${string}1${string}`, MAX_LENGTH);
      return { hrp: prefix, words, encoding: enc };
    } catch {
      // try the next encoding, if any
    }
  }
  throw new AddressError('bad-checksum', encoding ? `not a valid ${encoding} checksum` : 'no valid checksum');
}

/**
 * Encodes an HRP (lower-case printable ASCII, 1..83 characters) and 5-bit data words as a bech32 or bech32m string.
 * @throws AddressError bad-hrp | bad-data | too-long
 * @see BIP-173, BIP-350
 */
export function encodeBech32(hrp: string, words: readonly number[], encoding: Bech32Encoding): string {
  checkHrp(hrp);
  for (const w of words) {
    if (!Number.isInteger(w) || w < 0 || w > 31) throw new AddressError('bad-data', 'data words must be 0..31');
  }
  const length = hrp.length + 7 + words.length;
  if (length > MAX_LENGTH) throw new AddressError('too-long', `${length} characters, at most ${MAX_LENGTH}`);
  return coder(encoding).encode(hrp, [...words], MAX_LENGTH);
}

/**
 * Checks that an HRP can be encoded: 1..83 characters of printable ASCII (33..126), no upper case.
 * @throws AddressError bad-hrp
 */
export function checkHrp(hrp: string): void {
  if (typeof hrp !== 'string' || hrp.length < 1 || hrp.length > 83) {
    throw new AddressError('bad-hrp', 'HRP must have 1..83 characters');
  }
  for (let i = 0; i < hrp.length; i++) {
    const c = hrp.charCodeAt(i);
    if (c < 33 || c > 126) throw new AddressError('bad-hrp', `character code ${c} in HRP`);
  }
  // Upper-case HRPs are refused rather than folded: the canonical form is lower-case and must round-trip.
  if (hrp.toLowerCase() !== hrp) throw new AddressError('bad-hrp', 'HRP must be lower-case');
}

/**
 * Regroups 8-bit bytes into 5-bit words (zero-padded), as bech32 data.
 * @see BIP-173 convertbits(data, 8, 5, pad=True)
 */
export function bytesToWords(bytes: Uint8Array): number[] {
  return bech32.toWords(bytes);
}

/**
 * Regroups 5-bit words into 8-bit bytes, refusing more than 4 padding bits or non-zero padding.
 * @throws AddressError bad-padding | bad-data
 * @see BIP-173 convertbits(data, 5, 8, pad=False)
 */
export function wordsToBytes(words: readonly number[]): Uint8Array {
  for (const w of words) {
    if (!Number.isInteger(w) || w < 0 || w > 31) throw new AddressError('bad-data', 'data words must be 0..31');
  }
  try {
    return bech32.fromWords([...words]);
  } catch {
    // With every word in range, the library only refuses excess (> 4 bits) or non-zero padding.
    throw new AddressError('bad-padding', 'more than 4 padding bits or non-zero padding');
  }
}
