import { moneyRange } from '../../consensus/amount.js';
import { hexToBytes, hexToHash } from '../../primitives/hex.js';
import type { Hash256, Sats } from '../../primitives/types.js';
import { RPC_ERROR, RpcError } from './rpcError.js';

/**
 * Parses a displayed (reversed-hex) 32-byte hash argument into internal byte order.
 * @throws RpcError INVALID_PARAMETER "<name> must be of length 64 (not N, for '…')" | "<name> must be hexadecimal
 *   string (not '…')"
 * @see Bitcoin Core rpc/util.cpp ParseHashV
 */
export function parseHashArg(value: unknown, name: string): Hash256 {
  const text = String(value);
  if (/^[0-9a-fA-F]{64}$/.test(text)) return hexToHash(text);
  if (text.length !== 64) {
    throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `${name} must be of length 64 (not ${text.length}, for '${text}')`);
  }
  throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `${name} must be hexadecimal string (not '${text}')`);
}

/** Bytes of a hex string argument, or undefined when it is not hex (callers report Core's decode error). */
export function tryParseHex(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) return undefined;
  return hexToBytes(value);
}

/** The decimal text of a JSON number as the client most likely wrote it (no exponent). */
function numberText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // 1e-8 and friends: expand the exponent; 20 more digits than any amount needs, then drop trailing zeros.
  return value.toFixed(20).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/**
 * Parses an amount of coins (a JSON number or a decimal string, at most `decimals` decimals) into sats.
 * @throws RpcError TYPE_ERROR "Amount is not a number or string" | "Invalid amount" | "Amount out of range"
 * @see Bitcoin Core rpc/util.cpp AmountFromValue
 */
export function parseAmountArg(value: unknown, decimals = 8): Sats {
  if (typeof value !== 'number' && typeof value !== 'string') {
    throw new RpcError(RPC_ERROR.TYPE_ERROR, 'Amount is not a number or string');
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RpcError(RPC_ERROR.TYPE_ERROR, 'Invalid amount');
  const text = typeof value === 'number' ? numberText(value) : value;
  const match = /^(-?)(\d{1,17})(?:\.(\d+))?$/.exec(text);
  if (match === null) throw new RpcError(RPC_ERROR.TYPE_ERROR, 'Invalid amount');
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  if (fraction.length > decimals) throw new RpcError(RPC_ERROR.TYPE_ERROR, 'Invalid amount');
  // Amounts are in coins: 8 decimals make sats; fewer allowed decimals still count in sats.
  const sats = BigInt(match[2]!) * 100_000_000n + BigInt(fraction.padEnd(8, '0') || '0');
  const signed = match[1] === '-' ? -sats : sats;
  if (!moneyRange(signed)) throw new RpcError(RPC_ERROR.TYPE_ERROR, 'Amount out of range');
  return signed;
}

/**
 * Parses a fee rate in coins per kvB into sat/kvB.
 * @throws RpcError as parseAmountArg | INVALID_PARAMETER "Fee rates larger than or equal to 1BTC/kvB are not accepted"
 * @see Bitcoin Core rpc/util.cpp ParseFeeRate
 */
export function parseFeeRateArg(value: unknown): Sats {
  const rate = parseAmountArg(value);
  if (rate >= 100_000_000n) {
    throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'Fee rates larger than or equal to 1BTC/kvB are not accepted');
  }
  return rate;
}

/**
 * A verbosity argument that may be a number or a boolean (false = 0, true = 1), or the default when absent.
 * @throws RpcError TYPE_ERROR when it is neither
 * @see Bitcoin Core rpc/util.cpp ParseVerbosity
 */
export function parseVerbosityArg(value: unknown, defaultVerbosity: number): number {
  if (value === undefined || value === null) return defaultVerbosity;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new RpcError(RPC_ERROR.TYPE_ERROR, `Verbosity was ${typeof value === 'number' ? 'not an integer' : typeof value}`);
}

/**
 * An integer argument within [min, max].
 * @throws RpcError TYPE_ERROR when not an integer | INVALID_PARAMETER `message` when out of range
 */
export function parseIntArg(value: unknown, name: string, min: number, max: number, message?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RpcError(RPC_ERROR.TYPE_ERROR, `${name} must be an integer`);
  }
  if (value < min || value > max) {
    throw new RpcError(RPC_ERROR.INVALID_PARAMETER, message ?? `${name} out of range (${min}..${max})`);
  }
  return value;
}
