/**
 * Helpers for tests and benchmarks of `cairn elect`: a chain dir, the broker and peers as real `cairn` processes,
 * an MQTT observer of a chain's topics, and readers of the peers' stores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { createGenesis, type CreateGenesisOptions, type ElectGenesis } from '../elect/genesis.js';
import { ElectStore, ELECT_STORE_FILE } from '../elect/electStore.js';
import { verifyMessage, type MessageBodies, type MessageType, type SignedEnvelope } from '../elect/message.js';
import { LEADER_TOPIC, TOPIC_OF_TYPE, topicPrefix } from '../elect/mqttTransport.js';
import { writePeerKey } from '../elect/peerKey.js';
import { waitFor } from './waitFor.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built `cairn` entry (dist/, as the other multi-process tests use). */
export const CAIRN_BIN = join(ROOT, 'bin', 'cairn.js');

/** A chain written to disk: genesis.json and peer1..N data dirs with keys. */
export interface ElectChainDir {
  readonly dir: string;
  readonly genesisPath: string;
  readonly genesis: ElectGenesis;
  readonly datadirs: readonly string[];
  readonly privateKeys: readonly Uint8Array[];
}

/** Writes a new chain into `dir` (what `cairn elect init` does). */
export function makeElectChain(dir: string, options: CreateGenesisOptions): ElectChainDir {
  const { genesis, privateKeys } = createGenesis(options);
  mkdirSync(dir, { recursive: true });
  const datadirs = privateKeys.map((privateKey, index) => {
    const d = join(dir, `peer${index + 1}`);
    mkdirSync(d, { recursive: true });
    writePeerKey(d, { chainId: genesis.chainId, index, privateKey });
    return d;
  });
  const genesisPath = join(dir, 'genesis.json');
  writeFileSync(genesisPath, JSON.stringify(genesis, null, 2) + '\n');
  return { dir, genesisPath, genesis, datadirs, privateKeys };
}

/** A `cairn elect broker` process; restart() brings it back on the same port. */
export class ElectBrokerProcess {
  private child: ChildProcess | undefined;
  port = 0;

  /** Starts the broker on `port` (0 = free) and waits for its URL line. */
  async start(port = this.port): Promise<void> {
    const child = spawn(process.execPath, [CAIRN_BIN, 'elect', 'broker', '--port', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const m = await waitFor('the broker URL', () => /mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out) ?? (child.exitCode !== null ? Promise.reject(new Error(`broker exited ${child.exitCode}`)) : undefined), 20_000);
    this.port = Number(m[1]);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** SIGKILLs the broker and waits for it to end. */
  async kill(): Promise<void> {
    await killChild(this.child, 'SIGKILL');
  }

  /** Ends it with SIGINT. */
  async stop(): Promise<void> {
    await killChild(this.child, 'SIGINT');
  }
}

async function killChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await ended;
  clearTimeout(timer);
}

/** A `cairn elect peer` process of a chain dir. */
export class ElectPeerProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(
    readonly chain: ElectChainDir,
    readonly index: number,
    private brokerUrl: string,
    private readonly extraArgs: readonly string[] = [],
  ) {}

  /** Starts (or restarts) the peer. */
  start(): void {
    const args = [CAIRN_BIN, 'elect', 'peer', '--genesis', this.chain.genesisPath, '--datadir', this.chain.datadirs[this.index]!, '--broker', this.brokerUrl, '--threads', '1', ...this.extraArgs];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString('utf8')).slice(-20_000)));
    child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString('utf8')).slice(-20_000)));
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Sends `signal` and waits for the process to end (SIGKILL after 15 s). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await killChild(this.child, signal);
  }
}

/**
 * An MQTT client on a chain's topics: verifies every message with the genesis and tracks the newest leader (from
 * heartbeats), the highest commit, per-type message counts; it can publish raw envelopes (forgeries, for tests).
 */
export class ElectObserver {
  private readonly client: MqttClient;
  private readonly prefix: string;
  leader: { term: number; leader: number } | undefined;
  maxCommitHeight = 0;
  /** Transactions in the commits seen. */
  committedTxs = 0;
  readonly counts = new Map<string, number>();
  private readonly commitListeners = new Set<(height: number) => void>();

  constructor(
    private readonly genesis: ElectGenesis,
    brokerUrl: string,
  ) {
    this.prefix = topicPrefix(genesis.chainId);
    this.client = mqtt.connect(brokerUrl, { clientId: `cairn-elect-observer-${process.pid}-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 300 });
    this.client.on('connect', () => this.client.subscribe(this.prefix + '#', { qos: 1 }));
    this.client.on('error', () => undefined);
    this.client.on('message', (topic, payload) => this.onMessage(topic.slice(this.prefix.length), payload));
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === LEADER_TOPIC) return;
    let header;
    try {
      header = verifyMessage(this.genesis, payload).header;
    } catch {
      return;
    }
    this.counts.set(header.type, (this.counts.get(header.type) ?? 0) + 1);
    if (header.type === 'heartbeat' && (this.leader === undefined || header.term >= this.leader.term)) this.leader = { term: header.term, leader: header.from };
    if (header.type === 'commit') {
      const c = header.body as MessageBodies['commit'];
      if (c.block.height > this.maxCommitHeight) {
        this.maxCommitHeight = c.block.height;
        this.committedTxs += c.block.txs.length;
        for (const l of this.commitListeners) l(c.block.height);
      }
    }
  }

  /** Whether the observer is connected. */
  get connected(): boolean {
    return this.client.connected;
  }

  /** Publishes an envelope on a type's topic as if it came from a peer. */
  publish(type: MessageType, envelope: SignedEnvelope): void {
    this.client.publish(this.prefix + TOPIC_OF_TYPE[type], JSON.stringify(envelope), { qos: 1 });
  }

  /** Waits until a commit above `height` is seen. */
  waitForHeightAbove(height: number, timeoutMs: number): Promise<number> {
    return waitFor(`a commit above height ${height}`, () => (this.maxCommitHeight > height ? this.maxCommitHeight : undefined), timeoutMs, 20);
  }

  close(): Promise<void> {
    return new Promise((r) => this.client.end(true, {}, () => r()));
  }
}

/** The committed chain of a peer's store (block hashes by height, from 1), read-only. */
export function readChainHashes(datadir: string): string[] {
  const store = ElectStore.open(join(datadir, ELECT_STORE_FILE), { readOnly: true });
  try {
    return store.getBlocks(1, 1_000_000).map((b) => b.hash);
  } finally {
    store.close();
  }
}

/** Reads a store's evidence and refused counts (read-only). */
export function readRecords(datadir: string): { evidence: number; refused: Record<string, number> } {
  const store = ElectStore.open(join(datadir, ELECT_STORE_FILE), { readOnly: true });
  try {
    return { evidence: store.getEvidence().length, refused: store.countRefused() };
  } finally {
    store.close();
  }
}

/** Whether a is a prefix of b or b of a. */
export function isPrefixPair(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
