import { VerifyError } from '../consensus/verifyError.js';
import { hashToHex } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import type { Tx } from '../primitives/types.js';
import type { NodeContext } from '../interfaces/nodeContext.js';

export { DEFAULT_MAX_RAW_TX_FEE_RATE_SAT_PER_KVB } from '../policy/feeRate.js';

/**
 * The message sendrawtransaction and POST /api/tx answer a `max-fee-exceeded` reject with (RPC_VERIFY_ERROR, -25).
 * @see Bitcoin Core common/messages.cpp TransactionErrorString(TransactionError::MAX_FEE_EXCEEDED)
 */
export const MAX_FEE_EXCEEDED_MESSAGE = 'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)';

/**
 * Submits a transaction a client hands in (sendrawtransaction, POST /api/tx) as Core's BroadcastTransaction does:
 * a tx whose txid is already in the mempool answers its txid (it would be relayed again); one whose outputs are
 * already confirmed is `txn-already-known`; any other goes through mempool acceptance with the client's fee-rate
 * ceiling, checked inside the same acceptance (no second validation). Returns the txid, display hex.
 * @throws VerifyError with the mempool's reasons, `max-fee-exceeded` above `maxFeeRateSatPerKvb` (0 = no ceiling),
 *   `txn-already-known`
 * @see Bitcoin Core node/transaction.cpp BroadcastTransaction
 */
export async function broadcastTransaction(node: NodeContext, tx: Tx, maxFeeRateSatPerKvb: bigint): Promise<string> {
  const txid = computeTxid(tx);
  const txidHex = hashToHex(txid);
  if (node.mempool.has(txid)) return txidHex;
  const confirmed =
    node.chainIndex.getTxLocation(txid) !== undefined || tx.outputs.some((_, index) => node.chain.getCoin({ txid, index }) !== undefined);
  if (confirmed) throw new VerifyError('txn-already-known', 0, txidHex);
  try {
    return (await node.submitTransaction(tx, { maxFeeRateSatPerKvb })).txid;
  } catch (err) {
    // Raced with the same tx arriving from a peer: as the check above, not an error.
    if (err instanceof VerifyError && (err.code === 'txn-already-in-mempool' || err.code === 'txn-same-nonwitness-data-in-mempool')) {
      return txidHex;
    }
    throw err;
  }
}
