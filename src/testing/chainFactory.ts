/**
 * Test helpers that run a real Chain on a real SQLite store in a temp dir and mine regtest-style blocks for it, with
 * coinbases paying a miner key so later blocks can carry real signed spends of them. For tests, benchmarks and the
 * crash test; production code never imports src/testing.
 *
 * Typical use:
 *   const tc = await openTestChain();            // regtest, temp dir, inline script verifier
 *   await mineBlocks(tc.chain, 101);             // coinbase of block 1 is now mature
 *   const [coin] = spendableCoinbases(tc.chain); // a SpendableCoin of MINER_KEY
 *   const { tx } = buildSpend([coin], { key: makeTestKey('alice'), valueSats: 10_000n }, 1_000n);
 *   await mineBlocks(tc.chain, 1, { txs: [tx] });
 *   await tc.destroy();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chain, type ChainOptions } from '../chain/chain.js';
import type { ProcessBlockResult } from '../interfaces/chainTypes.js';
import { InlineScriptVerifier } from '../chain/inlineScriptVerifier.js';
import type { ScriptVerifier } from '../interfaces/scriptVerifier.js';
import { getNextWorkRequired } from '../consensus/difficulty.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import { regtest } from '../params/networks.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { hashToHex } from '../primitives/hex.js';
import { outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { computeTxid } from '../primitives/tx.js';
import type { Block, BlockHash, BlockHeader, Sats, Tx, TxOut } from '../primitives/types.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { SqliteChainStore } from '../storage/sqliteChainStore.js';
import { buildBlock } from './blockBuilder.js';
import { coinsOf, makeTestKey, type SpendableCoin, type TestKey } from './txFactory.js';

/** The key every factory coinbase pays to unless told otherwise (P2WPKH, seed "cairn-miner"). */
export const MINER_KEY: TestKey = makeTestKey('cairn-miner');

/**
 * The clock test chains read by default: 2,000,000,000 s (2033-05-18), later than any block time the factory makes
 * (regtest genesis is 2026-11-21 and blocks are 600 s apart), so time-too-new never fires unless a test wants it.
 */
export const TEST_NOW_SEC = 2_000_000_000;

/** A Chain on a SqliteChainStore in its own folder, with what is needed to close, reopen and delete it. */
export interface TestChain {
  readonly chain: Chain;
  readonly store: SqliteChainStore;
  readonly scriptVerifier: ScriptVerifier;
  readonly params: ChainParams;
  /** The folder holding the store (deleted by destroy). */
  readonly dir: string;
  /** Path of the SQLite file. */
  readonly path: string;
  /** Closes the chain and the store, keeping the files (for restart tests). Idempotent. */
  close(): Promise<void>;
  /** Closes (if open) and opens a new Chain and store on the same file. */
  reopen(): Promise<TestChain>;
  /** Closes and deletes the folder. */
  destroy(): Promise<void>;
}

/** Options of openTestChain. */
export interface OpenTestChainOptions {
  /** Default regtest. */
  readonly params?: ChainParams;
  /** Folder to use (kept as is); default a new temp folder `cairn-chain-*`. */
  readonly dir?: string;
  /** Default () => TEST_NOW_SEC. */
  readonly nowSec?: () => number;
  readonly chainOptions?: ChainOptions;
  /** Default a new InlineScriptVerifier. */
  readonly scriptVerifier?: ScriptVerifier;
  /** Default silentLogger(). */
  readonly logger?: Logger;
}

