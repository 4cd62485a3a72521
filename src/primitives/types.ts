/**
 * The data types of Bitcoin's serialization, as plain immutable-by-convention objects. Byte arrays of hashes are in
 * internal (serialized, little-endian) order; reversed-hex display happens only in codecs (hex.ts, the CLI, APIs).
 */

/** Amount in base units (1 coin = 100,000,000). A signed 64-bit quantity on the wire; may be negative in invalid txs. */
export type Sats = bigint;

/** Base units per coin: 1 coin = 100,000,000 sats. @see Bitcoin Core consensus/amount.h COIN */
export const COIN: Sats = 100_000_000n;

/**
 * A 32-byte hash in internal byte order (as serialized), with no identity attached: merkle roots, sighashes,
 * commitments. The hashes that name things have their own brands below.
 */
export type Hash256 = Uint8Array;

/** The brand that makes each identity its own type (compile time only; nothing at run time). */
declare const identity: unique symbol;

/**
 * A transaction id: sha256d of the tx without witness data, 32 bytes in internal byte order. A branded Hash256, so a
 * Wtxid or a BlockHash cannot be passed for it; made only by computeTxid, decoders (readOutpoint, storage rows) and
 * txidFromHex at the edges.
 * @see Bitcoin Core primitives/transaction.h Txid
 */
export type Txid = Hash256 & { readonly [identity]: 'Txid' };

/**
 * A witness transaction id: sha256d of the tx with witness data (BIP-141), 32 bytes in internal byte order; equal in
 * value to the txid of a tx without witnesses, but its own type. Made only by computeWtxid and decoders.
 * @see BIP-141; Bitcoin Core primitives/transaction.h Wtxid
 */
export type Wtxid = Hash256 & { readonly [identity]: 'Wtxid' };

/**
 * A block hash: sha256d of the 80-byte header, 32 bytes in internal byte order. Made only by computeBlockHash,
 * decoders (readBlockHeader's prevBlock, storage rows, p2p messages) and blockHashFromHex at the edges.
 * @see Bitcoin Core primitives/block.h CBlockHeader::GetHash
 */
export type BlockHash = Hash256 & { readonly [identity]: 'BlockHash' };

/**
 * Reference to one output of an earlier transaction: its txid and output index (`vout`).
 * Serialized as 32-byte txid + u32 LE index (36 bytes). The coinbase prevout is null: zero txid, index 0xffffffff.
 */
export interface Outpoint {
  readonly txid: Txid;
  readonly index: number;
}

/**
 * A transaction input: the prevout it spends, its scriptSig (empty for every cairn spend), nSequence (u32),
 * and its witness stack (BIP-141; empty array when the input has no witness).
 */
export interface TxIn {
  readonly prevout: Outpoint;
  readonly scriptSig: Uint8Array;
  readonly sequence: number;
  readonly witness: readonly Uint8Array[];
}

/** A transaction output: value in sats (signed int64 on the wire) and its scriptPubKey. */
export interface TxOut {
  readonly value: Sats;
  readonly scriptPubKey: Uint8Array;
}

/**
 * A transaction. `version` is the u32 nVersion; `locktime` the u32 nLockTime. It has witness data when any input
 * has a non-empty witness; it is then serialized with the BIP-144 marker 0x00 and flag 0x01.
 * @see BIP-141, BIP-144; Bitcoin Core primitives/transaction.h CTransaction
 */
export interface Tx {
  readonly version: number;
  readonly inputs: readonly TxIn[];
  readonly outputs: readonly TxOut[];
  readonly locktime: number;
}

/**
 * The 80-byte block header: version (i32), prevBlock hash, merkleRoot, time (u32 seconds since the epoch),
 * bits (compact target, u32) and nonce (u32).
 * @see Bitcoin Core primitives/block.h CBlockHeader
 */
export interface BlockHeader {
  readonly version: number;
  readonly prevBlock: BlockHash;
  readonly merkleRoot: Hash256;
  readonly time: number;
  readonly bits: number;
  readonly nonce: number;
}

/** A block: header and transactions, the first of which must be the coinbase. */
export interface Block {
  readonly header: BlockHeader;
  readonly txs: readonly Tx[];
}
