import { SerialQueue } from '../../async/serialQueue.js';
import { isP2trScript, isP2wpkhScript } from '../../consensus/scriptType.js';
import { addressToScriptPubKey } from '../../crypto/address.js';
import { COINBASE_RESERVED_WEIGHT } from '../../mining/blockAssembler.js';
import { bitsToTarget, targetToHex } from '../../consensus/pow.js';
import { decodeBlock } from '../../primitives/block.js';
import { DecodeError } from '../../primitives/decodeError.js';
import { bytesToHex, hashToHex } from '../../primitives/hex.js';
import { encodeTx, isCoinbase } from '../../primitives/tx.js';
import type { Block, Tx } from '../../primitives/types.js';
import { bitsToHex, difficultyFromBits } from '../coreJson.js';
import type { NodeContext } from '../../interfaces/nodeContext.js';
import { parseIntArg, tryParseHex } from './rpcArgs.js';
import type { RpcContext } from './rpcContext.js';
import { RPC_ERROR, RpcError } from './rpcError.js';
import type { RpcTable } from './rpcTable.js';
import { hashKey } from '../../primitives/hashKey.js';

/** Core's MAX_BLOCK_SIGOPS_COST. */
const MAX_BLOCK_SIGOPS_COST = 80_000;
/** Core's MAX_BLOCK_SERIALIZED_SIZE. */
const MAX_BLOCK_SERIALIZED_SIZE = 4_000_000;
/** Nonces one solveBlock call searches (the whole 32-bit header nonce). */
const NONCES_PER_SOLVE = 2 ** 32;
/** First wait of a longpoll before the mempool is looked at, then the interval between looks (Core: 1 min, 10 s). */
const LONGPOLL_FIRST_WAIT_MS = 60_000;
const LONGPOLL_NEXT_WAIT_MS = 10_000;

/**
 * Sigop cost of a template transaction: 1 per input spending a P2WPKH output (a witness-v0 key hash spend counts one
 * CHECKSIG); P2TR key-path spends and cairn's output scripts count none.
 * @see Bitcoin Core consensus/tx_verify.cpp GetTransactionSigOpCost, script/interpreter.cpp WitnessSigOps
 */
function sigopCost(node: NodeContext, tx: Tx): number {
  let cost = 0;
  for (const input of tx.inputs) {
    const script =
      node.chain.getCoin(input.prevout)?.output.scriptPubKey ??
      node.mempool.get(input.prevout.txid)?.tx.outputs[input.prevout.index]?.scriptPubKey;
    if (script !== undefined && isP2wpkhScript(script)) cost += 1;
  }
  return cost;
}

/**
 * Network hash rate over `lookup` blocks ending at `height` (−1 = tip), hashes per second: the chain work between the
 * window's ends divided by the spread of their block times. `lookup` −1 means since the last difficulty change
 * (Bitcoin retarget params), every block (no difficulty change), or 120 blocks (ASERT changes every block).
 * @throws RpcError INVALID_PARAMETER on a bad lookup or height
 * @see Bitcoin Core rpc/mining.cpp GetNetworkHashPS
 */
export function computeNetworkHashPs(node: NodeContext, lookupArg: number, heightArg: number): number {
  const { chain, params } = node;
  if (lookupArg < -1 || lookupArg === 0) {
    throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'Invalid nblocks. Must be a positive number or -1.');
  }
  if (heightArg < -1 || heightArg > chain.height) {
    throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'Block does not exist at specified height');
  }
  const end = heightArg >= 0 ? chain.getEntryByHeight(heightArg) : chain.tip;
  if (end === undefined || end.height === 0) return 0;
  let lookup = lookupArg;
  if (lookup === -1) {
    const rule = params.difficulty;
    lookup = rule.kind === 'bitcoin' ? (end.height % rule.retargetInterval) + 1 : rule.kind === 'none' ? end.height : 120;
  }
  lookup = Math.min(lookup, end.height);
  let minTime = end.header.time;
  let maxTime = minTime;
  let start = end;
  for (let i = 0; i < lookup; i++) {
    start = chain.getAncestor(end, end.height - i - 1)!;
    minTime = Math.min(minTime, start.header.time);
    maxTime = Math.max(maxTime, start.header.time);
  }
  if (minTime === maxTime) return 0;
  return Number(end.chainWork - start.chainWork) / (maxTime - minTime);
}

