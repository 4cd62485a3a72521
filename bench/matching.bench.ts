/**
 * The matching core alone: commands per second and per-command latency (p50/p99) of cairn's OrderBook on a seeded
 * stream shaped like exchange-core's order-book benchmark (TestOrdersGenerator): ~1,000 users, a book held near
 * ~1,000 resting orders over ~700 price levels; GTC places while a side is short of orders, IOC (and a
 * few FOK) takers sweeping from extreme prices, cancels, quantity decreases that keep priority, and moves (price
 * changes by cancel-replace, each a new order id) drifting toward the last trade price, which make most trades.
 * Goals: >= 2,000,000 commands/s for the book alone and >= 15x the npm package nodejs-order-book on the same stream.
 *
 * Same run, same stream for both: the fill phase (untimed) builds the book, then the benchmark phase is timed.
 * nodejs-order-book gets the closest calls it has: limit() with GTC/IOC/FOK, accountId and the same STP mode,
 * cancel(), modify({size}) for a decrease (it requeues the order: its own semantics), cancel() + limit() for a move.
 * Throughput is timed over whole passes (no timer per command), after a warm-up pass, alternating between the two
 * books; the figure is commands per second of the process's CPU time (other processes on this shared 2-core machine
 * stretch wall time, not CPU time), with the wall-clock rate beside it. Latency comes from a separate pass timing
 * each command with performance.now() (wall clock), whose own cost is printed.
 */
import { OrderBook as NodejsOrderBook, type LimitOrderOptions } from 'nodejs-order-book';
import type { MatchCommand, NewOrder, Side } from '../src/matching/matchCommand.js';
import type { MatchEvent } from '../src/matching/matchEvent.js';
import { SeededRng } from '../src/testing/seededRng.js';
import { formatRate, type BenchResult } from './harness.js';
import { importShipped } from './shipped.js';

// The compiled book `cairn` runs (see shipped.ts), for the stream's generation and the timed passes alike.
const { defineMarketGrid } = await importShipped<typeof import('../src/matching/marketGrid.js')>('matching/marketGrid.js');
const { OrderBook } = await importShipped<typeof import('../src/matching/orderBook.js')>('matching/orderBook.js');

const GOAL_COMMANDS_PER_SEC = 2_000_000;
const GOAL_RATIO = 15;
const USERS = 1000;
const TARGET_ORDERS_PER_SIDE = 500;
const PRICE_DEVIATION_TICKS = 5000;
const START_PRICE_TICKS = 100_000;
const STP = 'EXPIRE_MAKER' as const;

const GRID = defineMarketGrid({
  symbol: 'CRNUSD',
  baseAsset: 'CRN',
  quoteAsset: 'USD',
  baseDecimals: 8,
  quoteDecimals: 8,
  tickSize: '0.01',
  stepSize: '0.0001',
  maxPrice: '1000000',
  maxQuantity: '9000',
});

/** One command in the comparator's terms. */
type NodejsOp =
  | { readonly op: 'limit'; readonly opts: LimitOrderOptions }
  | { readonly op: 'cancel'; readonly id: string }
  | { readonly op: 'modify'; readonly id: string; readonly size: number }
  | { readonly op: 'replace'; readonly id: string; readonly opts: LimitOrderOptions };

interface LiveOrder {
  userId: number;
  side: Side;
  priceTicks: number;
  quantityLots: number;
  remainingLots: number;
}

/** The resting orders as the events report them, with O(1) uniform random pick and removal. */
class LiveOrders {
  readonly ids: number[] = [];
  private readonly index = new Map<number, number>();
  readonly byId = new Map<number, LiveOrder>();
  bids = 0;
  asks = 0;

  add(id: number, o: LiveOrder): void {
    this.index.set(id, this.ids.length);
    this.ids.push(id);
    this.byId.set(id, o);
    if (o.side === 'BUY') this.bids++;
    else this.asks++;
  }

