/**
 * An independent re-computation of the UTXO set digest for tests: replays blocks naively (spend inputs, add outputs,
 * skip OP_RETURN and the genesis coinbase) in a Map and hashes the coins in outpoint order with node:crypto, per the
 * format documented on UtxoSetDigest (src/storage/chainStore.ts). It shares no code with the store or the chain, so a
 * match is evidence that both are right, not that one agrees with itself.
 */
import { createHash } from 'node:crypto';
import type { Block } from '../primitives/types.js';
import { computeTxid } from '../primitives/tx.js';

interface ReplayCoin {
  readonly outpoint: Buffer;
  readonly value: bigint;
  readonly script: Uint8Array;
  readonly height: number;
  readonly coinbase: boolean;
}

/** The result of a replay: coin count, total value and the display hex of sha256d over the serialized coins. */
export interface ReplayDigest {
  readonly txouts: number;
  readonly totalAmount: bigint;
  readonly hashSerialized: string;
}

function outpointBytes(txid: Uint8Array, index: number): Buffer {
  const b = Buffer.alloc(36);
  b.set(txid, 0);
  b.writeUInt32LE(index, 32);
  return b;
}

function compactSize(n: number): Buffer {
  if (n < 0xfd) return Buffer.from([n]);
  if (n <= 0xffff) {
    const b = Buffer.alloc(3);
    b[0] = 0xfd;
    b.writeUInt16LE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = 0xfe;
  b.writeUInt32LE(n, 1);
  return b;
}

/**
 * Replays `blocks` (genesis first, in chain order; block i is at height i) into a UTXO set and returns its digest.
 * Throws if a block spends a coin the replay does not hold (the stored chain would then be inconsistent).
 */
export function replayUtxoDigest(blocks: readonly Block[]): ReplayDigest {
  const utxos = new Map<string, ReplayCoin>();
  blocks.forEach((block, height) => {
    for (const [position, tx] of block.txs.entries()) {
      const coinbase = position === 0;
      if (!coinbase) {
        for (const input of tx.inputs) {
          const key = outpointBytes(input.prevout.txid, input.prevout.index).toString('hex');
          if (!utxos.delete(key)) throw new Error(`replay: block ${height} spends missing coin ${key}`);
        }
      }
      if (height === 0) continue; // the genesis coinbase is not spendable, as in Bitcoin
      const txid = computeTxid(tx);
      tx.outputs.forEach((output, index) => {
        if (output.scriptPubKey[0] === 0x6a) return; // OP_RETURN: unspendable, never in the set
        const outpoint = outpointBytes(txid, index);
        utxos.set(outpoint.toString('hex'), { outpoint, value: output.value, script: output.scriptPubKey, height, coinbase });
      });
    }
  });
  const coins = [...utxos.values()].sort((a, b) => Buffer.compare(a.outpoint, b.outpoint));
  const h = createHash('sha256');
  let total = 0n;
  for (const c of coins) {
    const meta = Buffer.alloc(12);
    meta.writeUInt32LE(c.height * 2 + (c.coinbase ? 1 : 0), 0);
    meta.writeBigInt64LE(c.value, 4);
    h.update(c.outpoint).update(meta).update(compactSize(c.script.length)).update(c.script);
    total += c.value;
  }
  const digest = createHash('sha256').update(h.digest()).digest();
  return { txouts: coins.length, totalAmount: total, hashSerialized: Buffer.from(digest).reverse().toString('hex') };
}
