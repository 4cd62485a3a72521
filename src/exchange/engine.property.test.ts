/**
 * fast-check properties of the engine over random command sequences (two markets, five users, every order type,
 * TIF and STP mode, cancels, amends, cancel-replaces, cancel-alls, adjustments up and down with repeated ids,
 * deposits, withdrawals, freezes, market status changes, out-of-grid and other users' ids):
 * - after every command: the audit holds (Σ free + locked = credited − withdrawn per asset, locks = open orders +
 *   pending withdrawals, nothing negative, books = open orders) and the command's ledger sums to zero per asset
 *   (except what came in or went out);
 * - a snapshot taken midway and the rest of the log replayed gives the same state hash as the engine; a replay of
 *   the whole log from an empty state gives the same outcomes and the same hash (determinism).
 * Runs: FC_RUNS (default 150) sequences of up to 150 commands; FC_SEED reproduces a failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { EngineCommand, OrderParams } from './engineCommand.js';
import { ExchangeEngine } from './engine.js';
import { plainOutcome, plainResult } from './engineEvent.js';
import { computeStateHash, decodeEngineState, encodeEngineState } from './engineState.js';
import { CRN, EngineHarness, USD, assertAudit } from './engineHarness.test.js';

const RUNS = Number(process.env.FC_RUNS ?? 150);
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);
const fcParams = { numRuns: RUNS, includeErrorInReport: true, ...(SEED === undefined ? {} : { seed: SEED }) };

const arbUser = fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: fc.constant(0) }); // 0 = the fee account, which may not trade
const arbSymbol = fc.constantFrom('CRNUSD', 'CRNUSD', 'CRNUSD', 'CRNUSDT');
const arbSide = fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL');
const arbStp = fc.constantFrom(undefined, 'NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH') as fc.Arbitrary<OrderParams['stpMode']>;
const arbPrice = fc.integer({ min: 9_900, max: 10_100 }); // 99.00 .. 101.00
const arbQty = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 100, max: 3_000 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 50) }); // some below the filters

const arbOrder: fc.Arbitrary<OrderParams> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ side: arbSide, orderType: fc.constant('LIMIT' as const), timeInForce: fc.constantFrom('GTC' as const, 'GTC' as const, 'IOC' as const, 'FOK' as const), priceTicks: arbPrice, quantityLots: arbQty, stpMode: arbStp }, { requiredKeys: ['side', 'orderType', 'timeInForce', 'priceTicks', 'quantityLots'] }) },
  { weight: 2, arbitrary: fc.record({ side: arbSide, orderType: fc.constant('MARKET' as const), quantityLots: arbQty, stpMode: arbStp }, { requiredKeys: ['side', 'orderType', 'quantityLots'] }) },
  { weight: 2, arbitrary: fc.record({ side: arbSide, orderType: fc.constant('MARKET' as const), quoteOrderQty: fc.bigInt({ min: 1n, max: 400n * USD }), stpMode: arbStp }, { requiredKeys: ['side', 'orderType', 'quoteOrderQty'] }) },
  { weight: 2, arbitrary: fc.record({ side: arbSide, orderType: fc.constant('LIMIT_MAKER' as const), priceTicks: arbPrice, quantityLots: arbQty }) },
  {
    weight: 1,
    arbitrary: fc.record({
      side: arbSide,
      orderType: fc.constantFrom('STOP_LOSS_LIMIT' as const, 'TAKE_PROFIT_LIMIT' as const),
      timeInForce: fc.constantFrom('GTC' as const, 'IOC' as const),
      stopPriceTicks: arbPrice,
      priceTicks: arbPrice,
      quantityLots: arbQty,
    }),
  },
);

/** An order to act on: the n-th open order of someone (or a made-up id), as its owner or as another user. */
type Pick = { n: number; asOwner: boolean; byClientId: boolean };
const arbPick = fc.record({ n: fc.nat(50), asOwner: fc.integer({ min: 0, max: 5 }).map((x) => x !== 0), byClientId: fc.boolean() });

