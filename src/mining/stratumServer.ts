import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { MiningNode } from './miningNode.js';
import { encodeBip34HeightPush } from '../consensus/contextualChecks.js';
import { computeMerkleBranch } from '../consensus/merkle.js';
import { hashToBigInt } from '../consensus/pow.js';
import { sha256d } from '../crypto/hash.js';
import type { Logger } from '../logging/logger.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { bytesEqual, bytesToHex, hashToHex } from '../primitives/hex.js';
import { decodeTx } from '../primitives/tx.js';
import type { Block, Hash256, Tx } from '../primitives/types.js';
import { buildCoinbaseTx } from './blockAssembler.js';
import type { BlockTemplate } from '../interfaces/blockTemplate.js';
import { DEFAULT_COINBASE_TAG } from './miningController.js';
import { payoutScriptFromAddress } from './payoutAddress.js';
import {
  assembleStratumCoinbase,
  computeStratumMerkleRoot,
  DEFAULT_SHARE_DIFFICULTY,
  difficultyToTarget,
  encodeNotifyParams,
  EXTRANONCE1_SIZE,
  EXTRANONCE2_SIZE,
  LineSplitter,
  parseStratumMessage,
  splitStratumCoinbase,
  STRATUM_ERROR,
  StratumProtocolError,
  stratumHexBytes,
  stratumHexToU32,
  type StratumErrorTuple,
  type StratumMessage,
} from './stratumProtocol.js';
import { TemplateWatcher, type WorkUpdate } from './templateWatcher.js';

/** Limits of the Stratum server. */
interface StratumLimits {
  readonly maxConnections: number;
  readonly maxLineBytes: number;
  readonly idleTimeoutMs: number;
  readonly maxMalformedLines: number;
  readonly jobsKept: number;
  readonly maxQueuedBytes: number;
  readonly maxPendingLines: number;
}

/** Default limits of the Stratum server. */
export const STRATUM_DEFAULTS: StratumLimits = Object.freeze({
  maxConnections: 128,
  /** A mining.submit line is ~150 bytes; a subscribe with a long user agent a few hundred. */
  maxLineBytes: 8_192,
  /** A connection that sends nothing for this long is closed, ms. */
  idleTimeoutMs: 600_000,
  /** Malformed lines a connection may send before it is closed. */
  maxMalformedLines: 10,
  /** Jobs remembered per connection (shares for older ones, or for jobs of an old tip, are "Job not found"). */
  jobsKept: 16,
  /** Bytes queued for a slow reader before its connection is dropped. */
  maxQueuedBytes: 1 << 20,
  /** Received lines waiting to be handled before a flooding connection is dropped. */
  maxPendingLines: 256,
});

/** Options of the Stratum server (plain values; `cairn node --stratum-port` maps onto them). */
export interface StratumServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** TCP port; 0 = ephemeral. */
  readonly port: number;
  /** Share difficulty sent with mining.set_difficulty (default DEFAULT_SHARE_DIFFICULTY = 2^-10: ~2^22 hashes). */
  readonly shareDifficulty?: number;
  readonly maxConnections?: number;
  readonly maxLineBytes?: number;
  readonly idleTimeoutMs?: number;
  readonly maxMalformedLines?: number;
  /** Shortest time between two mempool-driven job refreshes, ms (default 2,000). */
  readonly templateRefreshMs?: number;
  /** Text pushed in the coinbase scriptSig after the extranonce (default "/cairn/"). */
  readonly tag?: string;
}

/** Collaborators of the Stratum server. */
export interface StratumServerDeps {
  readonly node: MiningNode;
  /** Logger of module 'stratum'. */
  readonly logger: Logger;
}

/** Counters of the Stratum server. */
export interface StratumStats {
  readonly connections: number;
  readonly sharesAccepted: number;
  /** Rejected shares by reason: stale (job not found), duplicate, low-difficulty, other. */
  readonly sharesRejected: { readonly stale: number; readonly duplicate: number; readonly lowDifficulty: number; readonly other: number };
  /** Shares that met the block target, and how many of them became the tip. */
  readonly blocksFound: number;
  readonly blocksAccepted: number;
  /** Connections closed for saying nothing for idleTimeoutMs. */
  readonly idleCloses: number;
}

