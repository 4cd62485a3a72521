import { NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block, Tx } from '../primitives/types.js';

/** What makes each network's genesis block unique. Chosen once; the resulting hash is pinned by a test. */
export interface GenesisSpec {
  /** Block time, seconds since the epoch. */
  readonly timeSec: number;
  /** Compact target of the genesis block (its difficulty; also the ASERT anchor's bits on cairn networks). */
  readonly bits: number;
  /** Nonce found by mining the header once (scripts/mineGenesis.ts). */
  readonly nonce: number;
  /** Text committed in the coinbase scriptSig, as Bitcoin's "The Times 03/Jan/2009 …". */
  readonly message: string;
}

/**
 * Builds a cairn genesis block: one coinbase whose scriptSig is BIP-34 height 0 (OP_0) followed by a push of the
 * message, and one zero-value OP_RETURN output carrying "cairn" (the genesis coinbase is never spendable, as in Bitcoin).
 * Header version 1, null prevBlock; the merkle root of a one-transaction block is that transaction's txid.
 * @see Bitcoin Core kernel/chainparams.cpp CreateGenesisBlock
 */
export function buildGenesisBlock(spec: GenesisSpec): Block {
  const message = new TextEncoder().encode(spec.message);
  if (message.length > 75) throw new Error('genesis message must fit one direct push (<= 75 bytes)');
  const scriptSig = new Uint8Array([0x00, message.length, ...message]);
  const tag = new TextEncoder().encode('cairn');
  const coinbase: Tx = {
    version: 1,
    inputs: [{ prevout: NULL_OUTPOINT, scriptSig, sequence: 0xffffffff, witness: [] }],
    outputs: [{ value: 0n, scriptPubKey: new Uint8Array([0x6a, tag.length, ...tag]) }],
    locktime: 0,
  };
  return {
    header: {
      version: 1,
      prevBlock: NULL_BLOCK_HASH,
      merkleRoot: computeTxid(coinbase),
      time: spec.timeSec,
      bits: spec.bits,
      nonce: spec.nonce,
    },
    txs: [coinbase],
  };
}
