import { connect, type Socket } from 'node:net';
import type { Logger } from '../logging/logger.js';
import { silentLogger } from '../logging/logger.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import {
  LineSplitter,
  parseNotifyParams,
  parseStratumMessage,
  StratumProtocolError,
  type StratumErrorTuple,
  type StratumJob,
  type StratumMessage,
} from './stratumProtocol.js';

/** Default client limits and back-off. */
export const STRATUM_CLIENT_DEFAULTS = Object.freeze({
  /** A notify with a long merkle branch and coinbase stays far below this. */
  maxLineBytes: 1 << 20,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 30_000,
  requestTimeoutMs: 30_000,
  userAgent: 'cairn-miner/0.1.0',
});

/** Options of a Stratum client. */
export interface StratumClientOptions {
  readonly host: string;
  readonly port: number;
  /** Username for mining.authorize (a cairn Stratum server wants a payout address, optionally `address.worker`). */
  readonly user: string;
  readonly password?: string;
  readonly userAgent?: string;
  readonly maxLineBytes?: number;
  /** First reconnect delay, ms; doubles per failed attempt up to reconnectMaxMs. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** How long a request waits for its response, ms. */
  readonly requestTimeoutMs?: number;
}

/** What mining.subscribe gave this connection. */
export interface StratumSubscription {
  readonly extranonce1: Uint8Array;
  readonly extranonce2Size: number;
}

/** Events of a Stratum client, in the order the connection produces them. */
export type StratumClientEvent =
  | { readonly type: 'connected' }
  | { readonly type: 'subscribed'; readonly subscription: StratumSubscription }
  | { readonly type: 'authorized' }
  /** The server refused the username: the client stops (a wrong address does not get better by retrying). */
  | { readonly type: 'unauthorized'; readonly message: string }
  | { readonly type: 'difficulty'; readonly difficulty: number }
  | { readonly type: 'job'; readonly job: StratumJob }
  | { readonly type: 'disconnected'; readonly reason: string; readonly retryInMs: number | null };

/** The answer to a mining.submit: accepted, or the server's error tuple. */
export interface SubmitResult {
  readonly accepted: boolean;
  readonly error?: StratumErrorTuple;
}

interface Pending {
  readonly resolve: (message: StratumMessage) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

function errorTuple(error: unknown): StratumErrorTuple | undefined {
  if (error === null || error === undefined) return undefined;
  if (Array.isArray(error) && typeof error[0] === 'number') return [error[0], String(error[1] ?? ''), null];
  return [20, typeof error === 'string' ? error : JSON.stringify(error), null];
}

/**
 * A Stratum V1 client: connects over TCP, subscribes and authorizes (pipelined, as cgminer does), turns
 * mining.set_difficulty and mining.notify into events, submits shares, and reconnects with exponential back-off
 * (reconnectMinMs doubling to reconnectMaxMs, reset once subscribed) whenever the server goes away. Malformed lines
 * from the server are logged and skipped; a line over maxLineBytes drops the connection.
 * @see https://en.bitcoin.it/wiki/Stratum_mining_protocol
 */
export class StratumClient {
  private readonly options: Required<Omit<StratumClientOptions, 'password'>> & { readonly password: string };
  private readonly listeners = new Set<(event: StratumClientEvent) => void>();
  private readonly pending = new Map<number, Pending>();
  private socket: Socket | undefined;
  private nextId = 1;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private currentSubscription: StratumSubscription | undefined;

  constructor(
    options: StratumClientOptions,
    private readonly logger: Logger = silentLogger(),
  ) {
    this.options = { ...STRATUM_CLIENT_DEFAULTS, password: 'x', ...options };
  }

  /** The subscription of the current connection (undefined while disconnected or before the answer). */
  get subscription(): StratumSubscription | undefined {
    return this.currentSubscription;
  }

