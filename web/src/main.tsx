/** Entry point of the cairn web UI: routes of the explorer, wallet and trading pages. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { Layout } from './Layout.tsx';
import { AddressPage } from './pages/AddressPage.tsx';
import { BlockPage } from './pages/BlockPage.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { NotFound } from './pages/NotFound.tsx';
import { TradePage } from './pages/TradePage.tsx';
import { TxPage } from './pages/TxPage.tsx';
import { WalletPage } from './pages/WalletPage.tsx';
import { SessionProvider } from './session.tsx';
import './styles.css';

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
            <Route path="wallet" element={<WalletPage />} />
            <Route path="trade/*" element={<TradePage />} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  </StrictMode>,
);