/** Resolves when a longpoll should answer: the tip moved, or (after a minute) the mempool changed, or the server closes. */
async function waitLongpoll(ctx: RpcContext, watchedTip: string, watchedSequence: number): Promise<void> {
  let waitMs = LONGPOLL_FIRST_WAIT_MS;
  while (ctx.node.chain.tip.hashHex === watchedTip && !ctx.signal.aborted) {
    const moved = await ctx.waitForTipChange(waitMs);
    if (!moved && ctx.mempoolSequence() !== watchedSequence) return;
    waitMs = LONGPOLL_NEXT_WAIT_MS;
  }
}

/** The BIP-22 result string of a processed block (null = accepted onto the main chain). */
function submitBlockResult(status: string, reason: string | undefined): string | null {
  switch (status) {
    case 'connected':
      return null;
    case 'duplicate':
      return 'duplicate';
    case 'side-chain':
    case 'orphan':
      return 'inconclusive';
    default:
      return reason ?? 'rejected';
  }
}

/** Registers getblocktemplate, submitblock, getmininginfo, getnetworkhashps and generatetoaddress. */
export function registerMiningRpc(table: RpcTable): void {
  table.register({
    name: 'getblocktemplate',
    category: 'mining',
    description:
      'If the request parameters include a \'mode\' key, that is used to explicitly select between the default ' +
      '\'template\' request or a \'proposal\' (cairn supports \'template\' only).\n' +
      'It returns data needed to construct a block to work on.\n' +
      'For full specification, see BIPs 22, 23, 9, and 145:\n' +
      '    https://github.com/bitcoin/bips/blob/master/bip-0022.mediawiki\n' +
      '    https://github.com/bitcoin/bips/blob/master/bip-0023.mediawiki\n' +
      'A \'longpollid\' from an earlier template makes the call wait until the tip changes (or, after a minute, the ' +
      'mempool changed).',
    args: [
      {
        name: 'template_request',
        type: 'object',
        optional: true,
        syntax: '{"mode":"str","capabilities":["str",...],"rules":["segwit","str",...],"longpollid":"str"}',
        description: 'Format of the template: "rules" must include "segwit"; "longpollid" waits for a change.',
      },
    ],
    result:
      '{ "version", "rules", "vbavailable", "vbrequired", "previousblockhash", "transactions": [{ "data", "txid", "hash",\n' +
      '  "depends" (1-based indexes), "fee", "sigops", "weight" }], "coinbaseaux", "coinbasevalue", "longpollid",\n' +
      '  "target", "mintime", "mutable", "noncerange", "sigoplimit", "sizelimit", "weightlimit", "curtime", "bits",\n' +
      '  "height", "default_witness_commitment" (when a transaction has witness data) }',
    examples: ['\'{"rules": ["segwit"]}\''],
    handler: async ([requestArg], ctx) => {
      const { node } = ctx;
      const request = (requestArg ?? {}) as Record<string, unknown>;
      const mode = request['mode'] ?? 'template';
      if (mode !== 'template') throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'Invalid mode');
      const rules = request['rules'];
      if (!Array.isArray(rules) || !rules.includes('segwit')) {
        throw new RpcError(
          RPC_ERROR.INVALID_PARAMETER,
          'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})',
        );
      }
      const longpollid = request['longpollid'];
      if (longpollid !== undefined) {
        if (typeof longpollid !== 'string') throw new RpcError(RPC_ERROR.TYPE_ERROR, 'longpollid must be a string');
        const watchedTip = longpollid.slice(0, 64);
        const watchedSequence = Number(longpollid.slice(64));
        await waitLongpoll(ctx, watchedTip, watchedSequence);
        if (ctx.signal.aborted) throw new RpcError(RPC_ERROR.CLIENT_NOT_CONNECTED, 'Shutting down');
      }
      const template = node.blockTemplates.createTemplate();
      const indexOf = new Map(template.txs.map((t, i) => [hashKey(t.txid), i + 1]));
      const transactions = template.txs.map((t) => {
        const depends = new Set<number>();
        for (const input of t.tx.inputs) {
          const parent = indexOf.get(hashKey(input.prevout.txid));
          if (parent !== undefined) depends.add(parent);
        }
        return {
          data: bytesToHex(encodeTx(t.tx)),
          txid: hashToHex(t.txid),
          hash: hashToHex(t.wtxid),
          depends: [...depends].sort((a, b) => a - b),
          fee: t.fee,
          sigops: sigopCost(node, t.tx),
          weight: t.weight,
        };
      });
      ctx.lastTemplate = { weight: template.txWeight + COINBASE_RESERVED_WEIGHT, txCount: template.txs.length };
      return {
        capabilities: [],
        version: template.version,
        rules: ['!segwit', 'taproot'],
        vbavailable: {},
        vbrequired: 0,
        previousblockhash: hashToHex(template.prevBlock),
        transactions,
        coinbaseaux: {},
        coinbasevalue: template.coinbaseValue,
        longpollid: `${hashToHex(template.prevBlock)}${ctx.mempoolSequence()}`,
        target: targetToHex(template.target),
        mintime: template.minTimeSec,
        mutable: ['time', 'transactions', 'prevblock'],
        noncerange: '00000000ffffffff',
        sigoplimit: MAX_BLOCK_SIGOPS_COST,
        sizelimit: MAX_BLOCK_SERIALIZED_SIZE,
        weightlimit: node.params.maxBlockWeight,
        curtime: template.curTimeSec,
        bits: bitsToHex(template.bits),
        height: template.height,
        ...(template.witnessCommitment !== null
          ? { default_witness_commitment: bytesToHex(template.witnessCommitment.scriptPubKey) }
          : {}),
      };
    },
  });

  table.register({
    name: 'submitblock',
    category: 'mining',
    description:
      'Attempts to submit new block to network.\nSee https://en.bitcoin.it/wiki/BIP_0022 for full specification.',
    args: [
      { name: 'hexdata', type: 'hex', description: 'the hex-encoded block data to submit' },
      { name: 'dummy', type: 'string', optional: true, default: 'ignored', description: 'dummy value, for compatibility with BIP22. This value is ignored.' },
    ],
    result:
      'null when the block became the tip; else a BIP-22 string: "duplicate", "duplicate-invalid", "inconclusive"\n' +
      '(stored on a side branch, or its parent is unknown), or the reject reason (e.g. "high-hash", "bad-txnmrklroot")',
    examples: ['"mydata"'],
    handler: async ([hexdata], ctx) => {
      const bytes = tryParseHex(hexdata);
      let block: Block;
      try {
        if (bytes === undefined) throw new DecodeError('bad-hex', 0);
        block = decodeBlock(bytes);
      } catch (err) {
        if (err instanceof DecodeError) throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, 'Block decode failed');
        throw err;
      }
      const first = block.txs[0];
      if (first === undefined || !isCoinbase(first)) {
        throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, 'Block does not start with a coinbase');
      }
      const result = await ctx.node.submitBlock(block);
      return submitBlockResult(result.status, result.reason);
    },
  });

  table.register({
    name: 'getmininginfo',
    category: 'mining',
    description: 'Returns a json object containing mining-related information.',
    args: [],
    result:
      '{ "blocks": n, "currentblockweight": n (after a getblocktemplate), "currentblocktx": n (idem), "bits": hex,\n' +
      '  "target": hex, "difficulty": n, "networkhashps": n, "pooledtx": n, "chain": str, "warnings": [str] }',
    handler: (_args, ctx) => {
      const { node } = ctx;
      const tip = node.chain.tip;
      const nextBits = node.chain.getNextBits(tip);
      return {
        blocks: tip.height,
        ...(ctx.lastTemplate !== undefined
          ? { currentblockweight: ctx.lastTemplate.weight, currentblocktx: ctx.lastTemplate.txCount }
          : {}),
        bits: bitsToHex(nextBits),
        target: targetToHex(bitsToTarget(nextBits).target),
        difficulty: difficultyFromBits(tip.header.bits),
        networkhashps: computeNetworkHashPs(node, 120, -1),
        pooledtx: node.mempool.size,
        chain: node.params.name,
        warnings: [],
      };
    },
  });

  table.register({
    name: 'getnetworkhashps',
    category: 'mining',
    description:
      'Returns the estimated network hashes per second based on the last n blocks.\n' +
      'Pass in [blocks] to override # of blocks, -1 specifies since last difficulty change.\n' +
      'Pass in [height] to estimate the network speed at the time when a certain block was found.',
    args: [
      { name: 'nblocks', type: 'number', optional: true, default: '120', description: 'The number of previous blocks to calculate estimate from, or -1 for blocks since last difficulty change.' },
      { name: 'height', type: 'number', optional: true, default: '-1', description: 'To estimate at the time of the given height.' },
    ],
    result: 'n    (numeric) Hashes per second estimated',
    handler: ([nblocks, height], ctx) =>
      computeNetworkHashPs(
        ctx.node,
        nblocks === undefined ? 120 : parseIntArg(nblocks, 'nblocks', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
        height === undefined ? -1 : parseIntArg(height, 'height', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      ),
  });

  // generatetoaddress calls run one at a time, so two callers never build on the same tip and orphan each other.
  const generating = new SerialQueue();
  table.register({
    name: 'generatetoaddress',
    category: 'generating',
    description:
      'Mine to a specified address and return the block hashes (regtest and devnet only).\n' +
      'The node\'s solver searches the whole 32-bit nonce space for each extra nonce; maxtries bounds the nonces tried ' +
      'per block, rounded up to whole nonce spaces. When they run out, the hashes mined so far are returned.',
    args: [
      { name: 'nblocks', type: 'number', description: 'How many blocks are generated.' },
      { name: 'address', type: 'string', description: 'The address to send the newly generated coins to (P2WPKH or P2TR).' },
      { name: 'maxtries', type: 'number', optional: true, default: '1000000', description: 'How many iterations to try.' },
    ],
    result: '[ "hex", ... ]    (json array) hashes of blocks generated',
    examples: ['11 "myaddress"'],
    handler: ([nblocksArg, addressArg, maxtriesArg], ctx) => {
      const { node } = ctx;
      if (!node.params.allowGenerate) {
        throw new RpcError(
          RPC_ERROR.METHOD_NOT_FOUND,
          `generatetoaddress is not available on ${node.params.name}: only regtest and devnet mine on demand`,
        );
      }
      const nblocks = parseIntArg(nblocksArg, 'nblocks', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
      const maxtries = maxtriesArg === undefined ? 1_000_000 : parseIntArg(maxtriesArg, 'maxtries', 1, Number.MAX_SAFE_INTEGER);
      let rewardScript: Uint8Array;
      try {
        rewardScript = addressToScriptPubKey(String(addressArg), node.params.bech32Hrp);
      } catch {
        throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, 'Error: Invalid address');
      }
      if (!isP2wpkhScript(rewardScript) && !isP2trScript(rewardScript)) {
        throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, 'Error: Invalid address (cairn pays block rewards to P2WPKH or P2TR only)');
      }
      return generating.run(() => generateBlocks(ctx, nblocks, rewardScript, maxtries));
    },
  });
}

