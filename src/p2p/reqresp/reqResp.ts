import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import * as lp from 'it-length-prefixed';
import { Uint8ArrayList } from 'uint8arraylist';
import type { Logger } from '../../logging/logger.js';
import { PeerMisbehaviour } from '../peerMisbehaviour.js';
import { decodeResponseChunk, encodeResponseChunk, RESPONSE_CHUNK_OVERHEAD_BYTES, RespStatus, type ResponseChunk, type RespStatusCode } from '../wire.js';
import { IGNORED_BACKOFF_BAN_SCORE, ReqRespRateLimiter, type ProtocolLimits } from './rateLimiter.js';

/** The request protocols, by the short name used in limits, logs and errors. */
export type ReqRespMethod = 'status' | 'headers' | 'blocks';

/**
 * The server side of one request protocol: how to decode a request, what it costs, and the response chunks. A handler
 * may throw PeerMisbehaviour after its last chunk (the status handler answers first, then refuses a peer on another
 * network).
 */
export interface ReqRespHandler<Req> {
  readonly method: ReqRespMethod;
  /** Largest request frame accepted, bytes; a larger one is an offence (ban). */
  readonly maxRequestBytes: number;
  /** @throws DecodeError / RangeError on a malformed request (answered INVALID_REQUEST; the peer is banned) */
  decodeRequest(body: Uint8Array): Req;
  /** Items the request asks for (the rate limiter's cost; blocks named by a blocks request). Default 1. */
  itemCount?(request: Req): number;
  /** The response chunks, in order. */
  handle(request: Req, peerId: string): Iterable<ResponseChunk> | AsyncIterable<ResponseChunk>;
}

/** Options of ReqResp. */
export interface ReqRespOptions {
  /** libp2p protocol id of each method (wire.ts protocolIds). */
  readonly protocolIds: Readonly<Record<ReqRespMethod, string>>;
  /** Inbound limits per method. */
  readonly limits: Readonly<Record<ReqRespMethod, ProtocolLimits>>;
  /** Timeout of one request, served or sent, ms. */
  readonly requestTimeoutMs: number;
}

/** What ReqResp reports to. */
export interface ReqRespDeps {
  readonly logger: Logger;
  /** A peer broke the protocol (served or as a client): score, disconnect or ban it. */
  readonly onMisbehaviour: (peerId: string, offence: PeerMisbehaviour) => void;
  /**
   * Whether the node refuses this peer now (banned, or the network is off: the connection gater's answer). Its
   * requests on a connection still open (one the gater let through just before) are dropped unanswered, so a peer
   * never completes a handshake with a node that has turned it away. Absent: every peer is served.
   */
  readonly isRefused?: (peerId: string) => boolean;
}

/**
 * A request answered with an error chunk. `status` RATE_LIMITED means wait `retryAfterMs` and ask again (the server
 * counts requests sent before that as ignoring its back-off); RESOURCE_UNAVAILABLE that the peer lacks what was asked.
 */
export class ResponseError extends Error {
  override readonly name = 'ResponseError';

