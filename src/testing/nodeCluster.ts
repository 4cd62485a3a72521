/**
 * Test and benchmark helper that runs real `cairn node` processes on regtest (spawned through tsx from the sources,
 * every port ephemeral) and talks to them the way scripts do: ports and peer id from `<datadir>/node.json`, JSON-RPC
 * with the cookie of `<datadir>/.cookie`, Esplora REST on the API port. Every wait is bounded by a deadline. For
 * tests and benchmarks only (production code never imports src/testing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNodeRuntimeInfo, removeNodeRuntimeInfo } from '../api/nodeRuntimeInfo.js';
import type { NodeRuntimeInfo } from '../interfaces/nodeRuntimeInfo.js';
import { cookiePathOf } from '../api/rpc/rpcCookie.js';
import { waitFor } from './waitFor.js';

export { waitFor };

/** The repository root (src/testing/../..), from which `src/cli/run.ts` is spawned. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What `<datadir>/node.json` holds (see src/api/nodeRuntimeInfo.ts). */
export type NodeJson = NodeRuntimeInfo;

/** A JSON-RPC error reply, thrown by NodeProcess.rpc. */
export class NodeRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(`${method}: ${message} (code ${code})`);
  }
}

/** Options of NodeProcess.start. */
export interface StartNodeOptions {
  /** Name in logs, node.json and error messages (`--node-name`). */
  readonly name: string;
  /** Data dir (created if missing); reuse one to restart a node on the same chain. */
  readonly datadir: string;
  /** `--connect` addresses. */
  readonly connect?: readonly string[];
  /** Further `cairn node` flags. */
  readonly extraArgs?: readonly string[];
  /**
   * Script-checking threads (`--script-threads`); default 1: inline, no worker threads, for many processes on few
   * cores; null: the node's own default (every core).
   */
  readonly scriptThreads?: number | null;
  /** Flags for the Node.js binary itself, before `--import tsx` (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Longest wait for node.json, ms (default 90,000). */
  readonly startTimeoutMs?: number;
}

/** A running `cairn node --network regtest` child process with helpers to drive it. */
export class NodeProcess {
  private out = '';
  private cookie: string | undefined;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string | null>;

