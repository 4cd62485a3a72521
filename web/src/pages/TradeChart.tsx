/**
 * The candlestick chart of a market with volume bars, drawn by TradingView Lightweight Charts from the local bundle.
 *
 * Attribution notice (Apache-2.0 NOTICE of lightweight-charts): TradingView Lightweight Charts™
 * Copyright (c) 2025 TradingView, Inc. https://www.tradingview.com/ — the chart keeps the library's attribution logo
 * and the panel links to tradingview.com, as its license asks.
 *
 * Candles come from /api/v3/uiKlines and are updated live from the `@kline_<interval>` stream. Prices are turned into
 * JS numbers only here, for drawing (the chart library takes numbers); amounts elsewhere stay decimal strings. Times
 * are shifted into the viewer's time zone (the library draws UTC).
 */
import { CandlestickSeries, createChart, HistogramSeries, type IChartApi, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useImperativeHandle, useRef, type ReactNode, type Ref } from 'react';
import { request } from '../api.ts';

/** The intervals offered (Binance names). */
export const CHART_INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'] as const;
/** One of CHART_INTERVALS. */
export type ChartInterval = (typeof CHART_INTERVALS)[number];

/** A kline as the stream's `k` object carries it. */
export interface StreamKline {
  t: number;
  o: string;
  h: string;
  l: string;
  c: string;
  v: string;
}

/** What the page can do to the chart: push a live candle. */
export interface ChartHandle {
  update(k: StreamKline): void;
}

function localTime(ms: number): UTCTimestamp {
  return (Math.floor(ms / 1000) - new Date(ms).getTimezoneOffset() * 60) as UTCTimestamp;
}

function colors(): { bg: string; text: string; grid: string; up: string; down: string } {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string): string => css.getPropertyValue(name).trim() || fallback;
  return { bg: v('--panel', '#fff'), text: v('--text', '#1d1d1f'), grid: v('--border', '#d9d6cf'), up: v('--pos', '#17692f'), down: v('--neg', '#a11d1d') };
}

/** The chart; `onError` reports a failed candle fetch (the panel shows it). */
export function TradeChart(props: { symbol: string; interval: ChartInterval; theme: string; handle: Ref<ChartHandle>; onError: (e: unknown) => void; onCandles: (last: StreamKline | undefined) => void }): ReactNode {
  const { symbol, interval, theme, onError, onCandles } = props;
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | undefined>(undefined);
  const series = useRef<{ candles: ISeriesApi<'Candlestick'>; volume: ISeriesApi<'Histogram'> } | undefined>(undefined);

  useImperativeHandle(props.handle, () => ({
    update(k: StreamKline) {
      const s = series.current;
      if (s === undefined) return;
      const time = localTime(k.t);
      s.candles.update({ time, open: Number(k.o), high: Number(k.h), low: Number(k.l), close: Number(k.c) });
      s.volume.update({ time, value: Number(k.v), color: Number(k.c) >= Number(k.o) ? colors().up : colors().down });
    },
  }));

  useEffect(() => {
    if (box.current === null) return;
    const c = colors();
    const ch = createChart(box.current, {
      autoSize: true,
      layout: { background: { color: c.bg }, textColor: c.text, attributionLogo: true },
      grid: { vertLines: { color: c.grid }, horzLines: { color: c.grid } },
      // maxBarSpacing: fitting a young market's two or three candles to the width drew each one a third of the chart wide.
      timeScale: { timeVisible: true, secondsVisible: false, maxBarSpacing: 24 },
    });
    const candles = ch.addSeries(CandlestickSeries, { upColor: c.up, downColor: c.down, wickUpColor: c.up, wickDownColor: c.down, borderVisible: false });
    const volume = ch.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: '' });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = ch;
    series.current = { candles, volume };
    return () => {
      series.current = undefined;
      chart.current = undefined;
      ch.remove();
    };
  }, []);

  useEffect(() => {
    const c = colors();
    chart.current?.applyOptions({ layout: { background: { color: c.bg }, textColor: c.text }, grid: { vertLines: { color: c.grid }, horzLines: { color: c.grid } } });
    series.current?.candles.applyOptions({ upColor: c.up, downColor: c.down, wickUpColor: c.up, wickDownColor: c.down });
  }, [theme]);

  useEffect(() => {
    const ctl = new AbortController();
    request<[number, string, string, string, string, string][]>(`/exchange/api/v3/uiKlines?symbol=${symbol}&interval=${interval}&limit=300`, { signal: ctl.signal })
      .then((rows) => {
        const s = series.current;
        if (s === undefined) return;
        const c = colors();
        s.candles.setData(rows.map((r) => ({ time: localTime(r[0]), open: Number(r[1]), high: Number(r[2]), low: Number(r[3]), close: Number(r[4]) })));
        s.volume.setData(rows.map((r) => ({ time: localTime(r[0]), value: Number(r[5]), color: Number(r[4]) >= Number(r[1]) ? c.up : c.down })));
        const l = rows.at(-1);
        onCandles(l === undefined ? undefined : { t: l[0], o: l[1], h: l[2], l: l[3], c: l[4], v: l[5] });
        chart.current?.timeScale().fitContent();
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) onError(e);
      });
    return () => ctl.abort();
  }, [symbol, interval, onError, onCandles]);

  return <div ref={box} className="chart" role="figure" aria-label={`Candlestick chart of ${symbol}, ${interval} candles, with volume`} data-testid="chart" />;
}
