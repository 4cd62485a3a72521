/** Trading pages: they come with the exchange gateway; until then this page says whether the exchange is reachable. */
import type { ReactNode } from 'react';
import type { WebStatus } from '../../../src/interfaces/webStatus.ts';
import { Panel } from '../components.tsx';
import { useFetch } from '../hooks.ts';

/** The trading page placeholder (markets, chart, order book, order form follow with the exchange gateway). */
export function TradePage(): ReactNode {
  const status = useFetch<WebStatus>('/web/status');
  const ex = status.data?.services.exchange;
  return (
    <div className="page">
      <h1 className="visually-hidden">Trade</h1>
      <Panel title="Markets" error={status.error} loading={status.loading && status.data === undefined} testId="trade-panel">
        <p>
          {ex === undefined
            ? ''
            : !ex.configured
              ? 'No exchange is configured for this web server (start it with --exchange <url>).'
              : ex.up
                ? 'The exchange answers; the trading pages (markets, chart, order book, orders) are being built.'
                : `The exchange is unavailable: ${ex.error ?? 'no answer'}.`}
        </p>
      </Panel>
    </div>
  );
}
