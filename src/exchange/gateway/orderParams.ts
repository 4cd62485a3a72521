/**
 * Binance's new-order parameters (`POST /api/v3/order`, `order/test`, `order/cancelReplace`) read into the engine's
 * OrderParams: decimal strings parsed exactly onto the market's grid (off the grid or out of range = -1013 naming the
 * filter), the parameters each order type needs (Binance's mandatory-parameter table: -1102 when missing, -1106 when
 * sent but not taken), enums with their own codes (-1117 side, -1116 type, -1115 timeInForce).
 * @see binance-spot-api-docs rest-api.md "New order (TRADE)" (Additional mandatory parameters based on type)
 */
import { parseUnits } from '../../matching/decimal.js';
import { parsePriceTicks, parseQuantityLots, type MarketGrid } from '../../matching/marketGrid.js';
import type { OrderType, Side, StpMode, TimeInForce } from '../../matching/matchCommand.js';
import { MatchingError } from '../../matching/matchingError.js';
import { CLIENT_ORDER_ID_RE, type OrderParams } from '../engineCommand.js';
import { ORDER_TYPES, STP_MODES } from './binanceFormat.js';
import { GatewayError, illegalParam, missingParam } from './gatewayError.js';
import type { RequestParams } from './requestParams.js';

/** Binance newOrderRespType values. */
export type OrderRespType = 'ACK' | 'RESULT' | 'FULL';

const SIDES: readonly Side[] = ['BUY', 'SELL'];
const TIFS: readonly TimeInForce[] = ['GTC', 'IOC', 'FOK'];

/** Reads a decimal on the grid; maps the matching core's errors to Binance's. */
function onGrid(name: string, value: string, parse: () => number): number {
  try {
    return parse();
  } catch (err) {
    if (err instanceof MatchingError) {
      if (err.code === 'BAD_DECIMAL') throw illegalParam(name, `${JSON.stringify(value)} is not a plain decimal`);
      if (err.filter !== undefined) throw new GatewayError(400, -1013, `Filter failure: ${err.filter}`);
    }
    throw err;
  }
}

/** The parameters sent for a type that does not take them: -1106. */
function notRequired(p: RequestParams, names: readonly string[]): void {
  for (const n of names) if (p.has(n)) throw new GatewayError(400, -1106, `Parameter '${n}' sent when not required.`);
}

/**
 * Reads a new order's parameters (prefix '' or, for cancelReplace, none: Binance uses the same names).
 * @throws GatewayError -1102 | -1100 | -1106 | -1013 | -1115 | -1116 | -1117 | -1130
 */
