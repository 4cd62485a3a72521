import type { MempoolEntryView } from '../../interfaces/mempoolTypes.js';
import { hashToHex } from '../../primitives/hex.js';
import { CoreAmount } from '../coreJson.js';
import type { NodeContext } from '../../interfaces/nodeContext.js';
import { parseTxidArg } from './rpcArgs.js';
import { RPC_ERROR, RpcError } from './rpcError.js';
import type { RpcTable } from './rpcTable.js';

/** Rough bytes of memory one entry costs beyond its transaction (maps, sets, statistics), for `usage`. */
const ENTRY_OVERHEAD_BYTES = 400;

/**
 * One mempool entry as getmempoolentry / getrawmempool true print it, in Core's field order. `bip125-replaceable` is
 * true for every entry: cairn's mempool replaces by fee (full RBF) whatever the sequence numbers say.
 * @see Bitcoin Core rpc/mempool.cpp entryToJSON
 */
export function mempoolEntryToJson(node: NodeContext, entry: MempoolEntryView): Record<string, unknown> {
  const depends = new Set<string>();
  for (const input of entry.tx.inputs) {
    if (node.mempool.has(input.prevout.txid)) depends.add(hashToHex(input.prevout.txid));
  }
  const spentby = new Set<string>();
  entry.tx.outputs.forEach((_, index) => {
    const child = node.mempool.getSpender({ txid: entry.txid, index });
    if (child !== undefined) spentby.add(child.txidHex);
  });
  return {
    vsize: entry.vsize,
    weight: entry.weight,
    time: entry.timeSec,
    height: entry.height,
    descendantcount: entry.descendantCount,
    descendantsize: entry.descendantSize,
    ancestorcount: entry.ancestorCount,
    ancestorsize: entry.ancestorSize,
    wtxid: entry.wtxidHex,
    fees: {
      base: new CoreAmount(entry.fee),
      // cairn has no prioritisetransaction: the modified fee is the fee.
      modified: new CoreAmount(entry.fee),
      ancestor: new CoreAmount(entry.ancestorFees),
      descendant: new CoreAmount(entry.descendantFees),
    },
    depends: [...depends].sort(),
    spentby: [...spentby].sort(),
    'bip125-replaceable': true,
    unbroadcast: false,
  };
}

/** Registers getmempoolinfo, getrawmempool and getmempoolentry (Core's "blockchain" category). */
export function registerMempoolRpc(table: RpcTable): void {
  table.register({
    name: 'getmempoolinfo',
    category: 'blockchain',
    description: 'Returns details on the active state of the TX memory pool.',
    args: [],
    result:
      '{ "loaded": bool, "size": n, "bytes": n (sum of vsizes), "usage": n (estimated memory), "total_fee": n,\n' +
      '  "maxmempool": n (vsize cap), "mempoolminfee": n, "minrelaytxfee": n, "incrementalrelayfee": n,\n' +
      '  "unbroadcastcount": n, "fullrbf": bool }',
    handler: (_args, ctx) => {
      const { mempool } = ctx.node;
      const { options } = mempool;
      let usage = 0;
      for (const entry of mempool.entries()) usage += entry.weight + ENTRY_OVERHEAD_BYTES;
      const minFee = mempool.getMinimumFeeRateSatPerKvb();
      return {
        loaded: true,
        size: mempool.size,
        bytes: mempool.totalVsize,
        usage,
        total_fee: new CoreAmount(mempool.totalFees),
        maxmempool: options.maxSizeVbytes,
        mempoolminfee: new CoreAmount(BigInt(minFee)),
        minrelaytxfee: new CoreAmount(BigInt(options.minRelayFeeRateSatPerKvb)),
        incrementalrelayfee: new CoreAmount(BigInt(options.incrementalRelayFeeRateSatPerKvb)),
        unbroadcastcount: 0,
        fullrbf: true,
      };
    },
  });

  table.register({
    name: 'getrawmempool',
    category: 'blockchain',
    description:
      'Returns all transaction ids in memory pool as a json array of string transaction ids.\n' +
      'Hint: use getmempoolentry to fetch a specific transaction from the mempool.',
    args: [
      { name: 'verbose', type: 'boolean', optional: true, default: 'false', description: 'True for a json object, false for array of transaction ids' },
      { name: 'mempool_sequence', type: 'boolean', optional: true, default: 'false', description: 'If verbose=false, returns a json object with transaction list and mempool sequence number attached.' },
    ],
    result:
      'verbose false: ["txid", ...]\n' +
      'verbose true: { "txid": { getmempoolentry object }, ... }\n' +
      'mempool_sequence true: { "txids": ["txid", ...], "mempool_sequence": n }',
    examples: ['true'],
    handler: ([verbose, withSequence], ctx) => {
      const { node } = ctx;
      if (verbose === true && withSequence === true) {
        throw new RpcError(RPC_ERROR.INVALID_PARAMETER, 'Verbose results cannot contain mempool sequence values.');
      }
      const entries = [...node.mempool.entries()];
      if (verbose === true) return Object.fromEntries(entries.map((e) => [e.txidHex, mempoolEntryToJson(node, e)]));
      const txids = entries.map((e) => e.txidHex);
      return withSequence === true ? { txids, mempool_sequence: ctx.mempoolSequence() } : txids;
    },
  });

  table.register({
    name: 'getmempoolentry',
    category: 'blockchain',
    description: 'Returns mempool data for given transaction',
    args: [{ name: 'txid', type: 'hex', description: 'The transaction id (must be in mempool)' }],
    result:
      '{ "vsize", "weight", "time", "height", "descendantcount", "descendantsize", "ancestorcount", "ancestorsize",\n' +
      '  "wtxid", "fees": { "base", "modified", "ancestor", "descendant" }, "depends": [txid], "spentby": [txid],\n' +
      '  "bip125-replaceable": bool, "unbroadcast": bool }',
    examples: ['"mytxid"'],
    handler: ([txid], ctx) => {
      const entry = ctx.node.mempool.get(parseTxidArg(txid, 'txid'));
      if (entry === undefined) throw new RpcError(RPC_ERROR.INVALID_ADDRESS_OR_KEY, 'Transaction not in mempool');
      return mempoolEntryToJson(ctx.node, entry);
    },
  });
}
