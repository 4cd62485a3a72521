import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyReply } from 'fastify';
import type { Logger } from '../logging/logger.js';
import { formatCoreJson } from './coreJson.js';
import { inspectJsonShape, MAX_JSON_DEPTH } from './jsonShape.js';
import type { NodeContext } from '../interfaces/nodeContext.js';
import type { ActiveRpcCommand, LastTemplateStats, RpcContext } from './rpc/rpcContext.js';
import { COOKIE_USER, writeCookie } from './rpc/rpcCookie.js';
import { RPC_ERROR, RpcError } from './rpc/rpcError.js';
import { buildRpcTable } from './rpc/rpcMethods.js';

/** Largest request body, bytes (Core's MAX_SIZE for HTTP bodies: 32 MiB; a 4 MB block is 8 MB of hex). */
const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
/**
 * Most requests one batch may hold. Core has no count limit, only the body limit; but a 32 MiB body holds 16 million
 * `0,` entries, whose replies took minutes and gigabytes while every other caller waited. 1,000 is far above what
 * clients batch (bitcoin-cli -getinfo sends 5; indexers batch 100–500).
 */
export const MAX_BATCH_REQUESTS = 1_000;
/** Delay before answering a wrong password, to slow down guessing (Core sleeps 250 ms). */
const BAD_AUTH_DELAY_MS = 250;
const WWW_AUTHENTICATE = 'Basic realm="jsonrpc"';

/** Options of the JSON-RPC server (plain values; `cairn node` maps its flags onto them). */
export interface RpcServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** TCP port; 0 = an ephemeral port (see RpcServer.port). */
  readonly port: number;
  /** The node's data directory: the cookie file goes there. */
  readonly datadir: string;
  /** User name for Basic auth with rpcPassword (default ""). */
  readonly rpcUser?: string;
  /** Password for Basic auth; without it the server writes a cookie file and accepts `__cookie__:<secret>`. */
  readonly rpcPassword?: string;
  /** Largest request body, bytes (default 32 MiB). */
  readonly bodyLimitBytes?: number;
  /** Most requests in one batch (default MAX_BATCH_REQUESTS = 1,000). */
  readonly maxBatchRequests?: number;
}

/** What the server uses: the node and a logger of module `rpc`. */
export interface RpcServerDeps {
  readonly node: NodeContext;
  readonly logger: Logger;
}

/** A running JSON-RPC server. */
export interface RpcServer {
  /** The port it listens on. */
  readonly port: number;
  /** `http://host:port/`. */
  readonly url: string;
  /** Path of the cookie file when cookie authentication is on. */
  readonly cookiePath?: string;
  /** Stops listening, ends pending longpolls and deletes the cookie file (idempotent). */
  close(): Promise<void>;
}

/**
 * Checks an Authorization header against `user:password` in constant time (both sides hashed first, so neither the
 * content nor the length leaks through timing).
 * @see Bitcoin Core httprpc.cpp RPCAuthorized, TimingResistantEqual
 */
function isAuthorized(header: string, expectedUserPass: string): boolean {
  if (!header.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expectedUserPass).digest();
  return timingSafeEqual(a, b);
}

/** One parsed request object (Core's JSONRPCRequest::parse). */
interface ParsedRequest {
  /** The request's id; undefined when absent (a JSON-RPC 2.0 notification, or a legacy reply without id). */
  id: unknown;
  v2: boolean;
  method: string;
  params: unknown;
}

/** What is known of a request while parsing it, so errors can carry its id and version. */
interface RequestMeta {
  id: unknown;
  v2: boolean;
}

/**
 * Parses a request object, filling `meta` as soon as the id and version are known.
 * @throws RpcError INVALID_REQUEST (-32600) as Core's messages
 */