/** Opens (or reopens) a Chain on a SQLite store at `<dir>/chain.sqlite`. */
export async function openTestChain(options: OpenTestChainOptions = {}): Promise<TestChain> {
  const params = options.params ?? regtest;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'cairn-chain-'));
  const path = join(dir, 'chain.sqlite');
  const store = SqliteChainStore.open(path, params);
  const scriptVerifier = options.scriptVerifier ?? new InlineScriptVerifier();
  let chain: Chain;
  try {
    chain = await Chain.open(options.chainOptions ?? {}, {
      params,
      store,
      scriptVerifier,
      logger: options.logger ?? silentLogger(),
      nowSec: options.nowSec ?? (() => TEST_NOW_SEC),
    });
  } catch (err) {
    store.close();
    throw err;
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await chain.close();
    store.close();
  };
  return {
    chain,
    store,
    scriptVerifier,
    params,
    dir,
    path,
    close,
    reopen: async () => {
      await close();
      return openTestChain({ ...options, params, dir });
    },
    destroy: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where a new block goes: its parent's hash, height and header (a Chain entry or a block built but not submitted). */
export interface BlockParent {
  readonly hash: BlockHash;
  readonly height: number;
  readonly header: BlockHeader;
}

/** What to put in a block built by buildChildBlock. */
export interface ChildBlockSpec {
  /** Transactions after the coinbase. */
  readonly txs?: readonly Tx[];
  /** Header time; default parent time + params.targetSpacingSec (+ timeStepSec when given instead). */
  readonly time?: number;
  /** Seconds after the parent's time when `time` is not given; default params.targetSpacingSec. */
  readonly timeStepSec?: number;
  /** Header bits; default getNextWorkRequired on the parent (the parent's ancestors are not needed for none/asert). */
  readonly bits?: number;
  /** Fees of `txs` added to the coinbase value; default 0 (a coinbase may claim less than it could). */
  readonly fees?: Sats;
  /** Coinbase outputs; default one output of subsidy + fees to `coinbaseKey`. */
  readonly coinbaseOutputs?: readonly TxOut[];
  /** Key of the default coinbase output; default MINER_KEY. */
  readonly coinbaseKey?: TestKey;
  /** Bytes after the BIP-34 height in the coinbase scriptSig: makes blocks of competing branches differ. */
  readonly extraNonce?: Uint8Array | string;
  /** Replace the coinbase entirely (e.g. a wrong BIP-34 height); a witness commitment is still added when needed. */
  readonly coinbase?: Tx;
  /** Header version; default the blockBuilder default. */
  readonly version?: number;
}

/** The parent descriptor of a block (for building its children before it is submitted). */
export function parentOf(block: Block, height: number): BlockParent {
  return { hash: computeBlockHash(block.header), height, header: block.header };
}

/** The parent descriptor of a chain entry. */
export function parentOfEntry(entry: BlockIndexEntry): BlockParent {
  return { hash: entry.hash, height: entry.height, header: entry.header };
}

/**
 * Builds a solved block on `parent` at parent.height + 1 (BIP-34 coinbase, witness commitment when a tx has witness
 * data, merkle root, nonce), valid for `params` when its txs are.
 * @throws RangeError for params with the `bitcoin` difficulty rule when `bits` is not given (needs ancestors)
 */
export function buildChildBlock(params: ChainParams, parent: BlockParent, spec: ChildBlockSpec = {}): Block {
  const bits =
    spec.bits ??
    getNextWorkRequired(params, { height: parent.height, time: parent.header.time, bits: parent.header.bits }, () => {
      throw new RangeError('buildChildBlock: pass bits explicitly for the bitcoin difficulty rule');
    });
  const extraNonce = typeof spec.extraNonce === 'string' ? new TextEncoder().encode(spec.extraNonce) : spec.extraNonce;
  const key = spec.coinbaseKey ?? MINER_KEY;
  return buildBlock(params, {
    height: parent.height + 1,
    prevBlock: parent.hash,
    time: spec.time ?? parent.header.time + (spec.timeStepSec ?? params.targetSpacingSec),
    bits,
    version: spec.version,
    txs: spec.txs ?? [],
    fees: spec.fees ?? 0n,
    coinbase: spec.coinbase,
    coinbaseOptions: {
      scriptPubKey: key.scriptPubKey,
      ...(spec.coinbaseOutputs ? { outputs: spec.coinbaseOutputs } : {}),
      ...(extraNonce ? { extraNonce } : {}),
    },
  });
}

/**
 * Builds `n` blocks in a row on `parent` without submitting them (e.g. a competing branch, or blocks to feed
 * child-first). `spec` may be a function of the block's index in the run (0-based); its txs go where it says.
 */
export function buildBranch(
  params: ChainParams,
  parent: BlockParent,
  n: number,
  spec: ChildBlockSpec | ((i: number) => ChildBlockSpec) = {},
): Block[] {
  const blocks: Block[] = [];
  let p = parent;
  for (let i = 0; i < n; i++) {
    const block = buildChildBlock(params, p, typeof spec === 'function' ? spec(i) : spec);
    blocks.push(block);
    p = parentOf(block, p.height + 1);
  }
  return blocks;
}

/**
 * The fees `txs` pay, resolving each input from earlier txs of the list or the chain's UTXO set; a tx with an input
 * found in neither counts 0 (so the coinbase claims less than allowed, which is valid).
 */
export function computeFees(chain: Chain, txs: readonly Tx[]): Sats {
  const local = new Map<OutpointKey, TxOut>();
  let fees = 0n;
  for (const tx of txs) {
    let valueIn = 0n;
    let known = true;
    for (const input of tx.inputs) {
      const out = local.get(outpointKey(input.prevout)) ?? chain.getCoin(input.prevout)?.output;
      if (out === undefined) known = false;
      else valueIn += out.value;
    }
    const valueOut = tx.outputs.reduce((s, o) => s + o.value, 0n);
    if (known && valueIn > valueOut) fees += valueIn - valueOut;
    const txid = computeTxid(tx);
    tx.outputs.forEach((o, index) => local.set(outpointKey({ txid, index }), o));
  }
  return fees;
}

/** A block mined by mineBlocks, with the chain's verdict. */
export interface MinedBlock {
  readonly block: Block;
  readonly height: number;
  readonly hash: BlockHash;
  /** Display hex of `hash`. */
  readonly hashHex: string;
  readonly result: ProcessBlockResult;
}

/** Options of mineBlocks. */
export interface MineBlocksOptions extends Omit<ChildBlockSpec, 'txs' | 'time' | 'fees'> {
  /** Transactions of the FIRST block (later ones carry only a coinbase); fees are computed with computeFees. */
  readonly txs?: readonly Tx[];
  /** Block to build on; default the tip. */
  readonly parent?: BlockIndexEntry;
}

/**
 * Builds `n` blocks on the tip (or `parent`) one after the other and gives each to chain.processBlock; time steps by
 * params.targetSpacingSec (or timeStepSec) and bits follow chain.getNextBits.
 * @throws Error when a block comes back invalid, orphan or duplicate (with the chain's reason)
 */
export async function mineBlocks(chain: Chain, n: number, options: MineBlocksOptions = {}): Promise<MinedBlock[]> {
  const params = chain.chainParams;
  const { txs, parent: start, ...spec } = options;
  const mined: MinedBlock[] = [];
  let parent: BlockParent = parentOfEntry(start ?? chain.tip);
  for (let i = 0; i < n; i++) {
    const blockTxs = i === 0 ? (txs ?? []) : [];
    const entry = chain.getEntry(parent.hash);
    const block = buildChildBlock(params, parent, {
      ...spec,
      txs: blockTxs,
      fees: computeFees(chain, blockTxs),
      bits: spec.bits ?? (entry ? chain.getNextBits(entry) : undefined),
    });
    const result = await chain.processBlock(block);
    if (result.status === 'invalid' || result.status === 'orphan' || result.status === 'duplicate') {
      throw new Error(`mineBlocks: block ${i} at height ${parent.height + 1} was ${result.status}: ${result.reason ?? ''} ${result.detail ?? ''}`);
    }
    mined.push({ block, height: parent.height + 1, hash: result.hash, hashHex: hashToHex(result.hash), result });
    parent = parentOf(block, parent.height + 1);
  }
  return mined;
}

/**
 * The main chain's unspent coinbase outputs paying to `key` that a block at the next height may spend (at least
 * params.coinbaseMaturity deep), oldest first.
 */
export function spendableCoinbases(chain: Chain, key: TestKey = MINER_KEY): SpendableCoin[] {
  const params = chain.chainParams;
  const spendHeight = chain.height + 1;
  const out: SpendableCoin[] = [];
  for (let h = 1; h <= spendHeight - params.coinbaseMaturity; h++) {
    const entry = chain.getEntryByHeight(h)!;
    const block = chain.getBlock(entry.hash);
    const coinbase = block?.txs[0];
    if (coinbase === undefined) continue;
    for (const coin of coinsOf(coinbase, key)) if (chain.getCoin(coin.outpoint) !== undefined) out.push(coin);
  }
  return out;
}

/** The main chain's blocks from the genesis to the tip, in order (for replayUtxoDigest or feeding another node). */
export function mainChainBlocks(chain: Chain): Block[] {
  const blocks: Block[] = [];
  for (let h = 0; h <= chain.height; h++) {
    const block = chain.getBlock(chain.getEntryByHeight(h)!.hash);
    if (block === undefined) throw new Error(`mainChainBlocks: no data for height ${h}`);
    blocks.push(block);
  }
  return blocks;
}
