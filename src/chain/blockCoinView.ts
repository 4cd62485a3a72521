import { isUnspendable } from '../consensus/scriptType.js';
import type { Coin, CoinLookup } from '../consensus/utxoView.js';
import { hashKey, type HashKey } from '../primitives/hashKey.js';
import { outpointKey, outpointKeyOf, txidKeyOf, type OutpointKey } from '../primitives/outpoint.js';
import type { Block, Outpoint, TxOut, Txid } from '../primitives/types.js';
import type { UtxoRecord } from '../interfaces/chainTypes.js';

/** The coins of the set at a block's input prevouts, read before its txids were known (prefetchInputCoins). */
export interface InputCoinPrefetch {
  readonly block: Block;
  /** The coins found, by outpoint key. */
  readonly coins: ReadonlyMap<OutpointKey, Coin>;
  /** Key of every non-coinbase input's prevout, in block order (readInputs takes them instead of making them again). */
  readonly inputKeys: readonly OutpointKey[];
}

/** The coins of one tx's inputs, by the prevout objects themselves: each lookup is an identity Map hit. */
class TxInputCoins implements CoinLookup {
  readonly byPrevout = new Map<Outpoint, Coin>();

  getCoin(outpoint: Outpoint): Coin | undefined {
    return this.byPrevout.get(outpoint);
  }
}

/**
 * The coins one block's connect sees, as Core's CCoinsViewCache over the UTXO set at the block's parent (btcd's
 * UtxoViewpoint): made with every coin the block's inputs spend from the set and every coin of the set at one of
 * the block's own outpoints (for BIP-30), read in one go; then connectTransaction spends and adds coins tx by tx, so
 * a tx sees the outputs of earlier txs of the block and not the coins they spent. The net change to the set and the
 * undo data come out at the end. Txs are addressed by their index in the block.
 * PERF: every outpoint key is made once (outpointKey, over the txid's hashKey made once per tx); a tx's coins are handed to
 * checkTxInputs by prevout identity.
 * @see Bitcoin Core coins.h CCoinsViewCache, validation.cpp ConnectBlock; btcd blockchain/utxoviewpoint.go
 */
export class BlockCoinView {
  /** The unspent coins the block can see: those read from the set, then as changed by the connected txs. */
  private readonly live = new Map<OutpointKey, Coin>();
  /** Coins of the set at one of the block's outpoints (BIP-30), by key. */
  private readonly overwritten = new Set<OutpointKey>();
  /** Coins created by the block and not spent inside it, by key. */
  private readonly created = new Map<OutpointKey, UtxoRecord>();
  /** Coins of the set the block spent. */
  private readonly spent: Outpoint[] = [];
  private readonly inputCoins = new TxInputCoins();
  /** Whether readOwnOutputs ran (findOverwrittenOutput needs it). */
  private ownOutputsRead = false;

  private constructor(
    private readonly block: Block,
    private readonly txids: readonly Txid[],
    private readonly txidKeys: readonly HashKey<Txid>[],
    /** Index in the block of each tx, by txid key. */
    private readonly txIndexByKey: ReadonlyMap<HashKey<Txid>, number>,
    /** Key of every non-coinbase input's prevout, in block order. */
    private readonly inputKeys: readonly OutpointKey[],
    /** Index in inputKeys of each tx's first input. */
    private readonly firstInput: readonly number[],
  ) {}

  /**
   * Reads the coins a block needs from the set: every prevout of its non-coinbase inputs that is not an output of the
   * block itself, and every spendable outpoint the block creates (an unspent coin there breaks BIP-30).
   * `readCoins` answers aligned with its argument. Same as readInputs then readOwnOutputs with the same `readCoins`.
   */
  static read(
    block: Block,
    txids: readonly Txid[],
    readCoins: (outpoints: readonly Outpoint[]) => readonly (Coin | undefined)[],
  ): BlockCoinView {
    const view = BlockCoinView.readInputs(block, txids, readCoins);
    view.readOwnOutputs(readCoins);
    return view;
  }

