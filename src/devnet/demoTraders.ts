/**
 * The devnet's demo traders: two market makers quoting two levels a side around a mid price that wanders (a seeded
 * random walk in whole cents), and a taker sending small market orders — all over the exchange gateway's signed REST
 * API with API keys, like any Binance client. Each trader registers (or logs in, on a resume), revokes the demo API
 * keys of earlier runs, creates one, and is funded: USD from the faucet route, CRN by fundTraderCrn (see there) —
 * in the devnet a real on-chain deposit: the demo wallet pays the trader's deposit address and the makers wait (no
 * quotes, state `funding`, "deposit 1/3") until the exchange credits it at its confirmations. A resume finds the
 * balances kept and pays nothing. Balances are topped up as the taker moves them. About 3 orders/s in all (gentle on a 2-core machine). Refusals
 * (4xx) and failures (no answer, 5xx) are counted and logged, never thrown: the devnet runs on whatever happens.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { formatFixedPoint, parseFixedPoint } from '../consensus/amount.js';
import { ExchangeApiError, ExchangeClient } from './exchangeClient.js';

/** What the status table shows of the demo traders. */
export interface DemoTraderStats {
  /** off (none) | waiting (for the exchange, or setting up) | funding (CRN deposits not credited yet) | trading | stopped. */
  readonly state: 'off' | 'waiting' | 'funding' | 'trading' | 'stopped';
  /** While funding: the slowest trader's progress, e.g. `deposit 1/3` or `waiting for mature coins`. */
  readonly funding?: string;
  /** Deposits the exchange credited to the traders (their GET /v1/deposits), undefined when unknown (no bridge). */
  readonly depositsCredited?: number;
  /** Withdrawals of the traders confirmed or completed (GET /v1/withdrawals), undefined when unknown. */
  readonly withdrawalsConfirmed?: number;
  /** Orders sent (accepted or refused) since the start. */
  readonly ordersSent: number;
  /** Orders sent over the last 10 s, per second. */
  readonly ordersPerSec: number;
  /** Calls the exchange refused (4xx: a filter, insufficient balance, a rate limit…). */
  readonly refused: number;
  /** Calls that got no answer or a 5xx. */
  readonly errors: number;
}

/** Stats of traders that do not run. */
export const DEMO_TRADERS_OFF: DemoTraderStats = Object.freeze({ state: 'off', ordersSent: 0, ordersPerSec: 0, refused: 0, errors: 0 });

/** One demo trader's session: its name, login token and API key. */
export interface DemoTraderSession {
  readonly username: string;
  readonly token: string;
  readonly apiKey: string;
  readonly secretKey: string;
}

/**
 * Pays `valueSats` (1 CRN = 10^8 sats) to a chain address and resolves with the txid once broadcast (the devnet's
 * demo wallet: DemoSpender.pay). Rejects when it cannot pay yet (no mature coins).
 */
export type ChainPayer = (address: string, valueSats: bigint) => Promise<string>;

/**
 * How fundTraderCrn credits CRN: `deposit` — a real on-chain deposit paid by `pay` (the devnet: the exchange runs its
 * chain bridge); `admin` — an admin balance adjustment with the exchange's admin token (an exchange without a node).
 */
export type CrnFunding = { readonly client: ExchangeClient } & ({ readonly pay: ChainPayer } | { readonly adminTokenFile: string });

/**
 * Funds a demo trader with `amountCoins` CRN (decimal string, at most 8 decimals). With a ChainPayer: asks the
 * trader's deposit address (signed GET /v1/deposit/address) and pays it on chain; the exchange credits it after its
 * confirmations (devnet 3) — returns the txid. With an admin token: `POST /v1/admin/balance`, once per `fundingId`
 * (a retry with the same id credits nothing more) — returns undefined.
 * @throws ExchangeApiError when the exchange refuses or does not answer; the payer's error (DemoPaymentError
 *   no-funds before the demo wallet has mature coins); Error when the admin token file is unreadable
 */
