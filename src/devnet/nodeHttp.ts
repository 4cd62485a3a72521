/**
 * The few HTTP reads the devnet supervisor makes of its nodes' REST ports: text and JSON with a timeout, and the
 * node gauges of Prometheus /metrics.
 */

/** An HTTP answer other than 2xx. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    url: string,
  ) {
    super(`HTTP ${status} from ${url}: ${body.slice(0, 300)}`);
    this.name = 'HttpStatusError';
  }
}

/**
 * GETs (or POSTs, with `body`) a URL and returns the body text.
 * @throws HttpStatusError on a non-2xx status; the fetch error (network, AbortError on timeout) otherwise
 */
export async function httpText(url: string, timeoutMs: number, body?: string): Promise<string> {
  const res = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    ...(body !== undefined ? { method: 'POST', body, headers: { 'content-type': 'text/plain' } } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new HttpStatusError(res.status, text, url);
  return text;
}

/** GETs a URL and parses its JSON body. @throws as httpText, SyntaxError on a body that is not JSON */
export async function httpJson<T>(url: string, timeoutMs: number): Promise<T> {
  return JSON.parse(await httpText(url, timeoutMs)) as T;
}

/** The cairn gauges of a node's /metrics the devnet table shows. */
export interface NodeGauges {
  readonly height: number;
  readonly tipTimeSec: number;
  readonly mempoolTxs: number;
  readonly peers: number;
  readonly hashesPerSecond: number;
}

/**
 * Reads the unlabelled sample `name value` of each metric from a Prometheus text exposition; a metric missing from
 * the text reads as NaN.
 */
export function parseNodeGauges(text: string): NodeGauges {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('cairn_')) {
      const space = line.lastIndexOf(' ');
      values.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
  }
  const get = (name: string): number => values.get(name) ?? NaN;
  return {
    height: get('cairn_chain_height'),
    tipTimeSec: get('cairn_chain_tip_timestamp_seconds'),
    mempoolTxs: get('cairn_mempool_transactions'),
    peers: get('cairn_peers'),
    hashesPerSecond: get('cairn_hashrate_hashes_per_second'),
  };
}