function parseRequest(value: unknown, meta: RequestMeta): ParsedRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RpcError(RPC_ERROR.INVALID_REQUEST, 'Invalid Request object');
  }
  const request = value as Record<string, unknown>;
  // JSON-RPC 2.0 §4: an id "MUST contain a String, Number, or NULL value". An object or array id would be echoed
  // back whole (a deeply nested one once broke reply formatting), so it is refused; the reply carries id null.
  const id = request['id'];
  const idIsScalar = id === undefined || id === null || typeof id === 'string' || typeof id === 'number';
  if (Object.hasOwn(request, 'id')) meta.id = idIsScalar ? id : null;
  const version = request['jsonrpc'];
  if (version !== undefined && version !== null) {
    if (typeof version !== 'string') throw new RpcError(RPC_ERROR.INVALID_REQUEST, 'jsonrpc field must be a string');
    // Some old documentation put "jsonrpc": "1.0" in requests; Core keeps accepting it as legacy.
    if (version === '2.0') meta.v2 = true;
    else if (version !== '1.0') throw new RpcError(RPC_ERROR.INVALID_REQUEST, 'JSON-RPC version not supported');
  }
  if (!idIsScalar) throw new RpcError(RPC_ERROR.INVALID_REQUEST, 'Invalid Request object: id must be a number, a string or null');
  const method = request['method'];
  if (method === undefined || method === null) throw new RpcError(RPC_ERROR.INVALID_REQUEST, 'Missing method');
  if (typeof method !== 'string') throw new RpcError(RPC_ERROR.INVALID_REQUEST, 'Method must be a string');
  const params = request['params'];
  if (params !== undefined && params !== null && typeof params !== 'object') {
    throw new RpcError(RPC_ERROR.INVALID_REQUEST, 'Params must be an array or object');
  }
  return { id: meta.id, v2: meta.v2, method, params: params ?? [] };
}

/**
 * A reply object: legacy (1.0/1.1) replies carry both result and error (one null); 2.0 replies carry `jsonrpc` and
 * only one of them. The id is echoed when the request had one.
 * @see Bitcoin Core rpc/request.cpp JSONRPCReplyObj
 */
function replyObject(meta: RequestMeta, result: unknown, error: RpcError | undefined): Record<string, unknown> {
  const reply: Record<string, unknown> = {};
  if (meta.v2) reply['jsonrpc'] = '2.0';
  if (error === undefined) {
    reply['result'] = result === undefined ? null : roundDoublesAsCore(result);
    if (!meta.v2) reply['error'] = null;
  } else {
    if (!meta.v2) reply['result'] = null;
    reply['error'] = error.toJSON();
  }
  if (meta.id !== undefined) reply['id'] = meta.id;
  return reply;
}

/**
 * Rounds every non-integer number to 16 significant digits, the precision UniValue prints doubles with, so a
 * difficulty reads `4.656542373906925e-10` as in Core rather than JavaScript's 17-digit `4.6565423739069247e-10`.
 * Amounts (CoreAmount) and other class instances pass through unchanged.
 * @see Bitcoin Core univalue/lib/univalue.cpp UniValue::setFloat (std::setprecision(16))
 */
export function roundDoublesAsCore(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) || !Number.isFinite(value) ? value : Number(value.toPrecision(16));
  if (Array.isArray(value)) return value.map(roundDoublesAsCore);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = roundDoublesAsCore(v);
    return out;
  }
  return value;
}

/**
 * The RpcError a failed call reports. Handlers throw RpcError; any other Error keeps its message under RPC_MISC_ERROR
 * as Core does with a std::exception, except JavaScript's own faults (TypeError, RangeError such as a stack overflow,
 * ReferenceError…), which are bugs: their text says nothing to the client, so they answer RPC_INTERNAL_ERROR
 * "Internal error" and are logged in full.
 */
function toRpcError(err: unknown, logger: Logger, what: Record<string, unknown>): RpcError {
  if (err instanceof RpcError) return err;
  const isFault =
    err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError || !(err instanceof Error);
  if (isFault) {
    logger.error({ err, ...what }, 'rpc request failed on an internal error');
    return new RpcError(RPC_ERROR.INTERNAL_ERROR, 'Internal error');
  }
  logger.warn({ err, ...what }, 'rpc method failed');
  return new RpcError(RPC_ERROR.MISC_ERROR, err.message);
}

/** HTTP status of an error reply in legacy mode: 400 for a bad request, 404 for an unknown method, else 500. */
function httpStatusOf(error: RpcError): number {
  if (error.code === RPC_ERROR.INVALID_REQUEST) return 400;
  if (error.code === RPC_ERROR.METHOD_NOT_FOUND) return 404;
  return 500;
}

