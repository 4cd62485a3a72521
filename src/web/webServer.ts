/**
 * `cairn web`: serves the built UI (build/web) and proxies, from the one origin, /api → the node's REST API (and its
 * websocket /api/v1/ws), /v1 → the wallet service, /exchange → the exchange, with @fastify/http-proxy. A service that
 * does not answer gives a 502 JSON body `{code:"service-unavailable", service, message}` which the UI shows on that
 * service's panel; the other panels keep working. `GET /web/status` tells which services and devnet nodes answer.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyHttpProxy from '@fastify/http-proxy';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type RawServerBase, type RouteGenericInterface } from 'fastify';
import type { Logger } from 'pino';
import type { WebServiceName } from '../interfaces/webStatus.js';
import { moduleLogger } from '../logging/logger.js';
import { resolveSearch, SearchUnavailableError } from './searchQuery.js';
import { StatusProbe, type WebNodeTarget } from './statusProbe.js';
import { parseUpstream, unavailableBody, type Upstream } from './upstreams.js';

/** Where `npm run build:web` writes the UI: build/web at the package root (two levels above src/web and dist/web). */
export const DEFAULT_STATIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'web');

/** Options of startWebServer. */
export interface WebServerOptions {
  /** The node's Esplora REST URL, `http://host:port/api` (or its origin). */
  readonly nodeUrl: string;
  /** The wallet service's origin, `http://host:port`; absent = its panels say it is not configured. */
  readonly walletServiceUrl?: string;
  /** The exchange's origin; absent until the trading pages exist or when none runs. */
  readonly exchangeUrl?: string;
  /** Network name shown by the UI (devnet, regtest, …). */
  readonly network: string;
  readonly host?: string;
  /** 0 = a free port the OS picks. */
  readonly port: number;
  /** The built UI (default DEFAULT_STATIC_DIR). */
  readonly staticDir?: string;
  /** The devnet's nodes, listed with height and peers on the dashboard. */
  readonly nodes?: readonly WebNodeTarget[];
  /** Time a proxied request may take, ms (default 30,000). */
  readonly upstreamTimeoutMs?: number;
}

/** A running web server. */
export interface WebServer {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Error of startWebServer: `no-ui` (build/web missing) or `bad-url`. */
export class WebServerError extends Error {
  constructor(
    readonly code: 'no-ui' | 'bad-url',
    message: string,
  ) {
    super(message);
    this.name = 'WebServerError';
  }
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Starts the web server.
 * @throws WebServerError no-ui (the UI is not built: run `npm run build:web`) | bad-url (an upstream URL);
 *   the listen error (EADDRINUSE, …) as is
 */
export async function startWebServer(options: WebServerOptions, deps: { logger: Logger }): Promise<WebServer> {
  const logger = moduleLogger(deps.logger, 'web');
  const staticDir = resolve(options.staticDir ?? DEFAULT_STATIC_DIR);
  if (!existsSync(join(staticDir, 'index.html'))) {
    throw new WebServerError('no-ui', `the web UI is not built (no ${join(staticDir, 'index.html')}): run npm run build:web`);
  }
  const upstreams: Partial<Record<WebServiceName, Upstream>> = {};
  try {
    upstreams.node = parseUpstream('node', options.nodeUrl);
    if (options.walletServiceUrl !== undefined) upstreams.walletService = parseUpstream('walletService', options.walletServiceUrl);
    if (options.exchangeUrl !== undefined) upstreams.exchange = parseUpstream('exchange', options.exchangeUrl);
  } catch (err) {
    throw new WebServerError('bad-url', err instanceof Error ? err.message : String(err));
  }
  const probe = new StatusProbe({ network: options.network, upstreams, nodes: options.nodes ?? [] });
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, return503OnClosing: true });