export async function fundTraderCrn(funding: CrnFunding, trader: DemoTraderSession, amountCoins: string, fundingId: string): Promise<string | undefined> {
  if ('pay' in funding) {
    const { address } = (await funding.client.signed('GET', '/v1/deposit/address', {}, trader)) as { address: string };
    return funding.pay(address, parseFixedPoint(amountCoins, 8));
  }
  const adminToken = readFileSync(funding.adminTokenFile, 'utf8').trim();
  await funding.client.account('POST', '/v1/admin/balance', { username: trader.username, asset: 'CRN', amount: amountCoins, adjustmentId: fundingId, memo: 'devnet demo trader' }, { adminToken });
  return undefined;
}

/** Options of the demo traders. */
export interface DemoTradersOptions {
  /** The gateway's base URL, `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The exchange's admin token file: CRN by admin adjustment (an exchange without a node; ignored with payDeposit). */
  readonly adminTokenFile?: string;
  /** CRN by real on-chain deposits paid by this (the devnet's demo wallet); the makers wait until they are credited. */
  readonly payDeposit?: ChainPayer;
  /** Binance symbol of the market, `CRNUSD` (tick 0.01 USD, step 0.0001 CRN). */
  readonly symbol: string;
  /** Seed of the mid price's random walk and the order sizes (default 12). */
  readonly seed?: number;
  /** Period of the trading loop, ms (default 1,500): a maker requotes (4 orders), the taker trades every other one. */
  readonly tickMs?: number;
}

/** Demo account names (devnet only; the password is fixed so a resume logs in again). */
const MAKERS = ['demo-maker-1', 'demo-maker-2'] as const;
const TAKER = 'demo-taker';
const DEMO_PASSWORD = 'devnet-demo-trader';
const KEY_LABEL = 'devnet-demo';
/** Mid price bounds and start, in cents of USD per CRN. */
const MID_START_CENTS = 10_000;
const MID_MIN_CENTS = 5_000;
const MID_MAX_CENTS = 20_000;
/** Largest step of the random walk per tick, cents. */
const WALK_STEP_CENTS = 15;
/** Half-spreads of the two makers, cents; the second level of each is this much further out. */
const HALF_SPREAD_CENTS = [10, 15] as const;
const LEVEL_GAP_CENTS = 20;
/** CRN quantities in lots of 0.0001 CRN (the market's step). */
const LOT_DECIMALS = 4;
const MAKER_LOTS = [2_000, 10_000] as const;
const TAKER_LOTS = [500, 3_000] as const;
/** Top up a trader below these (whole coins), by these. */
const USD_LOW = 3_000n;
const CRN_LOW = 30n;
const CRN_FUNDING = '100';
/** The same with real deposits (the demo wallet's coins are fewer): top up below 5 CRN by a 20 CRN deposit. */
const CRN_LOW_DEPOSIT = 5n;
const CRN_DEPOSIT = '20';
/** Ticks between balance checks. */
const BALANCE_CHECK_TICKS = 20;
/** Window of the orders/s figure, ms. */
const RATE_WINDOW_MS = 10_000;

/** mulberry32: a small seeded PRNG with 32-bit state (uniform in [0, 1)). Not for secrets. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cents as a USD price string, 10025 → "100.25". */
export function centsToPrice(cents: number): string {
  return formatFixedPoint(BigInt(cents), 2);
}

/** The demo traders of a devnet's exchange: start(), getStats(), stop(). */
export class DemoTraders {
  private readonly client: ExchangeClient;
  private readonly random: () => number;
  private readonly tickMs: number;
  private sessions: DemoTraderSession[] = [];
  private midCents = MID_START_CENTS;
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private state: DemoTraderStats['state'] = 'waiting';
  private ordersSent = 0;
  private refused = 0;
  private errors = 0;
  private readonly recentOrdersMs: number[] = [];
  /** Funding rounds per trader (CRN funding ids). */
  private readonly crnRounds = new Map<string, number>();
  /** All traders held CRN at the last check (trading may start). */
  private funded = false;
  /** Deposit txid per trader paid and not yet credited (or dropped) in its deposit list. */
  private readonly pendingDeposits = new Map<string, string>();
  /** Funding progress per trader for the table. */
  private readonly fundingNotes = new Map<string, string>();
  private depositsCredited: Map<string, number> | undefined;
  private withdrawalsConfirmed: Map<string, number> | undefined;