/** One template handed to the miners, with the coinbase's merkle branch (shared by every connection). */
interface Work {
  readonly template: BlockTemplate;
  readonly merkleBranch: readonly Hash256[];
}

/**
 * A job sent to one connection: its coinbase halves (paying the connection's address) and the shares seen. Jobs of an
 * old tip stay (up to jobsKept) so resubmissions are told "Duplicate share"; new shares on them are stale.
 */
interface ConnectionJob {
  readonly work: Work;
  readonly coinb1: Uint8Array;
  readonly coinb2: Uint8Array;
  readonly shareTarget: bigint;
  readonly submitted: Set<string>;
}

interface Connection {
  readonly id: number;
  readonly socket: Socket;
  readonly remote: string;
  readonly splitter: LineSplitter;
  readonly extranonce1: Uint8Array;
  subscribed: boolean;
  /** Authorized worker names → the payout script of their address. */
  readonly workers: Map<string, Uint8Array>;
  /** Script the connection's jobs pay (the last authorized address). */
  payoutScript: Uint8Array | undefined;
  readonly jobs: Map<string, ConnectionJob>;
  malformed: number;
  /** Lines are handled one after another (a submit may await the chain). */
  queue: Promise<void>;
  pendingLines: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/** The id of a JSON object that is not a valid message, so its error reply can still be matched (else null). */
function idOfMalformed(line: string): StratumMessage['id'] {
  try {
    const id = (JSON.parse(line) as { id?: unknown } | null)?.id;
    return typeof id === 'number' || typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

/** A reply error: the Stratum tuple. */
class ShareError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A Stratum V1 server (newline-delimited JSON-RPC over TCP) so external miners mine for the node: mining.subscribe
 * (a unique 4-byte extranonce1 per connection, extranonce2 of 4 bytes), mining.authorize (the username, optionally
 * `address.worker`, must be a P2WPKH/P2TR address of the network: the reward of the blocks mined on that connection
 * goes there), mining.set_difficulty (the share difficulty) and mining.notify (a job per new tip, clean_jobs = true,
 * and per better mempool template, clean_jobs = false; formats in stratumProtocol.ts), mining.submit (share checks:
 * 21 Job not found, 22 Duplicate share, 23 Low difficulty share; a share that meets the block target is submitted to
 * the node as a block, through the same path as network blocks). The coinbase is BlockAssembler's with an 8-byte
 * extranonce push (en1 || en2) after the BIP-34 height; the witness commitment sits in coinb2 when the template
 * needs it (it commits to wtxids, where the coinbase counts as zero, so the extranonce does not change it).
 * A hash that meets the block target is accepted as a share even below the share difficulty, so no block is lost.
 * Limits: max connections, max line length, idle timeout, malformed-line budget, write queue; bad input gets an
 * error reply or a disconnect, never a crash.
 * @see https://en.bitcoin.it/wiki/Stratum_mining_protocol; ckpool stratifier.c; Bitcoin Core rpc/mining.cpp submitblock
 */
export class StratumServer {
  private readonly connections = new Map<number, Connection>();
  private readonly watcher: TemplateWatcher;
  private readonly limits: StratumLimits;
  private readonly shareDifficulty: number;
  private readonly shareTarget: bigint;
  private readonly tag: string;
  private work: Work | undefined;
  private nextConnectionId = 1;
  private nextExtranonce1 = randomBytes(4).readUInt32BE(0);
  private jobSeq = 0;
  private closing: Promise<void> | undefined;
  private readonly counters = {
    sharesAccepted: 0,
    sharesRejected: { stale: 0, duplicate: 0, lowDifficulty: 0, other: 0 },
    blocksFound: 0,
    idleCloses: 0,
    blocksAccepted: 0,
  };

  private constructor(
    private readonly server: Server,
    options: StratumServerOptions,
    private readonly deps: StratumServerDeps,
  ) {
    this.limits = {
      ...STRATUM_DEFAULTS,
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}),
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.maxMalformedLines !== undefined ? { maxMalformedLines: options.maxMalformedLines } : {}),
    };
    this.shareDifficulty = options.shareDifficulty ?? DEFAULT_SHARE_DIFFICULTY;
    this.shareTarget = difficultyToTarget(this.shareDifficulty);
    this.tag = options.tag ?? DEFAULT_COINBASE_TAG;
    this.watcher = new TemplateWatcher(
      options.templateRefreshMs !== undefined ? { refreshIntervalMs: options.templateRefreshMs } : {},
      deps.node,
    );
  }

