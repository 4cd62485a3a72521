/**
 * A simulated user: a real cairn node (Chain on an in-memory SQLite store with most-work fork choice and undo data,
 * Mempool, BlockAssembler, the inline script verifier) with its own key, wallet view and mining share. Only time is
 * injected (the simulation's virtual clock); blocks and transactions are the real structures, validated by the same
 * code paths as a full node's.
 */
import { Chain } from '../chain/chain.js';
import { InlineScriptVerifier } from '../chain/inlineScriptVerifier.js';
import { Mempool } from '../mempool/mempool.js';
import { BlockAssembler } from '../mining/blockAssembler.js';
import { SqliteChainStore } from '../storage/sqliteChainStore.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { checkProofOfWork } from '../consensus/pow.js';
import { VerifyError } from '../consensus/verifyError.js';
import { computeSegwitV0Sighash, p2wpkhScriptCode, SighashCache, SIGHASH } from '../consensus/sighash.js';
import { ecdsaSign, encodeDerSignature, publicKeyFromPrivate } from '../crypto/ecdsa.js';
import { encodeSegwitAddress } from '../crypto/address.js';
import { hash160, sha256 } from '../crypto/hash.js';
import type { ChainParams } from '../params/chainParams.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import type { Block, Outpoint, Sats, Tx, TxIn, TxOut } from '../primitives/types.js';
import type { ProcessBlockResult } from '../interfaces/chainTypes.js';
import { SimError } from './simError.js';

/** What a user does with the blocks it finds: honest relays at once; selfish follows Eyal & Sirer's Algorithm 1. */
export type MinerBehaviour = 'honest' | 'selfish';

/** A user's wallet balance, sats. */
export interface UserBalance {
  /** Confirmed on this user's main chain and spendable in the next block. */
  readonly spendableSats: Sats;
  /** Confirmed coinbase outputs not yet 100 blocks deep. */
  readonly immatureSats: Sats;
  /** Confirmed outputs already spent by a transaction in this user's mempool. */
  readonly lockedSats: Sats;
}

/** A confirmed coin this user can spend. */
interface OwnCoin {
  readonly outpoint: Outpoint;
  readonly output: TxOut;
}

/** Fee of a simulated payment when not given: 1 sat/vB over a typical 1-in 2-out P2WPKH spend (141 vB) → 1,000 sats. */
export const DEFAULT_PAYMENT_FEE_SATS = 1_000n;

/**
 * One simulated user: a real node plus wallet keys. Created with SimUser.create; close() releases the store.
 */
export class SimUser {
  /**
   * Outpoints paid to this user's script by blocks of the current main chain and not spent by one (immature ones
   * included; filtered against the UTXO set and the mempool on read).
   */
  private readonly candidates = new Map<OutpointKey, Outpoint>();
  /** This user's outpoints spent by main-chain blocks: a reorg that disconnects the spending block puts them back. */
  private readonly spentOwn = new Map<OutpointKey, Outpoint>();
  /** Deepest reorg this node went through, blocks. */
  maxReorgDepth = 0;
  /** Number of reorgs (tip changes that disconnected blocks). */
  reorgCount = 0;

  private constructor(
    readonly name: string,
    readonly index: number,
    public hashShare: number,
    readonly behaviour: MinerBehaviour,
    readonly privateKey: Uint8Array,
    readonly publicKey: Uint8Array,
    readonly scriptPubKey: Uint8Array,
    readonly chain: Chain,
    readonly store: SqliteChainStore,
    readonly mempool: Mempool,
    readonly assembler: BlockAssembler,
    private readonly verifier: InlineScriptVerifier,
  ) {}

  /**
   * Opens the user's node on `params` with the injected clock. The key is sha256("cairn-sim-key/<seed>/<name>"), so the
   * same scenario gives the same addresses.
   */
  static async create(
    params: ChainParams,
    spec: { name: string; index: number; hashShare: number; behaviour?: MinerBehaviour; seed: string },
    nowSec: () => number,
    logger: Logger = silentLogger(),
  ): Promise<SimUser> {
    const privateKey = sha256(new TextEncoder().encode(`cairn-sim-key/${spec.seed}/${spec.name}`));
    const publicKey = publicKeyFromPrivate(privateKey);
    const scriptPubKey = Uint8Array.of(0x00, 0x14, ...hash160(publicKey));
    const store = SqliteChainStore.openMemory(params);
    const verifier = new InlineScriptVerifier();
    const chain = await Chain.open({}, { params, store, scriptVerifier: verifier, logger, nowSec });
    const mempool = new Mempool({}, {
      params,
      getCoin: (o) => chain.getCoin(o),
      tipHeight: () => chain.height,
      tipMedianTimePast: () => chain.getMedianTimePast(chain.tip),
      nowSec,
      scriptVerifier: verifier,
      logger,
    });
    const assembler = new BlockAssembler({}, {
      params,
      tip: () => chain.tip,
      nextBits: () => chain.getNextBits(chain.tip),
      tipMedianTimePast: () => chain.getMedianTimePast(chain.tip),
      nowSec,
      mempool,
    });
    const user = new SimUser(
      spec.name, spec.index, spec.hashShare, spec.behaviour ?? 'honest',
      privateKey, publicKey, scriptPubKey, chain, store, mempool, assembler, verifier,
    );
    user.wire();
    return user;
  }

