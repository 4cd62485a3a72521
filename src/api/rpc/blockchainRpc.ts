import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Coin } from '../../consensus/utxoView.js';
import { bitsToTarget, targetToHex } from '../../consensus/pow.js';
import { encodeBlockHeader } from '../../primitives/blockHeader.js';
import { getBlockSize, getBlockWeight } from '../../primitives/block.js';
import { bytesToHex, hashToHex } from '../../primitives/hex.js';
import { computeTxid, isCoinbase } from '../../primitives/tx.js';
import type { Block, Tx } from '../../primitives/types.js';
import type { BlockIndexEntry } from '../../interfaces/chainTypes.js';
import { MEMPOOL_HEIGHT } from '../../interfaces/mempoolTypes.js';
import { bitsToHex, CoreAmount, difficultyFromBits, scriptPubKeyToCoreJson, txToCoreJson } from '../coreJson.js';
import type { NodeContext } from '../../interfaces/nodeContext.js';
import { parseBlockHashArg, parseIntArg, parseTxidArg, parseVerbosityArg } from './rpcArgs.js';
import type { RpcContext } from './rpcContext.js';
import { RPC_ERROR, RpcError } from './rpcError.js';
import type { RpcTable } from './rpcTable.js';

/** A tip older than this means the node is still catching up (Core's DEFAULT_MAX_TIP_AGE, 24 h). */
const MAX_TIP_AGE_SEC = 24 * 60 * 60;

/** Chain work as Core prints it: 64 lower-case hex digits. */
export function chainWorkHex(chainWork: bigint): string {
  return chainWork.toString(16).padStart(64, '0');
}

/**
 * Whether the node is in initial block download: never on regtest; else while headers are ahead of the tip or the
 * tip is older than 24 hours.
 * @see Bitcoin Core validation.cpp ChainstateManager::IsInitialBlockDownload
 */
export function isInitialBlockDownload(node: NodeContext): boolean {
  if (node.params.name === 'regtest') return false;
  const { chain } = node;
  if (chain.bestHeader.height > chain.height) return true;
  return chain.tip.header.time < node.nowSec() - MAX_TIP_AGE_SEC;
}

/** Bytes the chain database takes in the data dir (main file and write-ahead log). */
export function chainDiskSize(datadir: string): number {
  let total = 0;
  for (const name of ['chain.sqlite', 'chain.sqlite-wal']) {
    try {
      total += statSync(join(datadir, name)).size;
    } catch {
      // missing file: nothing on disk yet
    }
  }
  return total;
}

/** Confirmations of a block: tip height − height + 1 on the main chain, −1 off it (Core's convention). */
export function confirmationsOf(node: NodeContext, entry: BlockIndexEntry): number {
  return node.chain.isMainChain(entry) ? node.chain.height - entry.height + 1 : -1;
}

/** The index entry of a block-hash argument. @throws RpcError INVALID_PARAMETER (bad hex) | INVALID_ADDRESS_OR_KEY "Block not found" */
function requireEntry(node: NodeContext, value: unknown, name = 'blockhash'): BlockIndexEntry {
  const entry = node.chain.getEntry(parseBlockHashArg(value, name));
  if (entry === undefined) throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, 'Block not found');
  return entry;
}

/**
 * getblockheader's verbose object for an index entry, in Core's field order (plus Core 29's `target`).
 * @see Bitcoin Core rpc/blockchain.cpp blockheaderToJSON
 */
