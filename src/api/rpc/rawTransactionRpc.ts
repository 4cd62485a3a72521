import { isUnspendable } from '../../consensus/scriptType.js';
import { VerifyError } from '../../consensus/verifyError.js';
import type { MempoolAcceptResult } from '../../interfaces/mempoolTypes.js';
import { feeForVsize } from '../../policy/feeRate.js';
import { DecodeError } from '../../primitives/decodeError.js';
import { bytesEqual, bytesToHex, hashToHex } from '../../primitives/hex.js';
import { computeTxid, decodeTx, encodeTx, isCoinbase } from '../../primitives/tx.js';
import type { Block, Tx, Txid } from '../../primitives/types.js';
import type { BlockIndexEntry } from '../../interfaces/chainTypes.js';
import { CoreAmount, txToCoreJson } from '../coreJson.js';
import { broadcastTransaction, DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB, rejectToRpcError } from '../broadcastTransaction.js';
import { splitUndo, txWithUndoToJson } from './blockchainRpc.js';
import { parseAmountArg, parseBlockHashArg, parseFeeRateArg, parseTxidArg, parseVerbosityArg, tryParseHex } from './rpcArgs.js';
import { RPC_ERROR, RpcError } from './rpcError.js';
import type { RpcTable } from './rpcTable.js';

/** Core's MAX_PACKAGE_COUNT: most transactions testmempoolaccept takes. */
const MAX_PACKAGE_COUNT = 25;

