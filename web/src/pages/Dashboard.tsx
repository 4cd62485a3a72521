/** The explorer's dashboard: chain height, hash rate, difficulty, mempool, fee rates, live blocks and txs, nodes. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import type { WebStatus } from '../../../src/interfaces/webStatus.ts';
import { formatAgo, formatCount, formatDuration, formatHashRate, shortHash } from '../amount.ts';
import type { DifficultyAdjustment, ExtendedBlock, Fees, MempoolSummary, RecentTx } from '../api.ts';
import { averageBlockSeconds, estimateHashRate } from '../chainMath.ts';
import { Amount, IdLink, Panel, Stat } from '../components.tsx';
import { useFetch, useLiveFeed, type LiveMessage } from '../hooks.ts';

const MAX_BLOCKS = 8;
const MAX_TXS = 10;

/** Merges new blocks into the list (by height, newest first; a reorged height is replaced). */
function mergeBlocks(list: ExtendedBlock[], add: ExtendedBlock[]): ExtendedBlock[] {
  const byHeight = new Map(list.map((b) => [b.height, b]));
  for (const b of add) byHeight.set(b.height, b);
  return [...byHeight.values()].sort((a, b) => b.height - a.height).slice(0, MAX_BLOCKS);
}

/** The dashboard page. */
export function Dashboard(): ReactNode {
  const blocksFetch = useFetch<ExtendedBlock[]>('/api/v1/blocks');
  const recentFetch = useFetch<RecentTx[]>('/api/mempool/recent');
  const mempool = useFetch<MempoolSummary>('/api/mempool', { refreshMs: 5000 });
  const fees = useFetch<Fees>('/api/v1/fees/recommended', { refreshMs: 10000 });
  const da = useFetch<DifficultyAdjustment>('/api/v1/difficulty-adjustment', { refreshMs: 10000 });
  const status = useFetch<WebStatus>('/web/status', { refreshMs: 3000 });
  const [blocks, setBlocks] = useState<ExtendedBlock[]>([]);
  const [txs, setTxs] = useState<RecentTx[]>([]);
  const [liveMempool, setLiveMempool] = useState<{ size: number; bytes: number } | undefined>(undefined);
  const [liveFees, setLiveFees] = useState<Fees | undefined>(undefined);
  const [, setNow] = useState(0);

  useEffect(() => {
    if (blocksFetch.data !== undefined) setBlocks((l) => mergeBlocks(l, blocksFetch.data ?? []));
  }, [blocksFetch.data]);
  useEffect(() => {
    if (recentFetch.data !== undefined) setTxs((l) => (l.length > 0 ? l : (recentFetch.data ?? []).slice(0, MAX_TXS)));
  }, [recentFetch.data]);
  useEffect(() => {
    const t = setInterval(() => setNow((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, []);

  const onLive = useCallback((m: LiveMessage) => {
    if (m.blocks !== undefined) setBlocks((l) => mergeBlocks(l, m.blocks ?? []));
    if (m.block !== undefined) {
      const b = m.block;
      setBlocks((l) => mergeBlocks(l, [b]));
      da.reload();
    }
    if (m.transactions !== undefined) {
      const incoming = m.transactions;
      setTxs((l) => {
        const seen = new Set(incoming.map((t) => t.txid));
        return [...incoming, ...l.filter((t) => !seen.has(t.txid))].slice(0, MAX_TXS);
      });
    }
    if (m.mempoolInfo !== undefined) setLiveMempool(m.mempoolInfo);
    if (m.fees !== undefined) setLiveFees(m.fees);
    // da.reload is stable (useCallback in useFetch).
  }, []);
  const live = useLiveFeed(onLive);

  const tip = blocks[0];
  const feeNow = liveFees ?? fees.data;
  const mempoolCount = liveMempool?.size ?? mempool.data?.count;
  const mempoolVsize = liveMempool?.bytes ?? mempool.data?.vsize;
  // Network hash rate over the latest blocks: Σ work(bits) / time between the oldest and the newest of them.
  const consecutive = blocks.filter((b, i) => tip !== undefined && b.height === tip.height - i);
  const hashRate = estimateHashRate(consecutive);
  const avgBlockSec = averageBlockSeconds(consecutive);
  const chainError = blocksFetch.error ?? da.error;

  return (
    <div className="page">
      <h1 className="visually-hidden">Explorer dashboard</h1>
      <Panel
        title="Chain"
        error={blocks.length === 0 ? chainError : undefined}
        loading={blocks.length === 0 && blocksFetch.loading}
        testId="chain-panel"
        actions={<span className={`live live-${live}`} data-testid="live-state">{live === 'open' ? '● live' : live === 'connecting' ? '○ connecting' : '○ offline — reconnecting'}</span>}
      >
        <div className="stats">
          <Stat label="Height" value={tip !== undefined ? <span data-testid="tip-height">{formatCount(tip.height)}</span> : '—'} sub={tip !== undefined ? formatAgo(tip.timestamp) : undefined} />
          <Stat label="Hash rate (est.)" value={hashRate !== undefined ? formatHashRate(hashRate) : '—'} sub={`over the last ${Math.max(0, consecutive.length - 1)} blocks`} />
          <Stat
            label="Difficulty"
            value={tip !== undefined ? tip.difficulty.toPrecision(6) : '—'}
            sub={
              da.data !== undefined
                ? `next adjustment ${da.data.difficultyChange >= 0 ? '+' : ''}${da.data.difficultyChange.toFixed(2)}% at ${formatCount(da.data.nextRetargetHeight)} (in ${formatCount(da.data.remainingBlocks)} blocks, ~${formatDuration(da.data.remainingTime)})`
                : undefined
            }
          />
          <Stat label="Avg block time" value={avgBlockSec !== undefined ? `${avgBlockSec.toFixed(1)} s` : '—'} sub="latest blocks" />
        </div>
      </Panel>

      <Panel title="Mempool" error={mempoolCount === undefined ? (mempool.error ?? fees.error) : undefined} loading={mempoolCount === undefined && mempool.loading} testId="mempool-panel">
        <div className="stats">
          <Stat label="Transactions" value={mempoolCount !== undefined ? formatCount(mempoolCount) : '—'} testId="mempool-count" />
          <Stat label="Size" value={mempoolVsize !== undefined ? `${formatCount(mempoolVsize)} vB` : '—'} />
          <Stat label="Fast (sat/vB)" value={feeNow?.fastestFee ?? '—'} sub="next block" />
          <Stat label="Medium" value={feeNow?.halfHourFee ?? '—'} sub="~30 min" />
          <Stat label="Slow" value={feeNow?.hourFee ?? '—'} sub="~1 h" />
          <Stat label="Minimum" value={feeNow?.minimumFee ?? '—'} />
        </div>
      </Panel>

      <div className="two">
        <Panel title="Latest blocks" error={blocks.length === 0 ? blocksFetch.error : undefined} loading={blocks.length === 0 && blocksFetch.loading} empty={blocks.length === 0 && !blocksFetch.loading && blocksFetch.error === undefined ? 'No blocks yet.' : false} testId="latest-blocks">
          <table>
            <thead>
              <tr>
                <th scope="col">Height</th>
                <th scope="col">Hash</th>
                <th scope="col">Mined</th>
                <th scope="col" className="num">Txs</th>
                <th scope="col" className="num hide-narrow">Size</th>
              </tr>
            </thead>
            <tbody>
              {blocks.map((b) => (
                <tr key={b.id}>
                  <td>
                    <IdLink kind="block" id={b.id} label={String(b.height)} />
                  </td>
                  <td className="mono">{shortHash(b.id)}</td>
                  <td>{formatAgo(b.timestamp)}</td>
                  <td className="num">{b.tx_count}</td>
                  <td className="num hide-narrow">{formatCount(b.size)} B</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>
        <Panel title="Latest transactions" error={txs.length === 0 ? recentFetch.error : undefined} loading={txs.length === 0 && recentFetch.loading} empty={txs.length === 0 && !recentFetch.loading && recentFetch.error === undefined ? 'The mempool has seen no transaction yet.' : false} testId="latest-txs">
          <table>
            <thead>
              <tr>
                <th scope="col">Txid</th>
                <th scope="col" className="num">Value</th>
                <th scope="col" className="num">Fee rate</th>
              </tr>
            </thead>
            <tbody>
              {txs.map((t) => (
                <tr key={t.txid}>
                  <td>
                    <IdLink kind="tx" id={t.txid} label={shortHash(t.txid, 6)} />
                  </td>
                  <td className="num">
                    <Amount sats={t.value} />
                  </td>
                  <td className="num">{t.vsize > 0 ? (t.fee / t.vsize).toFixed(1) : '—'} sat/vB</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Panel>
      </div>

      <Panel title="Network" error={status.data === undefined ? status.error : undefined} loading={status.data === undefined && status.loading} testId="network-panel">
        {status.data !== undefined && <NetworkTable status={status.data} />}
      </Panel>
    </div>
  );
}

function NetworkTable(props: { status: WebStatus }): ReactNode {
  const { services, nodes, network } = props.status;
  return (
    <>
      <p>
        Network <strong>{network}</strong> · services:{' '}
        {Object.entries(services).map(([name, s]) => (
          <span key={name} className={`badge ${!s.configured ? 'off' : s.up ? 'up' : 'down'}`} title={s.error ?? s.upstream ?? ''}>
            {name} {!s.configured ? 'not configured' : s.up ? 'up' : 'down'}
          </span>
        ))}
      </p>
      {nodes.length === 0 ? (
        <p className="muted">This web server was not given the devnet's nodes (run it from `cairn devnet`, or with --devnet).</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              <th scope="col" className="num">Height</th>
              <th scope="col" className="num">Peers</th>
              <th scope="col" className="num hide-narrow">Mempool</th>
              <th scope="col" className="num">Miners</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.name}>
                <td>{n.name}</td>
                <td>
                  <span className={`badge ${n.up ? 'up' : 'down'}`} title={n.error ?? ''}>
                    {n.up ? 'up' : 'down'}
                  </span>
                </td>
                <td className="num">{n.height ?? '—'}</td>
                <td className="num">{n.peers ?? '—'}</td>
                <td className="num hide-narrow">{n.mempoolTxs ?? '—'}</td>
                <td className="num">{n.hashRateHps !== undefined ? formatHashRate(n.hashRateHps) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
