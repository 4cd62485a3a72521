/**
 * The trading pages, through the exchange's Binance-style gateway (/exchange): markets with last price and 24 h
 * change; a candlestick chart with interval choice and volume; the order book ladder kept live from a depth snapshot
 * plus the `@depth@100ms` diff stream (Binance's procedure, exchangeLogic.ts LocalBook); recent trades from `@trade`;
 * and, signed in, the order form (LIMIT, MARKET, LIMIT_MAKER; buy/sell; quantity by amount or % of balance; the
 * exchange's refusal shown with its Binance code), open orders with cancel, order history, my trades, balances (kept
 * fresh by the user data stream) and deposit/withdraw (DepositWithdraw.tsx). Amounts stay decimal strings, formatted to each asset's
 * precision from exchangeInfo. An exchange that is down shows on these panels; the rest of the app keeps working.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import type { WebStatus } from '../../../src/interfaces/webStatus.ts';
import { COIN_SYMBOL, formatTime } from '../amount.ts';
import { ApiError, request } from '../api.ts';
import { ErrorNote, Panel } from '../components.tsx';
import { privateCall, useMarketStreams, useUserStream, type AssetBalance, type ExchangeOrder, type MyTrade, type PublicTrade, type Ticker24h } from '../exchangeApi.ts';
import { assetPrecisions, formatDecimal, gridOf, LocalBook, notional, quantityForPercent, type DepthDiff, type DepthSnapshot, type Level, type MarketInfo } from '../exchangeLogic.ts';
import { useFetch } from '../hooks.ts';
import { useSession } from '../session.tsx';
import { SignIn } from '../SignIn.tsx';
import { DEPOSIT_ANCHOR, DepositWithdraw } from './DepositWithdraw.tsx';
import { CHART_INTERVALS, TradeChart, type ChartHandle, type ChartInterval, type StreamKline } from './TradeChart.tsx';

const BOOK_LEVELS = 12;
const TRADES_SHOWN = 30;

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError('exchange', 0, 'error', e instanceof Error ? e.message : String(e));
}

/** A table that scrolls sideways on its own at narrow widths, reachable by keyboard (WCAG: scrollable regions). */
function Scroll(props: { label: string; children: ReactNode }): ReactNode {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={props.label}>
      {props.children}
    </div>
  );
}

/** "+1.25 %" with the sign's colour class. */
function Change(props: { percent: string }): ReactNode {
  const neg = props.percent.startsWith('-');
  const zero = !/[1-9]/.test(props.percent);
  return <span className={zero ? 'amount' : neg ? 'amount neg' : 'amount pos'}>{`${neg || zero ? '' : '+'}${formatDecimal(props.percent, 2)} %`}</span>;
}

/** The theme the Layout set on <html> (the chart follows it). */
function useTheme(): string {
  const [theme, setTheme] = useState(document.documentElement.dataset.theme ?? 'light');
  useEffect(() => {
    const obs = new MutationObserver(() => setTheme(document.documentElement.dataset.theme ?? 'light'));
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => obs.disconnect();
  }, []);
  return theme;
}

