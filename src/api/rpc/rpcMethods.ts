import { registerBlockchainRpc } from './blockchainRpc.js';
import { registerControlRpc } from './controlRpc.js';
import { registerMempoolRpc } from './mempoolRpc.js';
import { registerMiningRpc } from './miningRpc.js';
import { registerNetworkRpc } from './networkRpc.js';
import { registerRawTransactionRpc } from './rawTransactionRpc.js';
import { RpcTable } from './rpcTable.js';
import { registerUtilRpc } from './utilRpc.js';

/**
 * Every RPC method cairn serves, registered into one fresh table (a table per server: generatetoaddress keeps its
 * queue in it). `cairn rpc` reads the argument types from it to convert command-line parameters.
 */
export function buildRpcTable(): RpcTable {
  const table = new RpcTable();
  registerBlockchainRpc(table);
  registerMempoolRpc(table);
  registerRawTransactionRpc(table);
  registerMiningRpc(table);
  registerNetworkRpc(table);
  registerUtilRpc(table);
  registerControlRpc(table);
  return table;
}
