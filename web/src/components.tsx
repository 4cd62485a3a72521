/** Shared UI pieces: panels with loading/empty/error states, amounts, hashes as links, key–value lists, pagers. */
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { COIN_SYMBOL, formatSats } from './amount.ts';
import type { ApiError } from './api.ts';

/** A titled section; shows the error of its service, a loading line, or an empty message instead of its children. */
export function Panel(props: {
  title: string;
  error?: ApiError | undefined;
  loading?: boolean;
  empty?: string | false;
  actions?: ReactNode;
  children?: ReactNode;
  testId?: string;
}): ReactNode {
  const { title, error, loading, empty, actions, children, testId } = props;
  const id = `panel-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  let body: ReactNode = children;
  if (error !== undefined) body = <ErrorNote error={error} />;
  else if (loading === true) body = <p className="muted" role="status">Loading…</p>;
  else if (typeof empty === 'string') body = <p className="muted">{empty}</p>;
  return (
    <section className="panel" aria-labelledby={id} data-testid={testId}>
      <header className="panel-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </header>
      {body}
    </section>
  );
}

/** The error of a service, as a person reads it: which service, and what it said. */
export function ErrorNote(props: { error: ApiError }): ReactNode {
  const e = props.error;
  const down = e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504;
  return (
    <div className="error" role="alert" data-testid="panel-error">
      <strong>{down ? `The ${e.service} is unavailable.` : e.status === 404 ? 'Not found.' : `The ${e.service} refused: ${e.code}`}</strong>
      <span> {e.message}</span>
    </div>
  );
}

/** An amount in coins with the coin's 8 decimals (fixed point, never a float). */
export function Amount(props: { sats: number | bigint; signed?: boolean }): ReactNode {
  const { sats, signed } = props;
  const n = typeof sats === 'bigint' ? sats : BigInt(sats);
  const text = formatSats(n);
  const cls = signed === true ? (n > 0n ? 'amount pos' : n < 0n ? 'amount neg' : 'amount') : 'amount';
  return (
    <span className={cls}>
      {signed === true && n > 0n ? '+' : ''}
      {text} <span className="unit">{COIN_SYMBOL}</span>
    </span>
  );
}

/** A link to a tx, block or address page showing the (shortened on narrow screens) id. */
export function IdLink(props: { kind: 'tx' | 'block' | 'address'; id: string; label?: string }): ReactNode {
  return (
    <Link className="mono id" to={`/${props.kind}/${props.id}`} title={props.id}>
      {props.label ?? props.id}
    </Link>
  );
}

/** A definition list of label → value rows. */
export function Facts(props: { rows: [string, ReactNode][] }): ReactNode {
  return (
    <dl className="facts">
      {props.rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A stat tile of the dashboard. */
export function Stat(props: { label: string; value: ReactNode; sub?: ReactNode; testId?: string }): ReactNode {
  return (
    <div className="stat" data-testid={props.testId}>
      <div className="stat-label">{props.label}</div>
      <div className="stat-value">{props.value}</div>
      {props.sub !== undefined && <div className="stat-sub">{props.sub}</div>}
    </div>
  );
}