/**
 * Mines `nblocks` blocks on the tip paying `rewardScript`: template → block → node.solveBlock (bumping the extra
 * nonce when a nonce space runs out) → node.submitBlock. Returns their hashes.
 * @throws RpcError INTERNAL_ERROR "ProcessNewBlock, block not accepted" when the node refuses a mined block
 * @see Bitcoin Core rpc/mining.cpp generateBlocks, GenerateBlock
 */
async function generateBlocks(ctx: RpcContext, nblocks: number, rewardScript: Uint8Array, maxtries: number): Promise<string[]> {
  const { node } = ctx;
  const hashes: string[] = [];
  const roundsPerBlock = Math.max(1, Math.ceil(maxtries / NONCES_PER_SOLVE));
  for (let i = 0; i < nblocks && !ctx.signal.aborted; i++) {
    const template = node.blockTemplates.createTemplate();
    let solved: Block | null = null;
    for (let round = 0; round < roundsPerBlock && solved === null; round++) {
      const extraNonce = round === 0 ? undefined : Uint8Array.of(round & 0xff, (round >>> 8) & 0xff, (round >>> 16) & 0xff);
      const block = node.blockTemplates.buildBlock(template, { rewardScript, ...(extraNonce ? { extraNonce } : {}) });
      solved = await node.solveBlock(block);
    }
    if (solved === null) break;
    const result = await node.submitBlock(solved);
    if (result.status !== 'connected') {
      throw new RpcError(
        RPC_ERROR.INTERNAL_ERROR,
        `ProcessNewBlock, block not accepted${result.reason ? ` (${result.reason})` : ` (${result.status})`}`,
      );
    }
    hashes.push(hashToHex(result.hash));
  }
  return hashes;
}
