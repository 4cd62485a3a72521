import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyError, type FastifyReply } from 'fastify';
import { moduleLogger, type Logger } from '../logging/logger.js';
import { HttpError } from './httpError.js';
import { MempoolTracker } from './mempoolTracker.js';
import { createMetrics, type NodeMetrics } from './metrics.js';
import type { NodeContext } from '../interfaces/nodeContext.js';
import { registerAddressRoutes } from './rest/addressRoutes.js';
import { registerBlockRoutes } from './rest/blockRoutes.js';
import { registerFeeRoutes } from './rest/feeRoutes.js';
import { registerMempoolRoutes } from './rest/mempoolRoutes.js';
import type { RestContext } from './rest/restContext.js';
import { registerTxRoutes } from './rest/txRoutes.js';
import { MAX_CLIENT_MESSAGE_BYTES, registerWebsocketRoute, WebsocketHub } from './rest/websocketRoutes.js';
import { TxLookup } from './txLookup.js';

/** Path of the OpenAPI document. */
export const OPENAPI_PATH = '/api/openapi.json';
/** Path of the Prometheus metrics. */
export const METRICS_PATH = '/metrics';
/** Default rate limit: requests per IP per window. */
export const DEFAULT_RATE_LIMIT = Object.freeze({ max: 10_000, timeWindowMs: 60_000 });

/** Options of the REST server (plain values the CLI maps its flags onto). */
export interface RestServerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** TCP port; 0 = an ephemeral port (see RestServer.port). */
  readonly port: number;
  /**
   * Requests allowed per client IP per window (default 10,000 per minute); beyond it, 429 with a plain-text reason and
   * Retry-After. `false` turns the limit off (benchmarks, trusted local clients). The websocket is not limited.
   */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number } | false;
  /**
   * Most confirmed unspent outputs GET /api/address/:address/utxo lists; an address with more answers 400 (electrs's
   * `--utxos-limit`). Default DEFAULT_UTXOS_LIMIT (500, electrs's default).
   */
  readonly utxosLimit?: number;
}

/** What the REST server is built on. */
export interface RestServerDeps {
  readonly node: NodeContext;
  /** Root or `api` logger; the server logs under module `api`. */
  readonly logger: Logger;
  /** Metrics registry to serve and count requests into; default a new one (createMetrics) that the server closes. */
  readonly metrics?: NodeMetrics;
}

/** A running REST server. */
export interface RestServer {
  /** The port it listens on (the ephemeral port when options.port was 0). */
  readonly port: number;
  /** Base URL, e.g. `http://127.0.0.1:38730`. */
  readonly url: string;
  /** The metrics it serves at /metrics. */
  readonly metrics: NodeMetrics;
  /** Stops listening, closes websockets and keep-alive connections, unsubscribes from the node (idempotent). */
  close(): Promise<void>;
}

/**
 * Starts the Esplora-compatible REST API of a node under /api (blocks, transactions, addresses, mempool, fees; the
 * mempool.space v1 routes /v1/blocks, /v1/fees/recommended, /v1/difficulty-adjustment), the websocket /api/v1/ws,
 * the OpenAPI 3 document /api/openapi.json (generated from the routes' TypeBox schemas) and Prometheus /metrics.
 * Responses carry `Access-Control-Allow-Origin: *` like Esplora's. Malformed input answers 400, unknown objects 404,
 * both with a plain-text reason; too many requests 429.
 * @see Blockstream esplora API.md; mempool.space REST and websocket API
 */
export async function startRestServer(options: RestServerOptions, deps: RestServerDeps): Promise<RestServer> {
  const { node } = deps;
  const logger = moduleLogger(deps.logger, 'api');
  const ownsMetrics = deps.metrics === undefined;
  const metrics = deps.metrics ?? createMetrics(node);
  const tracker = new MempoolTracker(node);
  const ctx: RestContext = { node, logger, txLookup: new TxLookup(node), tracker };
  const hub = new WebsocketHub(ctx);
  const app = Fastify({
    loggerInstance: logger,
    // One log line per request would cost more than the request itself under load (POST /api/tx).
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    // Esplora's routes have no trailing slash; a stray one is tolerated.
    routerOptions: { ignoreTrailingSlash: true },
    // Requests the router or the HTTP parser refuse ('/api/tx/%', headers over 16 KiB) answer plain text like every
    // other error of this API, not Fastify's JSON.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      void reply.code(400).type('text/plain').send(err.code === 'FST_ERR_BAD_URL' ? 'Invalid URL encoding' : 'Bad request');
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const [status, reason] =
        err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\nConnection: close\r\n\r\n${reason}`);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const cleanup = (): void => {
    hub.close();
    tracker.close();
    if (ownsMetrics) metrics.close();
  };

  try {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'cairn Esplora-compatible REST API',
          description:
            "Esplora's HTTP API (Blockstream esplora, mempool.space) served by a cairn node: same paths, JSON field " +
            'names and shapes. Errors are plain text. The websocket at /api/v1/ws pushes blocks and mempool changes.',
          version: '1',
        },
        tags: ['blocks', 'transactions', 'addresses', 'mempool', 'fees', 'mining', 'websocket'].map((name) => ({ name })),
      },
    });
    if (options.rateLimit !== false) {
      const limit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
      await app.register(rateLimit, {
        global: true,
        max: limit.max,
        timeWindow: limit.timeWindowMs,
        errorResponseBuilder: (_req, context) =>
          new HttpError(429, `Too many requests: ${context.max} per ${context.after}; retry later`),
      });
    }
    await app.register(websocket, { options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES } });

    // Esplora's POST /tx takes the hex whatever the content type (curl -d sends form-urlencoded).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    app.addHook('onSend', (_req, reply, payload, done) => {
      reply.header('access-control-allow-origin', '*');
      done(null, payload);
    });
    app.addHook('onResponse', (req, reply, done) => {
      metrics.httpRequests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
      done();
    });
    app.setErrorHandler((err: FastifyError | HttpError, req, reply) => {
      const status = err.statusCode ?? 500;
      if (err instanceof HttpError || (status >= 400 && status < 500)) {
        // Body validation (a POST /api/tx body that is not a string) and parser errors keep Fastify's message.
        return reply.code(status).type('text/plain').send(err.message);
      }
      logger.error({ err, url: req.url }, 'REST request failed');
      return reply.code(500).type('text/plain').send('Internal server error');
    });
    app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/plain').send('Not found'));

    app.options('/*', { schema: { hide: true }, config: { rateLimit: false } }, (_req, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', 'Content-Type')
        .header('access-control-max-age', '86400')
        .send(),
    );

    registerBlockRoutes(app, ctx);
    registerTxRoutes(app, ctx);
    registerAddressRoutes(app, ctx, options.utxosLimit !== undefined ? { utxosLimit: options.utxosLimit } : {});
    registerMempoolRoutes(app, ctx);
    registerFeeRoutes(app, ctx);
    registerWebsocketRoute(app, hub);

    app.get(OPENAPI_PATH, { schema: { hide: true } }, () => app.swagger());
    app.get(METRICS_PATH, { schema: { hide: true }, config: { rateLimit: false } }, async (_req, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );

    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port });
  } catch (err) {
    cleanup();
    await app.close();
    throw err;
  }

  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'REST API listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    metrics,
    close(): Promise<void> {
      closing ??= (async () => {
        cleanup();
        await app.close();
      })();
      return closing;
    },
  };
}