  /** Calls `listener` with every event; returns a function that removes it. */
  on(listener: (event: StratumClientEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects (and keeps reconnecting until close()). */
  start(): void {
    if (this.closed || this.socket !== undefined || this.reconnectTimer !== undefined) return;
    this.connect();
  }

  /**
   * Submits a share: mining.submit [worker, job_id, extranonce2 hex, ntime hex, nonce hex] (ntime and nonce as
   * big-endian u32 hex, see stratumProtocol.ts).
   * @throws Error when not connected, or the connection drops or times out before the answer
   */
  async submit(jobId: string, extranonce2: Uint8Array, ntimeHex: string, nonceHex: string): Promise<SubmitResult> {
    const response = await this.request('mining.submit', [this.options.user, jobId, bytesToHex(extranonce2), ntimeHex, nonceHex]);
    const error = errorTuple(response.error);
    return response.result === true && error === undefined ? { accepted: true } : { accepted: false, error: error ?? [20, 'rejected', null] };
  }

  /** Disconnects and stops reconnecting (idempotent). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    if (socket !== undefined && !socket.destroyed) {
      const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      await gone;
    }
  }

  private emit(event: StratumClientEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, event: event.type }, 'stratum client listener threw');
      }
    }
  }

  private connect(): void {
    const socket = connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    const splitter = new LineSplitter(this.options.maxLineBytes);
    let reason = 'connection closed';
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.emit({ type: 'connected' });
      this.handshake().catch((err: unknown) => {
        reason = err instanceof Error ? err.message : String(err);
        socket.destroy();
      });
    });
    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch (err) {
        reason = (err as Error).message;
        socket.destroy();
        return;
      }
      for (const line of lines) this.onLine(line);
    });
    socket.on('error', (err) => {
      reason = err.message;
    });
    socket.on('close', () => {
      this.socket = undefined;
      this.currentSubscription = undefined;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`disconnected (${reason})`));
        this.pending.delete(id);
      }
      if (this.closed) {
        this.emit({ type: 'disconnected', reason, retryInMs: null });
        return;
      }
      const retryInMs = Math.min(this.options.reconnectMaxMs, this.options.reconnectMinMs * 2 ** this.attempts);
      this.attempts++;
      this.emit({ type: 'disconnected', reason, retryInMs });
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.closed) this.connect();
      }, retryInMs);
    });
  }

  /**
   * Sends mining.subscribe and mining.authorize back to back. Their answers are handled as they arrive (in the same
   * read as the notifications after them), so the subscription is known before the first job is handed out.
   */
  private async handshake(): Promise<void> {
    const subscribing = this.request('mining.subscribe', [this.options.userAgent], (m) => this.onSubscribed(m));
    const authorizing = this.request('mining.authorize', [this.options.user, this.options.password], (m) => this.onAuthorized(m));
    await Promise.all([subscribing, authorizing]);
  }

  /** @throws StratumProtocolError bad-subscribe */
  private onSubscribed(subscribed: StratumMessage): void {
    const result = subscribed.result;
    if (!Array.isArray(result) || typeof result[1] !== 'string' || typeof result[2] !== 'number') {
      throw new StratumProtocolError('bad-subscribe', `mining.subscribe failed: ${JSON.stringify(subscribed.error ?? result)}`);
    }
    const [, extranonce1Hex, extranonce2Size] = result as [unknown, string, number];
    if (!/^([0-9a-fA-F]{2}){0,16}$/.test(extranonce1Hex) || !Number.isInteger(extranonce2Size) || extranonce2Size < 1 || extranonce2Size > 16) {
      throw new StratumProtocolError('bad-subscribe', `bad extranonce1 ${extranonce1Hex} / extranonce2_size ${extranonce2Size}`);
    }
    this.currentSubscription = { extranonce1: hexToBytes(extranonce1Hex), extranonce2Size };
    this.attempts = 0;
    this.emit({ type: 'subscribed', subscription: this.currentSubscription });
  }

  private onAuthorized(authorized: StratumMessage): void {
    if (authorized.result === true) {
      this.emit({ type: 'authorized' });
      return;
    }
    const error = errorTuple(authorized.error);
    this.closed = true;
    this.emit({ type: 'unauthorized', message: error?.[1] ?? 'mining.authorize returned false' });
    this.socket?.destroy();
  }

  /** Sends a request; `onAnswer` runs synchronously when the answer is read (its throw rejects the promise). */
  private request(method: string, params: unknown[], onAnswer?: (message: StratumMessage) => void): Promise<StratumMessage> {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return Promise.reject(new Error('not connected'));
    const id = this.nextId++;
    return new Promise<StratumMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method} timed out`));
      }, this.options.requestTimeoutMs);
      timer.unref();
      this.pending.set(id, {
        resolve: (message) => {
          try {
            onAnswer?.(message);
            resolve(message);
          } catch (err) {
            reject(err as Error);
          }
        },
        reject,
        timer,
      });
      socket.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  private onLine(line: string): void {
    let message: StratumMessage;
    try {
      message = parseStratumMessage(line);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'malformed line from the stratum server');
      return;
    }
    if (message.method === undefined) {
      const pending = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
      if (pending !== undefined) {
        this.pending.delete(message.id as number);
        clearTimeout(pending.timer);
        pending.resolve(message);
      }
      return;
    }
    try {
      switch (message.method) {
        case 'mining.set_difficulty': {
          const difficulty = message.params?.[0];
          if (typeof difficulty !== 'number' || !(difficulty > 0) || !Number.isFinite(difficulty)) {
            throw new StratumProtocolError('bad-difficulty', JSON.stringify(difficulty));
          }
          this.emit({ type: 'difficulty', difficulty });
          return;
        }
        case 'mining.notify':
          this.emit({ type: 'job', job: parseNotifyParams(message.params) });
          return;
        case 'client.get_version':
          if (message.id !== null) this.socket?.write(`${JSON.stringify({ id: message.id, result: this.options.userAgent, error: null })}\n`);
          return;
        default:
          this.logger.debug({ method: message.method }, 'stratum notification ignored');
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, method: message.method }, 'bad stratum notification');
    }
  }
}
