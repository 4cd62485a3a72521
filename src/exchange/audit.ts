/**
 * The exchange's books must balance. `auditEngine` checks the double-entry invariant and the lock bookkeeping of an
 * engine; `cairn exchange audit` runs it on the state restored from a data dir and exits non-zero when it fails, and
 * tests run it after every command. `checkOutcomeLedger` checks one command's ledger entries.
 */
import type { ExchangeEngine } from './engine.js';
import type { CommandOutcome } from './engineEvent.js';

/** One asset's totals: what the accounts hold against what came in and went out. */
export interface AssetAudit {
  readonly asset: string;
  /** Σ over every account (fee account included) of free + locked, base units. */
  readonly held: bigint;
  readonly credited: bigint;
  readonly withdrawn: bigint;
  /** held = credited − withdrawn. */
  readonly balanced: boolean;
}

/** The audit's findings. */
export interface AuditReport {
  /** True when every check passed. */
  readonly ok: boolean;
  readonly seq: number;
  readonly assets: readonly AssetAudit[];
  /** Every failed check, in words (empty when ok). At most 100 are listed. */
  readonly problems: readonly string[];
  /** Findings that do not break the books: frozen accounts left negative by a reversed deposit (at most 100). */
  readonly warnings: readonly string[];
}

const MAX_PROBLEMS = 100;

/**
 * Checks, per asset: Σ free + locked over all accounts = credited − withdrawn (the double-entry invariant); no locked
 * or per-order lock is negative, and no free balance except on a frozen account (a reversed deposit: a warning); every account's locked balance equals the sum of its open orders' locks and
 * its pending withdrawals; every open order is in its book with the same owner, side, price and open lots, and the
 * books hold no other orders.
 */
export function auditEngine(e: ExchangeEngine): AuditReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const problem = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const n = e.assets.length;
  const held: bigint[] = new Array<bigint>(n).fill(0n);
  // Expected locks per account: open orders' locks + pending withdrawals.
  const expectedLocked = new Map<number, bigint[]>();
  const expect = (userId: number, asset: number, amount: bigint): void => {
    let row = expectedLocked.get(userId);
    if (row === undefined) expectedLocked.set(userId, (row = new Array<bigint>(n).fill(0n)));
    row[asset]! += amount;
  };
  const perMarket = new Array<number>(e.markets.length).fill(0);
  for (const rec of e.listOpenOrders()) {
    const m = rec.market;
    if (rec.lockedRemaining < 0n) problem(`order ${rec.orderId}: negative lock ${rec.lockedRemaining}`);
    expect(rec.userId, rec.side === 'BUY' ? m.quoteIndex : m.baseIndex, rec.lockedRemaining);
    perMarket[m.index]!++;
    const inBook = m.book.getOrder(rec.orderId);
    const open = rec.quantityLots - rec.executedLots;
    if (inBook === undefined) problem(`order ${rec.orderId} is open but not in the ${m.symbol} book`);
    else if (inBook.userId !== rec.userId || inBook.side !== rec.side || inBook.priceTicks !== rec.priceTicks || inBook.remainingLots !== open) {
      problem(`order ${rec.orderId}: the book holds ${inBook.side} ${inBook.remainingLots}@${inBook.priceTicks} of user ${inBook.userId}, the engine ${rec.side} ${open}@${rec.priceTicks} of user ${rec.userId}`);
    }
  }
  for (const m of e.markets) {
    if (m.book.openOrderCount !== perMarket[m.index]) problem(`${m.symbol}: the book holds ${m.book.openOrderCount} open orders, the engine ${perMarket[m.index]}`);
  }
  for (const [id, w] of e.withdrawals) {
    if (w.state !== 'LOCKED') continue;
    const ai = e.assetIndex.get(w.asset);
    if (ai === undefined) problem(`withdrawal ${id}: unknown asset ${w.asset}`);
    else expect(w.userId, ai, w.amount);
  }
  for (const [userId, acct] of e.accounts) {
    const want = expectedLocked.get(userId);
    for (let i = 0; i < n; i++) {
      const free = acct.freeOf(i);
      const locked = acct.lockedOf(i);
      const asset = e.assets[i]!.asset;
      // A deposit reversed after a reorg may leave a frozen account short: a warning, not a broken book.
      if (free < 0n && !acct.frozen) problem(`user ${userId} ${asset}: negative free ${free}`);
      else if (free < 0n) warnings.push(`user ${userId} ${asset}: negative free ${free} after a reversed deposit (account frozen)`);
      if (locked < 0n) problem(`user ${userId} ${asset}: negative locked ${locked}`);
      const wantLocked = want?.[i] ?? 0n;
      if (locked !== wantLocked) problem(`user ${userId} ${asset}: locked ${locked} but open orders and withdrawals hold ${wantLocked}`);
      held[i]! += free + locked;
    }
    expectedLocked.delete(userId);
  }
  for (const userId of expectedLocked.keys()) problem(`user ${userId} has open orders or withdrawals but no account`);
  const assets: AssetAudit[] = e.assets.map((a, i) => {
    const credited = e.credited[i]!;
    const withdrawn = e.withdrawn[i]!;
    const balanced = held[i] === credited - withdrawn;
    if (!balanced) problem(`${a.asset}: accounts hold ${held[i]} but credited − withdrawn = ${credited - withdrawn}`);
    return { asset: a.asset, held: held[i]!, credited, withdrawn, balanced };
  });
  return { ok: problems.length === 0, seq: e.seq, assets, problems, warnings: warnings.slice(0, MAX_PROBLEMS) };
}