  remove(id: number): void {
    const i = this.index.get(id);
    if (i === undefined) return;
    const last = this.ids.pop()!;
    if (last !== id) {
      this.ids[i] = last;
      this.index.set(last, i);
    }
    this.index.delete(id);
    if (this.byId.get(id)!.side === 'BUY') this.bids--;
    else this.asks--;
    this.byId.delete(id);
  }
}

/** The generated stream: fill commands (untimed) then benchmark commands, in both APIs. */
export interface Stream {
  fill: MatchCommand[];
  bench: MatchCommand[];
  nodejsFill: NodejsOp[];
  nodejsBench: NodejsOp[];
  levelsAfterFill: number;
  restingAfterFill: number;
  mix: Record<string, number>;
}

/**
 * Generates the stream by driving a cairn OrderBook and watching its events (as exchange-core does with its naive
 * book). Exported for profiling runs.
 */
export function generateStream(benchCommands: number, seed: string): Stream {
  const rng = new SeededRng(seed);
  const book = new OrderBook(GRID);
  const live = new LiveOrders();
  let lastPrice = START_PRICE_TICKS;
  let nextId = 1;
  const sink = (e: MatchEvent): void => {
    switch (e.kind) {
      case 'RESTED':
        live.add(e.orderId, { userId: e.userId, side: e.side, priceTicks: e.priceTicks, quantityLots: e.remainingLots, remainingLots: e.remainingLots });
        break;
      case 'TRADE': {
        lastPrice = e.priceTicks;
        const maker = live.byId.get(e.counterOrderId)!;
        maker.remainingLots = e.counterRemainingLots;
        if (e.counterRemainingLots === 0) live.remove(e.counterOrderId);
        break;
      }
      case 'CANCELED':
      case 'TRADE_PREVENTION':
        live.remove(e.orderId);
        break;
      case 'REPLACED': {
        const o = live.byId.get(e.orderId);
        if (o !== undefined) {
          o.remainingLots = e.remainingLots;
          o.quantityLots -= e.quantityLots;
        }
        break;
      }
      default:
    }
  };
  const mix: Record<string, number> = {};
  const count = (k: string): void => {
    mix[k] = (mix[k] ?? 0) + 1;
  };
  const opts = (o: NewOrder): LimitOrderOptions => ({
    id: String(o.orderId),
    side: o.side === 'BUY' ? ('buy' as LimitOrderOptions['side']) : ('sell' as LimitOrderOptions['side']),
    size: o.quantityLots!,
    price: o.priceTicks!,
    timeInForce: o.timeInForce as LimitOrderOptions['timeInForce'],
    accountId: String(o.userId),
    stpMode: STP as LimitOrderOptions['stpMode'],
  });
  const pickSide = (): Side => (rng.int(0, 1) === 0 ? 'BUY' : 'SELL');
  const gtc = (side: Side): NewOrder => {
    // exchange-core's price shape: a deviation biased small, the mean of four draws, asks above and bids below.
    const dev = 1 + Math.floor(rng.next() ** 2 * PRICE_DEVIATION_TICKS);
    let p = 0;
    for (let i = 0; i < 4; i++) p += rng.int(0, dev - 1);
    p = Math.trunc(p / 4) * 2 - dev;
    if (p > 0 !== (side === 'SELL')) p = -p;
    const price = Math.max(1, lastPrice + p);
    const qty = 1 + rng.int(0, 5) * rng.int(0, 5) * rng.int(0, 5);
    return { orderId: nextId++, userId: rng.int(1, USERS), side, type: 'LIMIT', timeInForce: 'GTC', priceTicks: price, quantityLots: qty, stpMode: STP };
  };
  const instant = (side: Side): NewOrder => {
    const fok = rng.int(0, 31) === 0;
    const qty = fok ? 1 + rng.int(0, 7) * rng.int(0, 7) * rng.int(0, 7) : 1 + rng.int(0, 5) * rng.int(0, 5) * rng.int(0, 5);
    const price = side === 'BUY' ? GRID.maxPriceTicks : 1;
    return { orderId: nextId++, userId: rng.int(1, USERS), side, type: 'LIMIT', timeInForce: fok ? 'FOK' : 'IOC', priceTicks: price, quantityLots: qty, stpMode: STP };
  };

  const fill: MatchCommand[] = [];
  const nodejsFill: NodejsOp[] = [];
  while (live.bids < TARGET_ORDERS_PER_SIDE || live.asks < TARGET_ORDERS_PER_SIDE) {
    const side: Side = live.bids < TARGET_ORDERS_PER_SIDE && (live.asks >= TARGET_ORDERS_PER_SIDE || rng.int(0, 1) === 0) ? 'BUY' : 'SELL';
    const order = gtc(side);
    const cmd: MatchCommand = { type: 'PLACE', order };
    book.apply(cmd, sink);
    fill.push(cmd);
    nodejsFill.push({ op: 'limit', opts: opts(order) });
  }
  const levelsAfterFill = book.depth('BUY', 1e9).length + book.depth('SELL', 1e9).length;
  const restingAfterFill = book.openOrderCount;

  const bench: MatchCommand[] = [];
  const nodejsBench: NodejsOp[] = [];
  for (let i = 0; i < benchCommands; i++) {
    const side = pickSide();
    const lack = TARGET_ORDERS_PER_SIDE - (side === 'BUY' ? live.bids : live.asks);
    const q = rng.int(0, lack > 0 ? 9 : 39);
    let cmd: MatchCommand;
    let nop: NodejsOp;
    if (q < 2 || live.ids.length === 0) {
      const order = lack > 0 ? gtc(side) : instant(side);
      count(order.timeInForce === 'GTC' ? 'GTC place' : order.timeInForce === 'IOC' ? 'IOC place' : 'FOK place');
      cmd = { type: 'PLACE', order };
      nop = { op: 'limit', opts: opts(order) };
    } else {
      const id = live.ids[rng.int(0, live.ids.length - 1)]!;
      const o = live.byId.get(id)!;
      if (q === 2 || (q === 3 && o.remainingLots === 1)) {
        count('cancel');
        cmd = { type: 'CANCEL', orderId: id, userId: o.userId };
        nop = { op: 'cancel', id: String(id) };
      } else if (q === 3) {
        count('amend (decrease, keeps priority)');
        const reduceBy = rng.int(1, o.remainingLots - 1);
        cmd = { type: 'AMEND_KEEP_PRIORITY', orderId: id, userId: o.userId, newQuantityLots: o.quantityLots - reduceBy };
        nop = { op: 'modify', id: String(id), size: o.remainingLots - reduceBy };
      } else {
        count('move (cancel-replace to a new price)');
        const distance = lastPrice - o.priceTicks;
        const step = distance > 0 ? Math.ceil(distance * 0.01) : distance < 0 ? Math.floor(distance * 0.01) : rng.int(0, 1) * 2 - 1;
        const order: NewOrder = {
          orderId: nextId++,
          userId: o.userId,
          side: o.side,
          type: 'LIMIT',
          timeInForce: 'GTC',
          priceTicks: Math.max(1, o.priceTicks + step),
          quantityLots: o.remainingLots,
          stpMode: STP,
        };
        cmd = { type: 'CANCEL_REPLACE', cancelOrderId: id, mode: 'STOP_ON_FAILURE', order };
        nop = { op: 'replace', id: String(id), opts: opts(order) };
      }
    }
    book.apply(cmd, sink);
    bench.push(cmd);
    nodejsBench.push(nop);
  }
  return { fill, bench, nodejsFill, nodejsBench, levelsAfterFill, restingAfterFill, mix };
}