  /**
   * Listens on host:port and follows the node's tip and mempool for jobs.
   * @throws StratumProtocolError bad-difficulty when shareDifficulty is not a positive number
   * @throws Error (EADDRINUSE …) when the port cannot be bound
   */
  static async start(options: StratumServerOptions, deps: StratumServerDeps): Promise<StratumServer> {
    const server = createServer();
    const stratum = new StratumServer(server, options, deps);
    server.on('connection', (socket) => stratum.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => deps.logger.error({ err }, 'stratum server error'));
    stratum.watcher.start((update) => stratum.onWork(update));
    deps.logger.info({ port: stratum.port, shareDifficulty: stratum.shareDifficulty }, 'stratum server listening');
    return stratum;
  }

  /** The bound TCP port. */
  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** The share difficulty given to miners. */
  get difficulty(): number {
    return this.shareDifficulty;
  }

  /** Counters (a snapshot). */
  get stats(): StratumStats {
    return {
      connections: this.connections.size,
      sharesAccepted: this.counters.sharesAccepted,
      sharesRejected: { ...this.counters.sharesRejected },
      blocksFound: this.counters.blocksFound,
      blocksAccepted: this.counters.blocksAccepted,
      idleCloses: this.counters.idleCloses,
    };
  }

  /** Stops listening, closes every connection and stops following the node (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.watcher.stop();
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const conn of this.connections.values()) conn.socket.destroy();
      await closed;
    })();
    return this.closing;
  }

  /**
   * Registers the server's metrics: cairn_stratum_connections, cairn_stratum_shares_total{result} (accepted | stale |
   * duplicate | low-difficulty | other) and cairn_stratum_blocks_total{result} (found | accepted).
   */
  registerMetrics(registry: Registry): void {
    const stats = (): StratumStats => this.stats;
    new Gauge({
      name: 'cairn_stratum_connections',
      help: 'Open Stratum connections',
      registers: [registry],
      collect() {
        this.set(stats().connections);
      },
    });
    new Counter({
      name: 'cairn_stratum_shares_total',
      help: 'Stratum shares by result',
      labelNames: ['result'] as const,
      registers: [registry],
      collect() {
        const s = stats();
        this.reset();
        this.inc({ result: 'accepted' }, s.sharesAccepted);
        this.inc({ result: 'stale' }, s.sharesRejected.stale);
        this.inc({ result: 'duplicate' }, s.sharesRejected.duplicate);
        this.inc({ result: 'low-difficulty' }, s.sharesRejected.lowDifficulty);
        this.inc({ result: 'other' }, s.sharesRejected.other);
      },
    });
    new Counter({
      name: 'cairn_stratum_blocks_total',
      help: 'Stratum shares that met the block target (found) and those that became the tip (accepted)',
      labelNames: ['result'] as const,
      registers: [registry],
      collect() {
        const s = stats();
        this.reset();
        this.inc({ result: 'found' }, s.blocksFound);
        this.inc({ result: 'accepted' }, s.blocksAccepted);
      },
    });
  }

  // ── connections ───────────────────────────────────────────────────────────────────────────────────────────────