type Action =
  | { a: 'place'; user: number; symbol: string; order: OrderParams; cid: boolean }
  | { a: 'cancel'; pick: Pick }
  | { a: 'amend'; pick: Pick; by: number }
  | { a: 'replace'; pick: Pick; order: OrderParams; stop: boolean }
  | { a: 'cancelAll'; user: number; symbol: string }
  | { a: 'adjust'; user: number; asset: string; amount: bigint; id: number }
  | { a: 'deposit'; user: number; amount: bigint; vout: number }
  | { a: 'reverse'; vout: number }
  | { a: 'withdraw'; user: number; asset: string; amount: bigint; id: number; then: 'complete' | 'fail' | 'none' }
  | { a: 'freeze'; user: number; frozen: boolean }
  | { a: 'status'; symbol: string; status: 'TRADING' | 'HALT' | 'CANCEL_ONLY' };

const arbAsset = fc.constantFrom('CRN', 'USD', 'USDT');
const arbAmount = fc.bigInt({ min: -200n * USD, max: 2_000n * USD });
const arbAction: fc.Arbitrary<Action> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ a: fc.constant('place' as const), user: arbUser, symbol: arbSymbol, order: arbOrder, cid: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ a: fc.constant('cancel' as const), pick: arbPick }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('amend' as const), pick: arbPick, by: fc.integer({ min: -5, max: 2_000 }) }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('replace' as const), pick: arbPick, order: arbOrder, stop: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('cancelAll' as const), user: arbUser, symbol: arbSymbol }) },
  { weight: 5, arbitrary: fc.record({ a: fc.constant('adjust' as const), user: arbUser, asset: arbAsset, amount: arbAmount, id: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('deposit' as const), user: arbUser, amount: fc.bigInt({ min: 1n, max: 20n * CRN }), vout: fc.nat(10) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('reverse' as const), vout: fc.nat(10) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('withdraw' as const), user: arbUser, asset: arbAsset, amount: fc.bigInt({ min: 1n, max: 50n * USD }), id: fc.nat(10), then: fc.constantFrom('complete' as const, 'fail' as const, 'none' as const) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('freeze' as const), user: arbUser, frozen: fc.integer({ min: 0, max: 2 }).map((x) => x === 0) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('status' as const), symbol: arbSymbol, status: fc.constantFrom('TRADING' as const, 'TRADING' as const, 'TRADING' as const, 'HALT' as const, 'CANCEL_ONLY' as const) }) },
);

