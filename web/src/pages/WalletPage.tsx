/**
 * The wallet, through the custodial wallet service (/v1): sign in or register, balance, a receive address with its QR
 * code, send (fee rate from the node's estimates, then a confirm step), history, and the devnet faucet.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { COIN_SYMBOL, formatAgo, formatSats, formatTime, parseCoinsInput, shortHash } from '../amount.ts';
import { AddressQr } from '../AddressQr.tsx';
import { ApiError, request, type Fees } from '../api.ts';
import { Amount, ErrorNote, IdLink, Panel } from '../components.tsx';
import { useFetch } from '../hooks.ts';
import { useSession } from '../session.tsx';
import { SignIn } from '../SignIn.tsx';

interface Balance {
  confirmedSats: number;
  unconfirmedSats: number;
  immatureSats: number;
  totalSats: number;
  tipHeight: number;
}
interface HistoryEntry {
  txid: string;
  netSats: number;
  feeSats?: number;
  confirmed: boolean;
  confirmations: number;
  blockHeight?: number;
  blockTimeSec?: number;
  isCoinbase: boolean;
}
interface FaucetInfo {
  enabled: boolean;
  network: string;
  amountSats?: number;
  reason?: string;
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError('web server', 0, 'error', e instanceof Error ? e.message : String(e));
}

/** The wallet page. */
export function WalletPage(): ReactNode {
  const { session } = useSession();
  if (session?.wallet === undefined) return <SignIn purpose="wallet" />;
  return <Wallet token={session.wallet.token} username={session.username} />;
}