/** Runs one comparator command; returns the number of trades it reported. */
function runNodejs(book: NodejsOrderBook, op: NodejsOp): number {
  switch (op.op) {
    case 'limit':
      return book.limit(op.opts).done.length;
    case 'cancel':
      book.cancel(op.id);
      return 0;
    case 'modify':
      return book.modify(op.id, { size: op.size }).done.length;
    case 'replace':
      book.cancel(op.id);
      return book.limit(op.opts).done.length;
  }
}

interface Measured {
  /** Commands per second of this process's CPU time (robust to other processes on a shared machine). */
  commandsPerSec: number;
  /** Commands per second of wall-clock time. */
  commandsPerWallSec: number;
  passes: number;
  p50Ns: number;
  p99Ns: number;
  trades: number;
  restingAtEnd: number;
}

/** One contender: a fresh filled book, the timed pass over the benchmark commands, one command at a time. */
interface Contender<B> {
  make(): B;
  runAll(book: B): number;
  runOne(book: B, i: number): void;
  resting(book: B): number;
}

interface PassResult {
  rates: number[];
  wallRates: number[];
  trades: number;
  restingAtEnd: number;
}

function timedPass<B>(c: Contender<B>, count: number, into: PassResult): void {
  const book = c.make();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  into.trades = c.runAll(book);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  into.rates.push(count / ((cpu.user + cpu.system) / 1e6));
  into.wallRates.push(count / (ms / 1000));
  into.restingAtEnd = c.resting(book);
}