/** Turns actions into commands against the harness's current state (which orders are open). */
function toCommands(h: EngineHarness, action: Action, cidCounter: { n: number }): EngineCommand[] {
  const pick = (p: Pick): { symbol: string; userId: number; orderId?: number; clientOrderId?: string } => {
    const open = h.engine.listOpenOrders();
    const rec = open[p.n % Math.max(1, open.length)];
    if (rec === undefined) return { symbol: 'CRNUSD', userId: 1, orderId: 1 + p.n };
    const userId = p.asOwner ? rec.userId : (rec.userId % 5) + 1;
    return p.byClientId ? { symbol: rec.market.symbol, userId, clientOrderId: rec.displayClientOrderId } : { symbol: rec.market.symbol, userId, orderId: rec.orderId };
  };
  switch (action.a) {
    case 'place':
      return [{ type: 'PLACE_ORDER', symbol: action.symbol, userId: action.user, order: { ...action.order, ...(action.cid ? { clientOrderId: `c${cidCounter.n++ % 7}` } : {}) } }];
    case 'cancel':
      return [{ type: 'CANCEL_ORDER', ...pick(action.pick) }];
    case 'amend': {
      const p = pick(action.pick);
      const rec = p.orderId !== undefined ? h.engine.openOrders.get(p.orderId) : undefined;
      return [{ type: 'AMEND_ORDER', ...p, newQuantityLots: Math.max(1, (rec?.quantityLots ?? 100) - action.by) }];
    }
    case 'replace': {
      const p = pick(action.pick);
      const { orderId, clientOrderId, ...rest } = p;
      return [{
        type: 'CANCEL_REPLACE',
        ...rest,
        ...(orderId !== undefined ? { cancelOrderId: orderId } : {}),
        ...(clientOrderId !== undefined ? { cancelClientOrderId: clientOrderId } : {}),
        mode: action.stop ? 'STOP_ON_FAILURE' : 'ALLOW_FAILURE',
        order: action.order,
      }];
    }
    case 'cancelAll':
      return [{ type: 'CANCEL_ALL_ORDERS', symbol: action.symbol, userId: action.user }];
    case 'adjust':
      return action.amount === 0n ? [] : [{ type: 'ADJUST_BALANCE', adjustmentId: `adj-${action.id}`, userId: action.user, asset: action.asset, amount: action.amount }];
    case 'deposit':
      return [{ type: 'CREDIT_DEPOSIT', txid: 'ef'.repeat(32), vout: action.vout, userId: action.user, asset: 'CRN', amount: action.amount }];
    case 'reverse':
      return [{ type: 'REVERSE_DEPOSIT', txid: 'ef'.repeat(32), vout: action.vout }];
    case 'withdraw': {
      const id = `wd-${action.id}`;
      const lock: EngineCommand = { type: 'LOCK_WITHDRAWAL', withdrawalId: id, userId: action.user, asset: action.asset, amount: action.amount };
      if (action.then === 'none') return [lock];
      return [lock, action.then === 'complete' ? { type: 'COMPLETE_WITHDRAWAL', withdrawalId: id } : { type: 'FAIL_WITHDRAWAL', withdrawalId: id }];
    }
    case 'freeze':
      return [{ type: action.frozen ? 'FREEZE_ACCOUNT' : 'UNFREEZE_ACCOUNT', userId: action.user }];
    case 'status':
      // A closed market reopens at the next status action, so closures stay short.
      return [{ type: 'SET_MARKET_STATUS', symbol: action.symbol, status: h.engine.getMarket(action.symbol)!.status !== 'TRADING' ? 'TRADING' : action.status }];
  }
}

test('random command sequences: the books balance after every command; snapshot + replay, replay from scratch and replay without user events give the same state', () => {
  fc.assert(
    fc.property(fc.array(arbAction, { minLength: 1, maxLength: 150, size: 'max' }), fc.nat(150), (actions, snapshotAt) => {
      const h = new EngineHarness();
      for (let u = 1; u <= 5; u++) {
        h.credit(u, 'USD', 2_000n * USD);
        h.credit(u, 'USDT', 2_000n * USD);
        h.credit(u, 'CRN', 20n * CRN);
      }
      const cidCounter = { n: 0 };
      let snapshot: { text: string; seq: number } | undefined;
      for (const [i, action] of actions.entries()) {
        for (const c of toCommands(h, action, cidCounter)) h.run(c);
        if (i === snapshotAt) snapshot = { text: encodeEngineState(h.engine), seq: h.engine.seq };
      }
      const hash = computeStateHash(h.engine);
      // Snapshot midway, then the rest of the log.
      if (snapshot !== undefined) {
        const restored = decodeEngineState(snapshot.text);
        for (const sc of h.log.slice(snapshot.seq)) restored.apply(sc);
        assert.equal(computeStateHash(restored), hash);
        assertAudit(restored);
      }
      // From scratch: same outcomes, same state.
      const replay = new ExchangeEngine();
      for (const [i, sc] of h.log.entries()) assert.deepEqual(plainOutcome(replay.apply(sc)), plainOutcome(h.outcomes[i]!));
      assert.equal(computeStateHash(replay), hash);
      // Without user events (as recovery replays): the same results, the same other events, the same state.
      const lean = new ExchangeEngine();
      lean.userEvents = false;
      for (const [i, sc] of h.log.entries()) {
        const o = lean.apply(sc);
        const full = h.outcomes[i]!;
        assert.deepEqual(plainResult(o.result), plainResult(full.result));
        assert.deepEqual(o.events, full.events.filter((e) => e.type !== 'order' && e.type !== 'balance'));
      }
      assert.equal(computeStateHash(lean), hash);
    }),
    fcParams,
  );
});
