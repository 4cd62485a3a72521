/**
 * One sign-in for the wallet and the trading pages. The wallet service and the exchange keep separate account stores,
 * so the UI holds one session per service: signing in logs in to every configured service with the same username and
 * password, and registering registers on each. A service that is down (or not configured) does not stop the other:
 * its failure is kept in the session (`walletError`, `exchangeError`) and shown on its panels. Tokens live in
 * sessionStorage (gone when the tab closes, never in a cookie another site could send). See README "Web UI: sign-in".
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { WebStatus } from '../../src/interfaces/webStatus.ts';
import { ApiError, request } from './api.ts';

/** A login at one service. */
export interface ServiceSession {
  readonly token: string;
  /** When the token expires, ms since the Unix epoch. */
  readonly expiresAtMs: number;
}

/** Why a service's sign-in failed: the ApiError's fields (kept as plain data, the session is stored as JSON). */
export interface ServiceFailure {
  readonly service: ApiError['service'];
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** The person signed in, and their token at each service (absent when that service's sign-in failed). */
export interface Session {
  readonly username: string;
  readonly wallet?: ServiceSession;
  readonly walletError?: ServiceFailure;
  readonly exchange?: ServiceSession;
  readonly exchangeError?: ServiceFailure;
}

interface SessionApi {
  readonly session: Session | undefined;
  /**
   * Logs in to the wallet service and the exchange. Resolves when at least one accepts.
   * @throws ApiError of the wallet service (else the exchange) when neither does (401 unauthorized, 429, network)
   */
  signIn(username: string, password: string): Promise<void>;
  /**
   * Registers at both services, then logs in. "username taken" at one service (registered there before) is not an
   * error when the login with the same password then succeeds.
   * @throws ApiError when neither service registers and logs in the user
   */
  register(username: string, password: string): Promise<void>;
  /** Forgets the session of one service (its token expired: 401) or all. */
  signOut(service?: 'wallet' | 'exchange'): void;
}

const KEY = 'cairn.session.v2';
const Ctx = createContext<SessionApi | undefined>(undefined);

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return undefined;
    const s = JSON.parse(raw) as Session;
    const now = Date.now();
    const wallet = s.wallet !== undefined && s.wallet.expiresAtMs > now ? s.wallet : undefined;
    const exchange = s.exchange !== undefined && s.exchange.expiresAtMs > now ? s.exchange : undefined;
    if (wallet === undefined && exchange === undefined) return undefined;
    const { wallet: _w, exchange: _x, ...rest } = s;
    return { ...rest, ...(wallet !== undefined ? { wallet } : {}), ...(exchange !== undefined ? { exchange } : {}) };
  } catch {
    return undefined;
  }
}

function failure(e: unknown, service: ApiError['service']): ServiceFailure {
  if (e instanceof ApiError) return { service: e.service, status: e.status, code: e.code, message: e.message };
  return { service, status: 0, code: 'error', message: e instanceof Error ? e.message : String(e) };
}

/** An ApiError back from its stored form (for ErrorNote). */
export function failureError(f: ServiceFailure): ApiError {
  return new ApiError(f.service, f.status, f.code, f.message);
}

type Outcome = { ok: ServiceSession; username: string } | { fail: ServiceFailure };

async function loginWallet(username: string, password: string): Promise<Outcome> {
  try {
    const r = await request<{ token: string; expiresAt: string; username: string }>('/v1/login', { method: 'POST', body: { username, password } });
    return { ok: { token: r.token, expiresAtMs: Date.parse(r.expiresAt) }, username: r.username };
  } catch (e) {
    return { fail: failure(e, 'wallet service') };
  }
}

