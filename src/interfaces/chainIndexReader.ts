import type { AddressHistoryRecord, AddressStats, SpendRecord, TxLocation, UtxoRecord } from './chainTypes.js';
import type { Outpoint, Txid } from '../primitives/types.js';

/**
 * The read side of the node's Esplora indexes (main chain only): where a tx is, who spent an output, an address's
 * history and unspent coins. The store keeps them in the same transaction as each block connect or disconnect, so
 * they always describe the current tip. What the API reads besides the chain itself.
 * @see Blockstream electrs (the Esplora backend) new_index/schema.rs; Bitcoin Core index/txindex.h
 */
export interface ChainIndexReader {
  /** Where a main-chain tx is (block, height, position), or undefined. */
  getTxLocation(txid: Txid): TxLocation | undefined;
  /** The main-chain input that spent the outpoint, or undefined. */
  getSpend(outpoint: Outpoint): SpendRecord | undefined;
  /**
   * Main-chain history of a scriptPubKey, newest first (height, then position in the block, descending); with
   * `before`, only txs strictly older than that (height, position); at most `limit` rows.
   * @throws StorageError bad-argument (limit not a non-negative integer)
   */
  getAddressHistory(
    scriptPubKey: Uint8Array,
    options?: { readonly limit?: number; readonly before?: { readonly height: number; readonly position: number } },
  ): AddressHistoryRecord[];
  /**
   * Main-chain funded/spent totals and tx count of a scriptPubKey (all zero for a script the chain never touched).
   * PERF: one row read, whatever the length of the script's history.
   */
  getAddressStats(scriptPubKey: Uint8Array): AddressStats;
  /**
   * Unspent coins paying to a scriptPubKey, oldest first (by height, then outpoint bytes), at most `limit`.
   * @throws StorageError bad-argument (limit not a non-negative integer)
   */
  getAddressUtxos(scriptPubKey: Uint8Array, limit?: number): UtxoRecord[];
}
