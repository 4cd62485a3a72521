/** A block: header fields and its transactions, 25 a page (Esplora's /block/:hash/txs/:start). */
import { useState, type ReactNode } from 'react';
import { useParams } from 'react-router';
import { confirmationsText, formatCount, formatTime } from '../amount.ts';
import type { Block, Tx } from '../api.ts';
import { Facts, IdLink, Panel } from '../components.tsx';
import { useFetch } from '../hooks.ts';
import { TxCard } from './TxList.tsx';

const PAGE = 25;

/** The block page. */
export function BlockPage(): ReactNode {
  const { hash = '' } = useParams();
  const [page, setPage] = useState(0);
  const block = useFetch<Block>(`/api/block/${hash}`);
  const status = useFetch<{ in_best_chain: boolean; next_best?: string | null }>(`/api/block/${hash}/status`);
  const tipHeight = useFetch<number>('/api/blocks/tip/height', { refreshMs: 10000 });
  const txs = useFetch<Tx[]>(`/api/block/${hash}/txs/${page * PAGE}`);
  const b = block.data;
  const pages = b !== undefined ? Math.max(1, Math.ceil(b.tx_count / PAGE)) : 1;
  return (
    <div className="page">
      <Panel title={b !== undefined ? `Block ${formatCount(b.height)}` : 'Block'} error={block.error} loading={block.loading && b === undefined} testId="block-panel">
        {b !== undefined && (
          <Facts
            rows={[
              ['Hash', <span className="mono break">{b.id}</span>],
              ['Height', <span data-testid="block-height">{b.height}</span>],
              ['Status', status.data === undefined ? '…' : status.data.in_best_chain ? `in the best chain · ${tipHeight.data !== undefined ? confirmationsText(tipHeight.data - b.height + 1) : '… confirmations'}` : 'stale (not in the best chain)'],
              ['Mined', formatTime(b.timestamp)],
              ['Median time past', formatTime(b.mediantime)],
              ['Transactions', formatCount(b.tx_count)],
              ['Size', `${formatCount(b.size)} B`],
              ['Weight', `${formatCount(b.weight)} WU`],
              ['Difficulty', b.difficulty.toPrecision(8)],
              ['Bits', `0x${b.bits.toString(16).padStart(8, '0')}`],
              ['Nonce', String(b.nonce)],
              ['Version', `0x${b.version.toString(16)}`],
              ['Merkle root', <span className="mono break">{b.merkle_root}</span>],
              ['Previous block', b.previousblockhash !== null ? <IdLink kind="block" id={b.previousblockhash} /> : 'none (genesis)'],
              ...(status.data?.next_best != null ? [['Next block', <IdLink kind="block" id={status.data.next_best} />] as [string, ReactNode]] : []),
            ]}
          />
        )}
      </Panel>
      {b !== undefined && (
        <Panel
          title={`Transactions (${formatCount(b.tx_count)})`}
          error={txs.error}
          loading={txs.loading && txs.data === undefined}
          testId="block-txs"
          actions={<Pager page={page} pages={pages} onPage={setPage} />}
        >
          {txs.data?.map((t) => <TxCard key={t.txid} tx={t} />)}
        </Panel>
      )}
    </div>
  );
}

/** Previous / next page buttons with "page i of n". */
export function Pager(props: { page: number; pages?: number; hasNext?: boolean; onPage: (p: number) => void }): ReactNode {
  const { page, pages, onPage } = props;
  const hasNext = props.hasNext ?? (pages !== undefined && page + 1 < pages);
  if (page === 0 && !hasNext) return null;
  return (
    <nav className="pager" aria-label="pages">
      <button type="button" disabled={page === 0} onClick={() => onPage(page - 1)}>
        ← Newer
      </button>
      <span>
        page {page + 1}
        {pages !== undefined ? ` of ${pages}` : ''}
      </span>
      <button type="button" disabled={!hasNext} onClick={() => onPage(page + 1)}>
        Older →
      </button>
    </nav>
  );
}
