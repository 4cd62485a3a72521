/**
 * The bridge's account routes as plain functions of parsed input, ready for the gateway to mount after it has
 * authenticated the user (the user id comes from the API key, never from the request). Each answers a JSON-ready
 * object (amounts as decimal coin strings, 8 decimals, as Binance writes them) or throws a BridgeRouteError carrying
 * the HTTP status and a Binance-style `{code,msg}`.
 *   GET  /v1/deposit/address                     → depositAddressRoute        (also GET /sapi/v1/capital/deposit/address)
 *   GET  /v1/deposits                            → depositHistoryRoute        (also GET /sapi/v1/capital/deposit/hisrec)
 *   POST /v1/withdrawals                         → withdrawRoute              (also POST /sapi/v1/capital/withdraw/apply)
 *   GET  /v1/withdrawals                         → withdrawHistoryRoute       (also GET /sapi/v1/capital/withdraw/history)
 *   GET  /v1/capital/config                      → capitalConfigRoute         (also GET /sapi/v1/capital/config/getall)
 *   GET  /v1/account/liabilities-proof           → liabilitiesProofRoute
 * @see binance-spot-api-docs (wallet endpoints: deposit address, deposit history, withdraw, withdraw history)
 */
import { AmountError, formatFixedPoint, parseCoins } from '../../consensus/amount.js';
import { BridgeError, type BridgeErrorCode } from './bridgeError.js';
import type { DepositStatus, ExchangeBridge } from './exchangeBridge.js';
import type { WithdrawalStatus } from './bridgeStore.js';
import { buildLiabilitiesTree, type LiabilitiesProof } from './liabilitiesProof.js';

/** A refused request: HTTP status and Binance's error body. */
export class BridgeRouteError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'BridgeRouteError';
  }

  /** The body to send: Binance's `{code,msg}`. */
  toJSON(): { code: number; msg: string } {
    return { code: this.code, msg: this.message };
  }
}

/** HTTP status and Binance code per bridge refusal (-1102 malformed parameter, -1130 invalid data, -2010 refused). */
const ERROR_MAP: Readonly<Record<BridgeErrorCode, readonly [number, number]>> = Object.freeze({
  BAD_COLD_WALLET: [500, -1000],
  BAD_USER: [400, -1102],
  BAD_CLIENT_ID: [400, -1102],
  BAD_ADDRESS: [400, -1102],
  BAD_AMOUNT: [400, -1102],
  CLIENT_ID_REUSED: [400, -1130],
  REFUSED: [400, -2010],
  CLOSED: [503, -1001],
});

async function mapErrors<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof BridgeError) {
      const [status, code] = ERROR_MAP[err.code];
      throw new BridgeRouteError(status, code, err.message);
    }
    if (err instanceof AmountError) throw new BridgeRouteError(400, -1102, `amount: ${err.message}`);
    throw err;
  }
}

/** A coin amount in sats as Binance's decimal string ("0.50000000"). */
function coins(sats: bigint): string {
  return formatFixedPoint(sats, 8);
}

/** Binance deposit status codes: 0 pending, 1 success, 6 credited but cannot withdraw; cairn adds 7 dropped. */
const DEPOSIT_STATUS: Readonly<Record<DepositStatus, number>> = Object.freeze({ seen: 0, confirming: 0, credited: 1, dropped: 7 });
/** Binance withdrawal status codes: 4 processing, 6 completed, 5 failure; cairn keeps its own words in `state`. */
const WITHDRAWAL_STATUS: Readonly<Record<WithdrawalStatus, number>> = Object.freeze({ requested: 4, signed: 4, broadcast: 4, confirmed: 4, completed: 6, failed: 5 });

/**
 * The user's deposit address (Binance `{address, coin, tag, url}` plus cairn's derivation path).
 * @throws BridgeRouteError 400 -1102 for a bad user id
 */
export function depositAddressRoute(bridge: ExchangeBridge, userId: number, coin = 'CRN'): Promise<{ address: string; coin: string; tag: string; url: string; path: string }> {
  return mapErrors(() => {
    if (coin !== 'CRN') throw new BridgeRouteError(400, -1102, `coin ${coin} has no deposits (only CRN)`);
    const a = bridge.getDepositAddress(userId);
    return { address: a.address, coin, tag: '', url: '', path: a.path };
  });
}

