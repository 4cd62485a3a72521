/**
 * The explorer's one search box, resolved on the server (`GET /web/search?q=`): a height (digits), a 64-hex id (a
 * block hash or a txid: the node is asked which), or an address (bech32/bech32m of any cairn network). Answering from
 * the server keeps the browser from logging the node's 404s while it tries each kind.
 */

/** The kind of thing a search text names. */
export type SearchTarget =
  | { kind: 'height'; height: number }
  | { kind: 'hash'; hash: string }
  | { kind: 'address'; address: string }
  | { kind: 'invalid'; reason: string };

/** What /web/search answers (always HTTP 200 when the node answered): the page to open, or why there is none. */
export type SearchAnswer = { found: true; path: string } | { found: false; message: string };

const BECH32 = /^(crn|tcrn|dcrn|rcrn)1[02-9ac-hj-np-z]{6,87}$/;
const MAX_QUERY_CHARS = 200;

/** Classifies a search text (trimmed; hex and addresses are case-insensitive, addresses not mixed-case). Pure. */
export function classifySearch(text: string): SearchTarget {
  const t = text.trim();
  if (t === '') return { kind: 'invalid', reason: 'type a height, a block hash, a txid or an address' };
  if (t.length > MAX_QUERY_CHARS) return { kind: 'invalid', reason: `a search is at most ${MAX_QUERY_CHARS} characters` };
  if (/^\d{1,10}$/.test(t)) {
    const height = Number(t);
    return height <= 2 ** 31 - 1 ? { kind: 'height', height } : { kind: 'invalid', reason: 'height out of range' };
  }
  if (/^[0-9a-fA-F]{64}$/.test(t)) return { kind: 'hash', hash: t.toLowerCase() };
  const lower = t.toLowerCase();
  if ((t === lower || t === t.toUpperCase()) && BECH32.test(lower)) return { kind: 'address', address: lower };
  return { kind: 'invalid', reason: `'${t.slice(0, 80)}' is not a height, a 64-hex block hash or txid, or an address` };
}

/** Error of resolveSearch when the node does not answer (the route turns it into a 502). */
export class SearchUnavailableError extends Error {
  readonly code = 'service-unavailable';
}

/**
 * Resolves a search text against the node's Esplora API at `nodeBase` (`http://host:port/api`).
 * @throws SearchUnavailableError when the node does not answer or answers 5xx
 */
export async function resolveSearch(text: string, nodeBase: string, timeoutMs = 5_000): Promise<SearchAnswer> {
  const target = classifySearch(text);
  const get = async (path: string): Promise<{ status: number; text: string }> => {
    let res: Response;
    try {
      res = await fetch(`${nodeBase}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new SearchUnavailableError(`the node does not answer (${err instanceof Error ? err.message : String(err)})`);
    }
    if (res.status >= 500) throw new SearchUnavailableError(`the node answered HTTP ${res.status}`);
    return { status: res.status, text: await res.text() };
  };
  switch (target.kind) {
    case 'invalid':
      return { found: false, message: target.reason };
    case 'address':
      return { found: true, path: `/address/${target.address}` };
    case 'height': {
      const r = await get(`/block-height/${target.height}`);
      return r.status === 200 && /^[0-9a-f]{64}$/.test(r.text.trim())
        ? { found: true, path: `/block/${r.text.trim()}` }
        : { found: false, message: `no block at height ${target.height} yet` };
    }
    case 'hash': {
      if ((await get(`/block/${target.hash}/status`)).status === 200) return { found: true, path: `/block/${target.hash}` };
      if ((await get(`/tx/${target.hash}/status`)).status === 200) return { found: true, path: `/tx/${target.hash}` };
      return { found: false, message: 'no block or transaction has this hash' };
    }
  }
}