/** Decodes a raw transaction argument, or undefined when it is not hex or not one transaction. */
function tryDecodeTx(value: unknown): Tx | undefined {
  const bytes = tryParseHex(value);
  if (bytes === undefined) return undefined;
  try {
    return decodeTx(bytes);
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
}


/** Where getrawtransaction found a transaction. */
interface FoundTx {
  readonly tx: Tx;
  readonly block?: { readonly entry: BlockIndexEntry; readonly block: Block; readonly position: number };
}

function findInBlock(block: Block, txid: Txid): number {
  return block.txs.findIndex((tx) => bytesEqual(computeTxid(tx), txid));
}

/** Registers getrawtransaction, decoderawtransaction, sendrawtransaction and testmempoolaccept. */
export function registerRawTransactionRpc(table: RpcTable): void {
  table.register({
    name: 'getrawtransaction',
    category: 'rawtransactions',
    description:
      'By default, this call only returns a transaction if it is in the mempool or in a block of the main chain ' +
      '(cairn keeps a transaction index).\nIf a blockhash argument is passed, it will return the transaction if the ' +
      'specified block is available and the transaction is in that block.\n' +
      'If verbosity is 0 or omitted, returns the serialized transaction as a hex-encoded string.\n' +
      'If verbosity is 1, returns a JSON Object with information about the transaction.\n' +
      'If verbosity is 2, returns a JSON Object with information about the transaction, including fee and prevout information.',
    args: [
      { name: 'txid', type: 'hex', description: 'The transaction id' },
      { name: 'verbosity|verbose', type: ['number', 'boolean'], optional: true, default: '0', description: '0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with fee and prevout' },
      { name: 'blockhash', type: 'hex', optional: true, description: 'The block in which to look for the transaction' },
    ],
    result:
      'verbosity 0: "hex"\n' +
      'verbosity 1: { "in_active_chain" (with blockhash), decoderawtransaction fields, "hex", "blockhash", "confirmations",\n' +
      '  "time", "blocktime" }\n' +
      'verbosity 2: as 1, with "fee" and vin[].prevout { "generated", "height", "value", "scriptPubKey" }',
    examples: ['"mytxid"', '"mytxid" 1', '"mytxid" 0 "myblockhash"'],
    handler: ([txidArg, verbosityArg, blockhashArg], ctx) => {
      const { node } = ctx;
      const txid = parseTxidArg(txidArg, 'parameter 1');
      const verbosity = parseVerbosityArg(verbosityArg, 0);
      const genesisCoinbase = node.params.genesis.txs[0];
      if (genesisCoinbase !== undefined && bytesEqual(computeTxid(genesisCoinbase), txid)) {
        throw new RpcError(
          RPC_ERROR.INVALID_ADDRESS_OR_KEY,
          'The genesis block coinbase is not considered an ordinary transaction and cannot be retrieved',
        );
      }
      let found: FoundTx | undefined;
      if (blockhashArg !== undefined) {
        const entry = node.chain.getEntry(parseBlockHashArg(blockhashArg, 'parameter 3'));
        if (entry === undefined) throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, 'Block hash not found');
        const block = node.chain.getBlock(entry.hash);
        if (block === undefined) throw new RpcError(RPC_ERROR.MISC_ERROR, 'Block not available');
        const position = findInBlock(block, txid);
        if (position < 0) {
          throw new RpcError(
            RPC_ERROR.INVALID_ADDRESS_OR_KEY,
            'No such transaction found in the provided block. Use gettransaction for wallet transactions.',
          );
        }
        found = { tx: block.txs[position]!, block: { entry, block, position } };
      } else {
        const pooled = node.mempool.get(txid);
        if (pooled !== undefined) {
          found = { tx: pooled.tx };
        } else {
          const location = node.chainIndex.getTxLocation(txid);
          const entry = location && node.chain.getEntry(location.blockHash);
          const block = entry && node.chain.getBlock(entry.hash);
          const tx = block?.txs[location!.position];
          if (tx !== undefined) found = { tx, block: { entry: entry!, block: block!, position: location!.position } };
        }
      }
      if (found === undefined) {
        throw new RpcError(
          RPC_ERROR.INVALID_ADDRESS_OR_KEY,
          'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
        );
      }
      if (verbosity <= 0) return bytesToHex(encodeTx(found.tx));

      const inBlock = found.block;
      const json: Record<string, unknown> = {};
      const inActiveChain = inBlock !== undefined && node.chain.isMainChain(inBlock.entry);
      if (blockhashArg !== undefined) json['in_active_chain'] = inActiveChain;
      let spent;
      // Prevouts come from the block's undo data (main-chain blocks only), as Core's; mempool txs show verbosity 1.
      if (verbosity >= 2 && inBlock !== undefined && !isCoinbase(found.tx)) {
        const undo = node.chain.getBlockUndo(inBlock.entry.hash);
        spent = undo === undefined ? undefined : splitUndo(inBlock.block, undo)[inBlock.position];
      }
      Object.assign(json, txWithUndoToJson(node, found.tx, spent, true));
      if (inBlock !== undefined) {
        json['blockhash'] = inBlock.entry.hashHex;
        if (inActiveChain) {
          json['confirmations'] = node.chain.height - inBlock.entry.height + 1;
          json['time'] = inBlock.entry.header.time;
          json['blocktime'] = inBlock.entry.header.time;
        } else {
          json['confirmations'] = 0;
        }
      }
      return json;
    },
  });

  table.register({
    name: 'decoderawtransaction',
    category: 'rawtransactions',
    description: 'Return a JSON object representing the serialized, hex-encoded transaction.',
    args: [
      { name: 'hexstring', type: 'hex', description: 'The transaction hex string' },
      { name: 'iswitness', type: 'boolean', optional: true, default: 'depends on heuristic tests', description: 'Whether the transaction hex is a serialized witness transaction (cairn detects the segwit marker itself).' },
    ],
    result: '{ "txid", "hash", "size", "vsize", "weight", "version", "locktime", "vin": [...], "vout": [...] }',
    examples: ['"hexstring"'],
    handler: ([hexstring], ctx) => {
      const tx = tryDecodeTx(hexstring);
      if (tx === undefined) throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, 'TX decode failed');
      return txToCoreJson(tx, ctx.node.params);
    },
  });

  table.register({
    name: 'sendrawtransaction',
    category: 'rawtransactions',
    description:
      'Submit a raw transaction (serialized, hex-encoded) to the local node and network.\n' +
      'The transaction will be sent unconditionally to all peers, so using sendrawtransaction for manual rebroadcast ' +
      'may degrade privacy by leaking the transaction\'s origin.',
    args: [
      { name: 'hexstring', type: 'hex', description: 'The hex string of the raw transaction' },
      { name: 'maxfeerate', type: 'amount', optional: true, default: '0.10', description: 'Reject transactions whose fee rate is higher than the specified value, expressed in coins/kvB. Set to 0 to accept any fee rate.' },
      { name: 'maxburnamount', type: 'amount', optional: true, default: '0.00', description: 'Reject transactions with provably unspendable outputs (OP_RETURN) whose value is larger than the specified value, expressed in coins.' },
    ],
    result: '"hex"    (string) The transaction hash in hex',
    examples: ['"signedhex"'],
    handler: async ([hexstring, maxFeeRateArg, maxBurnArg], { node }) => {
      const tx = tryDecodeTx(hexstring);
      if (tx === undefined) {
        throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, 'TX decode failed. Make sure the tx has at least one input.');
      }
      const maxFeeRate = maxFeeRateArg === undefined ? DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB : parseFeeRateArg(maxFeeRateArg);
      const maxBurn = maxBurnArg === undefined ? 0n : parseAmountArg(maxBurnArg);
      for (const output of tx.outputs) {
        if (isUnspendable(output.scriptPubKey) && output.value > maxBurn) {
          throw new RpcError(RPC_ERROR.VERIFY_ERROR, 'Unspendable output exceeds maximum configured by user (maxburnamount)');
        }
      }
      try {
        return hashToHex(await broadcastTransaction(node, tx, maxFeeRate));
      } catch (err) {
        if (err instanceof VerifyError) {
          const { code, message } = rejectToRpcError(err);
          throw new RpcError(code, message);
        }
        throw err;
      }
    },
  });

  table.register({
    name: 'testmempoolaccept',
    category: 'rawtransactions',
    description:
      'Returns result of mempool acceptance tests indicating if raw transaction(s) (serialized, hex-encoded) would be ' +
      'accepted by mempool.\nThis checks if transactions violate the consensus or policy rules.\n' +
      'cairn tests each transaction on its own against the current mempool (no package evaluation).',
    args: [
      { name: 'rawtxs', type: 'array', syntax: '["rawtx",...]', description: `An array of hex strings of raw transactions (1 to ${MAX_PACKAGE_COUNT}).` },
      { name: 'maxfeerate', type: 'amount', optional: true, default: '0.10', description: 'Reject transactions whose fee rate is higher than the specified value, expressed in coins/kvB.' },
    ],
    result:
      '[ { "txid": hex, "wtxid": hex, "allowed": bool, "vsize": n, "fees": { "base": n, "effective-feerate": n,\n' +
      '    "effective-includes": [wtxid] }, "reject-reason": str, "reject-details": str } ]',
    examples: ['\'["signedhex"]\''],
    handler: async ([rawtxs, maxFeeRateArg], ctx) => {
      const { node } = ctx;
      const list = rawtxs as unknown[];
      if (list.length < 1 || list.length > MAX_PACKAGE_COUNT) {
        throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `Array must contain between 1 and ${MAX_PACKAGE_COUNT} transactions.`);
      }
      const maxFeeRate = maxFeeRateArg === undefined ? DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB : parseFeeRateArg(maxFeeRateArg);
      const txs = list.map((raw) => {
        const tx = tryDecodeTx(raw);
        if (tx === undefined) {
          throw new RpcError(RPC_ERROR.DESERIALIZATION_ERROR, `TX decode failed: ${String(raw)} Make sure the tx has at least one input.`);
        }
        return tx;
      });
      const results: Record<string, unknown>[] = [];
      for (const tx of txs) {
        const base = txToCoreJson(tx, node.params);
        const row: Record<string, unknown> = { txid: base['txid'], wtxid: base['hash'] };
        let accepted: MempoolAcceptResult;
        try {
          accepted = await node.submitTransaction(tx, { testOnly: true });
        } catch (err) {
          if (!(err instanceof VerifyError)) throw err;
          results.push({ ...row, allowed: false, 'reject-reason': err.code, 'reject-details': err.message });
          continue;
        }
        if (maxFeeRate > 0n && accepted.fee > feeForVsize(Number(maxFeeRate), accepted.vsize)) {
          results.push({ ...row, allowed: false, 'reject-reason': 'max-fee-exceeded' });
          continue;
        }
        results.push({
          ...row,
          allowed: true,
          vsize: accepted.vsize,
          fees: {
            base: new CoreAmount(accepted.fee),
            'effective-feerate': new CoreAmount((accepted.fee * 1000n) / BigInt(accepted.vsize)),
            'effective-includes': [hashToHex(accepted.wtxid)],
          },
        });
      }
      return results;
    },
  });
}