/** The trading page (`/trade` and `/trade/<SYMBOL>`). */
export function TradePage(): ReactNode {
  const symbolParam = useParams()['*'] ?? '';
  const { session } = useSession();
  const status = useFetch<WebStatus>('/web/status');
  // Asked only when this web server proxies an exchange (a request to a missing one would be a console error).
  const configured = status.data?.services.exchange.configured === true || status.error !== undefined;
  const notConfigured = status.data !== undefined && !status.data.services.exchange.configured;
  const info = useFetch<{ symbols: MarketInfo[] }>(configured ? '/exchange/api/v3/exchangeInfo' : undefined, { refreshMs: 60_000 });
  const tickers = useFetch<Ticker24h[]>(configured ? '/exchange/api/v3/ticker/24hr' : undefined, { refreshMs: 5000 });
  const markets = info.data?.symbols ?? [];
  const market = markets.find((m) => m.symbol === symbolParam.toUpperCase()) ?? markets[0];
  const exchangeDown = info.error !== undefined && info.data === undefined ? info.error : undefined;

  return (
    <div className="page">
      <h1 className="visually-hidden">Trade {market?.displayName ?? market?.symbol ?? ''}</h1>
      <Panel title="Markets" error={exchangeDown} loading={(status.loading && status.data === undefined) || (info.loading && info.data === undefined)} empty={markets.length === 0 && (notConfigured ? 'No exchange is configured for this web server (start it with --exchange <url>).' : 'The exchange lists no market.')} testId="markets-panel">
        <Scroll label="Markets"><table>
          <thead>
            <tr>
              <th scope="col">Market</th>
              <th scope="col" className="num">Last price</th>
              <th scope="col" className="num">24 h change</th>
              <th scope="col" className="num hide-narrow">24 h high</th>
              <th scope="col" className="num hide-narrow">24 h low</th>
              <th scope="col" className="num hide-narrow">24 h volume</th>
            </tr>
          </thead>
          <tbody>
            {markets.map((m) => {
              const t = tickers.data?.find((x) => x.symbol === m.symbol);
              const g = gridOf(m);
              const current = m.symbol === market?.symbol;
              return (
                <tr key={m.symbol} data-testid="market-row" className={current ? 'current' : undefined}>
                  <td>
                    <Link to={`/trade/${m.symbol}`} aria-current={current ? 'page' : undefined}>
                      {m.displayName ?? m.symbol}
                    </Link>
                  </td>
                  <td className="num" data-testid={`last-${m.symbol}`}>{t === undefined ? '–' : formatDecimal(t.lastPrice, g.priceDecimals)}</td>
                  <td className="num">{t === undefined ? '–' : <Change percent={t.priceChangePercent} />}</td>
                  <td className="num hide-narrow">{t === undefined ? '–' : formatDecimal(t.highPrice, g.priceDecimals)}</td>
                  <td className="num hide-narrow">{t === undefined ? '–' : formatDecimal(t.lowPrice, g.priceDecimals)}</td>
                  <td className="num hide-narrow">{t === undefined ? '–' : `${formatDecimal(t.volume, g.qtyDecimals)} ${m.baseAsset}`}</td>
                </tr>
              );
            })}
          </tbody>
        </table></Scroll>
        {tickers.error !== undefined && info.data !== undefined && <ErrorNote error={tickers.error} />}
      </Panel>
      {market !== undefined && <MarketView key={market.symbol} market={market} markets={markets} network={status.data?.network} />}
      {exchangeDown !== undefined && session?.exchange === undefined && <SignIn purpose="exchange" />}
    </div>
  );
}