  private constructor(
    readonly name: string,
    readonly datadir: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.append(d));
    child.stderr?.on('data', (d: Buffer) => this.append(d));
    this.exited = new Promise((res) => child.once('exit', (code, signal) => res(code ?? signal)));
  }

  /** What node.json said at start. Set by start(). */
  info!: NodeJson;

  /**
   * Spawns `node --import tsx src/cli/run.ts node --network regtest` on ephemeral ports (rpc, api, stratum, p2p) and
   * waits until it has written a node.json newer than the spawn (a stale one of an earlier run is removed first).
   * @throws Error with the process output when it exits or times out before that
   */
  static async start(options: StartNodeOptions): Promise<NodeProcess> {
    removeNodeRuntimeInfo(options.datadir);
    const args = [
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      join(REPO_ROOT, 'src/cli/run.ts'),
      'node',
      '--network',
      'regtest',
      '--datadir',
      options.datadir,
      '--rpcport',
      '0',
      '--api-port',
      '0',
      '--stratum-port',
      '0',
      '--p2p-port',
      '0',
      '--status-interval',
      '0',
      '--node-name',
      options.name,
      ...(options.scriptThreads === null ? [] : ['--script-threads', String(options.scriptThreads ?? 1)]),
      ...(options.connect ?? []).flatMap((a) => ['--connect', a]),
      ...(options.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const node = new NodeProcess(options.name, options.datadir, child);
    let info: NodeJson | 'exited';
    try {
      info = await waitFor(
        `${options.name} to write node.json`,
        () => {
          if (child.exitCode !== null || child.signalCode !== null) return 'exited' as const;
          return readNodeRuntimeInfo(options.datadir);
        },
        options.startTimeoutMs ?? 90_000,
        100,
      );
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not start: ${(err as Error).message}\n${node.out}`);
    }
    if (info === 'exited') {
      await node.exited;
      throw new Error(`${options.name} exited before writing node.json (code ${String(child.exitCode ?? child.signalCode)}):\n${node.out}`);
    }
    node.info = info;
    return node;
  }

  private append(d: Buffer): void {
    this.out += d.toString();
    if (this.out.length > 200_000) this.out = this.out.slice(-100_000);
  }

  /** Everything the process printed (stdout and stderr, the last ~100 kB). */
  output(): string {
    return this.out;
  }

  /**
   * The node's log lines so far (`<datadir>/logs`: the rotated NDJSON files, oldest first, then current.ndjson),
   * parsed; lines with `msg` equal to `msg` only, when given.
   */
  logEntries(msg?: string): Record<string, unknown>[] {
    const dir = join(this.datadir, 'logs');
    const rotated = existsSync(join(dir, 'rotated'))
      ? readdirSync(join(dir, 'rotated'))
          .filter((f) => f.endsWith('.ndjson'))
          .sort()
          .map((f) => join(dir, 'rotated', f))
      : [];
    const files = [...rotated, ...(existsSync(join(dir, 'current.ndjson')) ? [join(dir, 'current.ndjson')] : [])];
    const out: Record<string, unknown>[] = [];
    for (const file of files) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue; // a line being written
        }
        if (msg === undefined || entry.msg === msg) out.push(entry);
      }
    }
    return out;
  }

  /** The libp2p peer id. */
  get peerId(): string {
    if (this.info.peerId === null) throw new Error(`${this.name} runs without p2p`);
    return this.info.peerId;
  }

  /** The loopback TCP multiaddr with /p2p/<id>, for --connect and addnode. */
  get p2pAddr(): string {
    const addr = this.info.p2pAddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/')) ?? this.info.p2pAddrs[0];
    if (addr === undefined) throw new Error(`${this.name} has no p2p address`);
    return addr;
  }

  /** The p2p TCP port. */
  get p2pPort(): number {
    return Number(/\/tcp\/(\d+)/.exec(this.p2pAddr)![1]);
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * One JSON-RPC call with cookie auth; returns the result. @throws NodeRpcError on an error reply, Error on a transport
   * failure or when `timeoutMs` (default 120,000) passes
   */
  async rpc<T = unknown>(method: string, params: readonly unknown[] = [], timeoutMs = 120_000): Promise<T> {
    this.cookie ??= readFileSync(this.info.cookieFile ?? cookiePathOf(this.datadir), 'utf8').trim();
    const res = await fetch(`http://127.0.0.1:${this.info.rpcPort}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(this.cookie).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let reply: { result?: T; error?: { code: number; message: string } | null };
    try {
      reply = JSON.parse(text) as typeof reply;
    } catch {
      throw new Error(`${this.name} ${method}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
    if (reply.error) throw new NodeRpcError(method, reply.error.code, reply.error.message);
    return reply.result as T;
  }

  /** An Esplora REST call under /api; returns status and body text. */
  async rest(path: string, init?: RequestInit): Promise<{ status: number; text: string }> {
    const res = await fetch(`http://127.0.0.1:${this.info.apiPort}/api${path}`, { signal: AbortSignal.timeout(30_000), ...init });
    return { status: res.status, text: await res.text() };
  }

  /** The active tip: height and hash (one REST round trip each). */
  async tip(): Promise<{ height: number; hash: string }> {
    const [height, hash] = await Promise.all([this.rest('/blocks/tip/height'), this.rest('/blocks/tip/hash')]);
    return { height: Number(height.text), hash: hash.text };
  }

  /** The active tip hash (REST /blocks/tip/hash). */
  async tipHash(): Promise<string> {
    return (await this.rest('/blocks/tip/hash')).text;
  }

  /** The txids in the mempool (REST /mempool/txids). */
  async mempoolTxids(): Promise<string[]> {
    return JSON.parse((await this.rest('/mempool/txids')).text) as string[];
  }

  /** libp2p peer ids of the peers that finished the status handshake (getpeerinfo). */
  async peerIds(): Promise<string[]> {
    const peers = await this.rpc<{ peerid?: string }[]>('getpeerinfo');
    return peers.map((p) => p.peerid ?? '');
  }

  /** Mines `count` blocks to `address` (generatetoaddress) and returns their hashes. */
  async generate(count: number, address: string): Promise<string[]> {
    return this.rpc<string[]>('generatetoaddress', [count, address], 600_000);
  }

  /** Sends a signal (default SIGKILL) if the process still runs. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs` (default 10,000); resolves when the process is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * A group of node processes sharing one temporary root folder (each node's data dir is `<root>/<name>`). close()
 * stops every process (SIGTERM, then SIGKILL) and removes the folder; call it in after().
 */
export class NodeCluster {
  /** The temporary root folder. */
  readonly root: string;
  readonly nodes: NodeProcess[] = [];

  constructor(prefix = 'cairn-cluster-') {
    this.root = mkdtempSync(join(tmpdir(), prefix));
  }

  /** Starts a node named `name` with its data dir under the root (see NodeProcess.start). */
  async start(name: string, options: Omit<StartNodeOptions, 'name' | 'datadir'> & { datadir?: string } = {}): Promise<NodeProcess> {
    const node = await NodeProcess.start({ ...options, name, datadir: options.datadir ?? join(this.root, name) });
    this.nodes.push(node);
    return node;
  }

  /** Stops every node still running (in parallel) and removes the root folder. */
  async close(graceMs = 5_000): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop(graceMs).catch(() => n.kill('SIGKILL'))));
    rmSync(this.root, { recursive: true, force: true });
  }
}
