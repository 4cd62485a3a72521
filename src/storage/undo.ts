import type { Coin } from '../consensus/utxoView.js';
import { BufferReader } from '../primitives/bufferReader.js';
import { BufferWriter, compactSizeLength } from '../primitives/bufferWriter.js';
import { StorageError } from './storageError.js';

/** Largest height an undo coin can carry: height * 2 + isCoinbase must fit a u32. */
export const MAX_UNDO_HEIGHT = 0x7fffffff;

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
/** Smallest serialized coin: u32 + i64 + 1-byte empty script length. */
const MIN_UNDO_COIN_SIZE = 4 + 8 + 1;

/**
 * Serializes a block's undo data, the coins its non-coinbase inputs spent in block order, as: compact-size count, then
 * per coin u32 LE (height * 2 + isCoinbase) || i64 LE value || compact-size script length || script.
 * @throws StorageError bad-undo (height not an integer in 0..2^31-1, value outside int64)
 * @see Bitcoin Core undo.h CBlockUndo / TxInUndoFormatter (which compresses; this format does not)
 */
export function encodeUndo(coins: readonly Coin[]): Uint8Array {
  let size = compactSizeLength(coins.length);
  for (const coin of coins) {
    const { height, isCoinbase } = coin;
    const { value, scriptPubKey } = coin.output;
    if (!Number.isInteger(height) || height < 0 || height > MAX_UNDO_HEIGHT) {
      throw new StorageError('bad-undo', `coin height ${height} is not an integer in 0..${MAX_UNDO_HEIGHT}`);
    }
    if (typeof value !== 'bigint' || value < MIN_I64 || value > MAX_I64) {
      throw new StorageError('bad-undo', `coin value ${String(value)} is outside int64`);
    }
    if (typeof isCoinbase !== 'boolean') throw new StorageError('bad-undo', 'coin isCoinbase must be a boolean');
    size += 4 + 8 + compactSizeLength(scriptPubKey.length) + scriptPubKey.length;
  }
  const w = new BufferWriter(size);
  w.writeCompactSize(coins.length);
  for (const coin of coins) {
    w.writeU32LE(coin.height * 2 + (coin.isCoinbase ? 1 : 0));
    w.writeI64LE(coin.output.value);
    w.writeVarBytes(coin.output.scriptPubKey);
  }
  return w.finish();
}

/**
 * Parses undo data written by encodeUndo, consuming every byte; scripts are copied out of the input.
 * @throws DecodeError unexpected-end | non-canonical-compact-size | size-too-large | trailing-bytes
 */
export function decodeUndo(bytes: Uint8Array): Coin[] {
  const r = new BufferReader(bytes);
  const n = r.readCount(MIN_UNDO_COIN_SIZE);
  const coins: Coin[] = [];
  for (let i = 0; i < n; i++) {
    const code = r.readU32LE();
    const value = r.readI64LE();
    const scriptPubKey = r.readVarBytes().slice();
    coins.push({ output: { value, scriptPubKey }, height: code >>> 1, isCoinbase: (code & 1) === 1 });
  }
  r.assertEnd();
  return coins;
}