function latencyPass<B>(c: Contender<B>, count: number): { p50Ns: number; p99Ns: number } {
  const book = c.make();
  const lat = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    c.runOne(book, i);
    lat[i] = performance.now() - t0;
  }
  lat.sort();
  return { p50Ns: lat[Math.floor(count * 0.5)]! * 1e6, p99Ns: lat[Math.floor(count * 0.99)]! * 1e6 };
}

/**
 * A warm-up pass each, then timed passes alternating between the two (so load from other processes falls on both
 * alike) until `seconds` have gone, at least 3 each; the median pass counts. Then one latency pass each.
 */
function measurePair<A, B>(seconds: number, a: Contender<A>, b: Contender<B>, count: number): [Measured, Measured] {
  const fresh = (): PassResult => ({ rates: [], wallRates: [], trades: 0, restingAtEnd: 0 });
  const ra = fresh();
  const rb = fresh();
  timedPass(a, count, fresh());
  timedPass(b, count, fresh());
  const end = performance.now() + seconds * 1000;
  do {
    timedPass(a, count, ra);
    timedPass(b, count, rb);
  } while (performance.now() < end || ra.rates.length < 3);
  const done = (r: PassResult, lat: { p50Ns: number; p99Ns: number }): Measured => {
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    return { commandsPerSec: median(r.rates), commandsPerWallSec: median(r.wallRates), passes: r.rates.length, ...lat, trades: r.trades, restingAtEnd: r.restingAtEnd };
  };
  return [done(ra, latencyPass(a, count)), done(rb, latencyPass(b, count))];
}

