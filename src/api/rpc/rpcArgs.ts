import { AmountError, coinsFromNumber, moneyRange, parseCoins } from '../../consensus/amount.js';
import { blockHashFromHex, hexToBytes, txidFromHex } from '../../primitives/hex.js';
import { COIN, type BlockHash, type Sats, type Txid } from '../../primitives/types.js';
import { RPC_ERROR, RpcError } from './rpcError.js';

/** The argument as 64 hex digits, or Core's ParseHashV error. */
function hashArgText(value: unknown, name: string): string {
  const text = String(value);
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text;
  if (text.length !== 64) {
    throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `${name} must be of length 64 (not ${text.length}, for '${text}')`);
  }
  throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `${name} must be hexadecimal string (not '${text}')`);
}

/**
 * Parses a displayed (reversed-hex) txid argument into internal byte order.
 * @throws RpcError INVALID_PARAMETER "<name> must be of length 64 (not N, for '…')" | "<name> must be hexadecimal
 *   string (not '…')"
 * @see Bitcoin Core rpc/util.cpp ParseHashV
 */
export function parseTxidArg(value: unknown, name: string): Txid {
  return txidFromHex(hashArgText(value, name));
}

/**
 * Parses a displayed (reversed-hex) block hash argument into internal byte order.
 * @throws RpcError INVALID_PARAMETER, as parseTxidArg
 * @see Bitcoin Core rpc/util.cpp ParseHashV
 */
export function parseBlockHashArg(value: unknown, name: string): BlockHash {
  return blockHashFromHex(hashArgText(value, name));
}

/** Bytes of a hex string argument, or undefined when it is not hex (callers report Core's decode error). */
export function tryParseHex(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) return undefined;
  return hexToBytes(value);
}

/**
 * Parses an amount of coins (a JSON number or a decimal string, at most 8 decimals) into sats, exactly: a number is
 * read from its shortest round-trip text, so 0.1 is 10,000,000 sats, never 9,999,999.
 * @throws RpcError TYPE_ERROR "Amount is not a number or string" | "Invalid amount" | "Amount out of range"
 * @see Bitcoin Core rpc/util.cpp AmountFromValue
 */
export function parseAmountArg(value: unknown): Sats {
  if (typeof value !== 'number' && typeof value !== 'string') {
    throw new RpcError(RPC_ERROR.TYPE_ERROR, 'Amount is not a number or string');
  }
  try {
    const sats = typeof value === 'number' ? coinsFromNumber(value, { allowNegative: true }) : parseCoins(value, { allowNegative: true });
    if (!moneyRange(sats)) throw new RpcError(RPC_ERROR.TYPE_ERROR, 'Amount out of range');
    return sats;
  } catch (err) {
    if (!(err instanceof AmountError)) throw err;
    throw new RpcError(RPC_ERROR.TYPE_ERROR, err.code === 'amount-out-of-range' ? 'Amount out of range' : 'Invalid amount');
  }
}

/**
 * Parses a fee rate in coins per kvB into sat/kvB.
 * @throws RpcError as parseAmountArg | INVALID_PARAMETER "Fee rates larger than or equal to 1BTC/kvB are not accepted"
 * @see Bitcoin Core rpc/util.cpp ParseFeeRate
 */
export function parseFeeRateArg(value: unknown): Sats {
  const rate = parseAmountArg(value);
  if (rate >= COIN) {
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
