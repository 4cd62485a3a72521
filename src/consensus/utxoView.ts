import { formatOutpoint, outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { computeTxid, isCoinbase } from '../primitives/tx.js';
import type { Outpoint, Tx, TxOut, Txid } from '../primitives/types.js';
import { isUnspendable } from './scriptType.js';
import { VerifyError } from './verifyError.js';

/**
 * An unspent transaction output with what validation needs to know about its creation: the block `height` that
 * created it and whether it came from a coinbase (for the maturity rule).
 * @see Bitcoin Core coins.h Coin
 */
export interface Coin {
  readonly output: TxOut;
  readonly height: number;
  readonly isCoinbase: boolean;
}

/** Where a check reads coins from: the unspent coin at an outpoint, or undefined when missing or spent. */
export interface CoinLookup {
  getCoin(outpoint: Outpoint): Coin | undefined;
}

/** One entry of a UtxoView: the outpoint and its coin. */
export interface UtxoEntry {
  readonly outpoint: Outpoint;
  readonly coin: Coin;
}

/**
 * The in-memory set of coins a validation step sees, keyed by outpointKey: the chain fills it with the coins a block
 * or tx spends (from its UtxoSet), then connecting txs spends and adds coins in it. Pure: no I/O.
 * PERF: all operations are O(1) Map lookups.
 * @see Bitcoin Core coins.h CCoinsViewCache; btcd blockchain.UtxoViewpoint
 */
export class UtxoView implements CoinLookup {
  private readonly coins = new Map<OutpointKey, UtxoEntry>();

  /** Number of unspent coins held. */
  get size(): number {
    return this.coins.size;
  }

  /** The unspent coin at the outpoint, or undefined when it is missing or spent. */
  getCoin(outpoint: Outpoint): Coin | undefined {
    return this.coins.get(outpointKey(outpoint))?.coin;
  }

  /** True when the view holds an unspent coin at the outpoint. @see Bitcoin Core CCoinsViewCache::HaveCoin */
  has(outpoint: Outpoint): boolean {
    return this.coins.has(outpointKey(outpoint));
  }

  /**
   * Adds a coin at the outpoint. Overwriting an unspent coin is refused unless `allowOverwrite` (Core allows it for
   * the BIP-30 duplicate coinbases of Bitcoin's history; cairn never needs it).
   * @throws VerifyError bad-txns-BIP30 (an unspent coin already exists at the outpoint)
   * @see Bitcoin Core CCoinsViewCache::AddCoin (possible_overwrite)
   */
  addCoin(outpoint: Outpoint, coin: Coin, allowOverwrite = false): void {
    const key = outpointKey(outpoint);
    if (!allowOverwrite && this.coins.has(key)) {
      throw new VerifyError('bad-txns-BIP30', 100, `unspent coin already exists at ${formatOutpoint(outpoint)}`);
    }
    this.coins.set(key, { outpoint, coin });
  }

  /**
   * Removes the coin at the outpoint and returns it (the caller keeps it as undo data), or undefined when the view
   * holds no unspent coin there.
   * @see Bitcoin Core CCoinsViewCache::SpendCoin
   */
  spendCoin(outpoint: Outpoint): Coin | undefined {
    const key = outpointKey(outpoint);
    const entry = this.coins.get(key);
    if (entry === undefined) return undefined;
    this.coins.delete(key);
    return entry.coin;
  }

  /**
   * Adds every spendable output of the tx as a coin created at `height`; OP_RETURN (and oversized) outputs are
   * skipped because they can never be spent. `txid` may be passed when already known, to save rehashing.
   * @throws VerifyError bad-txns-BIP30 (an output's outpoint already holds an unspent coin)
   * @see Bitcoin Core coins.cpp AddCoins
   */
  addTxOutputs(tx: Tx, height: number, txid: Txid = computeTxid(tx)): void {
    const coinbase = isCoinbase(tx);
    tx.outputs.forEach((output, index) => {
      if (isUnspendable(output.scriptPubKey)) return;
      this.addCoin({ txid, index }, { output, height, isCoinbase: coinbase });
    });
  }

  /** The unspent coins, in insertion order. */
  entries(): IterableIterator<UtxoEntry> {
    return this.coins.values();
  }

  /** Iterates the unspent coins as { outpoint, coin }, in insertion order. */
  [Symbol.iterator](): IterableIterator<UtxoEntry> {
    return this.coins.values();
  }
}