export function readOrderParams(p: RequestParams, grid: MarketGrid, quoteDecimals: number): { order: OrderParams; respType: OrderRespType } {
  const side = p.optEnum('side', SIDES, () => new GatewayError(400, -1117, 'Invalid side.'));
  if (side === undefined) throw missingParam('side');
  const orderType = p.optEnum('type', ORDER_TYPES as readonly OrderType[], () => new GatewayError(400, -1116, 'Invalid orderType.'));
  if (orderType === undefined) throw missingParam('type');
  const tif = p.optEnum('timeInForce', TIFS, () => new GatewayError(400, -1115, 'Invalid timeInForce.'));
  const stpMode = p.optEnum('selfTradePreventionMode', STP_MODES as readonly StpMode[]);
  const clientOrderId = p.optString('newClientOrderId', CLIENT_ORDER_ID_RE);
  const respTypeParam = p.optEnum('newOrderRespType', ['ACK', 'RESULT', 'FULL'] as const);
  const qtyText = p.optString('quantity');
  const quoteText = p.optString('quoteOrderQty');
  const priceText = p.optString('price');
  const stopText = p.optString('stopPrice');
  const quantity = (): number => {
    if (qtyText === undefined) throw missingParam('quantity');
    return onGrid('quantity', qtyText, () => parseQuantityLots(grid, qtyText));
  };
  const price = (): number => {
    if (priceText === undefined) throw missingParam('price');
    return onGrid('price', priceText, () => parsePriceTicks(grid, priceText));
  };
  // PERF: object literals, no `{ ...common, … }`: on Node 20 a spread followed by more fields cost ~3 µs per object
  // (measured beside a literal at 0.02 µs), and this runs for every order.
  let order: { -readonly [K in keyof OrderParams]: OrderParams[K] };
  switch (orderType) {
    case 'LIMIT':
      if (tif === undefined) throw missingParam('timeInForce');
      notRequired(p, ['quoteOrderQty', 'stopPrice']);
      order = { side, orderType, timeInForce: tif, priceTicks: price(), quantityLots: quantity() };
      break;
    case 'LIMIT_MAKER':
      notRequired(p, ['quoteOrderQty', 'stopPrice', 'timeInForce']);
      order = { side, orderType, priceTicks: price(), quantityLots: quantity() };
      break;
    case 'MARKET': {
      notRequired(p, ['price', 'stopPrice', 'timeInForce']);
      if (qtyText !== undefined && quoteText !== undefined) throw new GatewayError(400, -1106, "Parameter 'quoteOrderQty' sent when not required.");
      if (qtyText !== undefined) {
        order = { side, orderType, quantityLots: quantity() };
      } else {
        if (quoteText === undefined) throw new GatewayError(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!");
        if (side !== 'BUY') throw new GatewayError(400, -1014, 'Unsupported order combination: quoteOrderQty is for MARKET BUY orders.');
        let units: bigint;
        try {
          units = parseUnits(quoteText, quoteDecimals);
        } catch {
          throw illegalParam('quoteOrderQty', `${JSON.stringify(quoteText)} is not an amount with at most ${quoteDecimals} decimals`);
        }
        if (units <= 0n) throw new GatewayError(400, -1013, 'Filter failure: NOTIONAL');
        order = { side, orderType, quoteOrderQty: units };
      }
      break;
    }
    case 'STOP_LOSS_LIMIT':
    case 'TAKE_PROFIT_LIMIT': {
      if (tif === undefined) throw missingParam('timeInForce');
      notRequired(p, ['quoteOrderQty']);
      if (stopText === undefined) throw missingParam('stopPrice');
      const stopPriceTicks = onGrid('stopPrice', stopText, () => parsePriceTicks(grid, stopText));
      order = { side, orderType, timeInForce: tif, priceTicks: price(), quantityLots: quantity(), stopPriceTicks };
      break;
    }
  }
  if (stpMode !== undefined) order.stpMode = stpMode;
  if (clientOrderId !== undefined) order.clientOrderId = clientOrderId;
  p.ignore('icebergQty', 'strategyId', 'strategyType');
  if (p.has('icebergQty')) throw new GatewayError(400, -1014, 'Unsupported order combination: iceberg orders are not offered.');
  // Binance: MARKET and LIMIT default to FULL, the other types to ACK.
  const respType: OrderRespType = respTypeParam ?? (orderType === 'MARKET' || orderType === 'LIMIT' ? 'FULL' : 'ACK');
  return { order, respType };
}

/** Reads a mandatory quantity parameter onto the grid. @throws GatewayError -1102 | -1100 | -1013 LOT_SIZE */
export function readQuantity(p: RequestParams, name: string, grid: MarketGrid): number {
  const text = p.string(name);
  return onGrid(name, text, () => parseQuantityLots(grid, text));
}

/** Reads `orderId` / `origClientOrderId` (one of them mandatory). @throws GatewayError -1102 | -1100 | -1130 */
export function readOrderRef(p: RequestParams, idName = 'orderId', clientName = 'origClientOrderId'): { orderId?: number; clientOrderId?: string } {
  const orderId = p.optInt(idName, 1, Number.MAX_SAFE_INTEGER);
  const clientOrderId = p.optString(clientName, /^[A-Za-z0-9_-]{1,36}$/);
  if (orderId === undefined && clientOrderId === undefined) throw new GatewayError(400, -1102, `Param '${idName}' or '${clientName}' must be sent, but both were empty/null!`);
  return { ...(orderId !== undefined ? { orderId } : {}), ...(clientOrderId !== undefined ? { clientOrderId } : {}) };
}
