import { VerifyError } from '../consensus/verifyError.js';
import { hashToHex } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import type { Tx, Txid } from '../primitives/types.js';
import type { NodeContext } from '../interfaces/nodeContext.js';

export { DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB } from '../policy/feeRate.js';

/**
 * The message sendrawtransaction and POST /api/tx answer a `max-fee-exceeded` reject with (RPC_VERIFY_ERROR, -25).
 * @see Bitcoin Core common/messages.cpp TransactionErrorString(TransactionError::MAX_FEE_EXCEEDED)
 */
export const MAX_FEE_EXCEEDED_MESSAGE = 'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)';

/** Core's RPC_VERIFY_ERROR (RPC_TRANSACTION_ERROR): missing inputs, fee over the client's ceiling. */
const RPC_VERIFY_ERROR = -25;
/** Core's RPC_VERIFY_REJECTED (RPC_TRANSACTION_REJECTED): any other mempool refusal. */
const RPC_VERIFY_REJECTED = -26;
/** Core's RPC_VERIFY_ALREADY_IN_CHAIN: the tx's outputs are already confirmed. */
const RPC_VERIFY_ALREADY_IN_CHAIN = -27;

/** A JSON-RPC error object: Core's code and message. */
export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
}

/**
 * The JSON-RPC error Core answers a refused broadcast with, for sendrawtransaction and, inside Esplora's error text,
 * POST /api/tx: a fee over the client's maxfeerate → -25 with Core's MAX_FEE_EXCEEDED text; outputs already confirmed
 * → -27 "Transaction outputs already in utxo set"; missing or spent inputs (category missing-inputs) → -25; any other
 * reject → -26; the message of the last two is Core's TxValidationState::ToString, "reason, detail".
 * @see Bitcoin Core node/transaction.cpp BroadcastTransaction, HandleATMPError; rpc/util.cpp JSONRPCTransactionError
 */
export function rejectToRpcError(err: VerifyError): RpcErrorObject {
  if (err.code === 'max-fee-exceeded') return { code: RPC_VERIFY_ERROR, message: MAX_FEE_EXCEEDED_MESSAGE };
  if (err.code === 'txn-already-known') return { code: RPC_VERIFY_ALREADY_IN_CHAIN, message: 'Transaction outputs already in utxo set' };
  const message = err.detail ? `${err.code}, ${err.detail}` : err.code;
  return { code: err.category === 'missing-inputs' ? RPC_VERIFY_ERROR : RPC_VERIFY_REJECTED, message };
}

/**
 * Submits a transaction a client hands in (sendrawtransaction, POST /api/tx) as Core's BroadcastTransaction does:
 * a tx whose txid is already in the mempool answers its txid (it would be relayed again); one whose outputs are
 * already confirmed is `txn-already-known`; any other goes through mempool acceptance with the client's fee-rate
 * ceiling, checked inside the same acceptance (no second validation). Returns the txid.
 * @throws VerifyError with the mempool's reasons, `max-fee-exceeded` above `maxFeeRateSatPerKvb` (0 = no ceiling),
 *   `txn-already-known`
 * @see Bitcoin Core node/transaction.cpp BroadcastTransaction
 */
export async function broadcastTransaction(node: NodeContext, tx: Tx, maxFeeRateSatPerKvb: bigint): Promise<Txid> {
  const txid = computeTxid(tx);
  if (node.mempool.has(txid)) return txid;
  const confirmed =
    node.chainIndex.getTxLocation(txid) !== undefined || tx.outputs.some((_, index) => node.chain.getCoin({ txid, index }) !== undefined);
  if (confirmed) throw new VerifyError('txn-already-known', 0, hashToHex(txid));
  try {
    return (await node.submitTransaction(tx, { maxFeeRateSatPerKvb })).txid;
  } catch (err) {
    // Raced with the same tx arriving from a peer: as the check above, not an error.
    if (err instanceof VerifyError && (err.code === 'txn-already-in-mempool' || err.code === 'txn-same-nonwitness-data-in-mempool')) {
      return txid;
    }
    throw err;
  }
}