  /** The user's address (bech32 P2WPKH under the params' HRP). */
  get address(): string {
    return encodeSegwitAddress(this.chain.chainParams.bech32Hrp, 0, this.scriptPubKey.subarray(2));
  }

  private wire(): void {
    // As node/fullNode.ts wires them: confirmed txs leave the mempool, disconnected ones come back.
    this.chain.on('blockConnected', ({ block, entry, txids }) => {
      this.mempool.removeForBlock(block, entry.height);
      block.txs.forEach((tx, i) => {
        if (i > 0) {
          for (const input of tx.inputs) {
            const key = outpointKey(input.prevout);
            const own = this.candidates.get(key);
            if (own !== undefined) {
              this.candidates.delete(key);
              this.spentOwn.set(key, own);
            }
          }
        }
        tx.outputs.forEach((out, index) => {
          if (bytesEq(out.scriptPubKey, this.scriptPubKey)) {
            const outpoint = { txid: txids[i]!, index };
            this.candidates.set(outpointKey(outpoint), outpoint);
          }
        });
      });
    });
    this.chain.on('blockDisconnected', ({ block, txids }) => {
      block.txs.forEach((tx, i) => {
        tx.outputs.forEach((_out, index) => this.candidates.delete(outpointKey({ txid: txids[i]!, index })));
        if (i === 0) return;
        for (const input of tx.inputs) {
          const key = outpointKey(input.prevout);
          const own = this.spentOwn.get(key);
          if (own !== undefined) {
            this.spentOwn.delete(key);
            this.candidates.set(key, own);
          }
        }
      });
    });
    this.chain.on('tipChanged', ({ reorgDepth, disconnectedTxs }) => {
      if (reorgDepth > 0) {
        this.reorgCount++;
        this.maxReorgDepth = Math.max(this.maxReorgDepth, reorgDepth);
      }
      if (reorgDepth > 0 || disconnectedTxs.length > 0) void this.mempool.addDisconnectedTxs(disconnectedTxs);
    });
  }

  /** Waits until transactions of disconnected blocks are back in the mempool (call before reading it after a reorg). */
  settle(): Promise<void> {
    return this.mempool.whenReorgUpdatesDone();
  }

  /** The spendable coins and balance on this user's own view of the chain (its tip). */
  private coins(): { spendable: OwnCoin[]; balance: UserBalance } {
    const spendHeight = this.chain.height + 1;
    const maturity = this.chain.chainParams.coinbaseMaturity;
    const spendable: OwnCoin[] = [];
    let spendableSats = 0n;
    let immatureSats = 0n;
    let lockedSats = 0n;
    for (const outpoint of this.candidates.values()) {
      const coin = this.chain.getCoin(outpoint);
      if (coin === undefined) continue;
      if (coin.isCoinbase && spendHeight - coin.height < maturity) immatureSats += coin.output.value;
      else if (this.mempool.getSpender(outpoint) !== undefined) lockedSats += coin.output.value;
      else {
        spendable.push({ outpoint, output: coin.output });
        spendableSats += coin.output.value;
      }
    }
    spendable.sort((a, b) => (a.output.value < b.output.value ? 1 : a.output.value > b.output.value ? -1 : 0));
    return { spendable, balance: { spendableSats, immatureSats, lockedSats } };
  }

  /** The balance on this user's view of the chain. */
  balance(): UserBalance {
    return this.coins().balance;
  }

