/** React hooks for data: one-shot/refreshing fetches with loading and error states, and the node's live websocket. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, request } from './api.ts';

/** What useFetch returns. */
export interface FetchState<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * Fetches `path` (skipped while undefined) and again every `refreshMs` if given; an answer to an older path is
 * dropped. Keeps the last data while refreshing, so a panel does not flash.
 */
export function useFetch<T>(path: string | undefined, options: { refreshMs?: number; token?: string } = {}): FetchState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== undefined);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const lastPath = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (path === undefined) return;
    if (lastPath.current !== path) {
      setData(undefined);
      setError(undefined);
      lastPath.current = path;
    }
    const ctl = new AbortController();
    setLoading(true);
    request<T>(path, { signal: ctl.signal, ...(options.token !== undefined ? { token: options.token } : {}) })
      .then((d) => {
        setData(d);
        setError(undefined);
        setLoading(false);
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return;
        setError(e instanceof ApiError ? e : new ApiError('web server', 0, 'error', String(e)));
        setLoading(false);
      });
    return () => ctl.abort();
  }, [path, tick, options.token]);
  useEffect(() => {
    if (path === undefined || options.refreshMs === undefined) return;
    const t = setInterval(reload, options.refreshMs);
    return () => clearInterval(t);
  }, [path, options.refreshMs, reload]);
  return { data, error, loading, reload };
}

/** A message of the node's websocket (/api/v1/ws, mempool.space's `want` protocol): the fields the UI reads. */
export interface LiveMessage {
  block?: import('./api.ts').ExtendedBlock;
  blocks?: import('./api.ts').ExtendedBlock[];
  mempoolInfo?: { size: number; bytes: number };
  transactions?: import('./api.ts').RecentTx[];
  fees?: import('./api.ts').Fees;
}

/** Connection state of the live feed. */
export type LiveState = 'connecting' | 'open' | 'closed';

/**
 * Follows the node's websocket through the web origin: wants `blocks` and `stats`, hands every message to
 * `onMessage`, reconnects after 2 s when the connection drops (the node restarted, or the proxy lost it).
 */
export function useLiveFeed(onMessage: (m: LiveMessage) => void): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    let ws: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const connect = (): void => {
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
      setState('connecting');
      ws = new WebSocket(url);
      ws.onopen = () => {
        setState('open');
        ws?.send(JSON.stringify({ action: 'want', data: ['blocks', 'stats'] }));
      };
      ws.onmessage = (ev) => {
        try {
          handler.current(JSON.parse(String(ev.data)) as LiveMessage);
        } catch {
          // Not JSON: ignore.
        }
      };
      ws.onclose = () => {
        setState('closed');
        if (!stopped) timer = setTimeout(connect, 2000);
      };
      // onerror is followed by onclose, which reconnects; the browser already says why in its network log.
      ws.onerror = () => undefined;
    };
    connect();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      ws?.close();
    };
  }, []);
  return state;
}