  constructor(
    private readonly options: DemoTradersOptions,
    private readonly deps: { logger?: Logger } = {},
  ) {
    this.client = new ExchangeClient(options.baseUrl);
    this.random = seededRandom(options.seed ?? 12);
    this.tickMs = options.tickMs ?? 1_500;
  }

  /** Starts the loop: set-up (retried every tick until the exchange answers), then trading. */
  start(): void {
    this.schedule(0);
  }

  /** Stops the loop after the call in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
    this.state = 'stopped';
  }

  /** Counters now. */
  getStats(): DemoTraderStats {
    this.pruneRecent(Date.now());
    const sum = (m: Map<string, number> | undefined): number | undefined => (m === undefined ? undefined : [...m.values()].reduce((a, b) => a + b, 0));
    const funding = this.state === 'funding' ? [...this.fundingNotes.values()].sort()[0] : undefined;
    const credited = sum(this.depositsCredited);
    const confirmed = sum(this.withdrawalsConfirmed);
    return {
      state: this.state,
      ...(funding !== undefined ? { funding } : {}),
      ordersSent: this.ordersSent,
      ordersPerSec: this.recentOrdersMs.length / (RATE_WINDOW_MS / 1000),
      refused: this.refused,
      errors: this.errors,
      ...(credited !== undefined ? { depositsCredited: credited } : {}),
      ...(confirmed !== undefined ? { withdrawalsConfirmed: confirmed } : {}),
    };
  }