  /**
   * Builds and signs a payment of `amountSats` to `toScript` from this user's spendable coins (largest first), with
   * change back to this user, BIP-143 P2WPKH signatures, and submits it to this user's mempool (which checks it as
   * any node would: inputs unspent, scripts, fee). Returns the tx.
   * @throws SimError bad-amount (≤ 0) | insufficient-funds (spendable < amount + fee; nothing is signed or sent) |
   *   tx-rejected (the mempool refused it, with Core's reason)
   */
  async pay(toScript: Uint8Array, amountSats: Sats, feeSats: Sats = DEFAULT_PAYMENT_FEE_SATS): Promise<Tx> {
    if (amountSats <= 0n) throw new SimError('bad-amount', `amount must be positive, got ${amountSats}`);
    const { spendable, balance } = this.coins();
    const need = amountSats + feeSats;
    if (balance.spendableSats < need) {
      throw new SimError(
        'insufficient-funds',
        `${this.name} has ${balance.spendableSats} spendable sats (plus ${balance.immatureSats} immature), needs ${need}`,
      );
    }
    const chosen: OwnCoin[] = [];
    let total = 0n;
    for (const c of spendable) {
      if (total >= need) break;
      chosen.push(c);
      total += c.output.value;
    }
    const outputs: TxOut[] = [{ value: amountSats, scriptPubKey: toScript }];
    const change = total - need;
    if (change > 546n) outputs.push({ value: change, scriptPubKey: this.scriptPubKey });
    const tx = this.sign(chosen, outputs);
    await this.submit(tx);
    return tx;
  }

  /** Signs a tx spending `coins` (all this user's P2WPKH) to `outputs`, version 2, RBF-signalling sequence. */
  sign(coins: readonly OwnCoin[], outputs: readonly TxOut[]): Tx {
    const unsigned: Tx = {
      version: 2,
      inputs: coins.map((c): TxIn => ({ prevout: c.outpoint, scriptSig: new Uint8Array(0), sequence: 0xfffffffd, witness: [] })),
      outputs,
      locktime: 0,
    };
    const cache = new SighashCache(unsigned, coins.map((c) => c.output));
    const scriptCode = p2wpkhScriptCode(hash160(this.publicKey));
    const inputs = coins.map((c, i): TxIn => {
      const msg = computeSegwitV0Sighash(unsigned, i, scriptCode, c.output.value, SIGHASH.ALL, cache);
      const der = encodeDerSignature(ecdsaSign(msg, this.privateKey));
      return { ...unsigned.inputs[i]!, witness: [Uint8Array.of(...der, SIGHASH.ALL), this.publicKey] };
    });
    return { ...unsigned, inputs };
  }

  /** The confirmed spendable coins (for scenarios that build their own conflicting spends). */
  spendableCoins(): readonly OwnCoin[] {
    return this.coins().spendable;
  }

  /**
   * Gives a tx to this user's mempool.
   * @throws SimError tx-rejected with the mempool's reject reason
   */
  async submit(tx: Tx): Promise<void> {
    try {
      await this.mempool.acceptTransaction(tx);
    } catch (err) {
      if (err instanceof VerifyError) throw new SimError('tx-rejected', `${err.code}${err.detail ? `: ${err.detail}` : ''}`);
      throw err;
    }
  }

  /**
   * Builds a block on this user's tip from its mempool (BlockAssembler: ancestor-fee-rate selection, BIP-34 coinbase
   * paying this user, witness commitment), with header time max(MTP + 1, now), and grinds the nonce (trivial on
   * regtest-like params: about two tries). `tag` makes blocks of different miners at the same height differ.
   */
  buildBlock(timeSec: number, tag: string): Block {
    const block = this.assembleBlock(timeSec, tag);
    const params = this.chain.chainParams;
    for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
      const header = { ...block.header, nonce };
      if (checkProofOfWork(computeBlockHash(header), header.bits, params.powLimit)) return { ...block, header };
    }
    throw new SimError('block-rejected', 'no nonce meets the target (params too hard for fast mode)');
  }

  /** The unsolved block (nonce 0) this user would mine now: BlockAssembler template on its tip, its coinbase. */
  assembleBlock(timeSec: number, tag: string): Block {
    const template = this.assembler.createTemplate();
    return this.assembler.buildBlock(template, { rewardScript: this.scriptPubKey, tag }, Math.max(template.minTimeSec, timeSec));
  }

  /** Gives a block to this user's chain (the same processBlock a full node uses for mined and received blocks). */
  processBlock(block: Block, raw?: Uint8Array): Promise<ProcessBlockResult> {
    return this.chain.processBlock(block, raw);
  }

  /** Closes the chain, the script verifier and the in-memory store. */
  async close(): Promise<void> {
    await this.chain.close();
    await this.verifier.close();
    this.store.close();
  }
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
