/**
 * Context-free checks of a new order against the market grid, shared by every OrderBook implementation so they
 * refuse the same orders for the same reason. Commands may come from a replayed command log, so every field is
 * checked at run time, not only by TypeScript.
 */
import type { NewOrder, StpMode } from './matchCommand.js';
import type { MatchRejectReason } from './matchEvent.js';
import type { MarketGrid } from './marketGrid.js';

const STP_MODES: ReadonlySet<unknown> = new Set<StpMode>(['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH']);

/** True for a safe integer in [min, max]. */
export function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/** True when `value` is one of the STP modes. */
export function isStpMode(value: unknown): value is StpMode {
  return STP_MODES.has(value);
}

/**
 * Why the order must be refused, or 'NONE'. Checks in this order: identity fields (INVALID_ORDER), the id is new
 * (> lastOrderId, else DUPLICATE_ORDER_ID), the fields the type needs and no others (UNSUPPORTED_ORDER_COMBINATION),
 * then ranges (INVALID_PRICE for price/stop price, INVALID_QUANTITY for quantity/quote amount).
 * Does not look at the book (post-only and stop-trigger checks need it).
 * @see binance-spot-api-docs rest-api.md "New order (TRADE)" (mandatory parameters by type)
 */
export function checkNewOrder(grid: MarketGrid, lastOrderId: number, order: NewOrder): MatchRejectReason | 'NONE' {
  if (typeof order !== 'object' || order === null) return 'INVALID_ORDER';
  if (!isIntIn(order.orderId, 1, Number.MAX_SAFE_INTEGER)) return 'INVALID_ORDER';
  if (!isIntIn(order.userId, 0, Number.MAX_SAFE_INTEGER)) return 'INVALID_ORDER';
  const { side, type, stpMode } = order;
  // PERF: string comparisons, not Set lookups, on the hot path of every order.
  if (side !== 'BUY' && side !== 'SELL') return 'INVALID_ORDER';
  if (type !== 'LIMIT' && type !== 'MARKET' && type !== 'LIMIT_MAKER' && type !== 'STOP_LOSS_LIMIT' && type !== 'TAKE_PROFIT_LIMIT') return 'INVALID_ORDER';
  if (stpMode !== undefined && stpMode !== 'EXPIRE_MAKER' && stpMode !== 'NONE' && stpMode !== 'EXPIRE_TAKER' && stpMode !== 'EXPIRE_BOTH') {
    return 'INVALID_ORDER';
  }
  if (order.orderId <= lastOrderId) return 'DUPLICATE_ORDER_ID';

  const hasTif = order.timeInForce !== undefined;
  const hasPrice = order.priceTicks !== undefined;
  const hasQty = order.quantityLots !== undefined;
  const hasQuote = order.quoteOrderQty !== undefined;
  const hasStop = order.stopPriceTicks !== undefined;
  const tif = order.timeInForce;
  if (hasTif && tif !== 'GTC' && tif !== 'IOC' && tif !== 'FOK') return 'INVALID_ORDER';
  let combinationOk: boolean;
  switch (order.type) {
    case 'LIMIT':
      combinationOk = hasTif && hasPrice && hasQty && !hasQuote && !hasStop;
      break;
    case 'MARKET':
      combinationOk = !hasTif && !hasPrice && !hasStop && hasQty !== hasQuote;
      break;
    case 'LIMIT_MAKER':
      combinationOk = !hasTif && hasPrice && hasQty && !hasQuote && !hasStop;
      break;
    default: // STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT
      combinationOk = hasTif && hasPrice && hasQty && !hasQuote && hasStop;
  }
  if (!combinationOk) return 'UNSUPPORTED_ORDER_COMBINATION';
  if (hasPrice && !isIntIn(order.priceTicks, 1, grid.maxPriceTicks)) return 'INVALID_PRICE';
  if (hasStop && !isIntIn(order.stopPriceTicks, 1, grid.maxPriceTicks)) return 'INVALID_PRICE';
  if (hasQty && !isIntIn(order.quantityLots, 1, grid.maxQuantityLots)) return 'INVALID_QUANTITY';
  if (hasQuote && (typeof order.quoteOrderQty !== 'bigint' || order.quoteOrderQty <= 0n)) return 'INVALID_QUANTITY';
  return 'NONE';
}
