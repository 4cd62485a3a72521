/**
 * The exchange through the `cairn web` origin (/exchange → the gateway, Binance spot API shapes): the REST shapes the
 * trading pages read, private calls with the JWT bearer (the gateway accepts it on signed routes), and websocket
 * hooks for the combined market streams and the user data stream (listen key, kept alive every 30 min).
 */
import { useEffect, useRef, useState } from 'react';
import { request } from './api.ts';

/** /api/v3/ticker/24hr entry (the fields shown). */
export interface Ticker24h {
  symbol: string;
  lastPrice: string;
  priceChange: string;
  priceChangePercent: string;
  highPrice: string;
  lowPrice: string;
  volume: string;
  count: number;
}
/** An order (/api/v3/openOrders, allOrders, order). */
export interface ExchangeOrder {
  symbol: string;
  orderId: number;
  clientOrderId: string;
  price: string;
  origQty: string;
  executedQty: string;
  cummulativeQuoteQty: string;
  status: string;
  timeInForce: string;
  type: string;
  side: 'BUY' | 'SELL';
  time: number;
  updateTime: number;
}
/** /api/v3/myTrades entry. */
export interface MyTrade {
  id: number;
  orderId: number;
  price: string;
  qty: string;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}
/** /api/v3/trades entry. */
export interface PublicTrade {
  id: number;
  price: string;
  qty: string;
  time: number;
  isBuyerMaker: boolean;
}
/** /api/v3/account balance. */
export interface AssetBalance {
  asset: string;
  free: string;
  locked: string;
}

/** A private REST call with the exchange session's bearer token; `params` go in the query string, as Binance's. */
export function privateCall<T>(method: 'GET' | 'POST' | 'DELETE' | 'PUT', path: string, token: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return request<T>(`/exchange${path}${qs === '' ? '' : `?${qs}`}`, { method, token });
}

/** Connection state of a stream. */
export type StreamState = 'connecting' | 'open' | 'closed';

function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

/**
 * Follows a combined stream (`/exchange/stream?streams=a/b`): calls `onMessage(stream, data)` for each event and
 * `onOpen` on each (re)connection (the caller re-fetches snapshots then), reconnecting 2 s after a drop.
 */
export function useMarketStreams(streams: readonly string[], onMessage: (stream: string, data: unknown) => void, onOpen: () => void): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const handlers = useRef({ onMessage, onOpen });
  handlers.current = { onMessage, onOpen };
  const key = streams.join('/');
  useEffect(() => {
    if (key === '') return;
    let ws: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const connect = (): void => {
      setState('connecting');
      ws = new WebSocket(wsUrl(`/exchange/stream?streams=${key}`));
      ws.onopen = () => {
        setState('open');
        handlers.current.onOpen();
      };
      ws.onmessage = (ev) => {
        try {
          const m = JSON.parse(String(ev.data)) as { stream?: string; data?: unknown };
          if (typeof m.stream === 'string') handlers.current.onMessage(m.stream, m.data);
        } catch {
          // Not JSON: ignore.
        }
      };
      ws.onclose = () => {
        setState('closed');
        if (!stopped) timer = setTimeout(connect, 2000);
      };
      ws.onerror = () => undefined;
    };
    connect();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      ws?.close();
    };
  }, [key]);
  return state;
}

/**
 * Follows the user data stream: gets a listen key (POST /api/v3/userDataStream with the bearer), opens
 * `/exchange/ws/<listenKey>`, keeps the key alive every 30 min (PUT), and calls `onEvent` with each event
 * (executionReport, outboundAccountPosition, balanceUpdate). Reconnects with a new key 3 s after a drop.
 */
export function useUserStream(token: string | undefined, onEvent: (e: { e: string }) => void): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (token === undefined) return;
    let ws: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let keepAlive: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const retry = (): void => {
      setState('closed');
      if (keepAlive !== undefined) clearInterval(keepAlive);
      if (!stopped) timer = setTimeout(connect, 3000);
    };
    const connect = (): void => {
      setState('connecting');
      privateCall<{ listenKey: string }>('POST', '/api/v3/userDataStream', token)
        .then(({ listenKey }) => {
          if (stopped) return;
          ws = new WebSocket(wsUrl(`/exchange/ws/${listenKey}`));
          ws.onopen = () => setState('open');
          ws.onmessage = (ev) => {
            try {
              handler.current(JSON.parse(String(ev.data)) as { e: string });
            } catch {
              // Not JSON: ignore.
            }
          };
          ws.onclose = retry;
          ws.onerror = () => undefined;
          keepAlive = setInterval(() => void privateCall('PUT', '/api/v3/userDataStream', token, { listenKey }).catch(() => undefined), 30 * 60_000);
        })
        .catch(retry);
    };
    connect();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (keepAlive !== undefined) clearInterval(keepAlive);
      ws?.close();
    };
  }, [token]);
  return state;
}