  // Headers of every answer: no framing by other sites, no sniffing; the UI loads nothing from elsewhere.
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'no-referrer');
  });

  const sendUnavailable = (up: Upstream) => (reply: FastifyReply<RouteGenericInterface, RawServerBase>, { error }: { error: Error }): void => {
    logger.warn({ service: up.name, err: error.message }, 'upstream does not answer');
    void reply.code(502).type('application/json').send(unavailableBody(up, error));
  };
  for (const up of Object.values(upstreams)) {
    await app.register(fastifyHttpProxy, {
      upstream: up.origin,
      prefix: up.prefix,
      rewritePrefix: up.rewritePrefix,
      http: { requestOptions: { timeout: options.upstreamTimeoutMs ?? 30_000 } },
      replyOptions: {
        onError: sendUnavailable(up),
        // The services see who asked (a wallet service started with --trust-proxy limits per client, not per proxy).
        rewriteRequestHeaders: (req, headers) => ({
          ...headers,
          'x-forwarded-for': typeof headers['x-forwarded-for'] === 'string' ? `${headers['x-forwarded-for']}, ${req.ip}` : req.ip,
          'x-forwarded-proto': req.protocol,
        }),
      },
      // The node's live feed (/api/v1/ws) and the exchange's market and user streams (/exchange/ws/…, /exchange/stream).
      ...(up.name === 'node' || up.name === 'exchange' ? { websocket: true as const } : {}),
    });
  }
  // Services not configured answer 503 with a JSON reason, not the UI's index.html.
  for (const [name, prefix] of [['walletService', '/v1'], ['exchange', '/exchange']] as const) {
    if (upstreams[name] !== undefined) continue;
    app.all(`${prefix}/*`, async (_req, reply) =>
      reply.code(503).send({ code: 'service-not-configured', service: name, message: `this web server was started without --${name === 'walletService' ? 'wallet-service' : 'exchange'}` }),
    );
  }

  // The search box: which page a height, hash, txid or address opens (200 {found, path | message}; 502 node down).
  const nodeBase = `${upstreams.node.origin}${upstreams.node.rewritePrefix}`;
  app.get<{ Querystring: { q?: string } }>('/web/search', async (req, reply) => {
    void reply.header('cache-control', 'no-store');
    try {
      return await resolveSearch(typeof req.query.q === 'string' ? req.query.q : '', nodeBase);
    } catch (err) {
      if (err instanceof SearchUnavailableError) return reply.code(502).send(unavailableBody(upstreams.node!, err));
      throw err;
    }
  });
  app.get('/web/status', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
    return probe.read();
  });

  // Whether the exchange takes chain deposits (its /v1/deposit/address route exists and its chain bridge runs: any
  // answer but 404, or 503 = running without the bridge). Asked here, not by the browser, so a missing route is not a
  // failed request in the page's console.
  app.get('/web/exchange/deposits', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
    const ex = upstreams.exchange;
    if (ex === undefined) return { available: false, reason: 'no exchange configured' };
    try {
      const res = await fetch(`${ex.origin}${ex.rewritePrefix}/v1/deposit/address?coin=CRN`, { signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
      return { available: res.status !== 404 && res.status !== 503 };
    } catch (err) {
      return reply.code(502).send(unavailableBody(ex, err instanceof Error ? err : new Error(String(err))));
    }
  });

  const assetsDir = join(staticDir, 'assets') + sep;
  await app.register(fastifyStatic, {
    root: staticDir,
    prefix: '/',
    index: 'index.html',
    setHeaders: (res, path) => {
      // Vite names assets by content hash: they never change; index.html and the rest are checked each time.
      void res.header('cache-control', path.startsWith(assetsDir) ? IMMUTABLE : 'no-cache');
    },
  });
  // The single-page app: any other GET that wants HTML gets index.html; the router shows the page (or "not found").
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const api = /^\/(api|v1|exchange|web)(\/|$)/.test(path);
    if (req.method === 'GET' && !api && !path.startsWith('/assets/')) {
      return reply.header('cache-control', 'no-cache').type('text/html').sendFile('index.html');
    }
    return reply.code(404).send({ code: 'not-found', message: `no route ${req.method} ${path.slice(0, 200)}` });
  });
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) logger.error({ err }, 'web server error');
    return reply.code(status).send({ code: status === 500 ? 'internal' : (err.code ?? 'bad-request'), message: status === 500 ? 'internal error' : err.message });
  });

  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : options.port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, upstreams: Object.fromEntries(Object.values(upstreams).map((u) => [u.name, u.url])) }, 'web server listening');
  return {
    url,
    port,
    app,
    close: async () => {
      await app.close();
    },
  };
}