export function blockHeaderEntryToJson(node: NodeContext, entry: BlockIndexEntry): Record<string, unknown> {
  const { header } = entry;
  const json: Record<string, unknown> = {
    hash: entry.hashHex,
    confirmations: confirmationsOf(node, entry),
    height: entry.height,
    version: header.version,
    versionHex: (header.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: hashToHex(header.merkleRoot),
    time: header.time,
    mediantime: node.chain.getMedianTimePast(entry),
    nonce: header.nonce,
    bits: bitsToHex(header.bits),
    target: targetToHex(bitsToTarget(header.bits).target),
    difficulty: difficultyFromBits(header.bits),
    chainwork: chainWorkHex(entry.chainWork),
    nTx: entry.txCount,
  };
  if (entry.height > 0) json['previousblockhash'] = hashToHex(header.prevBlock);
  if (node.chain.isMainChain(entry)) {
    const next = node.chain.getEntryByHeight(entry.height + 1);
    if (next !== undefined) json['nextblockhash'] = next.hashHex;
  }
  return json;
}

/**
 * A transaction as TxToUniv prints it with undo data: `fee` when the spent coins are known (not for a coinbase),
 * `prevout` in each input when asked (getblock 3, getrawtransaction 2), and `hex` last.
 * @see Bitcoin Core core_write.cpp TxToUniv (TxVerbosity::SHOW_DETAILS / SHOW_DETAILS_AND_PREVOUT)
 */
export function txWithUndoToJson(
  node: NodeContext,
  tx: Tx,
  spent: readonly Coin[] | undefined,
  withPrevout: boolean,
): Record<string, unknown> {
  const { hex, ...base } = txToCoreJson(tx, node.params, { includeHex: true });
  const json: Record<string, unknown> = { ...base };
  if (spent !== undefined && !isCoinbase(tx)) {
    if (withPrevout) {
      json['vin'] = (base['vin'] as Record<string, unknown>[]).map((input, i) => {
        const { sequence, ...rest } = input;
        const coin = spent[i];
        if (coin === undefined) return input;
        return { ...rest, prevout: prevoutJson(node, coin), sequence };
      });
    }
    const fee = spent.reduce((s, c) => s + c.output.value, 0n) - tx.outputs.reduce((s, o) => s + o.value, 0n);
    json['fee'] = new CoreAmount(fee);
  }
  json['hex'] = hex;
  return json;
}

/** The `prevout` object of verbosity-3 inputs. */
export function prevoutJson(node: NodeContext, coin: Coin): Record<string, unknown> {
  return {
    generated: coin.isCoinbase,
    height: coin.height,
    value: new CoreAmount(coin.output.value),
    scriptPubKey: scriptPubKeyToCoreJson(coin.output.scriptPubKey, node.params),
  };
}

/** Splits a block's undo data (coins spent by its non-coinbase inputs, in block order) per transaction. */
export function splitUndo(block: Block, undo: readonly Coin[]): (Coin[] | undefined)[] {
  let at = 0;
  return block.txs.map((tx) => {
    if (isCoinbase(tx)) return undefined;
    const coins = undo.slice(at, at + tx.inputs.length);
    at += tx.inputs.length;
    return coins;
  });
}

function readStoredBlock(node: NodeContext, entry: BlockIndexEntry): Block {
  const block = node.chain.getBlock(entry.hash);
  if (block === undefined) throw new RpcError(RPC_ERROR.MISC_ERROR, 'Block not available (not fully downloaded)');
  return block;
}

/** Registers the chain methods of Core's "blockchain" category (the mempool ones are in mempoolRpc). */
export function registerBlockchainRpc(table: RpcTable): void {
  table.register({
    name: 'getblockchaininfo',
    category: 'blockchain',
    description: 'Returns an object containing various state info regarding blockchain processing.',
    args: [],
    result:
      '{ "chain": str, "blocks": n, "headers": n, "bestblockhash": hex, "bits": hex, "target": hex, "difficulty": n,\n' +
      '  "time": n, "mediantime": n, "verificationprogress": n, "initialblockdownload": bool, "chainwork": hex,\n' +
      '  "size_on_disk": n, "pruned": bool, "warnings": [str] }',
    handler: (_args, ctx: RpcContext) => {
      const { node } = ctx;
      const tip = node.chain.tip;
      const headers = Math.max(node.chain.bestHeader.height, tip.height);
      const ibd = isInitialBlockDownload(node);
      return {
        chain: node.params.name,
        blocks: tip.height,
        headers,
        bestblockhash: tip.hashHex,
        bits: bitsToHex(tip.header.bits),
        target: targetToHex(bitsToTarget(tip.header.bits).target),
        difficulty: difficultyFromBits(tip.header.bits),
        time: tip.header.time,
        mediantime: node.chain.getMedianTimePast(tip),
        // Core estimates by transaction counts; cairn reports the share of known headers whose blocks are connected.
        verificationprogress: ibd ? (headers === 0 ? 1 : tip.height / headers) : 1,
        initialblockdownload: ibd,
        chainwork: chainWorkHex(tip.chainWork),
        size_on_disk: chainDiskSize(ctx.datadir),
        pruned: false,
        // Core 28+: an array of warnings (before: one string).
        warnings: [],
      };
    },
  });

  table.register({
    name: 'getblockcount',
    category: 'blockchain',
    description: 'Returns the height of the most-work fully-validated chain.\nThe genesis block has height 0.',
    args: [],
    result: 'n    (numeric) The current block count',
    handler: (_args, ctx) => ctx.node.chain.height,
  });

  table.register({
    name: 'getbestblockhash',
    category: 'blockchain',
    description: 'Returns the hash of the best (tip) block in the most-work fully-validated chain.',
    args: [],
    result: '"hex"    (string) the block hash, hex-encoded',
    handler: (_args, ctx) => ctx.node.chain.tip.hashHex,
  });

  table.register({
    name: 'getblockhash',
    category: 'blockchain',
    description: 'Returns hash of block in best-block-chain at height provided.',
    args: [{ name: 'height', type: 'number', description: 'The height index' }],
    result: '"hex"    (string) The block hash',
    examples: ['1000'],
    handler: ([height], ctx) => {
      const h = parseIntArg(height, 'height', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      const entry = ctx.node.chain.getEntryByHeight(h);
      if (h < 0 || entry === undefined) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'Block height out of range');
      return entry.hashHex;
    },
  });

  table.register({
    name: 'getblock',
    category: 'blockchain',
    description:
      'If verbosity is 0, returns a string that is serialized, hex-encoded data for block \'hash\'.\n' +
      'If verbosity is 1, returns an Object with information about block <hash>.\n' +
      'If verbosity is 2, returns an Object with information about block <hash> and information about each transaction.\n' +
      'If verbosity is 3, returns an Object with information about block <hash> and information about each transaction, ' +
      'including prevout information for inputs.',
    args: [
      { name: 'blockhash', type: 'hex', description: 'The block hash' },
      {
        name: 'verbosity|verbose',
        type: ['number', 'boolean'],
        optional: true,
        default: '1',
        description: '0 for hex-encoded data, 1 for a JSON object, 2 for JSON object with transaction data, and 3 for JSON object with transaction data including prevout information for inputs',
      },
    ],
    result:
      'verbosity 0: "hex"\n' +
      'verbosity 1: { "hash", "confirmations", "height", "version", "versionHex", "merkleroot", "time", "mediantime", "nonce",\n' +
      '  "bits", "target", "difficulty", "chainwork", "nTx", "previousblockhash", "nextblockhash", "strippedsize", "size",\n' +
      '  "weight", "tx": [txid] }\n' +
      'verbosity 2/3: as 1, with "tx": [decoded transactions with "fee" and "hex" (3: and vin[].prevout)]',
    examples: ['"00000000c937983704a73af28acdec37b049d214adbda81d7e2a3dd146f6ed09"'],
    handler: ([blockhash, verbosityArg], ctx) => {
      const { node } = ctx;
      const entry = requireEntry(node, blockhash);
      const verbosity = parseVerbosityArg(verbosityArg, 1);
      if (verbosity <= 0) {
        const raw = node.chain.getRawBlock(entry.hash);
        if (raw === undefined) throw new RpcError(RPC_ERROR.MISC_ERROR, 'Block not available (not fully downloaded)');
        return bytesToHex(raw);
      }
      const block = readStoredBlock(node, entry);
      const json = blockHeaderEntryToJson(node, entry);
      json['strippedsize'] = getBlockSize(block, false);
      json['size'] = getBlockSize(block);
      json['weight'] = getBlockWeight(block);
      if (verbosity === 1) {
        json['tx'] = block.txs.map((tx) => hashToHex(computeTxid(tx)));
      } else {
        const undo = node.chain.getBlockUndo(entry.hash);
        const spent = undo === undefined ? undefined : splitUndo(block, undo);
        json['tx'] = block.txs.map((tx, i) => txWithUndoToJson(node, tx, spent?.[i], verbosity >= 3));
      }
      return json;
    },
  });

  table.register({
    name: 'getblockheader',
    category: 'blockchain',
    description:
      "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\n" +
      "If verbose is true, returns an Object with information about blockheader <hash>.",
    args: [
      { name: 'blockhash', type: 'hex', description: 'The block hash' },
      { name: 'verbose', type: 'boolean', optional: true, default: 'true', description: 'true for a json object, false for the hex-encoded data' },
    ],
    result:
      'verbose true: { "hash", "confirmations", "height", "version", "versionHex", "merkleroot", "time", "mediantime",\n' +
      '  "nonce", "bits", "target", "difficulty", "chainwork", "nTx", "previousblockhash", "nextblockhash" }\n' +
      'verbose false: "hex"    (string) the serialized, hex-encoded 80-byte header',
    handler: ([blockhash, verbose], ctx) => {
      const entry = requireEntry(ctx.node, blockhash);
      if (verbose === false) return bytesToHex(encodeBlockHeader(entry.header));
      return blockHeaderEntryToJson(ctx.node, entry);
    },
  });

  table.register({
    name: 'getchaintips',
    category: 'blockchain',
    description: 'Return information about all known tips in the block tree, including the main chain as well as orphaned branches.',
    args: [],
    result:
      '[ { "height": n, "hash": hex, "branchlen": n (0 for the main chain),\n' +
      '    "status": "invalid" | "headers-only" | "valid-headers" | "valid-fork" | "active" } ]',
    handler: (_args, ctx) => ctx.node.chain.getChainTips().map((t) => ({ height: t.height, hash: hashToHex(t.hash), branchlen: t.branchlen, status: t.status })),
  });

  table.register({
    name: 'getdifficulty',
    category: 'blockchain',
    description: 'Returns the proof-of-work difficulty as a multiple of the minimum difficulty.',
    args: [],
    result: 'n    (numeric) the proof-of-work difficulty as a multiple of the minimum difficulty.',
    handler: (_args, ctx) => difficultyFromBits(ctx.node.chain.tip.header.bits),
  });

  table.register({
    name: 'gettxout',
    category: 'blockchain',
    description: 'Returns details about an unspent transaction output.',
    args: [
      { name: 'txid', type: 'hex', description: 'The transaction id' },
      { name: 'n', type: 'number', description: 'vout number' },
      { name: 'include_mempool', type: 'boolean', optional: true, default: 'true', description: 'Whether to include the mempool. Note that an unspent output that is spent in the mempool won\'t appear.' },
    ],
    result:
      'null when the output is spent or unknown, else\n' +
      '{ "bestblock": hex, "confirmations": n, "value": n, "scriptPubKey": { "asm", "hex", "type", "address" }, "coinbase": bool }',
    examples: ['"txid" 1'],
    handler: ([txidArg, nArg, includeMempool], ctx) => {
      const { node } = ctx;
      const txid = parseTxidArg(txidArg, 'txid');
      const n = parseIntArg(nArg, 'n', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      if (n < 0 || n > 0xffffffff) return null;
      const outpoint = { txid, index: n };
      let coin: Coin | undefined;
      if (includeMempool !== false) {
        if (node.mempool.getSpender(outpoint) !== undefined) return null;
        coin = node.chain.getCoin(outpoint) ?? node.mempool.getCoin(outpoint);
      } else {
        coin = node.chain.getCoin(outpoint);
      }
      if (coin === undefined) return null;
      const tip = node.chain.tip;
      return {
        bestblock: tip.hashHex,
        confirmations: coin.height === MEMPOOL_HEIGHT ? 0 : tip.height - coin.height + 1,
        value: new CoreAmount(coin.output.value),
        scriptPubKey: scriptPubKeyToCoreJson(coin.output.scriptPubKey, node.params),
        coinbase: coin.isCoinbase,
      };
    },
  });

  table.register({
    name: 'gettxoutsetinfo',
    category: 'blockchain',
    description:
      'Returns statistics about the unspent transaction output set.\nNote this call may take some time.\n' +
      'hash_serialized_3 is cairn\'s UTXO digest: sha256d over every coin in outpoint order (not byte-equal to Core\'s).',
    args: [
      { name: 'hash_type', type: 'string', optional: true, default: 'hash_serialized_3', description: 'Which UTXO set hash should be calculated. Options: \'hash_serialized_3\', \'none\'.' },
      { name: 'hash_or_height', type: ['string', 'number'], optional: true, default: 'the current best block', description: 'The block hash or height of the target height (only the tip is available).' },
      { name: 'use_index', type: 'boolean', optional: true, default: 'true', description: 'Use coinstatsindex (cairn has none).' },
    ],
    result:
      '{ "height": n, "bestblock": hex, "txouts": n, "hash_serialized_3": hex, "total_amount": n, "disk_size": n }',
    handler: ([hashType, hashOrHeight], ctx) => {
      const { node } = ctx;
      const type = hashType === undefined ? 'hash_serialized_3' : String(hashType);
      if (type === 'muhash') throw new RpcError(RPC_ERROR.INVALID_PARAMETER, "hash_type 'muhash' is not supported by cairn");
      if (type !== 'hash_serialized_3' && type !== 'none') {
        throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `'${type}' is not a valid hash_type`);
      }
      if (hashOrHeight !== undefined) {
        const tip = node.chain.tip;
        const isTip = typeof hashOrHeight === 'number' ? hashOrHeight === tip.height : String(hashOrHeight).toLowerCase() === tip.hashHex;
        if (!isTip) throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'Querying specific block heights requires coinstatsindex');
      }
      const digest = node.chain.computeUtxoDigest();
      return {
        height: digest.height,
        bestblock: hashToHex(digest.bestBlock),
        txouts: digest.txouts,
        ...(type === 'hash_serialized_3' ? { hash_serialized_3: digest.hashSerialized } : {}),
        total_amount: new CoreAmount(digest.totalAmount),
        disk_size: chainDiskSize(ctx.datadir),
      };
    },
  });
}
