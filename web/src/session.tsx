/**
 * One sign-in for the wallet and (later) the trading pages. The wallet service and the exchange keep separate account
 * stores, so the UI holds one session per service: signing in logs in to every configured service with the same
 * username and password, and registering registers on each. Tokens live in sessionStorage (gone when the tab closes,
 * never in a cookie another site could send). See README "Web UI: sign-in".
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { request } from './api.ts';

/** A login at one service. */
export interface ServiceSession {
  readonly token: string;
  /** ISO time the token expires. */
  readonly expiresAt: string;
}

/** The person signed in, and their token at each service. */
export interface Session {
  readonly username: string;
  readonly wallet?: ServiceSession;
  /** Filled once the exchange gateway exists (trading pages). */
  readonly exchange?: ServiceSession;
}

interface SessionApi {
  readonly session: Session | undefined;
  /** Logs in to the wallet service. @throws ApiError (401 unauthorized, 429, network) */
  signIn(username: string, password: string): Promise<void>;
  /** Registers at the wallet service then logs in. @throws ApiError (409 username-taken, 400, network) */
  register(username: string, password: string): Promise<void>;
  signOut(): void;
}

const KEY = 'cairn.session';
const Ctx = createContext<SessionApi | undefined>(undefined);

function load(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return undefined;
    const s = JSON.parse(raw) as Session;
    if (s.wallet !== undefined && Date.parse(s.wallet.expiresAt) < Date.now()) return undefined;
    return s;
  } catch {
    return undefined;
  }
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
      const r = await request<{ token: string; expiresAt: string; username: string }>('/v1/login', { method: 'POST', body: { username, password } });
      save({ username: r.username, wallet: { token: r.token, expiresAt: r.expiresAt } });
    },
    [save],
  );
  const register = useCallback(
    async (username: string, password: string) => {
      await request('/v1/register', { method: 'POST', body: { username, password } });
      await signIn(username, password);
    },
    [signIn],
  );
  const api = useMemo<SessionApi>(() => ({ session, signIn, register, signOut: () => save(undefined) }), [session, signIn, register, save]);
  return <Ctx.Provider value={api}>{props.children}</Ctx.Provider>;
}

/** The session API. @throws Error outside SessionProvider */
export function useSession(): SessionApi {
  const v = useContext(Ctx);
  if (v === undefined) throw new Error('useSession outside SessionProvider');
  return v;
}