/**
 * Starts Bitcoin Core-compatible JSON-RPC on `POST /`: HTTP Basic auth (rpcuser/rpcpassword, or the cookie file it
 * writes into the data dir), single and batch requests in JSON-RPC 1.0 and 2.0 style, Core's HTTP statuses (legacy
 * errors: 500, 400 for an invalid request, 404 for an unknown method; 2.0 and batches: 200; notifications: 204;
 * bad credentials: 401 with `WWW-Authenticate`), and Core's method names, arguments, results and error codes.
 * Amounts print with 8 decimals (formatCoreJson).
 * Hardened against abuse: credentials are checked when the request line and headers arrive, before any body byte is
 * read (an unauthenticated 31 MB post costs nothing); bodies over `bodyLimitBytes` answer 413, bodies nested deeper
 * than MAX_JSON_DEPTH answer a parse error, batches over `maxBatchRequests` an invalid-request error naming the
 * limit, ids that are not a number, string or null an invalid-request error; no reply carries a JavaScript error.
 * @throws Error when the port cannot be bound
 * @see Bitcoin Core httprpc.cpp HTTPReq_JSONRPC, rpc/server.cpp, rpc/protocol.h
 */
export async function startRpcServer(options: RpcServerOptions, deps: RpcServerDeps): Promise<RpcServer> {
  const { node, logger } = deps;
  const host = options.host ?? '127.0.0.1';
  const table = buildRpcTable();
  const cookieAuth = options.rpcPassword === undefined || options.rpcPassword === '';
  // Core: a password given means user/password auth; none means a fresh random cookie on every start.
  const expectedUserPass = cookieAuth
    ? `${COOKIE_USER}:${randomBytes(32).toString('hex')}`
    : `${options.rpcUser ?? ''}:${options.rpcPassword}`;
  const abort = new AbortController();
  let sequence = 0;
  let lastTemplate: LastTemplateStats | undefined;
  const active = new Set<ActiveRpcCommand>();
  const unsubscribe = [
    node.mempool.on('added', () => void sequence++),
    node.mempool.on('removed', () => void sequence++),
  ];
  const ctx: RpcContext = {
    node,
    logger,
    datadir: options.datadir,
    signal: abort.signal,
    mempoolSequence: () => sequence,
    waitForTipChange: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (abort.signal.aborted) {
          resolve(false);
          return;
        }
        const finish = (changed: boolean): void => {
          off();
          clearTimeout(timer);
          abort.signal.removeEventListener('abort', onAbort);
          resolve(changed);
        };
        const off = node.chain.on('tipChanged', () => finish(true));
        const timer = setTimeout(() => finish(false), timeoutMs);
        const onAbort = (): void => finish(false);
        abort.signal.addEventListener('abort', onAbort, { once: true });
      }),
    get lastTemplate() {
      return lastTemplate;
    },
    set lastTemplate(stats) {
      lastTemplate = stats;
    },
    help: (method) => table.help(method),
    activeCommands: () => [...active],
  };

  const bodyLimit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const maxBatch = options.maxBatchRequests ?? MAX_BATCH_REQUESTS;
  const app = Fastify({ logger: false, bodyLimit, forceCloseConnections: 'idle' });
  // Core reads any body as JSON whatever the Content-Type (curl sends text/plain or form types).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

  const send = (reply: FastifyReply, status: number, body: unknown): FastifyReply =>
    reply.code(status).header('content-type', 'application/json').send(formatCoreJson(body, 0) + '\n');
  /** A reply for a request refused before it was read: the connection closes, so the unread body is never read. */
  const refuse = (reply: FastifyReply, status: 401 | 405): FastifyReply => {
    reply.code(status).header('connection', 'close');
    if (status === 405) return reply.type('text/plain').send('JSONRPC server handles only POST requests');
    return reply.header('www-authenticate', WWW_AUTHENTICATE).send();
  };

  // Method and credentials are checked in onRequest, which runs before the content-type parser reads the body.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return refuse(reply, 405);
    const auth = request.headers.authorization;
    if (auth === undefined) return refuse(reply, 401);
    if (!isAuthorized(auth, expectedUserPass)) {
      logger.warn({ peer: request.ip }, 'incorrect RPC password attempt');
      await new Promise((r) => setTimeout(r, BAD_AUTH_DELAY_MS));
      return refuse(reply, 401);
    }
    return undefined;
  });
  // Errors outside the handlers (a body over the limit, a broken Content-Length, a bug) answer a JSON-RPC error
  // object with Core's statuses; Fastify's own JSON, which would carry a JavaScript message, never reaches a client.
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    let error: RpcError;
    if (status === 413) {
      error = new RpcError(RPC_ERROR.INVALID_REQUEST, `Request body larger than the limit of ${bodyLimit} bytes`);
    } else if (status < 500) {
      error = new RpcError(RPC_ERROR.INVALID_REQUEST, `Invalid HTTP request (${err.code ?? status})`);
    } else {
      logger.error({ err, url: request.url }, 'rpc request failed outside a method');
      error = new RpcError(RPC_ERROR.INTERNAL_ERROR, 'Internal error');
    }
    return send(reply, status, replyObject({ id: undefined, v2: false }, undefined, error));
  });

  /**
   * Executes one parsed-or-not request; errors become reply objects (the caller picks the HTTP status from `error`
   * and `parsed`: a legacy or unparsable request answers an error with Core's HTTP status, a parsed 2.0 one with 200).
   */
  const runOne = async (
    value: unknown,
  ): Promise<{ meta: RequestMeta; reply: Record<string, unknown>; error?: RpcError; parsed: boolean }> => {
    const meta: RequestMeta = { id: undefined, v2: false };
    let parsed = false;
    try {
      const request = parseRequest(value, meta);
      parsed = true;
      const command: ActiveRpcCommand = { method: request.method, startedMs: performance.now() };
      active.add(command);
      try {
        const result = await table.execute(request.method, request.params, ctx);
        logger.debug({ method: request.method, ms: Math.round(performance.now() - command.startedMs) }, 'rpc call');
        return { meta, reply: replyObject(meta, result, undefined), parsed };
      } finally {
        active.delete(command);
      }
    } catch (err) {
      const error = toRpcError(err, logger, parsed ? { method: (value as { method?: unknown }).method } : {});
      return { meta, reply: replyObject(meta, undefined, error), error, parsed };
    }
  };

  app.post('/', async (request, reply) => {
    const text = typeof request.body === 'string' ? request.body : '';
    const noId: RequestMeta = { id: undefined, v2: false };
    // Measured before JSON.parse, so a bomb or an oversized batch is refused before it is built in memory.
    const shape = inspectJsonShape(text, MAX_JSON_DEPTH);
    if (shape.tooDeep) {
      const error = new RpcError(RPC_ERROR.PARSE_ERROR, `Parse error: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      return send(reply, 500, replyObject(noId, undefined, error));
    }
    const batchTooLarge = (count: number): FastifyReply => {
      const error = new RpcError(
        RPC_ERROR.INVALID_REQUEST,
        `Batch of ${count} requests is over the limit of ${maxBatch} requests per batch; split it`,
      );
      return send(reply, 400, replyObject(noId, undefined, error));
    };
    if (shape.topLevelArrayItems !== undefined && shape.topLevelArrayItems > maxBatch) return batchTooLarge(shape.topLevelArrayItems);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      const error = new RpcError(RPC_ERROR.PARSE_ERROR, 'Parse error');
      return send(reply, 500, replyObject(noId, undefined, error));
    }
    if (Array.isArray(body)) {
      if (body.length > maxBatch) return batchTooLarge(body.length);
      const replies: Record<string, unknown>[] = [];
      for (const item of body) {
        const { meta, reply: one } = await runOne(item);
        // JSON-RPC 2.0 notifications (no id) get no reply.
        if (!(meta.v2 && meta.id === undefined)) replies.push(one);
      }
      if (replies.length === 0 && body.length > 0) return reply.code(204).send();
      return send(reply, 200, replies);
    }
    if (body === null || typeof body !== 'object') {
      const error = new RpcError(RPC_ERROR.PARSE_ERROR, 'Top-level object parse error');
      return send(reply, 500, replyObject(noId, undefined, error));
    }
    const { meta, reply: one, error, parsed } = await runOne(body);
    if (error !== undefined && !(parsed && meta.v2)) return send(reply, httpStatusOf(error), one);
    if (meta.v2 && meta.id === undefined) return reply.code(204).send();
    return send(reply, 200, one);
  });

  let cookiePath: string | undefined;
  try {
    await app.listen({ host, port: options.port });
    // Written only once the port is ours, so a second node on the same data dir never overwrites a live cookie.
    if (cookieAuth) cookiePath = writeCookie(options.datadir, expectedUserPass);
  } catch (err) {
    for (const off of unsubscribe) off();
    await app.close();
    throw err;
  }
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  logger.info({ url, auth: cookiePath === undefined ? 'user/password' : 'cookie' }, 'JSON-RPC server listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    ...(cookiePath !== undefined ? { cookiePath } : {}),
    close(): Promise<void> {
      closing ??= (async () => {
        abort.abort();
        for (const off of unsubscribe) off();
        await app.close();
        if (cookiePath !== undefined) rmSync(cookiePath, { force: true });
      })();
      return closing;
    },
  };
}
