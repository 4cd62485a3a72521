/**
 * Shared fixtures of the exchange tests (helpers only; named *.test.ts so the build leaves it to the tests): an
 * engine fed with sequenced commands on a test clock, which after every command runs the audit (double-entry
 * invariant, locks = open orders + withdrawals, books = open orders) and the ledger check, and keeps every outcome.
 */
import assert from 'node:assert/strict';
import { auditEngine, checkOutcomeLedger } from './audit.js';
import { ExchangeEngine } from './engine.js';
import type { EngineCommand, OrderParams, SequencedCommand } from './engineCommand.js';
import type { CommandOutcome, CommandResult, OrderResult } from './engineEvent.js';
import { defaultExchangeConfig, type ExchangeConfig, type ExchangeNetwork } from './exchangeConfig.js';

/** 2024-01-01T00:00:00Z, the harness clock's start. */
export const T0_MS = Date.UTC(2024, 0, 1);

/** 1 CRN in base units. */
export const CRN = 100_000_000n;
/** 1 USD in base units (6 decimals). */
export const USD = 1_000_000n;

/** Fails with the audit's problems if the engine's books do not balance. */
export function assertAudit(e: ExchangeEngine): void {
  const report = auditEngine(e);
  assert.ok(report.ok, `audit failed at seq ${e.seq}:\n${report.problems.join('\n')}`);
}

/** JSON with bigints as strings, for assertion messages. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** Drives an engine: seq and time stamped here, audit and ledger checked after every command. */
export class EngineHarness {
  readonly engine = new ExchangeEngine();
  readonly log: SequencedCommand[] = [];
  readonly outcomes: CommandOutcome[] = [];
  nowMs = T0_MS;
  /** Run the full audit after every command (O(state); off for long property runs that audit at the end). */
  auditEach = true;

  constructor(config: ExchangeConfig | ExchangeNetwork | null = 'regtest') {
    if (config !== null) {
      const r = this.run({ type: 'CONFIGURE', config: typeof config === 'string' ? defaultExchangeConfig(config) : config });
      assert.ok(r.ok);
    }
  }

  /** Applies a command at the harness clock (advanced by `advanceMs` first) and returns its result. */
  run(command: EngineCommand, advanceMs = 1): CommandResult {
    this.nowMs += advanceMs;
    const sc: SequencedCommand = { seq: this.engine.seq + 1, timeMs: this.nowMs, command };
    const outcome = this.engine.apply(sc);
    this.log.push(sc);
    this.outcomes.push(outcome);
    const ledger = checkOutcomeLedger(outcome);
    assert.deepEqual(ledger, [], ledger.join('\n'));
    if (this.auditEach) assertAudit(this.engine);
    return outcome.result;
  }

  /** The last outcome. */
  get last(): CommandOutcome {
    return this.outcomes[this.outcomes.length - 1]!;
  }

  /** Credits `amount` base units of `asset` to `userId` with a fresh adjustment id. */
  credit(userId: number, asset: string, amount: bigint): void {
    const r = this.run({ type: 'ADJUST_BALANCE', adjustmentId: `test-${this.engine.seq + 1}`, userId, asset, amount });
    assert.ok(r.ok, show(r));
  }

  /** Places an order on `symbol` (default CRNUSD); returns the result. */
  place(userId: number, order: OrderParams, symbol = 'CRNUSD'): CommandResult {
    return this.run({ type: 'PLACE_ORDER', symbol, userId, order });
  }

  /** A GTC limit order (price in ticks of 0.01, quantity in lots of 0.0001). */
  limit(userId: number, side: 'BUY' | 'SELL', priceTicks: number, quantityLots: number, extra: Partial<OrderParams> = {}): CommandResult {
    return this.place(userId, { side, orderType: 'LIMIT', timeInForce: 'GTC', priceTicks, quantityLots, ...extra });
  }

  /** Asserts an accepted order result and returns it. */
  static accepted(r: CommandResult): OrderResult {
    assert.equal(r.ok, true, `expected an accepted order, got ${show(r)}`);
    assert.equal((r as OrderResult).kind, 'order');
    return r as OrderResult;
  }

  /** free/locked of one asset. */
  balance(userId: number, asset: string): { free: bigint; locked: bigint } {
    const b = this.engine.getBalances(userId).find((x) => x.asset === asset)!;
    return { free: b.free, locked: b.locked };
  }
}