  constructor(
    readonly status: Exclude<RespStatusCode, typeof RespStatus.SUCCESS>,
    message: string,
    /** With RATE_LIMITED: how long to wait, ms. */
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/** Frames a server gathers before one write to the stream, bytes (fewer, larger muxer frames). */
const WRITE_BATCH_BYTES = 64 * 1024;

const CODE_SUCCESS = Uint8Array.of(RespStatus.SUCCESS);

/**
 * cairn's request/response protocols over libp2p streams, as Lodestar's ReqResp: a table of handlers (one per method)
 * served behind the inbound rate limiter, and the client that sends a request and collects the response chunks.
 * A request is one length-prefixed frame; the response is zero or more length-prefixed response chunks (wire.ts), and
 * ends when the server closes the stream. Malformed or oversized frames, on either side, are reported as
 * PeerMisbehaviour through `deps.onMisbehaviour`.
 * @see Lodestar packages/reqresp (ReqResp, handleRequest, sendRequest)
 */
export class ReqResp {
  private readonly handlers = new Map<ReqRespMethod, (stream: Stream, peerId: string) => Promise<void>>();
  private readonly limiter: ReqRespRateLimiter;
  /** Inbound requests served and answered RATE_LIMITED since start, by method (for tests and /metrics). */
  readonly stats: Record<'served' | 'rateLimited', Record<ReqRespMethod, number>> = {
    served: { status: 0, headers: 0, blocks: 0 },
    rateLimited: { status: 0, headers: 0, blocks: 0 },
  };

  constructor(
    private readonly options: ReqRespOptions,
    private readonly deps: ReqRespDeps,
  ) {
    this.limiter = new ReqRespRateLimiter(options.limits);
  }

  /** Adds the handler of one method (before start). */
  register<Req>(handler: ReqRespHandler<Req>): void {
    this.handlers.set(handler.method, (stream, peerId) => this.serve(handler, stream, peerId));
  }

  /** Registers every handler's protocol with libp2p. */
  async start(libp2p: Libp2p): Promise<void> {
    for (const [method, serve] of this.handlers) {
      await libp2p.handle(this.options.protocolIds[method], (stream: Stream, connection: Connection) => serve(stream, connection.remotePeer.toString()), {
        runOnLimitedConnection: false,
      });
    }
  }

  /** Forgets the limiter state of a disconnected peer. */
  forgetPeer(peerId: string): void {
    this.limiter.forget(peerId);
  }

  /**
   * Sends one request and returns the response chunks: the payload of each SUCCESS chunk, or undefined for a
   * RESOURCE_UNAVAILABLE one. A response may hold fewer chunks than `maxChunks` (the server stops early).
   * @throws ResponseError on an error chunk (RATE_LIMITED, INVALID_REQUEST, SERVER_ERROR); PeerMisbehaviour (already
   *   reported) on a malformed or oversized chunk, or more chunks than asked; Error on timeouts and stream failures
   */
  async request(
    libp2p: Libp2p,
    peerId: PeerId,
    method: ReqRespMethod,
    body: Uint8Array,
    limits: { readonly maxChunks: number; readonly maxPayloadBytes: number },
  ): Promise<(Uint8Array | undefined)[]> {
    const signal = AbortSignal.timeout(this.options.requestTimeoutMs);
    const stream = await libp2p.dialProtocol(peerId, this.options.protocolIds[method], { signal });
    const id = peerId.toString();
    try {
      await send(stream, lp.encode.single(body), signal);
      await stream.close({ signal });
      const out: (Uint8Array | undefined)[] = [];
      const frames = lp.decode(stream, { maxDataLength: limits.maxPayloadBytes + RESPONSE_CHUNK_OVERHEAD_BYTES });
      try {
        for await (const frame of abortable(frames, signal)) {
          if (out.length >= limits.maxChunks) throw PeerMisbehaviour.ban(`more than ${limits.maxChunks} ${method} response chunks`);
          let chunk: ResponseChunk;
          try {
            chunk = decodeResponseChunk(frame.subarray());
          } catch (err) {
            throw PeerMisbehaviour.ban(`malformed ${method} response chunk: ${(err as Error).message}`);
          }
          if (chunk.status === RespStatus.SUCCESS) out.push(chunk.payload);
          else if (chunk.status === RespStatus.RESOURCE_UNAVAILABLE) out.push(undefined);
          else throw new ResponseError(chunk.status, `${method} request: ${chunk.message}`, chunk.status === RespStatus.RATE_LIMITED ? chunk.retryAfterMs : 0);
        }
      } catch (err) {
        if ((err as Error).name === 'InvalidDataLengthError' || (err as Error).name === 'InvalidDataLengthLengthError') {
          throw PeerMisbehaviour.ban(`oversized ${method} response chunk`);
        }
        throw err;
      }
      return out;
    } catch (err) {
      stream.abort(err as Error);
      if (err instanceof PeerMisbehaviour) this.deps.onMisbehaviour(id, err);
      throw err;
    }
  }

  /** Serves one inbound request stream: read, decode, admit, respond, close. */
  private async serve<Req>(handler: ReqRespHandler<Req>, stream: Stream, peerId: string): Promise<void> {
    const { method } = handler;
    const signal = AbortSignal.timeout(this.options.requestTimeoutMs);
    const reader = lpStream(stream, { maxDataLength: handler.maxRequestBytes, maxLengthLength: 4 });
    let release: ((bytesSent: number) => void) | undefined;
    let bytesSent = 0;
    if (this.deps.isRefused?.(peerId) === true) {
      stream.abort(new Error('refused: banned, or the network is off'));
      return;
    }
    try {
      let body: Uint8Array;
      try {
        body = (await reader.read({ signal })).subarray();
      } catch (err) {
        const name = (err as Error).name;
        if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') throw PeerMisbehaviour.ban(`oversized ${method} request`);
        throw err;
      }
      let request: Req;
      try {
        request = handler.decodeRequest(body);
      } catch (err) {
        const message = `malformed ${method} request: ${(err as Error).message}`;
        await send(stream, lp.encode.single(encodeResponseChunk({ status: RespStatus.INVALID_REQUEST, message })), signal).catch(() => undefined);
        throw PeerMisbehaviour.ban(message);
      }
      const decision = this.limiter.admit(peerId, method, handler.itemCount?.(request) ?? 1);
      if (!decision.allowed) {
        this.stats.rateLimited[method]++;
        this.deps.logger.debug({ peer: peerId, method, retryAfterMs: decision.retryAfterMs, reason: decision.reason }, 'request rate limited');
        const chunk = encodeResponseChunk({ status: RespStatus.RATE_LIMITED, retryAfterMs: decision.retryAfterMs, message: decision.reason });
        await send(stream, lp.encode.single(chunk), signal);
        await stream.close({ signal });
        if (decision.abuse !== undefined) throw new PeerMisbehaviour(decision.abuse, IGNORED_BACKOFF_BAN_SCORE);
        return;
      }
      release = decision.release;
      this.stats.served[method]++;
      let batch = new Uint8ArrayList();
      for await (const chunk of handler.handle(request, peerId)) {
        if (chunk.status === RespStatus.SUCCESS) {
          // The code byte and the payload go out as two buffers of one frame: a stored block is not copied.
          batch.append(lp.encode.single(new Uint8ArrayList(CODE_SUCCESS, chunk.payload)));
        } else {
          batch.append(lp.encode.single(encodeResponseChunk(chunk)));
        }
        if (batch.byteLength >= WRITE_BATCH_BYTES) {
          bytesSent += batch.byteLength;
          await send(stream, batch, signal);
          batch = new Uint8ArrayList();
        }
      }
      if (batch.byteLength > 0) {
        bytesSent += batch.byteLength;
        await send(stream, batch, signal);
      }
      await stream.close({ signal });
    } catch (err) {
      stream.abort(err as Error);
      if (err instanceof PeerMisbehaviour) {
        this.deps.logger.info({ peer: peerId, method, reason: err.reason }, 'protocol violation');
        this.deps.onMisbehaviour(peerId, err);
      } else {
        this.deps.logger.debug({ peer: peerId, method, err: (err as Error).message }, 'request stream failed');
      }
    } finally {
      release?.(bytesSent);
    }
  }
}

/** Writes to a stream, waiting for it to drain when its buffer is full. */
async function send(stream: Stream, data: Uint8Array | Uint8ArrayList, signal: AbortSignal): Promise<void> {
  if (!stream.send(data)) await stream.onDrain({ signal });
}

/** Ends an async iteration with the signal's reason when it aborts (a server that stops sending mid-response). */
async function* abortable<T>(source: AsyncGenerator<T>, signal: AbortSignal): AsyncGenerator<T> {
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('request timed out'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  for (;;) {
    const next = await Promise.race([source.next(), aborted]);
    if (next.done === true) return;
    yield next.value;
  }
}
