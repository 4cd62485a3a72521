/** The frame of every page: header with navigation, the search box and the theme switch; the page below. */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, NavLink, Outlet, useNavigate } from 'react-router';
import { request } from './api.ts';
import { useSession } from './session.tsx';

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('cairn.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Resolves a search text to a page path with cairn web's /web/search. @throws ApiError / Error with a message to show */
async function resolveSearch(text: string): Promise<string> {
  const r = await request<{ found: true; path: string } | { found: false; message: string }>(`/web/search?q=${encodeURIComponent(text.slice(0, 200))}`);
  if (!r.found) throw new Error(r.message);
  return r.path;
}

function SearchBox(): ReactNode {
  const [text, setText] = useState('');
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const submit = (ev: FormEvent): void => {
    ev.preventDefault();
    setBusy(true);
    setMessage(undefined);
    resolveSearch(text)
      .then((path) => {
        setText('');
        void navigate(path);
      })
      .catch((e: unknown) => setMessage(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  return (
    <form className="search" role="search" onSubmit={submit}>
      <label htmlFor="search-input" className="visually-hidden">
        Search by height, block hash, txid or address
      </label>
      <input
        id="search-input"
        type="search"
        placeholder="Height, block hash, txid or address"
        value={text}
        onChange={(e) => setText(e.target.value)}
        autoComplete="off"
        spellCheck={false}
      />
      <button type="submit" disabled={busy}>
        {busy ? 'Searching…' : 'Search'}
      </button>
      {message !== undefined && (
        <p className="search-msg" role="alert" data-testid="search-message">
          {message}
        </p>
      )}
    </form>
  );
}

/** The app frame. */
export function Layout(): ReactNode {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const { session } = useSession();
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('cairn.theme', theme);
  }, [theme]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand" aria-label="cairn explorer home">
          <img src="/favicon.svg" alt="" width="24" height="24" /> cairn
        </Link>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Explorer
          </NavLink>
          <NavLink to="/wallet">Wallet</NavLink>
          <NavLink to="/trade">Trade</NavLink>
        </nav>
        <SearchBox />
        <div className="top-right">
          {session !== undefined && <span className="who">{session.username}</span>}
          <button
            type="button"
            className="theme-toggle"
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
            aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀' : '☾'}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="foot">
        cairn · amounts in CRN (8 decimals) · times in your time zone ({Intl.DateTimeFormat().resolvedOptions().timeZone})
      </footer>
    </>
  );
}