function Wallet(props: { token: string; username: string }): ReactNode {
  const { token, username } = props;
  const { signOut } = useSession();
  const balance = useFetch<Balance>('/v1/wallet/balance', { token, refreshMs: 5000 });
  const history = useFetch<{ tipHeight: number; txs: HistoryEntry[] }>('/v1/wallet/history', { token, refreshMs: 5000 });
  useEffect(() => {
    if (balance.error?.status === 401) signOut('wallet');
  }, [balance.error, signOut]);
  const refresh = (): void => {
    balance.reload();
    history.reload();
  };
  const b = balance.data;
  return (
    <div className="page">
      <h1 className="visually-hidden">Wallet of {username}</h1>
      <Panel
        title="Balance"
        error={b === undefined ? balance.error : undefined}
        loading={balance.loading && b === undefined}
        testId="wallet-balance"
        actions={
          <button type="button" className="secondary" onClick={() => signOut()}>
            Sign out {username}
          </button>
        }
      >
        {b !== undefined && (
          <div className="stats amounts">
            <div className="stat">
              <div className="stat-label">Confirmed</div>
              <div className="stat-value" data-testid="balance-confirmed">
                <Amount sats={b.confirmedSats} />
              </div>
            </div>
            <div className="stat">
              <div className="stat-label">Unconfirmed</div>
              <div className="stat-value" data-testid="balance-unconfirmed">
                <Amount sats={b.unconfirmedSats} signed />
              </div>
            </div>
            {b.immatureSats > 0 && (
              <div className="stat">
                <div className="stat-label">Immature</div>
                <div className="stat-value">
                  <Amount sats={b.immatureSats} />
                </div>
              </div>
            )}
          </div>
        )}
      </Panel>
      <div className="two">
        <Receive token={token} />
        <Send token={token} spendableSats={b !== undefined ? b.confirmedSats + b.unconfirmedSats : undefined} onSent={refresh} />
      </div>
      <Faucet token={token} onPaid={refresh} />
      <Panel
        title="History"
        error={history.data === undefined ? history.error : undefined}
        loading={history.loading && history.data === undefined}
        empty={history.data !== undefined && history.data.txs.length === 0 ? 'No transactions yet: get coins from the faucet or receive some.' : false}
        testId="wallet-history"
      >
        <table>
          <thead>
            <tr>
              <th scope="col">Transaction</th>
              <th scope="col">Status</th>
              <th scope="col" className="hide-narrow">Time</th>
              <th scope="col" className="num">Amount</th>
            </tr>
          </thead>
          <tbody>
            {history.data?.txs.map((t) => (
              <tr key={t.txid} data-testid="history-row">
                <td>
                  <IdLink kind="tx" id={t.txid} label={shortHash(t.txid, 6)} />
                </td>
                <td>{t.confirmed ? `${t.confirmations} conf.` : <span className="badge pending">pending</span>}</td>
                <td className="hide-narrow">{t.blockTimeSec !== undefined ? <time title={formatTime(t.blockTimeSec)}>{formatAgo(t.blockTimeSec)}</time> : '—'}</td>
                <td className="num">
                  <Amount sats={t.netSats} signed />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}

function Receive(props: { token: string }): ReactNode {
  const [address, setAddress] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const newAddress = (): void => {
    setError(undefined);
    request<{ address: string }>('/v1/wallet/address', { method: 'POST', token: props.token })
      .then((r) => setAddress(r.address))
      .catch((e: unknown) => setError(asApiError(e)));
  };
  return (
    <Panel title="Receive" error={error} testId="wallet-receive">
      {address === undefined ? (
        <button type="button" onClick={newAddress}>
          Show a receive address
        </button>
      ) : (
        <div className="receive">
          <AddressQr address={address} />
          <div>
            <p className="mono break" data-testid="receive-address">
              {address}
            </p>
            <div className="buttons">
              <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(address)}>
                Copy
              </button>
              <button type="button" className="secondary" onClick={newAddress}>
                New address
              </button>
            </div>
          </div>
        </div>
      )}
    </Panel>
  );
}

type FeeChoice = 'fast' | 'medium' | 'slow' | 'custom';

function randomKey(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function Send(props: { token: string; spendableSats: number | undefined; onSent: () => void }): ReactNode {
  const fees = useFetch<Fees>('/api/v1/fees/recommended', { refreshMs: 15000 });
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [choice, setChoice] = useState<FeeChoice>('medium');
  const [custom, setCustom] = useState('');
  const [formError, setFormError] = useState<string | undefined>(undefined);
  const [confirm, setConfirm] = useState<{ address: string; amountSats: bigint; feeRate: number; key: string } | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [sent, setSent] = useState<{ txid: string; feeSats: number } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const rates: Record<Exclude<FeeChoice, 'custom'>, number | undefined> = {
    fast: fees.data?.fastestFee,
    medium: fees.data?.halfHourFee,
    slow: fees.data?.hourFee,
  };
  const review = (ev: FormEvent): void => {
    ev.preventDefault();
    setFormError(undefined);
    setSent(undefined);
    setError(undefined);
    let sats: bigint;
    try {
      sats = parseCoinsInput(amount);
    } catch (e) {
      setFormError(`Amount: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (sats <= 0n) return setFormError('Amount: must be more than 0');
    if (props.spendableSats !== undefined && sats > BigInt(props.spendableSats)) return setFormError(`Amount: more than the balance (${formatSats(props.spendableSats)} ${COIN_SYMBOL})`);
    const feeRate = choice === 'custom' ? Number(custom) : rates[choice];
    if (feeRate === undefined || !Number.isFinite(feeRate) || feeRate <= 0) return setFormError('Fee rate: choose one, or type a positive number of sat/vB');
    if (to.trim() === '') return setFormError('Pay to: type an address');
    setConfirm({ address: to.trim(), amountSats: sats, feeRate, key: randomKey() });
  };
  const send = (): void => {
    if (confirm === undefined) return;
    setBusy(true);
    request<{ txid: string; feeSats: number }>('/v1/wallet/send', {
      method: 'POST',
      token: props.token,
      headers: { 'idempotency-key': confirm.key },
      body: { address: confirm.address, amountSats: Number(confirm.amountSats), feeRateSatPerVb: confirm.feeRate },
    })
      .then((r) => {
        setSent(r);
        setConfirm(undefined);
        setTo('');
        setAmount('');
        props.onSent();
      })
      .catch((e: unknown) => setError(asApiError(e)))
      .finally(() => setBusy(false));
  };
  return (
    <Panel title="Send" testId="wallet-send">
      {confirm === undefined ? (
        <form className="form" onSubmit={review}>
          <label>
            Pay to
            <input name="to" value={to} onChange={(e) => setTo(e.target.value)} placeholder="the recipient's address" spellCheck={false} autoComplete="off" />
          </label>
          <label>
            Amount ({COIN_SYMBOL})
            <input name="amount" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" placeholder="0.5" autoComplete="off" />
          </label>
          <fieldset>
            <legend>Fee rate (from the node's estimates)</legend>
            {(['fast', 'medium', 'slow'] as const).map((c) => (
              <label key={c} className="radio">
                <input type="radio" name="fee" value={c} checked={choice === c} onChange={() => setChoice(c)} />
                {c} {rates[c] !== undefined ? `· ${rates[c]} sat/vB` : ''}
              </label>
            ))}
            <label className="radio">
              <input type="radio" name="fee" value="custom" checked={choice === 'custom'} onChange={() => setChoice('custom')} />
              custom
            </label>
            {choice === 'custom' && (
              <label>
                sat/vB
                <input name="custom-fee" value={custom} onChange={(e) => setCustom(e.target.value)} inputMode="decimal" />
              </label>
            )}
            {fees.error !== undefined && <ErrorNote error={fees.error} />}
          </fieldset>
          <div className="buttons">
            <button type="submit">Review</button>
          </div>
          {formError !== undefined && (
            <p className="error" role="alert">
              {formError}
            </p>
          )}
          {sent !== undefined && (
            <p className="ok" role="status" data-testid="send-result">
              Sent: <IdLink kind="tx" id={sent.txid} label={shortHash(sent.txid)} /> (fee <Amount sats={sent.feeSats} />)
            </p>
          )}
        </form>
      ) : (
        <div className="confirm" data-testid="send-confirm">
          <p>
            Send <Amount sats={confirm.amountSats} /> to <span className="mono break">{confirm.address}</span> at {confirm.feeRate} sat/vB?
          </p>
          <div className="buttons">
            <button type="button" onClick={send} disabled={busy}>
              {busy ? 'Sending…' : 'Confirm and send'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirm(undefined)} disabled={busy}>
              Back
            </button>
          </div>
          {error !== undefined && <ErrorNote error={error} />}
        </div>
      )}
    </Panel>
  );
}

function Faucet(props: { token: string; onPaid: () => void }): ReactNode {
  const info = useFetch<FaucetInfo>('/v1/faucet');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [paid, setPaid] = useState<{ txid: string; amountSats: number } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  if (info.data !== undefined && !info.data.enabled) return null;
  const ask = (): void => {
    setBusy(true);
    setError(undefined);
    request<{ txid: string; amountSats: number }>('/v1/faucet', { method: 'POST', token: props.token })
      .then((r) => {
        setPaid(r);
        props.onPaid();
      })
      .catch((e: unknown) => setError(asApiError(e)))
      .finally(() => setBusy(false));
  };
  return (
    <Panel title="Faucet" error={info.error} testId="wallet-faucet">
      <p>
        The {info.data?.network ?? 'devnet'} faucet pays {info.data?.amountSats !== undefined ? <Amount sats={info.data.amountSats} /> : 'some coins'} to a new address of yours.
      </p>
      <button type="button" onClick={ask} disabled={busy}>
        {busy ? 'Asking…' : 'Get coins'}
      </button>
      {paid !== undefined && (
        <p className="ok" role="status" data-testid="faucet-result">
          Paid <Amount sats={paid.amountSats} /> in <IdLink kind="tx" id={paid.txid} label={shortHash(paid.txid)} />
        </p>
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </Panel>
  );
}
