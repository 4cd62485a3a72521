/**
 * Binance's signed trading and account routes under `/api/v3/`: order (POST, DELETE, GET), order/test,
 * order/cancelReplace, order/amend/keepPriority (PUT), openOrders (GET, DELETE), allOrders, myTrades, account,
 * account/commission. Each takes an API key with a signature or a bearer token; a user only ever reaches their own orders (the engine looks orders up
 * by user, so another user's order id answers as an unknown order: -2011 on cancel, -2013 on query).
 * @see binance-spot-api-docs rest-api.md "Trading endpoints", "Account endpoints"
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CommandResult, OrderResult, RejectedResult } from '../engineEvent.js';
import { REJECT_INFO } from '../engineEvent.js';
import type { EngineCommand } from '../engineCommand.js';
import type { CancelReplaceMode } from '../../matching/matchCommand.js';
import { ppmToRate } from './binanceFormat.js';
import { authenticate, paramsOf, type GatewayContext } from './gatewayContext.js';
import { GatewayError } from './gatewayError.js';
import { readOrderParams, readOrderRef, readQuantity } from './orderParams.js';
import { readSymbol, SYMBOL_RE } from './publicRoutes.js';
import type { RequestParams } from './requestParams.js';
import type { Caller } from './requestAuth.js';

const AUTH_PARAMS = ['timestamp', 'recvWindow', 'signature'] as const;

/** A rejected result as Binance's error: the reason's code (-2010, -1013 …), or `cancelCode` (-2011, -2013) for an unknown order. */
function rejection(r: RejectedResult, cancelCode?: number): GatewayError {
  const info = REJECT_INFO[r.reason];
  if (cancelCode !== undefined && r.reason === 'UNKNOWN_ORDER') return new GatewayError(400, cancelCode, cancelCode === -2013 ? 'Order does not exist.' : 'Unknown order sent.');
  return new GatewayError(400, info.code, r.message !== '' ? r.message : info.msg);
}

/** Submits a command and returns its result once durable. */
async function submit(ctx: GatewayContext, command: EngineCommand): Promise<{ result: CommandResult; timeMs: number }> {
  const o = await ctx.service.submit(command);
  return { result: o.result, timeMs: o.timeMs };
}