  /** Drops order times older than the rate window (the list holds at most a window's orders). */
  private pruneRecent(nowMs: number): void {
    while (this.recentOrdersMs.length > 0 && this.recentOrdersMs[0]! < nowMs - RATE_WINDOW_MS) this.recentOrdersMs.shift();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.step().finally(() => this.schedule(this.tickMs));
    }, delayMs);
  }

  private async step(): Promise<void> {
    try {
      if (this.sessions.length === 0) {
        await this.setUp();
        return;
      }
      if (!this.funded) {
        let all = true;
        for (const s of this.sessions) if (!(await this.topUp(s))) all = false;
        if (!all) return;
        this.funded = true;
        this.fundingNotes.clear();
        this.state = 'trading';
        this.deps.logger?.info({ traders: this.sessions.map((s) => s.username), midPrice: centsToPrice(this.midCents) }, 'demo traders trading');
      }
      this.tick++;
      this.midCents = Math.min(MID_MAX_CENTS, Math.max(MID_MIN_CENTS, this.midCents + this.randomInt(-WALK_STEP_CENTS, WALK_STEP_CENTS)));
      if (this.tick % BALANCE_CHECK_TICKS === 0) for (const s of this.sessions) await this.topUp(s);
      const maker = (this.tick % 2) as 0 | 1;
      await this.requote(maker);
      if (this.tick % 2 === 0) await this.take();
    } catch (err) {
      // No answer before the set-up is done: the exchange is still starting (state waiting), not a failure.
      if (this.sessions.length === 0 && err instanceof ExchangeApiError && err.status === 0) return;
      // Nor is the chain bridge still starting (503) while the traders wait for their deposits.
      if (!this.funded && err instanceof ExchangeApiError && err.status === 503) return;
      this.count(err);
    }
  }

  private randomInt(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  /** Counts a failed call as refused (4xx) or error (none, 5xx, other), and logs it. */
  private count(err: unknown): void {
    if (err instanceof ExchangeApiError && err.status >= 400 && err.status < 500) {
      this.refused++;
      this.deps.logger?.debug({ code: err.code, status: err.status, err: err.message }, 'demo trader call refused');
    } else {
      this.errors++;
      this.deps.logger?.debug({ err: err instanceof Error ? err.message : String(err) }, 'demo trader call failed');
    }
  }

  /** Accounts, API keys and first funds of the three traders; the mid starts at the last trade price if any. */
  private async setUp(): Promise<void> {
    await this.client.public('/api/v3/ping');
    const sessions: DemoTraderSession[] = [];
    for (const username of [...MAKERS, TAKER]) {
      try {
        await this.client.account('POST', '/v1/register', { username, password: DEMO_PASSWORD });
      } catch (err) {
        if (!(err instanceof ExchangeApiError && err.status === 409)) throw err;
      }
      const login = (await this.client.account('POST', '/v1/login', { username, password: DEMO_PASSWORD })) as { token: string };
      // Keys of earlier runs are revoked: a resume would otherwise pile them up to the per-user limit.
      const keys = (await this.client.account('GET', '/v1/api-keys', undefined, { token: login.token })) as { apiKey: string; label: string; revokedAt: number | null }[];
      for (const k of keys) if (k.label === KEY_LABEL && k.revokedAt === null) await this.client.account('DELETE', `/v1/api-keys/${k.apiKey}`, undefined, { token: login.token });
      const key = (await this.client.account('POST', '/v1/api-keys', { label: KEY_LABEL, permission: 'TRADE' }, { token: login.token })) as { apiKey: string; secretKey: string };
      const session = { username, token: login.token, apiKey: key.apiKey, secretKey: key.secretKey };
      // Orders of an earlier run are the makers' stale quotes.
      await this.cancelAll(session);
      sessions.push(session);
    }
    const last = (await this.client.public('/api/v3/ticker/price', { symbol: this.options.symbol }).catch(() => ({}))) as { price?: string | null };
    try {
      const cents = typeof last.price === 'string' ? Number(parseFixedPoint(last.price, 2)) : 0;
      if (cents >= MID_MIN_CENTS && cents <= MID_MAX_CENTS) this.midCents = cents;
    } catch {
      // Not a price of the grid: the walk starts at MID_START_CENTS.
    }
    this.sessions = sessions;
    this.state = 'funding';
  }

  /**
   * Funds a trader whose USD or CRN (free + locked) is low: USD from the faucet, CRN by fundTraderCrn. With real
   * deposits, pays one at a time per trader and follows it in the trader's deposit list. Returns whether the trader
   * holds CRN enough to trade now.
   */
  private async topUp(s: DemoTraderSession): Promise<boolean> {
    const account = (await this.client.signed('GET', '/api/v3/account', {}, s)) as { balances: { asset: string; free: string; locked: string }[] };
    const whole = (asset: string): bigint => {
      const b = account.balances.find((x) => x.asset === asset);
      return b === undefined ? 0n : (parseFixedPoint(b.free, 18) + parseFixedPoint(b.locked, 18)) / 10n ** 18n;
    };
    // Signed with the API key (the login token expires after an hour; the key does not).
    if (whole('USD') < USD_LOW) await this.client.signed('POST', '/v1/faucet', { asset: 'USD' }, s);
    const pay = this.options.payDeposit;
    if (pay === undefined) {
      if (whole('CRN') < CRN_LOW) {
        if (this.options.adminTokenFile === undefined) return false;
        const round = (this.crnRounds.get(s.username) ?? 0) + 1;
        this.crnRounds.set(s.username, round);
        // Unique per run and round: a resume funds again when it finds the trader low.
        await fundTraderCrn({ client: this.client, adminTokenFile: this.options.adminTokenFile }, s, CRN_FUNDING, `devnet-demo-${s.username}-${Date.now()}-${round}`);
      }
      return true;
    }
    const crn = whole('CRN');
    await this.readBridge(s);
    if (crn >= CRN_LOW_DEPOSIT) {
      this.fundingNotes.delete(s.username);
      return true;
    }
    if (this.pendingDeposits.has(s.username)) return false;
    try {
      const txid = await fundTraderCrn({ client: this.client, pay }, s, CRN_DEPOSIT, '');
      this.pendingDeposits.set(s.username, txid!);
      this.fundingNotes.set(s.username, 'deposit sent 0/3');
      this.deps.logger?.info({ trader: s.username, txid, amount: CRN_DEPOSIT }, 'demo trader funded by an on-chain deposit');
    } catch (err) {
      if (err instanceof ExchangeApiError) throw err;
      // The demo wallet has no mature coins yet (the first coinbases mature after 10 blocks): wait.
      this.fundingNotes.set(s.username, 'waiting for mature coins');
      this.deps.logger?.debug({ trader: s.username, err: err instanceof Error ? err.message : String(err) }, 'demo trader deposit not paid yet');
    }
    return false;
  }

  /** Reads a trader's deposits and withdrawals (the table's counts; the progress of its pending deposit). */
  private async readBridge(s: DemoTraderSession): Promise<void> {
    const deposits = (await this.client.signed('GET', '/v1/deposits', {}, s)) as { txId: string; state: string; confirmTimes: string }[];
    const withdrawals = (await this.client.signed('GET', '/v1/withdrawals', {}, s)) as { state: string }[];
    (this.depositsCredited ??= new Map()).set(s.username, deposits.filter((d) => d.state === 'credited').length);
    (this.withdrawalsConfirmed ??= new Map()).set(s.username, withdrawals.filter((w) => w.state === 'confirmed' || w.state === 'completed').length);
    // A deposit still confirming from an earlier run (stopped before it was credited) is followed, not paid again.
    const unfinished = deposits.find((x) => x.state === 'seen' || x.state === 'confirming');
    if (!this.pendingDeposits.has(s.username) && unfinished !== undefined) this.pendingDeposits.set(s.username, unfinished.txId);
    const txid = this.pendingDeposits.get(s.username);
    if (txid === undefined) return;
    const d = deposits.find((x) => x.txId === txid);
    if (d === undefined) return;
    if (d.state === 'credited' || d.state === 'dropped') this.pendingDeposits.delete(s.username);
    else this.fundingNotes.set(s.username, `deposit ${d.confirmTimes}`);
  }

  private async cancelAll(s: DemoTraderSession): Promise<void> {
    try {
      await this.client.signed('DELETE', '/api/v3/openOrders', { symbol: this.options.symbol }, s);
    } catch (err) {
      // -2011: nothing to cancel.
      if (!(err instanceof ExchangeApiError && err.code === -2011)) throw err;
    }
  }

  private async order(s: DemoTraderSession, params: Record<string, string>): Promise<void> {
    this.ordersSent++;
    const now = Date.now();
    this.pruneRecent(now);
    this.recentOrdersMs.push(now);
    try {
      await this.client.signed('POST', '/api/v3/order', { symbol: this.options.symbol, newOrderRespType: 'ACK', ...params }, s);
    } catch (err) {
      this.count(err);
    }
  }

  private lots(range: readonly [number, number]): string {
    return formatFixedPoint(BigInt(this.randomInt(range[0], range[1])), LOT_DECIMALS);
  }

  /** Maker `i` cancels its quotes and quotes two levels a side around the mid. */
  private async requote(i: 0 | 1): Promise<void> {
    const s = this.sessions[i]!;
    await this.cancelAll(s);
    for (let level = 0; level < 2; level++) {
      const offset = HALF_SPREAD_CENTS[i] + level * LEVEL_GAP_CENTS;
      await this.order(s, { side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: this.lots(MAKER_LOTS), price: centsToPrice(this.midCents - offset) });
      await this.order(s, { side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: this.lots(MAKER_LOTS), price: centsToPrice(this.midCents + offset) });
    }
  }

  /** The taker buys or sells a little at the market. */
  private async take(): Promise<void> {
    const s = this.sessions[2]!;
    await this.order(s, { side: this.random() < 0.5 ? 'BUY' : 'SELL', type: 'MARKET', quantity: this.lots(TAKER_LOTS) });
  }
}