/** Runs the matching bench and returns its results (also printed). */
export function runMatchingBench(seconds: number): Record<string, BenchResult> {
  const commands = Math.max(100_000, Math.min(1_000_000, Math.round(seconds * 100_000)));
  const genStart = performance.now();
  const stream = generateStream(commands, 'cairn matching bench v1');
  const genSeconds = (performance.now() - genStart) / 1000;

  const noop = (): void => {};
  let cairnTrades = 0;
  const countingSink = (e: MatchEvent): void => {
    if (e.kind === 'TRADE') cairnTrades++;
  };
  const [cairn, comparator] = measurePair(
    seconds,
    {
      make: () => {
        const b = new OrderBook(GRID);
        for (const c of stream.fill) b.apply(c, noop);
        return b;
      },
      runAll: (b) => {
        cairnTrades = 0;
        const bench = stream.bench;
        for (let i = 0; i < bench.length; i++) b.apply(bench[i]!, countingSink);
        return cairnTrades;
      },
      runOne: (b, i) => b.apply(stream.bench[i]!, countingSink),
      resting: (b) => b.openOrderCount,
    },
    {
      make: () => {
        const b = new NodejsOrderBook();
        for (const op of stream.nodejsFill) runNodejs(b, op);
        return b;
      },
      runAll: (b) => {
        let trades = 0;
        const ops = stream.nodejsBench;
        for (let i = 0; i < ops.length; i++) trades += runNodejs(b, ops[i]!);
        return trades;
      },
      runOne: (b, i) => runNodejs(b, stream.nodejsBench[i]!),
      resting: (b) => b.depth().reduce((n, side) => n + side.length, 0),
    },
    commands,
  );
  // The timer's own cost, to read the latency figures against.
  const timer = new Float64Array(100_000);
  for (let i = 0; i < timer.length; i++) {
    const t0 = performance.now();
    timer[i] = performance.now() - t0;
  }
  timer.sort();
  const timerNs = timer[timer.length >> 1]! * 1e6;
  const ratio = cairn.commandsPerSec / comparator.commandsPerSec;

  const mix = Object.entries(stream.mix)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${((100 * v) / commands).toFixed(1)}%`)
    .join(', ');
  console.log(`\n## matching core: OrderBook alone (goal >= ${GOAL_COMMANDS_PER_SEC.toLocaleString('en-US')} commands/s, >= ${GOAL_RATIO}x nodejs-order-book)`);
  console.log(`stream: ${commands.toLocaleString('en-US')} commands after a fill of ${stream.fill.length.toLocaleString('en-US')} GTC orders ` +
    `(${stream.restingAfterFill} resting over ${stream.levelsAfterFill} price levels), ${USERS} users, STP ${STP}; generated in ${genSeconds.toFixed(1)} s`);
  console.log(`mix: ${mix}`);
  console.log(`cairn OrderBook:        ${formatRate(cairn.commandsPerSec, 'commands')} per CPU-second, ${formatRate(cairn.commandsPerWallSec, 'commands')} wall (median of ${cairn.passes} passes); ` +
    `latency p50 ${cairn.p50Ns.toFixed(0)} ns, p99 ${cairn.p99Ns.toFixed(0)} ns; ${cairn.trades.toLocaleString('en-US')} trades, ${cairn.restingAtEnd} open at the end`);
  console.log(`nodejs-order-book 10.x: ${formatRate(comparator.commandsPerSec, 'commands')} per CPU-second, ${formatRate(comparator.commandsPerWallSec, 'commands')} wall (median of ${comparator.passes} passes); ` +
    `latency p50 ${comparator.p50Ns.toFixed(0)} ns, p99 ${comparator.p99Ns.toFixed(0)} ns; ${comparator.trades.toLocaleString('en-US')} trades, ${comparator.restingAtEnd} levels at the end`);
  console.log(`(latencies include performance.now()'s own ${timerNs.toFixed(0)} ns)`);
  console.log(`ratio: cairn / nodejs-order-book = ${ratio.toFixed(1)}x by CPU time, ${(cairn.commandsPerWallSec / comparator.commandsPerWallSec).toFixed(1)}x by wall clock (goal >= ${GOAL_RATIO}x); ` +
    `cairn = ${((100 * cairn.commandsPerSec) / GOAL_COMMANDS_PER_SEC).toFixed(0)}% of the ${GOAL_COMMANDS_PER_SEC.toLocaleString('en-US')} commands/s goal`);
  const result = (name: string, m: Measured): BenchResult => ({ name, ops: commands, seconds: commands / m.commandsPerSec, opsPerSec: m.commandsPerSec });
  return { cairnOrderBook: result('cairn OrderBook', cairn), nodejsOrderBook: result('nodejs-order-book', comparator) };
}
