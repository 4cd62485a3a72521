/**
 * Deposits and withdrawals of the chain's coin on the trading page, through the exchange's chain bridge routes
 * (src/exchange/gateway/capitalRoutes.ts): the user's deposit address with its QR code and their deposits (pending
 * with `confirmations n/N`, credited, reversed); a withdraw form (address, amount with a "max" button, the published
 * fee and minimum from /v1/capital/config, a confirm step, one `withdrawOrderId` per submission so a repeated click
 * is the same withdrawal) and their withdrawals with status and txid linked to the explorer's tx page. The lists are
 * polled every few seconds (a deposit seen in the mempool sends no user-stream event) and reloaded on the user
 * stream's `balanceUpdate`. An exchange without a bridge (503 -1001) shows a note instead.
 */
import { lazy, Suspense, useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { COIN_SYMBOL, formatSats, parseCoinsInput, shortHash } from '../amount.ts';
import { coinsToSats, depositStatusText, maxWithdrawalSats, withdrawalStatusText, type CapitalConfig, type CapitalDeposit, type CapitalWithdrawal } from '../capitalLogic.ts';
import { ApiError } from '../api.ts';
import { ErrorNote, IdLink, Panel } from '../components.tsx';
import { privateCall } from '../exchangeApi.ts';
import { formatDecimal } from '../exchangeLogic.ts';
import { useFetch } from '../hooks.ts';

// The QR encoder loads with the deposit panel (signed in, bridge running), not with the trading page's first render.
const AddressQr = lazy(() => import('../AddressQr.tsx').then((m) => ({ default: m.AddressQr })));

/** How often the deposit and withdrawal lists are asked again, ms. */
const CAPITAL_REFRESH_MS = 3000;
/** The id of the panels' wrapper: the Balances panel links to it. */
export const DEPOSIT_ANCHOR = 'deposit-withdraw';
/** Rows of each list. */
const HISTORY_ROWS = 20;

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError('exchange', 0, 'error', e instanceof Error ? e.message : String(e));
}