/**
 * Checks one command's ledger: per asset, the balance entries sum to what the command credited minus what it
 * withdrew (adjustments, deposits, completed withdrawals), so a fill or a fee never creates or destroys money; and
 * every entry's balances after it are consistent with the entry before it for the same account and asset.
 * Returns the problems found (empty when none).
 */
export function checkOutcomeLedger(outcome: CommandOutcome): string[] {
  const problems: string[] = [];
  const sums = new Map<string, bigint>();
  const last = new Map<string, { free: bigint; locked: bigint }>();
  let external = 0n;
  let externalAsset = '';
  for (const ev of outcome.events) {
    if (ev.type !== 'balance') continue;
    sums.set(ev.asset, (sums.get(ev.asset) ?? 0n) + ev.deltaFree + ev.deltaLocked);
    if (ev.reason === 'ADJUSTMENT' || ev.reason === 'DEPOSIT' || ev.reason === 'DEPOSIT_REVERSAL' || ev.reason === 'WITHDRAWAL') {
      external += ev.deltaFree + ev.deltaLocked;
      externalAsset = ev.asset;
    }
    const key = `${ev.userId}/${ev.asset}`;
    const prev = last.get(key);
    if (prev !== undefined && (prev.free + ev.deltaFree !== ev.free || prev.locked + ev.deltaLocked !== ev.locked)) {
      problems.push(`seq ${outcome.seq}: ledger entry of ${key} does not follow from the previous one`);
    }
    // Only a deposit reversal may take free from zero or above to below zero; an account already below zero (frozen)
    // may still see fills and fees on its resting orders.
    const wentNegative = ev.free < 0n && ev.free - ev.deltaFree >= 0n && ev.reason !== 'DEPOSIT_REVERSAL';
    if (wentNegative || ev.locked < 0n) problems.push(`seq ${outcome.seq}: ${key} went negative`);
    last.set(key, { free: ev.free, locked: ev.locked });
  }
  for (const [asset, sum] of sums) {
    const want = asset === externalAsset ? external : 0n;
    if (sum !== want) problems.push(`seq ${outcome.seq}: ${asset} entries sum to ${sum}, expected ${want}`);
  }
  return problems;
}