async function loginExchange(username: string, password: string): Promise<Outcome> {
  try {
    // The exchange's answer: {token, tokenType: "Bearer", expiresAt: ms, userId, username}.
    const r = await request<{ token: string; expiresAt: number; username: string }>('/exchange/v1/login', { method: 'POST', body: { username, password } });
    return { ok: { token: r.token, expiresAtMs: r.expiresAt }, username: r.username };
  } catch (e) {
    return { fail: failure(e, 'exchange') };
  }
}

/** Registers; a 409 (already registered, e.g. at the service that answered last time) counts as done. */
async function registerAt(path: string, username: string, password: string): Promise<ServiceFailure | undefined> {
  try {
    await request(path, { method: 'POST', body: { username, password } });
    return undefined;
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) return undefined;
    return failure(e, path.startsWith('/exchange') ? 'exchange' : 'wallet service');
  }
}

function combine(username: string, w: Outcome, x: Outcome): Session {
  return {
    username: 'ok' in w ? w.username : 'ok' in x ? x.username : username,
    ...('ok' in w ? { wallet: w.ok } : { walletError: w.fail }),
    ...('ok' in x ? { exchange: x.ok } : { exchangeError: x.fail }),
  };
}

/** Which services this web server proxies (/web/status); both when it cannot tell. */
async function configured(): Promise<{ wallet: boolean; exchange: boolean }> {
  try {
    const st = await request<WebStatus>('/web/status');
    return { wallet: st.services.walletService.configured, exchange: st.services.exchange.configured };
  } catch {
    return { wallet: true, exchange: true };
  }
}

function notConfigured(service: ApiError['service']): Outcome {
  return { fail: { service, status: 503, code: 'service-not-configured', message: `this web server has no ${service}` } };
}

/** Provides the session to the app. */
export function SessionProvider(props: { children: ReactNode }): ReactNode {
  const [session, setSession] = useState<Session | undefined>(load);
  const save = useCallback((s: Session | undefined) => {
    if (s === undefined) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, JSON.stringify(s));
    setSession(s);
  }, []);
  const signIn = useCallback(
    async (username: string, password: string) => {
      const on = await configured();
      const [w, x] = await Promise.all([
        on.wallet ? loginWallet(username, password) : notConfigured('wallet service'),
        on.exchange ? loginExchange(username, password) : notConfigured('exchange'),
      ]);
      if (!('ok' in w) && !('ok' in x)) {
        // Neither: show the wallet service's reason unless it is merely down and the exchange said something better.
        const f = w.fail.status === 0 || w.fail.status >= 502 ? x.fail : w.fail;
        throw failureError(f);
      }
      save(combine(username, w, x));
    },
    [save],
  );
  const register = useCallback(
    async (username: string, password: string) => {
      const on = await configured();
      const [rw, rx] = await Promise.all([
        on.wallet ? registerAt('/v1/register', username, password) : undefined,
        on.exchange ? registerAt('/exchange/v1/register', username, password) : undefined,
      ]);
      // A refusal (bad username, short password) at a service that answers is the person's to fix: show it.
      for (const f of [rw, rx]) if (f !== undefined && f.status >= 400 && f.status < 500) throw failureError(f);
      await signIn(username, password);
    },
    [signIn],
  );
  const signOut = useCallback(
    (service?: 'wallet' | 'exchange') => {
      if (service === undefined || session === undefined) return save(undefined);
      const { wallet, exchange, ...rest } = session;
      const keep = service === 'wallet' ? exchange : wallet;
      if (keep === undefined) return save(undefined);
      save({ ...rest, ...(service === 'wallet' ? { exchange: keep } : { wallet: keep }) });
    },
    [session, save],
  );
  const api = useMemo<SessionApi>(() => ({ session, signIn, register, signOut }), [session, signIn, register, signOut]);
  return <Ctx.Provider value={api}>{props.children}</Ctx.Provider>;
}

/** The session API. @throws Error outside SessionProvider */
export function useSession(): SessionApi {
  const v = useContext(Ctx);
  if (v === undefined) throw new Error('useSession outside SessionProvider');
  return v;
}
