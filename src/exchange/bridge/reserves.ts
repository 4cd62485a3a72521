/**
 * Proof of reserves against liabilities for `cairn exchange audit`: the exchange's coins as the node sees them (the
 * unspent outputs of every exchange address (deposit, change, and the cold wallet's addresses swept to), Esplora `/address/:a/utxo`, which includes unconfirmed outputs and leaves
 * out those spent in the mempool) against what it owes (every account's balance of the on-chain asset, free +
 * locked, less the withdrawals whose payment the node already has but the ledger has not completed yet).
 */
import type { NodeClient } from '../../wallet/nodeClient.js';
import type { Sats } from '../../primitives/types.js';
import type { BridgeStore } from './bridgeStore.js';

/** The reserves report. Amounts in sats. */
export interface ReservesReport {
  /** Σ of the exchange's unspent outputs per the node. */
  readonly reservesSats: Sats;
  /** Number of those outputs. */
  readonly utxoCount: number;
  /** Σ accounts' balances − withdrawals already paid on chain or in the mempool but not completed. */
  readonly liabilitiesSats: Sats;
  /** reserves − liabilities (negative: short). */
  readonly differenceSats: Sats;
  /** reserves ≥ liabilities. */
  readonly ok: boolean;
}

/**
 * Computes reserves and liabilities. `heldSats` is Σ free + locked of the on-chain asset over all accounts (the
 * engine audit's `held`).
 * @throws WalletError from the node client (the node cannot be read: no report rather than a wrong one)
 */
export async function computeReserves(store: BridgeStore, node: NodeClient, heldSats: Sats): Promise<ReservesReport> {
  const addresses = [
    ...store.listDepositAddresses().map((a) => a.address),
    ...store.listChangeAddresses().map((a) => a.address),
    ...store.listColdAddresses().map((a) => a.address),
  ];
  let reservesSats = 0n;
  let utxoCount = 0;
  for (const a of addresses) {
    for (const u of await node.getAddressUtxos(a)) {
      reservesSats += u.value;
      utxoCount++;
    }
  }
  let paidSats = 0n;
  for (const w of store.listWithdrawals()) {
    if (w.finished !== null || w.batchTxid === null || !w.locked) continue;
    const batch = store.getBatch(w.batchTxid);
    if (batch !== undefined && (batch.broadcast || batch.height !== null)) paidSats += w.amountSats + w.feeSats;
  }
  const liabilitiesSats = heldSats - paidSats;
  return { reservesSats, utxoCount, liabilitiesSats, differenceSats: reservesSats - liabilitiesSats, ok: reservesSats >= liabilitiesSats };
}
