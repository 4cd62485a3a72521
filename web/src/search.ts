/**
 * What the search box means by its text: a height (digits), a 64-hex id (a block hash or a txid: the node is asked
 * which), or an address (bech32/bech32m of any cairn network). Pure, so the rules are testable.
 */

/** The kind of thing a search text names. */
export type SearchTarget =
  | { kind: 'height'; height: number }
  | { kind: 'hash'; hash: string }
  | { kind: 'address'; address: string }
  | { kind: 'invalid'; reason: string };

const BECH32 = /^(crn|tcrn|dcrn|rcrn|bc|tb|bcrt)1[02-9ac-hj-np-z]{6,87}$/;

/** Classifies a search text (trimmed; hex and addresses are case-insensitive). */
export function classifySearch(text: string): SearchTarget {
  const t = text.trim();
  if (t === '') return { kind: 'invalid', reason: 'type a height, a block hash, a txid or an address' };
  if (/^\d{1,10}$/.test(t)) {
    const height = Number(t);
    return height <= 2 ** 31 - 1 ? { kind: 'height', height } : { kind: 'invalid', reason: 'height out of range' };
  }
  if (/^[0-9a-fA-F]{64}$/.test(t)) return { kind: 'hash', hash: t.toLowerCase() };
  const lower = t.toLowerCase();
  if ((t === lower || t === t.toUpperCase()) && BECH32.test(lower)) return { kind: 'address', address: lower };
  return { kind: 'invalid', reason: `'${t.slice(0, 80)}' is not a height, a 64-hex block hash or txid, or an address` };
}
