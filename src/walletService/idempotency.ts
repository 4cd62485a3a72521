/**
 * Idempotent sends: a request carries an `Idempotency-Key` header; the first request with a key reserves it (a row
 * keyed by account + key holding the hash of the request body, inserted in one transaction with the check), the
 * signed transaction is stored before it is broadcast, and the response is stored when the request finishes. A retry
 * with the same key gets the stored response (or, when the first attempt signed but could not broadcast, the same
 * signed tx broadcast again): a retried payment is never signed twice, so never debited twice. The same key with
 * another body is refused; a key whose first request is still running answers "in progress".
 * A reservation left `pending` by a crashed process (nothing signed yet) is taken over after `staleMs`.
 * @see IETF draft-ietf-httpapi-idempotency-key-header (409 in progress, 422 key reused with another payload)
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ServiceError } from './serviceError.js';
import { nowIso, type WalletServiceTables } from './walletDb.js';

/** What a reservation found. */
export type Reservation =
  /** A fresh key (or a stale pending one taken over): do the work, then recordSigned/complete or release. */
  | { readonly kind: 'new' }
  /** Finished before: answer with the stored response. */
  | { readonly kind: 'replay'; readonly status: number; readonly body: unknown }
  /** Signed before but not known to be broadcast: broadcast txHex again, then complete with body. */
  | { readonly kind: 'signed'; readonly txid: string; readonly txHex: string; readonly body: unknown };

/** Options of an IdempotencyStore. */
export interface IdempotencyStoreOptions {
  /** Age after which a `pending` reservation that no request of this process holds is taken over, ms (default 120,000). */
  readonly staleMs?: number;
  /** Clock, ms since the epoch (default Date.now). */
  readonly nowMs?: () => number;
}

/** Longest accepted Idempotency-Key, characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * Checks an Idempotency-Key header value: 1..255 visible ASCII characters.
 * @throws ServiceError 400 bad-request
 */
export function checkIdempotencyKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ServiceError(400, 'bad-request', 'an Idempotency-Key header is required (a unique string per payment, e.g. a UUID)');
  }
  if (value.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw new ServiceError(400, 'bad-request', `the Idempotency-Key must be 1..${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters`);
  }
  return value;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(typeof v === 'bigint' ? v.toString() : v) ?? 'null';
}

/** sha256 hex of the canonical JSON of a request (object keys sorted, undefined fields left out). */
export function computeRequestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** The idempotency records of the wallet service, in its database. */
export class IdempotencyStore {
  private readonly staleMs: number;
  private readonly nowMs: () => number;
  /** account + key of the requests this process is running. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly db: Kysely<WalletServiceTables>,
    options: IdempotencyStoreOptions = {},
  ) {
    this.staleMs = options.staleMs ?? 120_000;
    this.nowMs = options.nowMs ?? Date.now;
  }

  private static id(accountId: string, key: string): string {
    return `${accountId}\u0000${key}`;
  }

  /**
   * Reserves `key` for the account's request with hash `requestHash`, or says what an earlier request with it did.
   * On 'new' and 'signed' the caller owns the key until complete, release or leave.
   * @throws ServiceError 422 idempotency-key-reused (another body) | 409 idempotency-in-progress
   */
  async reserve(accountId: string, key: string, requestHash: string): Promise<Reservation> {
    const id = IdempotencyStore.id(accountId, key);
    const now = new Date(this.nowMs()).toISOString();
    let claimed = false;
    const own = <R extends Reservation>(r: R): R => {
      // Claimed inside the transaction, so a concurrent request of this process sees it at once.
      this.inFlight.add(id);
      claimed = true;
      return r;
    };
    let result: Reservation | 'busy';
    try {
      result = await this.db.transaction().execute(async (trx): Promise<Reservation | 'busy'> => {
        const inserted = await trx
          .insertInto('wallet_idempotency')
          .values({ account_id: accountId, idempotency_key: key, request_hash: requestHash, state: 'pending', txid: null, tx_hex: null, response_status: null, response_body: null, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['account_id', 'idempotency_key']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return own({ kind: 'new' });
        const row = await trx.selectFrom('wallet_idempotency').selectAll().where('account_id', '=', accountId).where('idempotency_key', '=', key).executeTakeFirstOrThrow();
        if (row.request_hash !== requestHash) {
          throw new ServiceError(422, 'idempotency-key-reused', 'this Idempotency-Key was used for another request; use a new key for a new payment');
        }
        if (row.state === 'done') return { kind: 'replay', status: row.response_status ?? 200, body: JSON.parse(row.response_body ?? 'null') as unknown };
        if (this.inFlight.has(id)) return 'busy';
        if (row.state === 'signed') return own({ kind: 'signed', txid: row.txid ?? '', txHex: row.tx_hex ?? '', body: JSON.parse(row.response_body ?? 'null') as unknown });
        // pending, not ours: a crashed attempt (nothing was signed) once it is old enough; else another process's.
        if (this.nowMs() - Date.parse(row.updated_at) < this.staleMs) return 'busy';
        const taken = await trx
          .updateTable('wallet_idempotency')
          .set({ updated_at: now })
          .where('account_id', '=', accountId)
          .where('idempotency_key', '=', key)
          .where('state', '=', 'pending')
          .where('updated_at', '=', row.updated_at)
          .executeTakeFirst();
        return Number(taken.numUpdatedRows) === 1 ? own({ kind: 'new' }) : 'busy';
      });
    } catch (e) {
      if (claimed) this.inFlight.delete(id);
      throw e;
    }
    if (result === 'busy') throw new ServiceError(409, 'idempotency-in-progress', 'a request with this Idempotency-Key is still in progress; retry later');
    return result;
  }

  /** Stores the signed tx and the success body of a reserved request, before it is broadcast. */
  async recordSigned(accountId: string, key: string, signed: { txid: string; txHex: string; body: unknown }): Promise<void> {
    await this.db
      .updateTable('wallet_idempotency')
      .set({ state: 'signed', txid: signed.txid, tx_hex: signed.txHex, response_body: JSON.stringify(signed.body), updated_at: nowIso() })
      .where('account_id', '=', accountId)
      .where('idempotency_key', '=', key)
      .where('state', '=', 'pending')
      .execute();
  }

  /** Stores the final response of a reserved request (a retry gets it back) and gives the key up. */
  async complete(accountId: string, key: string, status: number, body: unknown): Promise<void> {
    try {
      await this.db
        .updateTable('wallet_idempotency')
        .set({ state: 'done', response_status: status, response_body: JSON.stringify(body), updated_at: nowIso() })
        .where('account_id', '=', accountId)
        .where('idempotency_key', '=', key)
        .execute();
    } finally {
      this.inFlight.delete(IdempotencyStore.id(accountId, key));
    }
  }

  /** Forgets a reservation on which nothing was signed (the request failed before), so the key may be used again. */
  async release(accountId: string, key: string): Promise<void> {
    try {
      await this.db.deleteFrom('wallet_idempotency').where('account_id', '=', accountId).where('idempotency_key', '=', key).where('state', '=', 'pending').execute();
    } finally {
      this.inFlight.delete(IdempotencyStore.id(accountId, key));
    }
  }

  /** Gives a signed-but-unconfirmed-broadcast key up unchanged: a retry broadcasts the stored tx again. */
  leave(accountId: string, key: string): void {
    this.inFlight.delete(IdempotencyStore.id(accountId, key));
  }
}