/** A fresh client id for one withdrawal request (the gateway accepts [A-Za-z0-9_.:-]{1,64}). */
function newWithdrawOrderId(): string {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `web-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The deposit and withdraw panels of a signed-in user. `freeCoins` is the coin's available balance (decimal string,
 * from /api/v3/account); `refreshKey` changes when the user stream says a balance moved; `onChanged` is called after a
 * withdrawal request (the balance locks the amount and fee).
 */
export function DepositWithdraw(props: { token: string; freeCoins: string | undefined; precision: number; network: string | undefined; refreshKey: number; onChanged: () => void }): ReactNode {
  const { token } = props;
  const support = useFetch<{ available: boolean }>('/web/exchange/deposits');
  const available = support.data?.available === true;
  const addr = useFetch<{ address: string; coin: string }>(available ? `/exchange/v1/deposit/address?coin=${COIN_SYMBOL}` : undefined, { token });
  const config = useFetch<CapitalConfig[]>(available ? '/exchange/v1/capital/config' : undefined, { token });
  const deposits = useFetch<CapitalDeposit[]>(available ? `/exchange/v1/deposits?coin=${COIN_SYMBOL}&limit=${HISTORY_ROWS}` : undefined, { token, refreshMs: CAPITAL_REFRESH_MS });
  const withdrawals = useFetch<CapitalWithdrawal[]>(available ? `/exchange/v1/withdrawals?coin=${COIN_SYMBOL}&limit=${HISTORY_ROWS}` : undefined, { token, refreshMs: CAPITAL_REFRESH_MS });
  const firstKey = useRef(props.refreshKey);
  const { reload: reloadDeposits } = deposits;
  const { reload: reloadWithdrawals } = withdrawals;
  useEffect(() => {
    if (props.refreshKey === firstKey.current) return;
    reloadDeposits();
    reloadWithdrawals();
  }, [props.refreshKey, reloadDeposits, reloadWithdrawals]);

  if (!available) {
    return (
      <div id={DEPOSIT_ANCHOR}>
        <Panel title="Deposit and withdraw" error={support.error} loading={support.loading && support.data === undefined} testId="deposit-panel">
          <p data-testid="bridge-note">
            This exchange runs without the chain bridge (it was started without --node-url), so {COIN_SYMBOL} cannot be deposited or withdrawn here; balances come from the test faucet (devnet and regtest) or an operator&apos;s adjustment.
          </p>
        </Panel>
      </div>
    );
  }
  const terms = config.data?.find((c) => c.coin === COIN_SYMBOL)?.networkList[0];
  const fmt = (x: string): string => formatDecimal(x, props.precision);
  return (
    <div className="trade-account" id={DEPOSIT_ANCHOR}>
      <Panel title={`Deposit ${COIN_SYMBOL}`} error={addr.error} loading={addr.loading && addr.data === undefined} testId="deposit-panel">
        {addr.data !== undefined && (
          <div className="receive">
            <Suspense fallback={null}>
              <AddressQr address={addr.data.address} />
            </Suspense>
            <div className="receive-text">
              <p>
                Send {COIN_SYMBOL} {props.network !== undefined ? `(${props.network}) ` : ''}to your deposit address:
              </p>
              <p className="mono break" data-testid="deposit-address">
                {addr.data.address}
              </p>
              <div className="buttons">
                <button type="button" className="small secondary" onClick={() => void navigator.clipboard?.writeText(addr.data!.address)}>
                  Copy address
                </button>
              </div>
              <p className="muted small-print">{terms !== undefined ? `Credited after ${terms.minConfirm} confirmation${terms.minConfirm === 1 ? '' : 's'}.` : ''}</p>
            </div>
          </div>
        )}
        <h3>Your deposits</h3>
        {deposits.error !== undefined && deposits.data === undefined ? (
          <ErrorNote error={deposits.error} />
        ) : deposits.data === undefined ? (
          <p className="muted" role="status">Loading…</p>
        ) : deposits.data.length === 0 ? (
          <p className="muted" data-testid="deposits-empty">No deposit yet.</p>
        ) : (
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Your deposits">
            <table className="stack-narrow">
              <thead>
                <tr>
                  <th scope="col" className="num">Amount ({COIN_SYMBOL})</th>
                  <th scope="col">Status</th>
                  <th scope="col">Transaction</th>
                </tr>
              </thead>
              <tbody>
                {deposits.data.map((d) => (
                  <tr key={`${d.txId}:${d.vout}`} data-testid="deposit-row" data-state={d.state}>
                    <td data-label={`Amount (${COIN_SYMBOL})`} className="num">{fmt(d.amount)}</td>
                    <td data-label="Status" className={d.state === 'credited' ? 'amount pos wrap' : d.state === 'dropped' ? 'amount neg wrap' : 'wrap'}>{depositStatusText(d)}</td>
                    <td data-label="Transaction">
                      <IdLink kind="tx" id={d.txId} label={shortHash(d.txId, 6)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
      <Panel title={`Withdraw ${COIN_SYMBOL}`} testId="withdraw-panel">
        <WithdrawForm token={token} freeCoins={props.freeCoins} terms={terms} termsError={config.error} precision={props.precision} onRequested={() => {
          reloadWithdrawals();
          props.onChanged();
        }} />
        <h3>Your withdrawals</h3>
        {withdrawals.error !== undefined && withdrawals.data === undefined ? (
          <ErrorNote error={withdrawals.error} />
        ) : withdrawals.data === undefined ? (
          <p className="muted" role="status">Loading…</p>
        ) : withdrawals.data.length === 0 ? (
          <p className="muted" data-testid="withdrawals-empty">No withdrawal yet.</p>
        ) : (
          <div className="table-scroll" tabIndex={0} role="region" aria-label="Your withdrawals">
            <table className="stack-narrow">
              <thead>
                <tr>
                  <th scope="col" className="num">Amount ({COIN_SYMBOL})</th>
                  <th scope="col">To</th>
                  <th scope="col">Status</th>
                  <th scope="col">Transaction</th>
                </tr>
              </thead>
              <tbody>
                {withdrawals.data.map((w) => (
                  <tr key={w.id} data-testid="withdrawal-row" data-state={w.state}>
                    <td data-label={`Amount (${COIN_SYMBOL})`} className="num">{fmt(w.amount)}</td>
                    <td data-label="To" className="mono" title={w.address}>{shortHash(w.address, 8)}</td>
                    <td data-label="Status" className={w.state === 'completed' ? 'amount pos wrap' : w.state === 'failed' ? 'amount neg wrap' : 'wrap'}>{withdrawalStatusText(w, terms?.minConfirm)}</td>
                    <td data-label="Transaction">{w.txId === '' ? <span className="muted">–</span> : <IdLink kind="tx" id={w.txId} label={shortHash(w.txId, 6)} />}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

/** What the confirm step shows and sends: the terms typed, and the one client id of this submission. */
interface PendingWithdrawal {
  readonly address: string;
  readonly amountSats: bigint;
  readonly withdrawOrderId: string;
}

function WithdrawForm(props: {
  token: string;
  freeCoins: string | undefined;
  terms: CapitalConfig['networkList'][number] | undefined;
  termsError: ApiError | undefined;
  precision: number;
  onRequested: () => void;
}): ReactNode {
  const { terms } = props;
  const [address, setAddress] = useState('');
  const [amount, setAmount] = useState('');
  const [formError, setFormError] = useState<string | undefined>(undefined);
  const [confirm, setConfirm] = useState<PendingWithdrawal | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<{ amount: string; address: string } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const reviewButton = useRef<HTMLButtonElement>(null);
  const backToForm = useRef(false);
  useEffect(() => {
    // Keyboard users land on the step they are in: Confirm when it opens, Review when they come back.
    if (confirm !== undefined) confirmButton.current?.focus();
    else if (backToForm.current) {
      backToForm.current = false;
      reviewButton.current?.focus();
    }
  }, [confirm]);
  const feeSats = coinsToSats(terms?.withdrawFee);
  const max = (): void => {
    setFormError(undefined);
    const m = maxWithdrawalSats(props.freeCoins, terms?.withdrawFee);
    if (m === undefined || feeSats === undefined) return setFormError('Max: the balance or the fee is not known yet.');
    setAmount(formatSats(m));
    if (m === 0n) setFormError(`Max: the available balance does not cover the ${formatSats(feeSats)} ${COIN_SYMBOL} fee.`);
  };
  const review = (ev: FormEvent): void => {
    ev.preventDefault();
    setFormError(undefined);
    setError(undefined);
    setDone(undefined);
    if (address.trim() === '') return setFormError('Address: type the address to pay.');
    let sats: bigint;
    try {
      sats = parseCoinsInput(amount);
    } catch (e) {
      return setFormError(`Amount: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (sats <= 0n) return setFormError('Amount: must be more than 0.');
    // Balance and minimum are the exchange's to judge (its refusal is shown as it says it); the terms are on screen.
    setConfirm({ address: address.trim(), amountSats: sats, withdrawOrderId: newWithdrawOrderId() });
  };
  const send = (): void => {
    if (confirm === undefined) return;
    setBusy(true);
    setError(undefined);
    privateCall<{ id: string; amount: string }>('POST', '/v1/withdrawals', props.token, {
      coin: COIN_SYMBOL,
      address: confirm.address,
      amount: formatSats(confirm.amountSats),
      withdrawOrderId: confirm.withdrawOrderId,
    })
      .then((r) => {
        setDone({ amount: r.amount, address: confirm.address });
        setConfirm(undefined);
        setAddress('');
        setAmount('');
        props.onRequested();
      })
      // The confirm step stays open: Confirm again repeats the same withdrawOrderId (the same withdrawal, never two).
      .catch((e: unknown) => setError(asApiError(e)))
      .finally(() => setBusy(false));
  };
  const back = (): void => {
    backToForm.current = true;
    setError(undefined);
    setConfirm(undefined);
  };
  const termsLine =
    terms !== undefined
      ? `Fee ${formatDecimal(terms.withdrawFee, props.precision)} ${COIN_SYMBOL} · minimum ${formatDecimal(terms.withdrawMin, props.precision)} ${COIN_SYMBOL}`
      : undefined;

  if (confirm !== undefined) {
    const total = feeSats !== undefined ? confirm.amountSats + feeSats : undefined;
    return (
      <div className="confirm" data-testid="withdraw-confirm" role="group" aria-label="Confirm the withdrawal">
        <p>
          Withdraw <strong className="amount">{formatSats(confirm.amountSats)} {COIN_SYMBOL}</strong> to <span className="mono break">{confirm.address}</span>?
        </p>
        {feeSats !== undefined && total !== undefined && (
          <p className="muted">
            {`The fee is ${formatSats(feeSats)} ${COIN_SYMBOL}: ${formatSats(total)} ${COIN_SYMBOL} leaves your balance. The exchange pays in its next batch${terms !== undefined ? `; the withdrawal completes at ${terms.minConfirm} confirmation${terms.minConfirm === 1 ? '' : 's'}` : ''}.`}
          </p>
        )}
        <div className="buttons">
          <button type="button" ref={confirmButton} onClick={send} disabled={busy}>
            {busy ? 'Sending…' : 'Confirm withdrawal'}
          </button>
          <button type="button" className="secondary" onClick={back} disabled={busy}>
            Back
          </button>
        </div>
        {error !== undefined && <ErrorNote error={error} />}
      </div>
    );
  }
  return (
    <form className="form" onSubmit={review} aria-label="Withdraw form">
      <label>
        {`Withdraw to address (${COIN_SYMBOL})`}
        <input name="withdraw-address" value={address} onChange={(e) => setAddress(e.target.value)} placeholder="the address to pay" spellCheck={false} autoComplete="off" />
      </label>
      <div className="field">
        <label htmlFor="withdraw-amount">{`Withdraw amount (${COIN_SYMBOL})`}</label>
        <div className="input-row">
          <input id="withdraw-amount" name="withdraw-amount" value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" placeholder="0.5" autoComplete="off" />
          <button type="button" className="secondary" onClick={max} aria-label="Max: the available balance less the fee">
            Max
          </button>
        </div>
      </div>
      <p className="muted small-print" data-testid="withdraw-terms">
        {`Available ${props.freeCoins !== undefined ? formatDecimal(props.freeCoins, props.precision) : '…'} ${COIN_SYMBOL}`}
        {termsLine !== undefined && ` · ${termsLine}`}
      </p>
      {props.termsError !== undefined && <ErrorNote error={props.termsError} />}
      <div className="buttons">
        <button type="submit" ref={reviewButton}>
          Review withdrawal
        </button>
      </div>
      {formError !== undefined && (
        <p className="error" role="alert">
          {formError}
        </p>
      )}
      {done !== undefined && (
        <p className="ok" role="status" data-testid="withdraw-result">
          {`Withdrawal requested: ${formatDecimal(done.amount, props.precision)} ${COIN_SYMBOL} to ${shortHash(done.address, 8)}. Its status follows below.`}
        </p>
      )}
    </form>
  );
}
