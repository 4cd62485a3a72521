/**
 * The sign-in / register form shared by the wallet and trading pages: one username and password for both services
 * (session.tsx signs in to each). When the page's own service refused or was down at the last sign-in, says so above
 * the form.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from './api.ts';
import { ErrorNote, Panel } from './components.tsx';
import { failureError, useSession } from './session.tsx';

/** The sign-in form; `purpose` is the page that needs the session (its service's last failure is shown). */
export function SignIn(props: { purpose: 'wallet' | 'exchange' }): ReactNode {
  const { signIn, register, session } = useSession();
  const [username, setUsername] = useState(session?.username ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const last = props.purpose === 'wallet' ? session?.walletError : session?.exchangeError;
  const act = (kind: 'signin' | 'register') => (ev?: FormEvent) => {
    ev?.preventDefault();
    setBusy(true);
    setError(undefined);
    (kind === 'signin' ? signIn(username, password) : register(username, password))
      .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError('web server', 0, 'error', e instanceof Error ? e.message : String(e))))
      .finally(() => setBusy(false));
  };
  return (
    <div className="page narrow">
      <Panel title="Sign in">
        <p className="muted">One account for the wallet and trading. New here? Pick a username and a password of 8+ characters and press Register.</p>
        {last !== undefined && (
          <div data-testid="signin-service-error">
            <p>
              You are signed in to the {props.purpose === 'wallet' ? 'exchange' : 'wallet service'}, but not to the {last.service}:
            </p>
            <ErrorNote error={failureError(last)} />
          </div>
        )}
        <form onSubmit={act('signin')} className="form">
          <label>
            Username
            <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
          </label>
          <label>
            Password
            <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          </label>
          <div className="buttons">
            <button type="submit" disabled={busy}>
              Sign in
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => act('register')()}>
              Register
            </button>
          </div>
          {error !== undefined && <ErrorNote error={error} />}
        </form>
      </Panel>
    </div>
  );
}
