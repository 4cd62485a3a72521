/** Entry point of the cairn web UI: routes of the explorer, wallet and trading pages. */
import { lazy, StrictMode, Suspense } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { Layout } from './Layout.tsx';
import { AddressPage } from './pages/AddressPage.tsx';
import { BlockPage } from './pages/BlockPage.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { NotFound } from './pages/NotFound.tsx';
import { TxPage } from './pages/TxPage.tsx';
import { SessionProvider } from './session.tsx';
import './styles.css';

// The wallet (with its QR encoder) and trading pages load on first visit: the explorer's first paint does not wait.
const WalletPage = lazy(() => import('./pages/WalletPage.tsx').then((m) => ({ default: m.WalletPage })));
const TradePage = lazy(() => import('./pages/TradePage.tsx').then((m) => ({ default: m.TradePage })));
const loading = <p className="muted page" role="status">Loading…</p>;

const root = document.getElementById('root');
if (root === null) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <SessionProvider>
      <BrowserRouter>
        <Routes>
          <Route element={<Layout />}>
            <Route index element={<Dashboard />} />
            <Route path="block/:hash" element={<BlockPage />} />
            <Route path="tx/:txid" element={<TxPage />} />
            <Route path="address/:address" element={<AddressPage />} />
            <Route path="wallet" element={<Suspense fallback={loading}><WalletPage /></Suspense>} />
            <Route path="trade/*" element={<Suspense fallback={loading}><TradePage /></Suspense>} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  </StrictMode>,
);
