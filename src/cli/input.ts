import { readFileSync } from 'node:fs';
import { AmountError, parseCoins } from '../consensus/amount.js';
import { hexToBytes } from '../primitives/hex.js';
import type { Sats } from '../primitives/types.js';

/** A CLI usage or input problem: printed as `error: <message>` with exit code 1 (never a stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const HEX_DIGITS = /^[0-9a-fA-F]*$/;

/**
 * Reads a file named on the command line.
 * @throws CliError when it cannot be read
 */
export function readFileArg(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** True when the bytes are text made only of hex digits and white space (so a file holds hex, not raw bytes). */
export function isHexText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (const b of bytes) {
    const isHex = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
    const isSpace = b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
    if (!isHex && !isSpace) return false;
  }
  return true;
}

/**
 * Turns a `<hex | @file>` argument into bytes: a literal hex string, or `@path` to a file holding hex text or raw
 * bytes (a file is taken as hex when it holds only hex digits and white space).
 * @throws CliError on unreadable files or malformed hex
 */
export function readHexOrFileArg(arg: string): Uint8Array {
  if (arg.startsWith('@')) {
    const bytes = readFileArg(arg.slice(1));
    if (isHexText(bytes)) return parseHex(new TextDecoder().decode(bytes), arg);
    return bytes;
  }
  return parseHex(arg, 'argument');
}

/** Hex text to bytes, white space anywhere ignored (hex pasted across lines or in groups). */
function parseHex(raw: string, what: string): Uint8Array {
  // White space must go before hexToBytes, which rejects it with a DecodeError the CLI would report as a crash.
  const text = raw.replace(/\s+/g, '');
  if (!HEX_DIGITS.test(text) || text.length % 2 !== 0 || text.length === 0) {
    throw new CliError(`${what} is not hex: expected an even number of hex digits (or @file)`);
  }
  return hexToBytes(text);
}

/**
 * Reads a `<json | @file>` argument and parses it.
 * @throws CliError on unreadable files or invalid JSON
 */
export function readJsonOrFileArg(arg: string): unknown {
  const text = arg.startsWith('@') ? new TextDecoder().decode(readFileArg(arg.slice(1))) : arg;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`invalid JSON in ${arg.startsWith('@') ? arg : 'argument'}: ${(err as Error).message}`);
  }
}

/**
 * Parses a command-line amount of coins ("10", "0.5", at most 8 decimals) into sats, exactly (consensus/amount's
 * parseCoins); `what` names the flag or argument in the error. Must be more than zero.
 * @throws CliError naming `what` and the reason (not a number, more than 8 decimals, over 21,000,000 coins, not positive)
 */
export function parseCoinsArg(text: string, what: string): Sats {
  try {
    // Exponents are for JSON numbers; on a command line "1e3" is more likely a typo than a thousand coins.
    if (/[eE]/.test(text)) throw new AmountError('amount-syntax', 'exponent');
    return parseCoins(text.trim(), { allowZero: false });
  } catch (err) {
    if (!(err instanceof AmountError)) throw err;
    const why =
      err.code === 'amount-too-precise'
        ? 'has more than 8 decimals (1 sat = 0.00000001)'
        : err.code === 'amount-out-of-range' && /zero/.test(err.message)
          ? 'must be more than zero'
          : err.code === 'amount-out-of-range'
            ? 'is more than the 21,000,000 coins that can exist'
            : err.code === 'amount-negative'
              ? 'must be more than zero'
              : 'is not an amount in coins (e.g. 10 or 0.5)';
    throw new CliError(`${what} '${text}' ${why}`);
  }
}