function MarketView(props: { market: MarketInfo; markets: readonly MarketInfo[]; network: string | undefined }): ReactNode {
  const { market, markets } = props;
  const grid = gridOf(market);
  const s = market.symbol.toLowerCase();
  const [interval, setInterval_] = useState<ChartInterval>('1m');
  const [chartError, setChartError] = useState<ApiError | undefined>(undefined);
  const [lastCandle, setLastCandle] = useState<StreamKline | undefined>(undefined);
  const chart = useRef<ChartHandle>(null);
  const book = useRef(new LocalBook());
  const [ladder, setLadder] = useState<{ bids: Level[]; asks: Level[] } | undefined>(undefined);
  const [bookError, setBookError] = useState<ApiError | undefined>(undefined);
  const [trades, setTrades] = useState<PublicTrade[] | undefined>(undefined);
  const [tradesError, setTradesError] = useState<ApiError | undefined>(undefined);
  const [pickedPrice, setPickedPrice] = useState<string | undefined>(undefined);
  const theme = useTheme();

  const loadSnapshot = useCallback(() => {
    book.current.reset();
    request<DepthSnapshot>(`/exchange/api/v3/depth?symbol=${market.symbol}&limit=1000`)
      .then((snap) => {
        if (book.current.loadSnapshot(snap) === 'gap') return loadSnapshot();
        setLadder(book.current.top(BOOK_LEVELS));
        setBookError(undefined);
      })
      .catch((e: unknown) => setBookError(asApiError(e)));
  }, [market.symbol]);
  const loadTrades = useCallback(() => {
    request<PublicTrade[]>(`/exchange/api/v3/trades?symbol=${market.symbol}&limit=${TRADES_SHOWN}`)
      .then((t) => {
        setTrades([...t].reverse());
        setTradesError(undefined);
      })
      .catch((e: unknown) => setTradesError(asApiError(e)));
  }, [market.symbol]);

  const streams = useMemo(() => [`${s}@depth@100ms`, `${s}@trade`, `${s}@kline_${interval}`], [s, interval]);
  const streamState = useMarketStreams(
    streams,
    (stream, data) => {
      if (stream.endsWith('@depth@100ms')) {
        const outcome = book.current.applyDiff(data as DepthDiff);
        if (outcome === 'applied') setLadder(book.current.top(BOOK_LEVELS));
        else if (outcome === 'gap') loadSnapshot();
      } else if (stream.endsWith('@trade')) {
        const t = data as { t: number; p: string; q: string; T: number; m: boolean };
        setTrades((old) => (old?.some((x) => x.id === t.t) === true ? old : [{ id: t.t, price: t.p, qty: t.q, time: t.T, isBuyerMaker: t.m }, ...(old ?? [])].slice(0, TRADES_SHOWN)));
      } else if (stream.includes('@kline_')) {
        const k = (data as { k: StreamKline & { i: string } }).k;
        if (k.i !== interval) return;
        chart.current?.update(k);
        setLastCandle(k);
      }
    },
    () => {
      // (Re)connected: Binance's procedure starts from a fresh snapshot; recent trades too.
      loadSnapshot();
      loadTrades();
    },
  );
  const onChartError = useCallback((e: unknown) => setChartError(asApiError(e)), []);
  const onCandles = useCallback((k: StreamKline | undefined) => {
    setChartError(undefined);
    setLastCandle(k);
  }, []);
  const p = (x: string): string => formatDecimal(x, grid.priceDecimals);
  const q = (x: string): string => formatDecimal(x, grid.qtyDecimals);

  return (
    <>
      <div className="trade-top">
        <Panel
          title={`${market.displayName ?? market.symbol} chart`}
          error={chartError}
          testId="chart-panel"
          actions={
            <div className="buttons" role="group" aria-label="Candle interval">
              {CHART_INTERVALS.map((i) => (
                <button key={i} type="button" className={i === interval ? 'small' : 'small secondary'} aria-pressed={i === interval} onClick={() => setInterval_(i)}>
                  {i}
                </button>
              ))}
            </div>
          }
        >
          <TradeChart symbol={market.symbol} interval={interval} theme={theme} handle={chart} onError={onChartError} onCandles={onCandles} />
          <p className="muted small-print" data-testid="last-candle">
            {lastCandle === undefined
              ? 'No trade yet in this interval.'
              : `Last candle ${formatTime(Math.floor(lastCandle.t / 1000))}: open ${p(lastCandle.o)} · high ${p(lastCandle.h)} · low ${p(lastCandle.l)} · close ${p(lastCandle.c)} · volume ${q(lastCandle.v)} ${market.baseAsset}`}
          </p>
          <p className="muted small-print">
            Charts by <a href="https://www.tradingview.com/" rel="noreferrer">TradingView</a> Lightweight Charts™.
          </p>
        </Panel>
        <Panel title="Order book" error={bookError} loading={ladder === undefined && bookError === undefined} testId="book-panel" actions={<span className={streamState === 'open' ? 'live live-open' : 'live'} data-testid="market-stream">{streamState === 'open' ? '● live' : streamState}</span>}>
          {ladder !== undefined && (
            <table className="ladder">
              <caption className="visually-hidden">Asks above, bids below; choose a price to put it in the order form</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">Price ({market.quoteAsset})</th>
                  <th scope="col" className="num">Amount ({market.baseAsset})</th>
                </tr>
              </thead>
              <tbody>
                {[...ladder.asks].reverse().map(([price, qty]) => (
                  <tr key={`a${price}`} data-testid="book-ask" className="ask">
                    <td className="num">
                      <button type="button" className="link neg" onClick={() => setPickedPrice(p(price))}>{p(price)}</button>
                    </td>
                    <td className="num">{q(qty)}</td>
                  </tr>
                ))}
                <tr className="spread">
                  <td colSpan={2} className="muted">
                    {ladder.asks.length === 0 && ladder.bids.length === 0 ? 'The book is empty.' : ladder.asks[0] !== undefined && ladder.bids[0] !== undefined ? `Spread ${formatDecimal(subtract(ladder.asks[0][0], ladder.bids[0][0], grid.priceDecimals), grid.priceDecimals)}` : ''}
                  </td>
                </tr>
                {ladder.bids.map(([price, qty]) => (
                  <tr key={`b${price}`} data-testid="book-bid" className="bid">
                    <td className="num">
                      <button type="button" className="link pos" onClick={() => setPickedPrice(p(price))}>{p(price)}</button>
                    </td>
                    <td className="num">{q(qty)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        <Panel title="Recent trades" error={tradesError} loading={trades === undefined && tradesError === undefined} empty={trades !== undefined && trades.length === 0 && 'No trade yet.'} testId="trades-panel">
          <table>
            <thead>
              <tr>
                <th scope="col" className="num">Price</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col">Time</th>
              </tr>
            </thead>
            <tbody>
              {(trades ?? []).map((t) => (
                <tr key={t.id} data-testid="recent-trade">
                  <td className={t.isBuyerMaker ? 'num amount neg' : 'num amount pos'}>{p(t.price)}</td>
                  <td className="num">{q(t.qty)}</td>
                  <td>{new Date(t.time).toLocaleTimeString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>
      </div>
      <Account market={market} markets={markets} network={props.network} pickedPrice={pickedPrice} bestAsk={ladder?.asks[0]?.[0]} />
    </>
  );
}

/** a − b for two price strings, exact. */
function subtract(a: string, b: string, decimals: number): string {
  const scale = 10n ** BigInt(decimals);
  const units = (x: string): bigint => BigInt(formatDecimal(x, decimals).replace('.', ''));
  const d = units(a) - units(b);
  const neg = d < 0n;
  const abs = neg ? -d : d;
  const text = decimals > 0 ? `${abs / scale}.${(abs % scale).toString().padStart(decimals, '0')}` : String(abs);
  return neg ? `-${text}` : text;
}

function Account(props: { market: MarketInfo; markets: readonly MarketInfo[]; network: string | undefined; pickedPrice: string | undefined; bestAsk: string | undefined }): ReactNode {
  const { session, signOut } = useSession();
  const token = session?.exchange?.token;
  const { market } = props;
  const account = useFetch<{ balances: AssetBalance[] }>(token === undefined ? undefined : '/exchange/api/v3/account', { ...(token !== undefined ? { token } : {}), refreshMs: 15_000 });
  const open = useFetch<ExchangeOrder[]>(token === undefined ? undefined : `/exchange/api/v3/openOrders?symbol=${market.symbol}`, { ...(token !== undefined ? { token } : {}), refreshMs: 15_000 });
  const all = useFetch<ExchangeOrder[]>(token === undefined ? undefined : `/exchange/api/v3/allOrders?symbol=${market.symbol}&limit=50`, { ...(token !== undefined ? { token } : {}), refreshMs: 15_000 });
  const mine = useFetch<MyTrade[]>(token === undefined ? undefined : `/exchange/api/v3/myTrades?symbol=${market.symbol}&limit=50`, { ...(token !== undefined ? { token } : {}), refreshMs: 15_000 });
  const reloadAll = useCallback(() => {
    account.reload();
    open.reload();
    all.reload();
    mine.reload();
  }, [account.reload, open.reload, all.reload, mine.reload]);
  // Bumped on each balanceUpdate (a deposit credited, a withdrawal paid): the deposit panel reloads its lists then.
  const [capitalKey, setCapitalKey] = useState(0);
  const userStream = useUserStream(token, (e) => {
    if (e.e === 'executionReport' || e.e === 'outboundAccountPosition' || e.e === 'balanceUpdate') reloadAll();
    if (e.e === 'balanceUpdate') setCapitalKey((k) => k + 1);
  });
  useEffect(() => {
    if (account.error?.status === 401) signOut('exchange');
  }, [account.error, signOut]);

  if (token === undefined) return <SignIn purpose="exchange" />;
  const precision = assetPrecisions(props.markets);
  const grid = gridOf(market);
  const balances = account.data?.balances;
  const free = (asset: string): string => balances?.find((b) => b.asset === asset)?.free ?? '0';
  const p = (x: string): string => formatDecimal(x, grid.priceDecimals);
  const q = (x: string): string => formatDecimal(x, grid.qtyDecimals);
  const qa = (x: string): string => formatDecimal(x, market.quoteAssetPrecision);
  const faucetOn = props.network === 'devnet' || props.network === 'regtest';

  return (
    <>
      <div className="trade-account">
        <OrderForm market={market} token={token} freeBase={free(market.baseAsset)} freeQuote={free(market.quoteAsset)} pickedPrice={props.pickedPrice} bestAsk={props.bestAsk} onPlaced={reloadAll} />
        <Panel
          title="Balances"
          error={balances === undefined ? account.error : undefined}
          loading={account.loading && balances === undefined}
          testId="balances-panel"
          actions={<span className={userStream === 'open' ? 'live live-open' : 'live'} data-testid="user-stream">{userStream === 'open' ? '● live' : userStream}</span>}
        >
          <Scroll label="Balances"><table>
            <thead>
              <tr>
                <th scope="col">Asset</th>
                <th scope="col" className="num">Available</th>
                <th scope="col" className="num">In orders</th>
              </tr>
            </thead>
            <tbody>
              {(balances ?? []).map((b) => (
                <tr key={b.asset} data-testid={`balance-${b.asset}`}>
                  <th scope="row">{b.asset}</th>
                  <td className="num">{formatDecimal(b.free, precision.get(b.asset) ?? 8)}</td>
                  <td className="num">{formatDecimal(b.locked, precision.get(b.asset) ?? 8)}</td>
                </tr>
              ))}
            </tbody>
          </table></Scroll>
          <p className="small-print">
            <a href={`#${DEPOSIT_ANCHOR}`}>Deposit or withdraw {COIN_SYMBOL}</a>
          </p>
          {faucetOn && <Faucet token={token} assets={[market.baseAsset, market.quoteAsset]} onPaid={reloadAll} />}
        </Panel>
      </div>
      <Panel title="Open orders" error={open.data === undefined ? open.error : undefined} loading={open.loading && open.data === undefined} empty={open.data?.length === 0 && 'No open order.'} testId="open-orders-panel">
        <OpenOrders orders={open.data ?? []} token={token} p={p} q={q} onCancelled={reloadAll} />
      </Panel>
        <Panel title="Order history" error={all.data === undefined ? all.error : undefined} loading={all.loading && all.data === undefined} empty={all.data?.length === 0 && 'No order yet.'} testId="order-history-panel">
          <Scroll label="Order history"><table className="stack-narrow">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Side / type</th>
                <th scope="col" className="num">Price</th>
                <th scope="col" className="num">Filled / amount</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {[...(all.data ?? [])].sort((a, b) => b.orderId - a.orderId).map((o) => (
                <tr key={o.orderId} data-testid="order-history-row">
                  <td data-label="Time">{new Date(o.time).toLocaleString()}</td>
                  <td data-label="Side / type" className={o.side === 'BUY' ? 'amount pos' : 'amount neg'}>{`${o.side} ${o.type}`}</td>
                  <td data-label="Price" className="num">{o.type === 'MARKET' ? 'market' : p(o.price)}</td>
                  <td data-label="Filled / amount" className="num">{`${q(o.executedQty)} / ${q(o.origQty)}`}</td>
                  <td data-label="Status">{o.status}</td>
                </tr>
              ))}
            </tbody>
          </table></Scroll>
        </Panel>
        <Panel title="My trades" error={mine.data === undefined ? mine.error : undefined} loading={mine.loading && mine.data === undefined} empty={mine.data?.length === 0 && 'No trade yet.'} testId="my-trades-panel">
          <Scroll label="My trades"><table className="stack-narrow">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Side</th>
                <th scope="col" className="num">Price</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col" className="num">Total ({market.quoteAsset})</th>
                <th scope="col" className="num">Fee</th>
              </tr>
            </thead>
            <tbody>
              {[...(mine.data ?? [])].sort((a, b) => b.id - a.id).map((t) => (
                <tr key={t.id} data-testid="my-trade">
                  <td data-label="Time">{new Date(t.time).toLocaleString()}</td>
                  <td data-label="Side" className={t.isBuyer ? 'amount pos' : 'amount neg'}>{`${t.isBuyer ? 'BUY' : 'SELL'}${t.isMaker ? ' (maker)' : ''}`}</td>
                  <td data-label="Price" className="num">{p(t.price)}</td>
                  <td data-label="Amount" className="num">{q(t.qty)}</td>
                  <td data-label={`Total (${market.quoteAsset})`} className="num">{qa(t.quoteQty)}</td>
                  <td data-label="Fee" className="num">{`${formatDecimal(t.commission, precision.get(t.commissionAsset) ?? 8)} ${t.commissionAsset}`}</td>
                </tr>
              ))}
            </tbody>
          </table></Scroll>
        </Panel>
      <DepositWithdraw token={token} freeCoins={balances === undefined ? undefined : free(COIN_SYMBOL)} precision={precision.get(COIN_SYMBOL) ?? 8} network={props.network} refreshKey={capitalKey} onChanged={reloadAll} />
    </>
  );
}

function OpenOrders(props: { orders: readonly ExchangeOrder[]; token: string; p: (x: string) => string; q: (x: string) => string; onCancelled: () => void }): ReactNode {
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState<number | undefined>(undefined);
  const cancel = (o: ExchangeOrder): void => {
    setBusy(o.orderId);
    setError(undefined);
    privateCall('DELETE', '/api/v3/order', props.token, { symbol: o.symbol, orderId: o.orderId })
      .then(props.onCancelled)
      .catch((e: unknown) => setError(asApiError(e)))
      .finally(() => setBusy(undefined));
  };
  return (
    <>
      {error !== undefined && <ErrorNote error={error} />}
      {props.orders.length > 0 && (
        <Scroll label="Open orders"><table className="stack-narrow">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Side / type</th>
              <th scope="col" className="num">Price</th>
              <th scope="col" className="num">Filled / amount</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.orders.map((o) => (
              <tr key={o.orderId} data-testid="open-order">
                <td data-label="Time">{new Date(o.time).toLocaleString()}</td>
                <td data-label="Side / type" className={o.side === 'BUY' ? 'amount pos' : 'amount neg'}>{`${o.side} ${o.type}`}</td>
                <td data-label="Price" className="num">{props.p(o.price)}</td>
                <td data-label="Filled / amount" className="num">{`${props.q(o.executedQty)} / ${props.q(o.origQty)}`}</td>
                <td className="actions">
                  <button type="button" className="small secondary" disabled={busy === o.orderId} onClick={() => cancel(o)} aria-label={`Cancel order ${o.orderId}`}>
                    Cancel
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table></Scroll>
      )}
    </>
  );
}

type OrderType = 'LIMIT' | 'MARKET' | 'LIMIT_MAKER';
const TYPE_LABEL: Record<OrderType, string> = { LIMIT: 'Limit', MARKET: 'Market', LIMIT_MAKER: 'Post-only (limit maker)' };

function OrderForm(props: { market: MarketInfo; token: string; freeBase: string; freeQuote: string; pickedPrice: string | undefined; bestAsk: string | undefined; onPlaced: () => void }): ReactNode {
  const { market } = props;
  const grid = gridOf(market);
  const [side, setSide] = useState<'BUY' | 'SELL'>('BUY');
  const [type, setType] = useState<OrderType>('LIMIT');
  const [price, setPrice] = useState('');
  const [quantity, setQuantity] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [result, setResult] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (props.pickedPrice !== undefined) setPrice(props.pickedPrice);
  }, [props.pickedPrice]);
  const types = (['LIMIT', 'MARKET', 'LIMIT_MAKER'] as const).filter((t) => market.orderTypes.includes(t));
  const needsPrice = type !== 'MARKET';
  let total: string | undefined;
  try {
    total = needsPrice && price !== '' && quantity !== '' ? notional(price, quantity, market.quoteAssetPrecision) : undefined;
  } catch {
    total = undefined;
  }
  const percent = (pct: number): void => {
    try {
      // A market buy is counted at the best ask (it may fill higher up the book: the exchange then refuses or fills less).
      const at = needsPrice ? price.trim() : props.bestAsk;
      const qty = quantityForPercent({ side, percent: pct, freeBase: props.freeBase, freeQuote: props.freeQuote, price: at, stepSize: grid.stepSize, quoteDecimals: market.quoteAssetPrecision });
      if (qty === undefined) setError(new ApiError('exchange', 0, 'price-needed', needsPrice ? 'Enter a price first: a buy by % of balance needs the price to count the amount.' : 'No ask in the book: a market buy by % of balance needs a price to count the amount.'));
      else {
        setError(undefined);
        setQuantity(qty);
      }
    } catch (e) {
      setError(new ApiError('exchange', 0, 'bad-number', e instanceof Error ? e.message : String(e)));
    }
  };
  const submit = (ev: FormEvent): void => {
    ev.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    privateCall<ExchangeOrder & { fills?: unknown[] }>('POST', '/api/v3/order', props.token, {
      symbol: market.symbol,
      side,
      type,
      quantity: quantity.trim(),
      ...(needsPrice ? { price: price.trim() } : {}),
      ...(type === 'LIMIT' ? { timeInForce: 'GTC' } : {}),
      newOrderRespType: 'FULL',
    })
      .then((o) => {
        setResult(`Order ${o.orderId} ${o.status}: ${o.side} ${formatDecimal(o.executedQty, grid.qtyDecimals)} of ${formatDecimal(o.origQty, grid.qtyDecimals)} ${market.baseAsset} filled${o.type === 'MARKET' ? '' : ` at limit ${formatDecimal(o.price, grid.priceDecimals)} ${market.quoteAsset}`}.`);
        props.onPlaced();
      })
      .catch((e: unknown) => setError(asApiError(e)))
      .finally(() => setBusy(false));
  };
  return (
    <Panel title="Place an order" testId="order-form-panel">
      <form className="form" onSubmit={submit} aria-label="Order form">
        <div className="buttons" role="group" aria-label="Side">
          <button type="button" className={side === 'BUY' ? 'buy' : 'secondary'} aria-pressed={side === 'BUY'} onClick={() => setSide('BUY')}>
            Buy {market.baseAsset}
          </button>
          <button type="button" className={side === 'SELL' ? 'sell' : 'secondary'} aria-pressed={side === 'SELL'} onClick={() => setSide('SELL')}>
            Sell {market.baseAsset}
          </button>
        </div>
        <label>
          Order type
          <select value={type} onChange={(e) => setType(e.target.value as OrderType)}>
            {types.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABEL[t]}
              </option>
            ))}
          </select>
        </label>
        {needsPrice && (
          <label>
            {`Price (${market.quoteAsset})`}
            <input inputMode="decimal" autoComplete="off" value={price} onChange={(e) => setPrice(e.target.value)} placeholder={`tick ${grid.tickSize}`} required />
          </label>
        )}
        <label>
          {`Amount (${market.baseAsset})`}
          <input inputMode="decimal" autoComplete="off" value={quantity} onChange={(e) => setQuantity(e.target.value)} placeholder={`step ${grid.stepSize}`} required />
        </label>
        <div className="buttons" role="group" aria-label="Amount as a share of the available balance">
          {[25, 50, 75, 100].map((pct) => (
            <button key={pct} type="button" className="small secondary" onClick={() => percent(pct)}>
              {pct} %
            </button>
          ))}
        </div>
        <p className="muted small-print">
          {`Available: ${side === 'BUY' ? `${formatDecimal(props.freeQuote, market.quoteAssetPrecision)} ${market.quoteAsset}` : `${formatDecimal(props.freeBase, market.baseAssetPrecision)} ${market.baseAsset}`}`}
          {total !== undefined && ` · total ${total} ${market.quoteAsset}`}
        </p>
        <button type="submit" className={side === 'BUY' ? 'buy' : 'sell'} disabled={busy}>
          {`${side === 'BUY' ? 'Buy' : 'Sell'} ${market.baseAsset}`}
        </button>
        {error !== undefined && <ErrorNote error={error} />}
        {result !== undefined && (
          <p className="ok" role="status" data-testid="order-result">
            {result}
          </p>
        )}
      </form>
    </Panel>
  );
}

function Faucet(props: { token: string; assets: readonly string[]; onPaid: () => void }): ReactNode {
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const pay = (asset: string): void => {
    setError(undefined);
    request<{ asset: string; amount: string }>('/exchange/v1/faucet', { method: 'POST', body: { asset }, token: props.token })
      .then((r) => {
        setDone(`Added ${r.amount} ${r.asset}.`);
        props.onPaid();
      })
      .catch((e: unknown) => setError(asApiError(e)));
  };
  return (
    <div className="faucet">
      <div className="buttons">
        {props.assets.map((a) => (
          <button key={a} type="button" className="small secondary" onClick={() => pay(a)}>
            Get test {a}
          </button>
        ))}
      </div>
      {done !== undefined && (
        <p className="muted" role="status" data-testid="exchange-faucet-result">
          {done}
        </p>
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </div>
  );
}