/** Registers the signed routes. */
export function registerTradingRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  const { service, format } = ctx;
  const signed = async (req: FastifyRequest, trade = false): Promise<{ caller: Caller; p: RequestParams }> => {
    const caller = await authenticate(ctx, req, { signed: true, trade });
    const p = paramsOf(req);
    p.ignore(...AUTH_PARAMS);
    return { caller, p };
  };

  const newOrder = async (req: FastifyRequest, test: boolean): Promise<Record<string, unknown>> => {
    const { caller, p } = await signed(req, true);
    const symbol = readSymbol(ctx, p);
    const f = format.market(symbol);
    const { order, respType } = readOrderParams(p, f.grid, f.grid.quoteDecimals);
    const computeCommissionRates = test ? p.optBool('computeCommissionRates') : undefined;
    p.done();
    if (test) {
      if (computeCommissionRates !== true) return {};
      const c = f.config;
      const rate = { maker: ppmToRate(c.makerFeePpm), taker: ppmToRate(c.takerFeePpm) };
      return { standardCommissionForOrder: rate, taxCommissionForOrder: { maker: ppmToRate(0), taker: ppmToRate(0) }, discount: { enabledForAccount: false, enabledForSymbol: false, discountAsset: null, discount: ppmToRate(0) } };
    }
    const { result, timeMs } = await submit(ctx, { type: 'PLACE_ORDER', symbol, userId: caller.userId, order });
    if (!result.ok) throw rejection(result as RejectedResult);
    const r = result as OrderResult;
    return format.newOrderResponse(r.order, r.fills, respType, timeMs);
  };

  app.post('/api/v3/order', (req) => newOrder(req, false));
  app.post('/api/v3/order/test', (req) => newOrder(req, true));

  app.delete('/api/v3/order', async (req) => {
    const { caller, p } = await signed(req, true);
    const symbol = readSymbol(ctx, p);
    const ref = readOrderRef(p);
    p.optString('newClientOrderId', /^[A-Za-z0-9_-]{1,36}$/);
    p.ignore('cancelRestrictions');
    p.done();
    const { result, timeMs } = await submit(ctx, { type: 'CANCEL_ORDER', symbol, userId: caller.userId, ...ref });
    if (!result.ok) throw rejection(result as RejectedResult, -2011);
    const o = (result as OrderResult).order;
    return format.cancelResponse(o, o.clientOrderId, timeMs);
  });

  app.get('/api/v3/order', async (req) => {
    const { caller, p } = await signed(req);
    const symbol = readSymbol(ctx, p);
    const ref = readOrderRef(p);
    p.done();
    const o = await service.getOrder(caller.userId, symbol, ref);
    if (o === undefined) throw new GatewayError(400, -2013, 'Order does not exist.');
    return format.queryOrder(o);
  });

  app.post('/api/v3/order/cancelReplace', async (req, reply) => {
    const { caller, p } = await signed(req, true);
    const symbol = readSymbol(ctx, p);
    const mode = p.optEnum('cancelReplaceMode', ['STOP_ON_FAILURE', 'ALLOW_FAILURE'] as readonly CancelReplaceMode[]);
    if (mode === undefined) throw new GatewayError(400, -1102, "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null, or malformed.");
    const ref = readOrderRef(p, 'cancelOrderId', 'cancelOrigClientOrderId');
    p.optString('cancelNewClientOrderId', /^[A-Za-z0-9_-]{1,36}$/);
    p.ignore('cancelRestrictions', 'orderRateLimitExceededMode');
    const f = format.market(symbol);
    const { order, respType } = readOrderParams(p, f.grid, f.grid.quoteDecimals);
    p.done();
    const { result, timeMs } = await submit(ctx, {
      type: 'CANCEL_REPLACE', symbol, userId: caller.userId, mode, order,
      ...(ref.orderId !== undefined ? { cancelOrderId: ref.orderId } : {}), ...(ref.clientOrderId !== undefined ? { cancelClientOrderId: ref.clientOrderId } : {}),
    });
    if (result.ok === false && !('kind' in result)) throw rejection(result as RejectedResult);
    if (!('kind' in result) || result.kind !== 'cancelReplace') throw new GatewayError(500, -1000, 'An unknown error occurred while processing the request.');
    const part = (x: OrderResult | RejectedResult, isCancel: boolean): { status: string; body: Record<string, unknown> } => {
      if (x.ok) return { status: 'SUCCESS', body: isCancel ? format.cancelResponse(x.order, x.order.clientOrderId, timeMs) : format.newOrderResponse(x.order, x.fills, respType, timeMs) };
      if (x.reason === 'NOT_ATTEMPTED') return { status: 'NOT_ATTEMPTED', body: { code: -2021, msg: 'Order cancel-replace partially failed.' } };
      const e = rejection(x, isCancel ? -2011 : undefined);
      return { status: 'FAILURE', body: e.toBody() };
    };
    const c = part(result.cancel, true);
    const n = part(result.newOrder, false);
    const body = { cancelResult: c.status, newOrderResult: n.status, cancelResponse: c.body, newOrderResponse: n.body };
    if (result.ok) return body;
    const bothFailed = c.status !== 'SUCCESS' && n.status !== 'SUCCESS';
    return reply.code(400).send(bothFailed ? { code: -2022, msg: 'Order cancel-replace failed.', data: body } : { code: -2021, msg: 'Order cancel-replace partially failed.', data: body });
  });

  // Binance "Order Amend Keep Priority": lowers an open order's quantity without losing its place in the queue.
  app.put('/api/v3/order/amend/keepPriority', async (req) => {
    const { caller, p } = await signed(req, true);
    const symbol = readSymbol(ctx, p);
    const ref = readOrderRef(p);
    p.optString('newClientOrderId', /^[A-Za-z0-9_-]{1,36}$/);
    const f = format.market(symbol);
    const newQuantityLots = readQuantity(p, 'newQty', f.grid);
    p.done();
    const { result, timeMs } = await submit(ctx, { type: 'AMEND_ORDER', symbol, userId: caller.userId, ...ref, newQuantityLots });
    if (!result.ok) throw rejection(result as RejectedResult, -2013);
    const o = (result as OrderResult).order;
    return {
      transactTime: timeMs,
      executionId: 0,
      amendedOrder: {
        symbol, orderId: o.orderId, orderListId: -1, origClientOrderId: o.clientOrderId, clientOrderId: o.clientOrderId, price: f.price(o.priceTicks), qty: f.qty(o.quantityLots),
        executedQty: f.qty(o.executedLots), preventedQty: f.qty(0), quoteOrderQty: f.quote(o.quoteOrderQty), cumulativeQuoteQty: f.quote(o.cumQuote), status: o.status,
        timeInForce: o.timeInForce, type: o.orderType, side: o.side, workingTime: o.workingTimeMs, selfTradePreventionMode: o.stpMode,
      },
    };
  });

  app.get('/api/v3/openOrders', async (req) => {
    const { caller, p } = await signed(req);
    const symbol = p.optString('symbol', SYMBOL_RE);
    if (symbol !== undefined && service.engine.getMarket(symbol) === undefined) throw new GatewayError(400, -1121, 'Invalid symbol.');
    p.done();
    return service.getOpenOrders(caller.userId, symbol).map((o) => format.queryOrder(o));
  });

  app.delete('/api/v3/openOrders', async (req) => {
    const { caller, p } = await signed(req, true);
    const symbol = readSymbol(ctx, p);
    p.done();
    const { result, timeMs } = await submit(ctx, { type: 'CANCEL_ALL_ORDERS', symbol, userId: caller.userId });
    if (!result.ok) throw rejection(result as RejectedResult, -2011);
    if (result.kind !== 'orders') throw new GatewayError(500, -1000, 'An unknown error occurred while processing the request.');
    return result.orders.map((o) => format.cancelResponse(o, o.clientOrderId, timeMs));
  });

  const page = (p: RequestParams): { startTime?: number; endTime?: number; limit?: number } => {
    const startTime = p.optInt('startTime', 0, Number.MAX_SAFE_INTEGER);
    const endTime = p.optInt('endTime', 0, Number.MAX_SAFE_INTEGER);
    const limit = p.optInt('limit', 1, 1000);
    if (startTime !== undefined && endTime !== undefined && startTime > endTime) throw new GatewayError(400, -1127, 'startTime is after endTime.');
    return { ...(startTime !== undefined ? { startTime } : {}), ...(endTime !== undefined ? { endTime } : {}), ...(limit !== undefined ? { limit } : {}) };
  };

  app.get('/api/v3/allOrders', async (req) => {
    const { caller, p } = await signed(req);
    const symbol = readSymbol(ctx, p);
    const orderId = p.optInt('orderId', 0, Number.MAX_SAFE_INTEGER);
    const q = page(p);
    p.done();
    return (await service.allOrders(caller.userId, symbol, { ...q, ...(orderId !== undefined ? { orderId } : {}) })).map((o) => format.queryOrder(o));
  });

  app.get('/api/v3/myTrades', async (req) => {
    const { caller, p } = await signed(req);
    const symbol = readSymbol(ctx, p);
    const orderId = p.optInt('orderId', 0, Number.MAX_SAFE_INTEGER);
    const fromId = p.optInt('fromId', 0, Number.MAX_SAFE_INTEGER);
    const q = page(p);
    p.done();
    if (fromId !== undefined && (q.startTime !== undefined || q.endTime !== undefined)) throw new GatewayError(400, -1106, "Parameter 'fromId' sent when not required (with startTime/endTime).");
    return (await service.myTrades(caller.userId, symbol, { ...q, ...(orderId !== undefined ? { orderId } : {}), ...(fromId !== undefined ? { fromId } : {}) })).map((t) => format.userTrade(t));
  });

  app.get('/api/v3/account', async (req) => {
    const { caller, p } = await signed(req);
    const omitZero = p.optBool('omitZeroBalances') ?? false;
    p.done();
    const balances = service.getBalances(caller.userId).filter((b) => !omitZero || b.free !== 0n || b.locked !== 0n);
    const frozen = service.engine.isFrozen(caller.userId);
    const m = service.markets()[0];
    const rates = { maker: ppmToRate(m?.makerFeePpm ?? 0), taker: ppmToRate(m?.takerFeePpm ?? 0), buyer: ppmToRate(0), seller: ppmToRate(0) };
    return {
      makerCommission: Math.round((m?.makerFeePpm ?? 0) / 100), takerCommission: Math.round((m?.takerFeePpm ?? 0) / 100), buyerCommission: 0, sellerCommission: 0,
      commissionRates: rates, canTrade: !frozen && caller.permission === 'TRADE', canWithdraw: !frozen, canDeposit: true, brokered: false,
      requireSelfTradePrevention: false, preventSor: false, updateTime: ctx.nowMs(), accountType: 'SPOT',
      balances: balances.map((b) => ({ asset: b.asset, free: format.amount(b.asset, b.free), locked: format.amount(b.asset, b.locked) })),
      permissions: ['SPOT'], uid: caller.userId,
    };
  });

  app.get('/api/v3/account/commission', async (req) => {
    const { p } = await signed(req);
    const symbol = readSymbol(ctx, p);
    p.done();
    const c = format.market(symbol).config;
    const zero = ppmToRate(0);
    return {
      symbol,
      standardCommission: { maker: ppmToRate(c.makerFeePpm), taker: ppmToRate(c.takerFeePpm), buyer: zero, seller: zero },
      specialCommission: { maker: zero, taker: zero, buyer: zero, seller: zero },
      taxCommission: { maker: zero, taker: zero, buyer: zero, seller: zero },
      discount: { enabledForAccount: false, enabledForSymbol: false, discountAsset: null, discount: zero },
    };
  });
}