/** The user's deposits, newest first, in Binance's deposit history shape plus cairn's state words. */
export function depositHistoryRoute(bridge: ExchangeBridge, userId: number): Array<Record<string, unknown>> {
  return bridge
    .listDeposits(userId)
    .reverse()
    .map((d) => ({
      amount: coins(d.amountSats),
      coin: 'CRN',
      status: DEPOSIT_STATUS[d.status],
      state: d.status,
      txId: d.txid,
      vout: d.vout,
      blockHash: d.blockHash,
      height: d.height,
      confirmTimes: `${Math.min(d.confirmations, d.confirmationsNeeded)}/${d.confirmationsNeeded}`,
    }));
}

/**
 * Requests a withdrawal: `address`, `amount` (decimal coins), `withdrawOrderId` (the client id: a repeat with the same
 * id answers the same withdrawal). Answers Binance's `{id}` plus the withdrawal's state.
 * @throws BridgeRouteError 400 -1102 (malformed address of another network, amount, id) | -1130 (id reused) | -2010
 *   (refused: balance, frozen account)
 */
export function withdrawRoute(bridge: ExchangeBridge, userId: number, input: { address?: unknown; amount?: unknown; withdrawOrderId?: unknown }): Promise<Record<string, unknown>> {
  return mapErrors(async () => {
    if (typeof input.address !== 'string') throw new BridgeRouteError(400, -1102, "Mandatory parameter 'address' was not sent, was empty/null, or malformed.");
    if (typeof input.amount !== 'string') throw new BridgeRouteError(400, -1102, "Mandatory parameter 'amount' was not sent, was empty/null, or malformed.");
    if (typeof input.withdrawOrderId !== 'string') throw new BridgeRouteError(400, -1102, "Mandatory parameter 'withdrawOrderId' was not sent, was empty/null, or malformed.");
    const w = await bridge.requestWithdrawal({ userId, clientId: input.withdrawOrderId, address: input.address, amountSats: parseCoins(input.amount, { allowZero: false }) });
    return { id: w.id, status: WITHDRAWAL_STATUS[w.status], state: w.status, amount: coins(w.amountSats), transactionFee: coins(w.feeSats) };
  });
}

/** The user's withdrawals, newest first, in Binance's withdraw history shape plus cairn's state words. */
export function withdrawHistoryRoute(bridge: ExchangeBridge, userId: number): Array<Record<string, unknown>> {
  return bridge
    .listWithdrawals(userId)
    .reverse()
    .map((w) => ({
      id: w.id,
      withdrawOrderId: w.clientId,
      amount: coins(w.amountSats),
      transactionFee: coins(w.feeSats),
      coin: 'CRN',
      status: WITHDRAWAL_STATUS[w.status],
      state: w.status,
      address: w.address,
      txId: w.txid ?? '',
      confirmNo: w.confirmations,
      ...(w.reason !== null ? { info: w.reason } : {}),
    }));
}

/** The published deposit and withdrawal terms (Binance `capital/config/getall` for CRN, abridged). */
export function capitalConfigRoute(bridge: ExchangeBridge, network: string): Array<Record<string, unknown>> {
  return [
    {
      coin: 'CRN',
      depositAllEnable: true,
      withdrawAllEnable: true,
      networkList: [
        {
          network,
          coin: 'CRN',
          withdrawFee: coins(bridge.withdrawalFeeSats),
          withdrawMin: coins(bridge.minWithdrawalSats),
          minConfirm: bridge.confirmations,
          depositEnable: true,
          withdrawEnable: true,
        },
      ],
    },
  ];
}

/**
 * The user's inclusion proof in the Merkle sum tree of every account's CRN at the engine's current seq (see
 * liabilitiesProof.ts); `holdings` from ExchangeService.getHoldings, `salt` from readLiabilitiesSalt.
 * @throws BridgeRouteError 404 -2013 when the user holds no CRN (no leaf)
 */
export function liabilitiesProofRoute(holdings: { seq: number; holdings: ReadonlyMap<number, bigint> }, salt: Uint8Array, userId: number): LiabilitiesProof {
  const proof = buildLiabilitiesTree(holdings.holdings, salt, { seq: holdings.seq, asset: 'CRN' }).proofFor(userId);
  if (proof === undefined) throw new BridgeRouteError(404, -2013, 'The account holds no CRN: it has no leaf in the liabilities tree.');
  return proof;
}
