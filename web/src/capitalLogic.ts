/**
 * The deposit and withdraw panels' pure logic, testable under Node: the words a person reads for each deposit and
 * withdrawal state of the chain bridge (src/exchange/bridge/bridgeRoutes.ts), and the "Max" withdrawal amount in
 * sats (bigint, never a float).
 */
import { COIN_DECIMALS, parseFixedPoint } from '../../src/consensus/amount.js';

/** /v1/deposits entry (Binance deposit history plus cairn's `state`); amounts are decimal coins, 8 decimals. */
export interface CapitalDeposit {
  amount: string;
  coin: string;
  /** Binance's code: 0 pending, 1 credited, 7 dropped (cairn). */
  status: number;
  state: 'seen' | 'confirming' | 'credited' | 'dropped';
  txId: string;
  vout: number;
  height: number | null;
  /** "n/N": confirmations so far (capped at N) over the confirmations needed to credit. */
  confirmTimes: string;
}
/** /v1/withdrawals entry (Binance withdraw history plus cairn's `state`); amounts are decimal coins, 8 decimals. */
export interface CapitalWithdrawal {
  /** The exchange's id of the withdrawal. */
  id: string;
  withdrawOrderId: string;
  amount: string;
  transactionFee: string;
  coin: string;
  /** Binance's code: 4 processing, 6 completed, 5 failed. */
  status: number;
  state: 'requested' | 'signed' | 'broadcast' | 'confirmed' | 'completed' | 'failed';
  address: string;
  /** The payout transaction's id, '' before it is signed. */
  txId: string;
  confirmNo: number;
  /** Why it failed. */
  info?: string;
}
/** /v1/capital/config entry (Binance capital/config/getall, abridged): the published terms per network. */
export interface CapitalConfig {
  coin: string;
  networkList: Array<{ network: string; withdrawFee: string; withdrawMin: string; minConfirm: number; depositEnable: boolean; withdrawEnable: boolean }>;
}

/** Decimal coins as the exchange writes them ("0.00010000") in sats; undefined if absent or malformed. */
export function coinsToSats(coins: string | undefined): bigint | undefined {
  if (coins === undefined) return undefined;
  try {
    return parseFixedPoint(coins.trim(), COIN_DECIMALS);
  } catch {
    return undefined;
  }
}

/**
 * The most a user can withdraw, sats: the available balance less the published fee (the exchange locks both), or
 * 0 when the balance does not cover the fee; undefined while either is unknown.
 */
export function maxWithdrawalSats(freeCoins: string | undefined, feeCoins: string | undefined): bigint | undefined {
  const free = coinsToSats(freeCoins);
  const fee = coinsToSats(feeCoins);
  if (free === undefined || fee === undefined) return undefined;
  return free > fee ? free - fee : 0n;
}

/** A deposit's status line: "pending · confirmations n/N" (mempool or confirming), "credited", or reversed (dropped). */
export function depositStatusText(d: Pick<CapitalDeposit, 'state' | 'confirmTimes'>): string {
  switch (d.state) {
    case 'credited':
      return 'credited';
    case 'dropped':
      return 'reversed (the transaction left the chain)';
    case 'seen':
    case 'confirming':
      return `pending · confirmations ${d.confirmTimes}`;
  }
}

/**
 * A withdrawal's status line; `needed` is the confirmations that complete it (/v1/capital/config minConfirm), shown
 * as "n/N" while it is sent. A failure shows the engine's sentence without its code ("INSUFFICIENT_BALANCE: …").
 */
export function withdrawalStatusText(w: Pick<CapitalWithdrawal, 'state' | 'confirmNo' | 'info'>, needed: number | undefined): string {
  switch (w.state) {
    case 'requested':
      return 'requested · waiting for the next batch';
    case 'signed':
      return 'signed · being sent';
    case 'broadcast':
    case 'confirmed':
      return `sent · confirmations ${needed === undefined ? w.confirmNo : `${Math.min(w.confirmNo, needed)}/${needed}`}`;
    case 'completed':
      return 'completed';
    case 'failed':
      return `failed${w.info !== undefined ? `: ${w.info.replace(/^[A-Z_]+: /, '')}` : ''}`;
  }
}