  /**
   * Reads, in one call, the coins the block's inputs spend from the set: every prevout of its non-coinbase inputs
   * that is not an output of the block itself. Enough for prevoutsOf (the script checks); readOwnOutputs must follow,
   * on the same state of the set, before findOverwrittenOutput (the connect rules). With `prefetched`
   * (prefetchInputCoins of this block, on the same state of the set) nothing is read: the coins come from it.
   * @throws RangeError when `prefetched` is of another block
   * PERF: the connect pipeline hands the script checks over between the two reads, so the BIP-30 lookups (as many as
   * the block has spendable outputs, nearly all missing) run while the workers verify.
   */
  static readInputs(
    block: Block,
    txids: readonly Txid[],
    readCoins: (outpoints: readonly Outpoint[]) => readonly (Coin | undefined)[],
    prefetched?: InputCoinPrefetch,
  ): BlockCoinView {
    if (prefetched !== undefined && prefetched.block !== block) throw new RangeError('the prefetched coins are of another block');
    const txs = block.txs;
    const txidKeys = txids.map((txid) => hashKey(txid));
    const inBlock = new Map<HashKey<Txid>, number>();
    txidKeys.forEach((key, i) => {
      if (!inBlock.has(key)) inBlock.set(key, i);
    });
    const inputKeys: OutpointKey[] = [];
    const firstInput: number[] = [];
    const wanted = new Set<OutpointKey>();
    const outpoints: Outpoint[] = [];
    const keys: OutpointKey[] = [];
    // PERF: the prefetch made every input's key already (one outpointKey per input less per block).
    const madeKeys = prefetched?.inputKeys;
    for (let i = 0; i < txs.length; i++) {
      firstInput.push(inputKeys.length);
      if (i === 0) continue;
      for (const { prevout } of txs[i]!.inputs) {
        const key = madeKeys !== undefined ? madeKeys[inputKeys.length]! : outpointKey(prevout);
        inputKeys.push(key);
        if (inBlock.has(txidKeyOf(key)) || wanted.has(key)) continue;
        wanted.add(key);
        outpoints.push(prevout);
        keys.push(key);
      }
    }
    const view = new BlockCoinView(block, txids, txidKeys, inBlock, inputKeys, firstInput);
    if (prefetched !== undefined) {
      for (const key of keys) {
        const coin = prefetched.coins.get(key);
        if (coin !== undefined) view.live.set(key, coin);
      }
      return view;
    }
    const coins = readCoins(outpoints);
    for (let n = 0; n < outpoints.length; n++) {
      const coin = coins[n];
      if (coin !== undefined) view.live.set(keys[n]!, coin);
    }
    return view;
  }

  /**
   * Reads, in one call, the coins of the set at every prevout of the block's non-coinbase inputs, before its txids
   * are known: also those of outputs of the block itself, which readInputs then leaves out as it would not have read
   * them (a coin of the set there, possible only for a duplicate txid, is not what such an input spends). Pass the
   * result to readInputs on the same state of the set (no write in between).
   * PERF: lets the chain read the coins while worker threads hash the block's txs (startBlockTxHashes).
   */
  static prefetchInputCoins(
    block: Block,
    readCoins: (outpoints: readonly Outpoint[]) => readonly (Coin | undefined)[],
  ): InputCoinPrefetch {
    const wanted = new Set<OutpointKey>();
    const outpoints: Outpoint[] = [];
    const keys: OutpointKey[] = [];
    const inputKeys: OutpointKey[] = [];
    for (let i = 1; i < block.txs.length; i++) {
      for (const { prevout } of block.txs[i]!.inputs) {
        const key = outpointKey(prevout);
        inputKeys.push(key);
        if (wanted.has(key)) continue;
        wanted.add(key);
        outpoints.push(prevout);
        keys.push(key);
      }
    }
    const found = readCoins(outpoints);
    const coins = new Map<OutpointKey, Coin>();
    for (let n = 0; n < outpoints.length; n++) {
      const coin = found[n];
      if (coin !== undefined) coins.set(keys[n]!, coin);
    }
    return { block, coins, inputKeys };
  }

  /**
   * Reads, in one call, the coins of the set at every spendable outpoint the block creates (BIP-30: the block may not
   * overwrite them), for findOverwrittenOutput. None of these keys is a prevout readInputs read (those have txids from
   * outside the block), so the two reads together are the one read of `read`. With `txidsWithCoins` (the indexes of
   * the txids given that have any coin in the set, on the same state of the set) only the outputs of those txs are
   * read: a coin at one of a tx's outpoints has its txid, so the others have none to find.
   * PERF: with txidsWithCoins, one lookup per tx, and no key made per output, instead of one per spendable output
   * (nearly always all missing): about 0.8 against 1.5 ms for a 1,250-tx block of the bench.
   * @throws RangeError when called twice
   */
  readOwnOutputs(
    readCoins: (outpoints: readonly Outpoint[]) => readonly (Coin | undefined)[],
    txidsWithCoins?: (txids: readonly Txid[]) => readonly number[],
  ): void {
    if (this.ownOutputsRead) throw new RangeError("the block's own outpoints were already read");
    this.ownOutputsRead = true;
    const txs = this.block.txs;
    const candidates = txidsWithCoins === undefined ? undefined : txidsWithCoins(this.txids);
    if (candidates !== undefined && candidates.length === 0) return;
    const wanted = new Set<OutpointKey>();
    const outpoints: Outpoint[] = [];
    const keys: OutpointKey[] = [];
    const count = candidates === undefined ? txs.length : candidates.length;
    for (let c = 0; c < count; c++) {
      const i = candidates === undefined ? c : candidates[c]!;
      const outputs = txs[i]!.outputs;
      for (let index = 0; index < outputs.length; index++) {
        if (isUnspendable(outputs[index]!.scriptPubKey)) continue;
        const key = outpointKeyOf(this.txidKeys[i]!, index);
        if (wanted.has(key)) continue;
        wanted.add(key);
        outpoints.push({ txid: this.txids[i]!, index });
        keys.push(key);
      }
    }
    const coins = readCoins(outpoints);
    for (let n = 0; n < outpoints.length; n++) {
      if (coins[n] !== undefined) this.overwritten.add(keys[n]!);
    }
  }

