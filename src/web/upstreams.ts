/**
 * The services `cairn web` proxies and how a URL given on the command line maps onto a path prefix of the web origin.
 * Pure (no I/O): parsing and the 502 body live here so they are testable alone.
 */
import type { WebServiceName } from '../interfaces/webStatus.js';

/** One proxied upstream: requests to `prefix/...` go to `origin + rewritePrefix + /...`. */
export interface Upstream {
  readonly name: WebServiceName;
  /** Label in messages ("node", "wallet service", "exchange"). */
  readonly label: string;
  /** Path prefix on the web origin: /api, /v1, /exchange. */
  readonly prefix: string;
  /** `http(s)://host:port` of the service. */
  readonly origin: string;
  /** Path on the service the prefix maps to ('' = the root). */
  readonly rewritePrefix: string;
  /** The URL as given (for status and messages). */
  readonly url: string;
}

/** Error of a bad upstream URL, code `bad-url`. */
export class WebConfigError extends Error {
  readonly code = 'bad-url';
  constructor(message: string) {
    super(message);
    this.name = 'WebConfigError';
  }
}

/**
 * Maps a service URL onto a prefix. The node's URL may end in /api (its Esplora base, as `cairn wallet-service --node`
 * takes it) or be the bare origin; the wallet service's is its origin (routes under /v1/); the exchange's is its origin
 * (its routes, /api/v3/… and /v1/…, appear under /exchange/).
 * @throws WebConfigError bad-url when the URL is not http(s)://host[:port][/path] without query or credentials
 */
export function parseUpstream(name: WebServiceName, url: string): Upstream {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WebConfigError(`--${flagOf(name)} must be an http(s) URL, got '${url}'`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw new WebConfigError(`--${flagOf(name)} must be http(s)://host[:port][/path] without query, fragment or credentials, got '${url}'`);
  }
  const path = u.pathname.replace(/\/+$/, '');
  switch (name) {
    case 'node': {
      // The UI asks for /api/...; the node serves its Esplora API under /api, so the path must be /api or nothing.
      if (path !== '' && path !== '/api') throw new WebConfigError(`--node must be the node's REST URL ending in /api (or its bare origin), got '${url}'`);
      return { name, label: 'node', prefix: '/api', origin: u.origin, rewritePrefix: '/api', url };
    }
    case 'walletService':
      if (path !== '' && path !== '/v1') throw new WebConfigError(`--wallet-service must be the wallet service's origin (routes under /v1), got '${url}'`);
      return { name, label: 'wallet service', prefix: '/v1', origin: u.origin, rewritePrefix: '/v1', url };
    case 'exchange':
      return { name, label: 'exchange', prefix: '/exchange', origin: u.origin, rewritePrefix: path, url };
  }
}

function flagOf(name: WebServiceName): string {
  return name === 'walletService' ? 'wallet-service' : name;
}

/** The JSON body of a 502 for a service that does not answer: `{code, error, service, message}`. */
export function unavailableBody(up: Upstream, cause: unknown): { code: string; error: string; service: string; message: string } {
  const reason = describeCause(cause);
  return {
    code: 'service-unavailable',
    error: 'Bad Gateway',
    service: up.name,
    message: `the ${up.label} at ${up.origin} does not answer (${reason})`,
  };
}

/** A short reason for a failed connection: ECONNREFUSED, a timeout, … (never a stack). */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const inner = (cause as { cause?: unknown }).cause;
    if (typeof code === 'string' && code.startsWith('E')) return code;
    if (inner !== undefined && inner !== cause) {
      const innerCode = (inner as { code?: unknown }).code;
      if (typeof innerCode === 'string') return innerCode;
    }
    return cause.message.slice(0, 120);
  }
  return String(cause).slice(0, 120);
}
