/**
 * The history writer alone, in this thread, on the command stream of the exchangeGateway bench (16 users, LIMIT GTC
 * and IOC orders around one mid, 1 in 3 IOC): a durable command log is written first (ExchangeService without
 * history), then a HistoryFollower on a fresh SQLite history replays it with its shadow engine and writes orders,
 * trades, ledger and candles, `STEP` commands per transaction (about what the history worker gets every 20 ms at
 * 10,000 orders/s). Figures: CPU time per command (process.cpuUsage: this thread does all the work), rows per command
 * by table. Runs only when named (`--only exchangeHistory`): it is the history worker's share of the gateway bench's
 * server CPU, measured without HTTP and without the other threads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteCommandLog } from '../src/exchange/commandLog.js';
import type { EngineCommand } from '../src/exchange/engineCommand.js';
import { defaultExchangeConfig } from '../src/exchange/exchangeConfig.js';
import { ExchangeService } from '../src/exchange/exchangeService.js';
import { openHistoryDb } from '../src/exchange/historyDb.js';
import { HistoryFollower } from '../src/exchange/historyFollower.js';
import { silentLogger } from '../src/logging/logger.js';
import type { BenchResult } from './harness.js';

const USERS = 16;
const COMMANDS = 40_000;
/** Commands per history transaction (CAIRN_BENCH_HISTORY_STEP overrides it, to weigh bigger batches). */
const STEP = Number(process.env.CAIRN_BENCH_HISTORY_STEP ?? 200);
const RUNS = 3;

/** The exchangeGateway bench's order stream as engine commands (same generator, same seed). */
function commands(n: number): EngineCommand[] {
  let x = 12345;
  const rnd = (m: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % m;
  };
  const out: EngineCommand[] = [];
  for (let i = 0; i < n; i++) {
    const user = i % USERS;
    const side = (i >> 4) % 2 === 0 ? (user % 2 === 0 ? 'BUY' : 'SELL') : user % 2 === 0 ? 'SELL' : 'BUY';
    const priceTicks = 9_990 + rnd(21);
    const quantityLots = 100 * (2 + rnd(5));
    const timeInForce = rnd(3) === 0 ? 'IOC' : 'GTC';
    out.push({ type: 'PLACE_ORDER', symbol: 'CRNUSD', userId: user + 1, order: { side, orderType: 'LIMIT', timeInForce, priceTicks, quantityLots } });
  }
  return out;
}

/** Runs the history writer bench (figures printed) and returns its results. */
export async function runExchangeHistoryBench(): Promise<Record<string, BenchResult>> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-history-bench-'));
  try {
    const base = defaultExchangeConfig('regtest');
    const config = { ...base, markets: base.markets.map((m) => ({ ...m, maxOpenOrders: 100_000 })) };
    const svc = await ExchangeService.open({ datadir: join(dir, 'ex'), config, history: false }, { logger: silentLogger() });
    for (let u = 1; u <= USERS; u++) {
      await svc.submit({ type: 'ADJUST_BALANCE', adjustmentId: `usd-${u}`, userId: u, asset: 'USD', amount: 1_000_000_000_000n });
      await svc.submit({ type: 'ADJUST_BALANCE', adjustmentId: `crn-${u}`, userId: u, asset: 'CRN', amount: 10_000_000_000_000n });
    }
    const cmds = commands(COMMANDS);
    for (let i = 0; i < cmds.length; i += 64) await Promise.all(cmds.slice(i, i + 64).map((c) => svc.submit(c)));
    await svc.close();
    console.log(`\n## exchange history writer: the gateway bench's stream (${COMMANDS.toLocaleString('en-US')} orders) from the command log into SQLite, ${STEP} commands a transaction; load ${loadavg()[0]!.toFixed(2)}`);
    let best = Number.POSITIVE_INFINITY;
    let total = 0;
    for (let r = 0; r < RUNS; r++) {
      const h = await openHistoryDb({ sqlitePath: join(dir, `history-${r}.sqlite`) });
      const log = SqliteCommandLog.open(join(dir, 'ex', 'command-log.sqlite'), { readOnly: true });
      try {
        const follower = await HistoryFollower.open(h, log, undefined);
        total = log.lastSeq;
        const c0 = process.cpuUsage();
        for (let s = STEP; s < total + STEP; s += STEP) await follower.advanceTo(Math.min(s, total));
        const c = process.cpuUsage(c0);
        const us = (c.user + c.system) / total;
        best = Math.min(best, us);
        const w = follower.writer.written;
        const per = (x: number): string => (x / total).toFixed(2);
        console.log(`  run ${r + 1}: ${us.toFixed(1)} µs CPU per command; per command: ${per(w.ledger)} balance changes in ${per(w.ledgerRows)} ledger rows, ${per(w.orders)} order rows, ${per(w.trades)} trades, ${per(w.klines)} candle rows; load ${loadavg()[0]!.toFixed(2)}`);
      } finally {
        log.close();
        await h.close();
      }
    }
    return { exchangeHistory: { name: 'history writer (SQLite), gateway stream, CPU-bound', ops: total, seconds: (best * total) / 1e6, opsPerSec: 1e6 / best } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
