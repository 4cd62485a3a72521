/**
 * An address: balance, UTXOs and history. History pages use Esplora's keyset pagination
 * (/address/:a/txs, then /txs/chain/:last_seen_txid, 25 a page), so a page costs the same for an address with
 * thousands of transactions as for one with ten.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { useParams } from 'react-router';
import { formatCount, shortHash } from '../amount.ts';
import type { AddressInfo, Tx, Utxo } from '../api.ts';
import { Amount, Facts, IdLink, Panel } from '../components.tsx';
import { useFetch } from '../hooks.ts';
import { Pager } from './BlockPage.tsx';
import { TxCard } from './TxList.tsx';

const UTXOS_SHOWN = 50;

/** The address page. */
export function AddressPage(): ReactNode {
  const { address = '' } = useParams();
  // The summary is one row of the node's address index plus its mempool txs; history pages are keyset-paginated:
  // both cost the same at any size. The UTXO list is not paginated (Esplora): the node refuses an address with more
  // than its limit (electrs's 400 "Too many unspent transaction outputs (>N)…"); the rest of the page keeps working.
  const info = useFetch<AddressInfo>(`/api/address/${address}`, { refreshMs: 30000 });
  const utxos = useFetch<Utxo[]>(`/api/address/${address}/utxo`);
  const utxoLimit = utxos.error?.status === 400 ? /^Too many unspent transaction outputs \(>(\d+)\)/.exec(utxos.error.message)?.[1] : undefined;
  // cursors[i] = the last txid of page i-1 (undefined for page 0, which also carries the mempool txs).
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState(0);
  useEffect(() => {
    setCursors([undefined]);
    setPage(0);
  }, [address]);
  const cursor = cursors[page];
  const history = useFetch<Tx[]>(cursor === undefined ? `/api/address/${address}/txs` : `/api/address/${address}/txs/chain/${cursor}`);
  const a = info.data;
  const confirmedSats = a !== undefined ? BigInt(a.chain_stats.funded_txo_sum) - BigInt(a.chain_stats.spent_txo_sum) : 0n;
  const mempoolSats = a !== undefined ? BigInt(a.mempool_stats.funded_txo_sum) - BigInt(a.mempool_stats.spent_txo_sum) : 0n;
  const chainTxs = history.data?.filter((t) => t.status.confirmed) ?? [];
  const lastChain = chainTxs[chainTxs.length - 1];
  const hasNext = chainTxs.length >= 25 && lastChain !== undefined;
  const next = (): void => {
    if (lastChain === undefined) return;
    setCursors((c) => [...c.slice(0, page + 1), lastChain.txid]);
    setPage(page + 1);
  };
  const sortedUtxos = [...(utxos.data ?? [])].sort((x, y) => (y.status.block_height ?? Infinity) - (x.status.block_height ?? Infinity));
  return (
    <div className="page">
      <Panel title="Address" error={a === undefined ? info.error : undefined} loading={info.loading && a === undefined} testId="address-panel">
        {a !== undefined && (
          <Facts
            rows={[
              ['Address', <span className="mono break">{a.address}</span>],
              ['Confirmed balance', <span data-testid="address-balance"><Amount sats={confirmedSats} /></span>],
              ['Unconfirmed', <Amount sats={mempoolSats} signed />],
              ['Transactions', formatCount(a.chain_stats.tx_count + a.mempool_stats.tx_count)],
              ['Received', <Amount sats={a.chain_stats.funded_txo_sum} />],
              ['Sent', <Amount sats={a.chain_stats.spent_txo_sum} />],
            ]}
          />
        )}
      </Panel>
      <Panel
        title="History"
        error={history.error}
        loading={history.loading && history.data === undefined}
        empty={history.data !== undefined && history.data.length === 0 ? 'No transactions.' : false}
        testId="address-history"
        actions={<Pager page={page} hasNext={hasNext} onPage={(p) => (p > page ? next() : setPage(p))} />}
      >
        {history.data?.map((t) => <TxCard key={t.txid} tx={t} address={address} />)}
      </Panel>
      <Panel
        title={`Unspent outputs${utxos.data !== undefined ? ` (${formatCount(utxos.data.length)})` : ''}`}
        error={utxoLimit === undefined ? utxos.error : undefined}
        loading={utxos.loading && utxos.data === undefined && utxoLimit === undefined}
        empty={
          utxoLimit !== undefined
            ? `Too many UTXOs to list: the node lists at most ${formatCount(Number(utxoLimit))} per address. The balance above counts them all.`
            : utxos.data !== undefined && utxos.data.length === 0
              ? 'No unspent outputs.'
              : false
        }
        testId="address-utxos"
      >
        <table>
          <thead>
            <tr>
              <th scope="col">Outpoint</th>
              <th scope="col">Height</th>
              <th scope="col" className="num">Value</th>
            </tr>
          </thead>
          <tbody>
            {sortedUtxos.slice(0, UTXOS_SHOWN).map((u) => (
              <tr key={`${u.txid}:${u.vout}`}>
                <td>
                  <IdLink kind="tx" id={u.txid} label={`${shortHash(u.txid, 6)}:${u.vout}`} />
                </td>
                <td>{u.status.block_height ?? 'mempool'}</td>
                <td className="num">
                  <Amount sats={u.value} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {sortedUtxos.length > UTXOS_SHOWN && <p className="muted">Showing the {UTXOS_SHOWN} newest of {formatCount(sortedUtxos.length)}.</p>}
      </Panel>
    </div>
  );
}
