/** A transaction: inputs and outputs, fee, fee rate, size, weight, status and confirmations, RBF signalling. */
import type { ReactNode } from 'react';
import { useParams } from 'react-router';
import { confirmationsText, formatCount, formatTime } from '../amount.ts';
import type { Tx } from '../api.ts';
import { Amount, Facts, IdLink, Panel } from '../components.tsx';
import { useFetch } from '../hooks.ts';
import { TxCard } from './TxList.tsx';

/** BIP-125: a tx signals replaceability when any input's nSequence is below 0xfffffffe. */
export function signalsRbf(tx: Tx): boolean {
  return tx.vin.some((i) => !i.is_coinbase && i.sequence < 0xfffffffe);
}

/** The transaction page. */
export function TxPage(): ReactNode {
  const { txid = '' } = useParams();
  const tx = useFetch<Tx>(`/api/tx/${txid}`, { refreshMs: 5000 });
  const tipHeight = useFetch<number>('/api/blocks/tip/height', { refreshMs: 5000 });
  const t = tx.data;
  const vsize = t !== undefined ? Math.ceil(t.weight / 4) : 0;
  const coinbase = t?.vin[0]?.is_coinbase === true;
  const total = t !== undefined ? t.vout.reduce((s, o) => s + BigInt(o.value), 0n) : 0n;
  return (
    <div className="page">
      <Panel title="Transaction" error={tx.data === undefined ? tx.error : undefined} loading={tx.loading && t === undefined} testId="tx-panel">
        {t !== undefined && (
          <Facts
            rows={[
              ['Txid', <span className="mono break" data-testid="txid">{t.txid}</span>],
              [
                'Status',
                t.status.confirmed ? (
                  <span data-testid="tx-status">
                    confirmed in block <IdLink kind="block" id={t.status.block_hash ?? ''} label={String(t.status.block_height)} />
                    {tipHeight.data !== undefined && t.status.block_height !== undefined ? ` · ${confirmationsText(tipHeight.data - t.status.block_height + 1)}` : ''}
                  </span>
                ) : (
                  <span className="badge pending" data-testid="tx-status">
                    unconfirmed (in the mempool)
                  </span>
                ),
              ],
              ...(t.status.block_time !== undefined ? [['Block time', formatTime(t.status.block_time)] as [string, ReactNode]] : []),
              ['Output total', <Amount sats={total} />],
              ['Fee', coinbase ? 'none (coinbase)' : <Amount sats={t.fee} />],
              ['Fee rate', coinbase ? '—' : `${(t.fee / vsize).toFixed(2)} sat/vB`],
              ['Size', `${formatCount(t.size)} B`],
              ['Virtual size', `${formatCount(vsize)} vB`],
              ['Weight', `${formatCount(t.weight)} WU`],
              ['RBF', coinbase ? '—' : signalsRbf(t) ? 'signals replaceability (BIP-125)' : 'does not signal (replaceable anyway under full RBF)'],
              ['Version / locktime', `${t.version} / ${t.locktime}`],
            ]}
          />
        )}
      </Panel>
      {t !== undefined && (
        <Panel title={`Inputs (${t.vin.length}) and outputs (${t.vout.length})`}>
          <TxCard tx={t} />
        </Panel>
      )}
    </div>
  );
}