  /**
   * The first output index of tx `txIndex` at which the set held an unspent coin before the block (creating it would
   * overwrite that coin: BIP-30), or -1.
   * @throws RangeError when readOwnOutputs has not run (a caller bug: the check would pass unseen)
   */
  findOverwrittenOutput(txIndex: number): number {
    if (!this.ownOutputsRead) throw new RangeError('findOverwrittenOutput before readOwnOutputs');
    if (this.overwritten.size === 0) return -1;
    const outputs = this.block.txs[txIndex]!.outputs;
    for (let index = 0; index < outputs.length; index++) {
      if (this.overwritten.has(outpointKeyOf(this.txidKeys[txIndex]!, index))) return index;
    }
    return -1;
  }

  /**
   * The outputs tx `txIndex`'s inputs spend, taken from the coins read from the set or from the outputs of any tx of
   * the block, without regard to order or to other spends (the connect rules judge those); undefined when an input
   * spends an output the block cannot see at all (the rules then refuse the block). For script checks started before
   * the rules. Call it before connectTransaction changes the view.
   */
  prevoutsOf(txIndex: number): TxOut[] | undefined {
    const inputs = this.block.txs[txIndex]!.inputs;
    const first = this.firstInput[txIndex]!;
    const prevouts: TxOut[] = [];
    for (let k = 0; k < inputs.length; k++) {
      const prevout = inputs[k]!.prevout;
      const key = this.inputKeys[first + k]!;
      const coin = this.live.get(key);
      if (coin !== undefined) {
        prevouts.push(coin.output);
        continue;
      }
      const creator = this.txIndexByKey.get(txidKeyOf(key));
      const output = creator === undefined ? undefined : this.block.txs[creator]!.outputs[prevout.index];
      if (output === undefined || isUnspendable(output.scriptPubKey)) return undefined;
      prevouts.push(output);
    }
    return prevouts;
  }

  /**
   * The coins tx `txIndex`'s inputs spend as the view stands (undefined where missing or already spent), for
   * checkTxInputs. Valid until the next call.
   */
  inputCoinsOf(txIndex: number): CoinLookup {
    const view = this.inputCoins;
    view.byPrevout.clear();
    const inputs = this.block.txs[txIndex]!.inputs;
    const first = this.firstInput[txIndex]!;
    for (let k = 0; k < inputs.length; k++) {
      const coin = this.live.get(this.inputKeys[first + k]!);
      if (coin !== undefined) view.byPrevout.set(inputs[k]!.prevout, coin);
    }
    return view;
  }

  /**
   * Connects tx `txIndex` at `height`: spends the coins of its inputs (none for the coinbase) and adds its spendable
   * outputs. Returns the spent coins in input order (the tx's undo data).
   * Precondition: checkTxInputs passed on inputCoinsOf(txIndex), so every input's coin is in the view.
   * @see Bitcoin Core coins.cpp UpdateCoins, AddCoins; btcd UtxoViewpoint.connectTransaction
   */
  connectTransaction(txIndex: number, height: number): Coin[] {
    const tx = this.block.txs[txIndex]!;
    const undo: Coin[] = [];
    if (txIndex > 0) {
      const first = this.firstInput[txIndex]!;
      for (let k = 0; k < tx.inputs.length; k++) {
        const key = this.inputKeys[first + k]!;
        const coin = this.live.get(key);
        if (coin === undefined) throw new RangeError(`tx ${txIndex} input ${k} spends a coin the view does not hold`);
        this.live.delete(key);
        undo.push(coin);
        if (!this.created.delete(key)) this.spent.push(tx.inputs[k]!.prevout);
      }
    }
    const txid = this.txids[txIndex]!;
    for (let index = 0; index < tx.outputs.length; index++) {
      const output = tx.outputs[index]!;
      if (isUnspendable(output.scriptPubKey)) continue;
      const key = outpointKeyOf(this.txidKeys[txIndex]!, index);
      const coin: Coin = { output, height, isCoinbase: txIndex === 0 };
      this.live.set(key, coin);
      this.created.set(key, { outpoint: { txid, index }, coin });
    }
    return undo;
  }

  /**
   * The net change to the set so far: `spent` = coins of the set spent by the block, `created` = coins it added and
   * did not spend itself (coins created and spent inside the block appear in neither).
   */
  changes(): { readonly spent: readonly Outpoint[]; readonly created: readonly UtxoRecord[] } {
    return { spent: this.spent, created: [...this.created.values()] };
  }
}
