/** A compact list of transactions (inputs → outputs with addresses and amounts), for block and address pages. */
import type { ReactNode } from 'react';
import { formatTime } from '../amount.ts';
import type { Tx } from '../api.ts';
import { Amount, IdLink } from '../components.tsx';

/** Net effect of a tx on an address, sats (received − spent). */
export function netForAddress(tx: Tx, address: string): number {
  let net = 0;
  for (const i of tx.vin) if (i.prevout?.scriptpubkey_address === address) net -= i.prevout.value;
  for (const o of tx.vout) if (o.scriptpubkey_address === address) net += o.value;
  return net;
}

/** One tx as a card: id, status, inputs and outputs. */
export function TxCard(props: { tx: Tx; address?: string }): ReactNode {
  const { tx, address } = props;
  return (
    <article className="txcard" data-testid="tx-card">
      <header>
        <IdLink kind="tx" id={tx.txid} />
        <span className="txcard-meta">
          {tx.status.confirmed && tx.status.block_time !== undefined ? formatTime(tx.status.block_time) : <span className="badge pending">unconfirmed</span>}
          {address !== undefined && (
            <>
              {' · '}
              <Amount sats={netForAddress(tx, address)} signed />
            </>
          )}
        </span>
      </header>
      <div className="io">
        <ul aria-label="inputs">
          {tx.vin.map((i, n) => (
            <li key={n}>
              {i.is_coinbase ? (
                <span className="muted">coinbase (new coins)</span>
              ) : (
                <>
                  {i.prevout?.scriptpubkey_address !== undefined ? <IdLink kind="address" id={i.prevout.scriptpubkey_address} /> : <span className="muted">unknown</span>}
                  {i.prevout !== null && <Amount sats={i.prevout.value} />}
                </>
              )}
            </li>
          ))}
        </ul>
        <span className="arrow" aria-hidden="true">
          →
        </span>
        <ul aria-label="outputs">
          {tx.vout.map((o, n) => (
            <li key={n}>
              {o.scriptpubkey_address !== undefined ? <IdLink kind="address" id={o.scriptpubkey_address} /> : <span className="muted">{o.scriptpubkey_type === 'op_return' ? 'OP_RETURN data' : o.scriptpubkey_type}</span>}
              <Amount sats={o.value} />
            </li>
          ))}
        </ul>
      </div>
    </article>
  );
}