  private accept(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    if (this.closing !== undefined || this.connections.size >= this.limits.maxConnections) {
      this.deps.logger.warn({ remote, connections: this.connections.size }, 'stratum connection refused: too many connections');
      socket.destroy();
      return;
    }
    const extranonce1 = new Uint8Array(EXTRANONCE1_SIZE);
    new DataView(extranonce1.buffer).setUint32(0, this.nextExtranonce1);
    this.nextExtranonce1 = (this.nextExtranonce1 + 1) >>> 0;
    const conn: Connection = {
      id: this.nextConnectionId++,
      socket,
      remote,
      splitter: new LineSplitter(this.limits.maxLineBytes),
      extranonce1,
      subscribed: false,
      workers: new Map(),
      payoutScript: undefined,
      jobs: new Map(),
      malformed: 0,
      queue: Promise.resolve(),
      pendingLines: 0,
      idleTimer: undefined,
    };
    this.connections.set(conn.id, conn);
    socket.setNoDelay(true);
    conn.idleTimer = setTimeout(() => {
      this.deps.logger.info({ remote }, 'stratum connection idle: closing');
      this.counters.idleCloses++;
      socket.destroy();
    }, this.limits.idleTimeoutMs);
    conn.idleTimer.unref();
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => this.deps.logger.debug({ remote, err: err.message }, 'stratum socket error'));
    socket.on('close', () => {
      if (conn.idleTimer) clearTimeout(conn.idleTimer);
      this.connections.delete(conn.id);
      this.deps.logger.debug({ remote }, 'stratum connection closed');
    });
    this.deps.logger.debug({ remote, extranonce1: bytesToHex(extranonce1) }, 'stratum connection');
  }

  private onData(conn: Connection, chunk: Buffer): void {
    conn.idleTimer?.refresh();
    let lines: string[];
    try {
      lines = conn.splitter.push(chunk);
    } catch (err) {
      this.send(conn, { id: null, result: null, error: [STRATUM_ERROR.OTHER, (err as Error).message, null] });
      conn.socket.end();
      conn.socket.destroySoon();
      return;
    }
    conn.pendingLines += lines.length;
    if (conn.pendingLines > this.limits.maxPendingLines) {
      this.deps.logger.info({ remote: conn.remote }, 'stratum connection floods requests: closing');
      conn.socket.destroy();
      return;
    }
    for (const line of lines) {
      conn.queue = conn.queue
        .then(() => this.onLine(conn, line))
        .catch((err: unknown) => this.deps.logger.error({ err, remote: conn.remote }, 'stratum request failed'))
        .finally(() => conn.pendingLines--);
    }
  }

  private async onLine(conn: Connection, line: string): Promise<void> {
    if (conn.socket.destroyed) return;
    let message: StratumMessage;
    try {
      message = parseStratumMessage(line);
    } catch (err) {
      this.malformed(conn, idOfMalformed(line), (err as StratumProtocolError).message);
      return;
    }
    if (message.method === undefined) return; // a response to something we sent: nothing asks for one
    const params = message.params ?? [];
    try {
      switch (message.method) {
        case 'mining.subscribe':
          return this.onSubscribe(conn, message.id);
        case 'mining.authorize':
          return this.onAuthorize(conn, message.id, params);
        case 'mining.submit':
          return await this.onSubmit(conn, message.id, params);
        case 'mining.configure': {
          // BIP-310 extensions (version rolling …) are not offered: each requested one is answered false.
          const requested = Array.isArray(params[0]) ? params[0].filter((x): x is string => typeof x === 'string') : [];
          this.reply(conn, message.id, Object.fromEntries(requested.map((name) => [name, false])));
          return;
        }
        default:
          this.replyError(conn, message.id, [STRATUM_ERROR.OTHER, `Unknown method ${message.method.slice(0, 64)}`, null]);
      }
    } catch (err) {
      if (err instanceof ShareError) this.replyError(conn, message.id, [err.code, err.message, null]);
      else if (err instanceof StratumProtocolError) this.malformed(conn, message.id, err.message);
      else throw err;
    }
  }

  private malformed(conn: Connection, id: StratumMessage['id'], why: string): void {
    conn.malformed++;
    this.replyError(conn, id, [STRATUM_ERROR.OTHER, `Malformed request: ${why}`, null]);
    if (conn.malformed > this.limits.maxMalformedLines) {
      this.deps.logger.info({ remote: conn.remote }, 'stratum connection sent too many malformed lines: closing');
      conn.socket.end();
      conn.socket.destroySoon();
    }
  }

  // ── methods ───────────────────────────────────────────────────────────────────────────────────────────────────

  private onSubscribe(conn: Connection, id: StratumMessage['id']): void {
    const subscriptionId = `${bytesToHex(conn.extranonce1)}${conn.id.toString(16)}`;
    conn.subscribed = true;
    this.reply(conn, id, [
      [
        ['mining.set_difficulty', subscriptionId],
        ['mining.notify', subscriptionId],
      ],
      bytesToHex(conn.extranonce1),
      EXTRANONCE2_SIZE,
    ]);
    if (conn.payoutScript !== undefined) this.sendFirstJob(conn);
  }

  private onAuthorize(conn: Connection, id: StratumMessage['id'], params: readonly unknown[]): void {
    const [username] = params;
    if (typeof username !== 'string' || username.length === 0 || username.length > 256) {
      this.send(conn, { id, result: false, error: [STRATUM_ERROR.UNAUTHORIZED_WORKER, 'Unauthorized worker: no username', null] });
      return;
    }
    const address = username.split('.')[0]!;
    let script: Uint8Array;
    try {
      script = payoutScriptFromAddress(address, this.deps.node.params);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.send(conn, {
        id,
        result: false,
        error: [
          STRATUM_ERROR.UNAUTHORIZED_WORKER,
          `Unauthorized worker: the username must be a P2WPKH or P2TR address of ${this.deps.node.params.name} ` +
            `(${this.deps.node.params.bech32Hrp}1…), optionally followed by .worker (${why})`,
          null,
        ],
      });
      return;
    }
    conn.workers.set(username, script);
    const changed = conn.payoutScript === undefined || bytesToHex(conn.payoutScript) !== bytesToHex(script);
    conn.payoutScript = script;
    this.reply(conn, id, true);
    this.deps.logger.info({ remote: conn.remote, worker: username }, 'stratum worker authorized');
    if (conn.subscribed && changed) this.sendFirstJob(conn);
  }

  private async onSubmit(conn: Connection, id: StratumMessage['id'], params: readonly unknown[]): Promise<void> {
    if (!conn.subscribed) throw new ShareError(STRATUM_ERROR.NOT_SUBSCRIBED, 'Not subscribed');
    const [worker, jobId, extranonce2Hex, ntimeHex, nonceHex] = params;
    if (typeof worker !== 'string' || !conn.workers.has(worker)) throw new ShareError(STRATUM_ERROR.UNAUTHORIZED_WORKER, 'Unauthorized worker');
    const job = typeof jobId === 'string' ? conn.jobs.get(jobId) : undefined;
    if (job === undefined) {
      this.counters.sharesRejected.stale++;
      throw new ShareError(STRATUM_ERROR.JOB_NOT_FOUND, 'Job not found');
    }
    const extranonce2 = stratumHexBytes(extranonce2Hex, EXTRANONCE2_SIZE, 'extranonce2');
    const time = stratumHexToU32(ntimeHex, 'ntime');
    const nonce = stratumHexToU32(nonceHex, 'nonce');
    const { template } = job.work;
    // Jobs of an old tip stay known (so a resubmitted share is still a duplicate) but take no new shares.
    const key = `${bytesToHex(extranonce2)}:${time}:${nonce}`;
    if (job.submitted.has(key)) {
      this.counters.sharesRejected.duplicate++;
      throw new ShareError(STRATUM_ERROR.DUPLICATE_SHARE, 'Duplicate share');
    }
    if (!bytesEqual(template.prevBlock, this.deps.node.chain.tip.hash)) {
      this.counters.sharesRejected.stale++;
      throw new ShareError(STRATUM_ERROR.JOB_NOT_FOUND, 'Job not found (stale: the tip has moved)');
    }
    const { params: chainParams } = this.deps.node;
    if (time < template.minTimeSec || time > this.deps.node.nowSec() + chainParams.maxFutureBlockTimeSec) {
      this.counters.sharesRejected.other++;
      throw new ShareError(STRATUM_ERROR.OTHER, 'ntime out of range');
    }
    const coinbaseBytes = assembleStratumCoinbase(job, conn.extranonce1, extranonce2);
    const header = {
      version: template.version,
      prevBlock: template.prevBlock,
      merkleRoot: computeStratumMerkleRoot(sha256d(coinbaseBytes), job.work.merkleBranch),
      time,
      bits: template.bits,
      nonce,
    };
    const hash = computeBlockHash(header);
    const value = hashToBigInt(hash);
    const isBlock = value <= template.target;
    if (!isBlock && value > job.shareTarget) {
      this.counters.sharesRejected.lowDifficulty++;
      throw new ShareError(STRATUM_ERROR.LOW_DIFFICULTY_SHARE, 'Low difficulty share');
    }
    job.submitted.add(key);
    this.counters.sharesAccepted++;
    this.deps.logger.debug({ remote: conn.remote, worker, jobId, hash: hashToHex(hash) }, 'share accepted');
    if (isBlock) await this.submitBlock(conn, worker, job, coinbaseBytes, header);
    this.reply(conn, id, true);
  }

  private async submitBlock(conn: Connection, worker: string, job: ConnectionJob, coinbaseBytes: Uint8Array, header: Block['header']): Promise<void> {
    const { template } = job.work;
    const decoded = decodeTx(coinbaseBytes);
    // The miner hashes the non-witness coinbase; the block carries the BIP-141 reserved value as its witness.
    const coinbase: Tx = template.witnessCommitment
      ? { ...decoded, inputs: decoded.inputs.map((input, i) => (i === 0 ? { ...input, witness: [new Uint8Array(32)] } : input)) }
      : decoded;
    const block: Block = { header, txs: [coinbase, ...template.txs.map((t) => t.tx)] };
    this.counters.blocksFound++;
    const log = this.deps.logger;
    try {
      const result = await this.deps.node.submitBlock(block);
      if (result.status === 'connected') {
        this.counters.blocksAccepted++;
        log.info({ height: template.height, hash: hashToHex(result.hash), worker, remote: conn.remote }, 'stratum miner found a block');
      } else {
        log.warn({ hash: hashToHex(result.hash), status: result.status, reason: result.reason, worker }, 'stratum block not connected');
      }
    } catch (err) {
      log.error({ err, worker }, 'submitting a stratum block failed');
    }
  }

  // ── jobs ──────────────────────────────────────────────────────────────────────────────────────────────────────

  private onWork(update: WorkUpdate): void {
    const { template } = update;
    const leaves = [new Uint8Array(32), ...template.txs.map((t) => t.txid)];
    this.work = { template, merkleBranch: computeMerkleBranch(leaves, 0) };
    for (const conn of this.connections.values()) {
      if (conn.subscribed && conn.payoutScript !== undefined) this.sendJob(conn, update.cleanJobs);
    }
  }

  private sendFirstJob(conn: Connection): void {
    this.send(conn, { id: null, method: 'mining.set_difficulty', params: [this.shareDifficulty] });
    this.sendJob(conn, true);
  }

  private sendJob(conn: Connection, cleanJobs: boolean): void {
    const work = this.work;
    const payoutScript = conn.payoutScript;
    if (work === undefined || payoutScript === undefined) return;
    const { template } = work;
    const coinbase = buildCoinbaseTx(template, {
      rewardScript: payoutScript,
      extraNonce: new Uint8Array(EXTRANONCE1_SIZE + EXTRANONCE2_SIZE),
      tag: this.tag,
    });
    const { coinb1, coinb2 } = splitStratumCoinbase(coinbase, encodeBip34HeightPush(template.height).length);
    const jobId = (++this.jobSeq).toString(16);
    conn.jobs.set(jobId, { work, coinb1, coinb2, shareTarget: this.shareTarget, submitted: new Set() });
    if (conn.jobs.size > this.limits.jobsKept) conn.jobs.delete(conn.jobs.keys().next().value as string);
    const params = encodeNotifyParams({
      jobId,
      prevHash: template.prevBlock,
      coinb1,
      coinb2,
      merkleBranch: work.merkleBranch,
      version: template.version,
      bits: template.bits,
      time: Math.max(template.minTimeSec, this.deps.node.nowSec()),
      cleanJobs,
    });
    this.send(conn, { id: null, method: 'mining.notify', params });
  }

  // ── output ────────────────────────────────────────────────────────────────────────────────────────────────────

  private reply(conn: Connection, id: StratumMessage['id'], result: unknown): void {
    this.send(conn, { id, result, error: null });
  }

  private replyError(conn: Connection, id: StratumMessage['id'], error: StratumErrorTuple): void {
    this.send(conn, { id, result: null, error });
  }

  private send(conn: Connection, message: Record<string, unknown>): void {
    const { socket } = conn;
    if (socket.destroyed || !socket.writable) return;
    if (socket.writableLength > this.limits.maxQueuedBytes) {
      this.deps.logger.info({ remote: conn.remote }, 'stratum connection does not read: closing');
      socket.destroy();
      return;
    }
    socket.write(`${JSON.stringify(message)}\n`);
  }
}
