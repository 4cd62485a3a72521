/**
 * `cairn devnet`: a local network of N real `cairn node` processes on the devnet chain (real proof of work), each with
 * its own data dir and fixed ports under one dir, linked with --connect, mining to a demo wallet whose DemoSpender then
 * moves the mined coins around — except node1's, which pays the faucet of a `cairn wallet-service` child (when the devnet
 * has 2 or more nodes); a `cairn exchange serve` child (CRN/USD) on which DemoTraders trade (devnetExchange.ts,
 * demoTraders.ts); a `cairn web` child serving the web UI (explorer, wallet, trading) over node1, the wallet service
 * and the exchange; plus a `cairn log-collector` child consolidating every process's logs. The cluster is
 * described in `<dir>/devnet.json`; running again on the same dir resumes the same chain, ports and wallet.
 *
 * Layout of the dir:
 *   devnet.json            the manifest (DevnetManifest)
 *   demo-wallet.json       the demo wallet (UNENCRYPTED mnemonic: devnet only)
 *   faucet-mnemonic.txt    the wallet service's faucet mnemonic (UNENCRYPTED, mode 0600: devnet only)
 *   wallet-service/        the wallet service's data dir; wallet-service.console.log its output
 *   web/logs/              the web UI server's logs; web.console.log its output
 *   exchange/              the exchange's data dir (command log, snapshots, history, accounts, admin.token, logs/);
 *                          exchange.console.log its output
 *   node<i>/               node i's data dir: chain.sqlite, .cookie, node.json, logs/, console.log
 *   devnet/logs/           the supervisor's own logs
 *   logs/                  consolidated logs (`<day>/<module>.ndjson`), written by the log collector
 *   log-collector.console.log
 */
import { readNodeRuntimeInfo } from '../api/nodeRuntimeInfo.js';
import { cookiePathOf } from '../api/rpc/rpcCookie.js';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { LogLevel } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import { DemoSpender, type DemoSpenderStats, type SpenderNodeView } from './demoSpender.js';
import { DEMO_TRADERS_OFF, DemoTraders } from './demoTraders.js';
import { devnetExchangeRecord, EXCHANGE_PORT_OFFSET, exchangeServeArgs, readExchangeMarket, type DevnetExchangeStatus, type ExchangeMarketView } from './devnetExchange.js';
import { openDemoWallet, type DemoKeys } from './demoWallet.js';
import { DevnetError } from './devnetError.js';
import {
  DEVNET_MANIFEST_VERSION,
  loopbackMultiaddr,
  readManifest,
  writeManifest,
  type DevnetManifest,
  type DevnetNodeRecord,
  type NodePorts,
} from './devnetManifest.js';
import { FAUCET_MNEMONIC_FILE, openFaucetMnemonic } from './faucetMnemonic.js';
import { httpText, parseNodeGauges, type NodeGauges } from './nodeHttp.js';
import { findFreePorts, isPortFree, planNodePorts, WEB_PORT_OFFSET } from './portPlan.js';
import { commandLineOf, findLeftovers, isProcessRunning, stopLeftovers, type Leftover, type LeftoverOutcome, type RecordedProcess } from '../supervisor/leftoverProcesses.js';
import type { ProcessExit, SupervisedProcess } from '../supervisor/supervisedProcess.js';
import { Supervisor } from '../supervisor/supervisor.js';

/** Nodes of a new devnet when --nodes is not given. */
export const DEFAULT_NODE_COUNT = 3;
/** Most nodes a devnet runs (each takes a CPU-heavy miner). */
export const MAX_NODE_COUNT = 16;
/** File name of the demo wallet in the devnet dir. */
export const DEMO_WALLET_FILE = 'demo-wallet.json';

/** How to run the `cairn` command: the same Node binary and entry as the current process. */
export interface CairnInvocation {
  /** The Node executable (process.execPath). */
  readonly command: string;
  /** Arguments before the subcommand: process.execArgv and the entry script. */
  readonly args: readonly string[];
}

/**
 * The devnet nodes' --utxos-limit: every coinbase goes to a mining address or the wallet service's faucet, whose
 * wallets list them through /api/address/:a/utxo (the faucet gets a third of the 720 blocks an hour with 3 nodes);
 * electrs's default of 500 would break the faucet within hours, this lasts weeks.
 */
export const DEVNET_UTXOS_LIMIT = 100_000;

/** The `cairn node` flags this build has (the CLI checks its own command tree). */
export interface NodeFlagSupport {
  readonly p2pPort: boolean;
  readonly connect: boolean;
  readonly nodeName: boolean;
}

/** Options of a devnet (the CLI maps its flags onto them). */
export interface DevnetOptions {
  readonly params: ChainParams;
  /** The devnet dir (made absolute). */
  readonly dir: string;
  /** Node count (default: devnet.json's, else DEFAULT_NODE_COUNT). */
  readonly nodes?: number;
  /** Miner threads per node (default: devnet.json's, else 1). */
  readonly minersPerNode?: number;
  /** Demo transactions per second (default: devnet.json's, else 1; 0 = none). */
  readonly txRate?: number;
  /** Base of the port layout of new nodes (default: free ports). */
  readonly basePort?: number;
  /** Log level of the nodes. */
  readonly logLevel: LogLevel;
  readonly cairn: CairnInvocation;
  /** Start `cairn log-collector` (false when this build has no such command). */
  readonly logCollector: boolean;
  /** Start `cairn wallet-service` with a faucet node1 mines to (needs 2+ nodes; default false). */
  readonly walletService?: boolean;
  /** Start `cairn web` (the UI, proxying to node1 and the wallet service; default false). */
  readonly web?: boolean;
  /** Start `cairn exchange serve` (CRN/USD) with demo traders (default false: a build without `cairn exchange`). */
  readonly exchange?: boolean;
  readonly nodeFlags: NodeFlagSupport;
  /**
   * Time a node gets to stop on SIGINT before SIGKILL, ms (default 30,000; the wallet service and the log collector
   * get at most 15,000). A child whose supervisor is gone holds itself to the same bound.
   */
  readonly stopTimeoutMs?: number;
  /** Status poll period, ms (default 1,000). */
  readonly pollIntervalMs?: number;
}

/** One node's row of the status table. */
export interface NodeStatusRow {
  readonly name: string;
  /** starting (no answer yet) | up | unreachable (ran, no answer now) | restarting | stopping | stopped. */
  readonly state: 'starting' | 'up' | 'unreachable' | 'restarting' | 'stopping' | 'stopped';
  readonly pid: number | undefined;
  /** The last exit when restarting: code or signal. */
  readonly lastExit: ProcessExit | undefined;
  /** Seconds until the restart, when restarting. */
  readonly restartInSec: number | undefined;
  readonly restarts: number;
  readonly gauges: NodeGauges | undefined;
  /** Display hex of the tip. */
  readonly tipHash: string | undefined;
  /** Now − tip header time, seconds. */
  readonly lastBlockAgeSec: number | undefined;
  /** Demo txs broadcast through this node and confirmed. */
  readonly txsConfirmed: number;
}

/** What the status table shows. */
export interface DevnetSnapshot {
  readonly nodes: readonly NodeStatusRow[];
  /** Distinct tips among the nodes that answer (1 = they agree). */
  readonly distinctTips: number;
  readonly wallet: DemoSpenderStats;
  readonly collector: { readonly state: string; readonly pid: number | undefined } | undefined;
  /** The wallet service child, if the devnet runs one. */
  readonly walletService?: { readonly state: string; readonly pid: number | undefined; readonly url: string } | undefined;
  /** The web UI child, if the devnet runs one. */
  readonly web?: { readonly state: string; readonly pid: number | undefined; readonly url: string } | undefined;
  /** The exchange child and its demo traders, if the devnet runs them. */
  readonly exchange?: DevnetExchangeStatus | undefined;
}

/** How each child ended on stop(). */
export interface DevnetStopReport {
  readonly children: readonly { name: string; code: number | null; signal: string | null; killed: boolean }[];
}

/** Hooks of Devnet.open. */
export interface DevnetOpenHooks {
  /**
   * Called before open() stops the processes an earlier supervisor of the dir left running (it was killed and they
   * could not stop themselves): what was found, and that supervisor's pid. open() then stops them (see
   * Devnet.leftovers for the outcome).
   */
  readonly onLeftovers?: (found: readonly Leftover[], previousSupervisorPid: number) => void;
}

interface NodeLive {
  record: DevnetNodeRecord;
  readonly process: SupervisedProcess;
  gauges: NodeGauges | undefined;
  tipHash: string | undefined;
  okAtMs: number;
  everUp: boolean;
  polling: boolean;
}

/** The children devnet.json records, each with the argument that tells it from an unrelated process: its dir. */
function recordedChildren(m: DevnetManifest): RecordedProcess[] {
  return [
    ...m.nodes.map((n) => ({ name: n.name, pid: n.pid, marker: n.datadir })),
    ...(m.collector !== null ? [{ name: 'log-collector', pid: m.collector.pid, marker: m.collector.dir }] : []),
    ...(m.walletService != null ? [{ name: 'wallet-service', pid: m.walletService.pid, marker: m.walletService.datadir }] : []),
    ...(m.web != null ? [{ name: 'web', pid: m.web.pid, marker: m.web.logDir }] : []),
    ...(m.exchange != null ? [{ name: 'exchange', pid: m.exchange.pid, marker: m.exchange.datadir }] : []),
  ];
}

/** True when `pid` runs and is (or, without /proc, may be) a `cairn devnet` process. */
function isDevnetSupervisor(pid: number): boolean {
  if (!isProcessRunning(pid)) return false;
  const args = commandLineOf(pid);
  return args === undefined || args.includes('devnet');
}

/**
 * The wallet service's port: the one devnet.json recorded, else `preferred` (node1's api port + 1, free in the
 * base-port layout) when it is free, else a free port the OS hands out.
 */
async function planServicePort(recorded: number | undefined, preferred: number, taken: ReadonlySet<number>): Promise<number> {
  if (recorded !== undefined) return recorded;
  if (preferred <= 65535 && !taken.has(preferred) && (await isPortFree(preferred))) return preferred;
  const free = (await findFreePorts(1 + taken.size)).filter((p) => !taken.has(p));
  return free[0]!;
}

/** A devnet cluster: open() plans it (and writes devnet.json), start() runs it, stop() ends every child. */
export class Devnet {
  private manifest: DevnetManifest;
  private readonly live: NodeLive[] = [];
  private supervisor: Supervisor | undefined;
  private collector: SupervisedProcess | undefined;
  private walletService: SupervisedProcess | undefined;
  private web: SupervisedProcess | undefined;
  private exchange: SupervisedProcess | undefined;
  private traders: DemoTraders | undefined;
  private exchangeMarket: ExchangeMarketView | undefined;
  private exchangeOkAtMs = 0;
  private exchangeEverUp = false;
  private exchangePolling = false;
  private spender: DemoSpender | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private logger: Logger | undefined;

  private constructor(
    private readonly options: DevnetOptions,
    manifest: DevnetManifest,
    private readonly keys: DemoKeys,
    /** True when devnet.json existed (a resumed devnet). */
    readonly resumed: boolean,
    /** True when the demo wallet was created now. */
    readonly walletCreated: boolean,
    /** Children an earlier supervisor of the dir left running, and how open() stopped them. */
    readonly leftovers: readonly LeftoverOutcome[],
  ) {
    this.manifest = manifest;
  }

  /**
   * Plans the devnet in `options.dir`: reads devnet.json (resume: same nodes, ports, data dirs) or chooses ports for
   * a new one, opens or creates the demo wallet, and writes devnet.json. Starts nothing.
   * Children an earlier supervisor left running (it was killed, and they could not stop themselves) are reported to
   * `hooks.onLeftovers` and stopped first (see leftovers).
   * @throws DevnetError dir-busy (another live `cairn devnet` supervises the dir) | bad-manifest | port-unavailable | bad-option
   */
  static async open(options: DevnetOptions, hooks: DevnetOpenHooks = {}): Promise<Devnet> {
    const dir = resolve(options.dir);
    const previous = readManifest(dir);
    if (previous !== undefined && previous.supervisor.running && previous.supervisor.pid !== process.pid && isDevnetSupervisor(previous.supervisor.pid)) {
      throw new DevnetError('dir-busy', `a cairn devnet (pid ${previous.supervisor.pid}) already runs on ${dir}; stop it first (Ctrl-C in its terminal, or kill -INT ${previous.supervisor.pid})`);
    }
    const found = previous !== undefined ? findLeftovers(recordedChildren(previous)) : [];
    if (found.length > 0) hooks.onLeftovers?.(found, previous!.supervisor.pid);
    const leftovers = await stopLeftovers(found, options.stopTimeoutMs ?? 30_000);
    const nodeCount = options.nodes ?? previous?.nodes.length ?? DEFAULT_NODE_COUNT;
    if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > MAX_NODE_COUNT) {
      throw new DevnetError('bad-option', `--nodes must be 1..${MAX_NODE_COUNT}, got ${nodeCount}`);
    }
    const minersPerNode = options.minersPerNode ?? previous?.minersPerNode ?? 1;
    const txRate = options.txRate ?? previous?.txRate ?? 1;
    if (!Number.isInteger(minersPerNode) || minersPerNode < 1) throw new DevnetError('bad-option', `--miners-per-node must be a positive integer`);
    if (!(txRate >= 0) || !Number.isFinite(txRate) || txRate > 1000) throw new DevnetError('bad-option', `--tx-rate must be 0..1000 tx/s`);

    const walletFile = join(dir, DEMO_WALLET_FILE);
    const { keys, created } = openDemoWallet(walletFile, options.params, nodeCount);
    // The faucet takes node1's coinbases; with a single node they stay with the demo wallet (its only source).
    const withService = options.walletService === true && nodeCount >= 2;
    const faucetMnemonicFile = join(dir, FAUCET_MNEMONIC_FILE);
    const faucetAddress = withService ? openFaucetMnemonic(faucetMnemonicFile, options.params).address : undefined;
    const kept = (previous?.nodes ?? []).slice(0, nodeCount);
    const taken = new Set(kept.flatMap((n) => [n.ports.p2p, n.ports.rpc, n.ports.api, n.ports.stratum]));
    const newPorts = await planNodePorts(kept.length, nodeCount - kept.length, options.basePort, taken);
    for (const p of newPorts) for (const port of Object.values(p)) taken.add(port);
    const nodes: DevnetNodeRecord[] = [];
    for (let i = 0; i < nodeCount; i++) {
      const ports: NodePorts = kept[i]?.ports ?? newPorts[i - kept.length]!;
      const name = `node${i + 1}`;
      const datadir = join(dir, name);
      const peerId = kept[i]?.peerId ?? null;
      nodes.push({
        name,
        datadir,
        ports,
        p2pMultiaddr: loopbackMultiaddr(ports.p2p, peerId),
        peerId,
        apiUrl: `http://127.0.0.1:${ports.api}/api/`,
        rpcUrl: `http://127.0.0.1:${ports.rpc}/`,
        cookieFile: cookiePathOf(datadir),
        logDir: join(datadir, 'logs'),
        consoleLog: join(datadir, 'console.log'),
        miningAddress: i === 0 && faucetAddress !== undefined ? faucetAddress : keys.miningAddress(i).address,
        pid: kept[i]?.pid ?? null,
      });
    }
    const supervisorLogDir = join(dir, 'devnet', 'logs');
    let walletService: DevnetManifest['walletService'] = null;
    if (faucetAddress !== undefined) {
      const port = await planServicePort(previous?.walletService?.port, nodes[0]!.ports.api + 1, taken);
      walletService = { url: `http://127.0.0.1:${port}`, port, datadir: join(dir, 'wallet-service'), faucetMnemonicFile, faucetAddress, pid: previous?.walletService?.pid ?? null };
      taken.add(port);
    }
    let web: DevnetManifest['web'] = null;
    if (options.web === true) {
      // node1's api port + 5: free in the base-port layout (+0 api, +1 wallet service, +2 rpc, +3 p2p, +4 stratum).
      const port = await planServicePort(previous?.web?.port, nodes[0]!.ports.api + WEB_PORT_OFFSET, taken);
      web = { url: `http://127.0.0.1:${port}/`, port, logDir: join(dir, 'web', 'logs'), pid: previous?.web?.pid ?? null };
      taken.add(port);
    }
    let exchange: DevnetManifest['exchange'] = null;
    if (options.exchange === true) {
      // node1's api port + 6: free in the base-port layout (+5 is the web UI).
      const port = await planServicePort(previous?.exchange?.port, nodes[0]!.ports.api + EXCHANGE_PORT_OFFSET, taken);
      exchange = devnetExchangeRecord(dir, port, previous?.exchange?.pid ?? null);
      taken.add(port);
    }
    const manifest: DevnetManifest = {
      version: DEVNET_MANIFEST_VERSION,
      network: 'devnet',
      dir,
      createdAtSec: previous?.createdAtSec ?? Math.floor(Date.now() / 1000),
      supervisor: { pid: process.pid, running: false, startedAtSec: Math.floor(Date.now() / 1000), logDir: supervisorLogDir },
      minersPerNode,
      txRate,
      nodes,
      collector: options.logCollector
        ? {
            dir: join(dir, 'logs'),
            sources: [
              ...nodes.map((n) => n.logDir),
              supervisorLogDir,
              ...(walletService !== null ? [join(walletService.datadir, 'logs')] : []),
              ...(web !== null ? [web.logDir] : []),
              ...(exchange !== null ? [exchange.logDir] : []),
            ],
            pid: null,
          }
        : null,
      walletService,
      web,
      exchange,
      demoWallet: { file: walletFile },
    };
    writeManifest(manifest);
    return new Devnet({ ...options, dir }, manifest, keys, previous !== undefined, created, leftovers);
  }

  /** devnet.json as last written. */
  getManifest(): DevnetManifest {
    return this.manifest;
  }

  private update(change: (m: DevnetManifest) => DevnetManifest): void {
    this.manifest = change(this.manifest);
    writeManifest(this.manifest);
  }

  private setNodeRecord(index: number, patch: Partial<DevnetNodeRecord>): void {
    this.update((m) => ({ ...m, nodes: m.nodes.map((n, i) => (i === index ? { ...n, ...patch } : n)) }));
    const live = this.live[index];
    if (live !== undefined) live.record = this.manifest.nodes[index]!;
  }

  /** The `cairn node` arguments of node `index`. */
  nodeArgs(index: number): string[] {
    const n = this.manifest.nodes[index]!;
    const { nodeFlags } = this.options;
    const args = [
      'node',
      '--network', this.options.params.name,
      '--datadir', n.datadir,
      '--rpcport', String(n.ports.rpc),
      '--api-port', String(n.ports.api),
      '--stratum-port', String(n.ports.stratum),
      '--log-level', this.options.logLevel,
      '--status-interval', '10',
      '--mine',
      '--miners', String(this.manifest.minersPerNode),
      '--mining-address', n.miningAddress,
      '--utxos-limit', String(DEVNET_UTXOS_LIMIT),
    ];
    if (nodeFlags.p2pPort) args.push('--p2p-port', String(n.ports.p2p));
    if (nodeFlags.nodeName) args.push('--node-name', n.name);
    // Every node dials the earlier ones; their ports are known up front, so no peer id is needed.
    if (nodeFlags.connect) for (const earlier of this.manifest.nodes.slice(0, index)) args.push('--connect', loopbackMultiaddr(earlier.ports.p2p));
    return args;
  }

  /** The `cairn wallet-service` arguments (undefined when the devnet runs none). */
  walletServiceArgs(): string[] | undefined {
    const w = this.manifest.walletService;
    if (w == null) return undefined;
    return [
      'wallet-service',
      '--network', this.options.params.name,
      '--node', this.manifest.nodes[0]!.apiUrl.replace(/\/$/, ''),
      '--port', String(w.port),
      '--datadir', w.datadir,
      '--faucet-mnemonic-file', w.faucetMnemonicFile,
      '--log-level', this.options.logLevel,
    ];
  }

  /** The `cairn web` arguments (undefined when the devnet runs none): node1's REST API, the wallet service, the exchange, every node. */
  webArgs(): string[] | undefined {
    const w = this.manifest.web;
    if (w == null) return undefined;
    const service = this.manifest.walletService;
    return [
      'web',
      '--network', this.options.params.name,
      '--node', this.manifest.nodes[0]!.apiUrl.replace(/\/$/, ''),
      ...(service != null ? ['--wallet-service', service.url] : []),
      ...(this.manifest.exchange != null ? ['--exchange', this.manifest.exchange.url] : []),
      '--port', String(w.port),
      '--log-dir', w.logDir,
      '--log-level', this.options.logLevel,
      ...this.manifest.nodes.flatMap((n) => ['--devnet-node', `${n.name}=${n.apiUrl.replace(/\/$/, '')}`]),
    ];
  }

  /** Starts the nodes, the log collector, the wallet service, the web UI, the status poll and the demo spender. */
  start(deps: { logger?: Logger } = {}): void {
    this.logger = deps.logger;
    const { cairn } = this.options;
    this.update((m) => ({ ...m, supervisor: { ...m.supervisor, pid: process.pid, running: true, startedAtSec: Math.floor(Date.now() / 1000) } }));
    // Started in this order; stopped web UI and wallet service first (clients of node1), then the nodes, then the collector.
    const supervisor = new Supervisor(this.logger !== undefined ? { logger: this.logger } : {});
    this.supervisor = supervisor;
    const nodeStopTimeoutMs = this.options.stopTimeoutMs ?? 30_000;
    const serviceStopTimeoutMs = Math.min(nodeStopTimeoutMs, 15_000);
    this.manifest.nodes.forEach((record, index) => {
      const proc = supervisor.add({
        name: record.name,
        command: cairn.command,
        args: [...cairn.args, ...this.nodeArgs(index)],
        consoleFile: record.consoleLog,
        stopTimeoutMs: nodeStopTimeoutMs,
        stopStage: 1,
      });
      proc.onStart = (pid) => this.setNodeRecord(index, { pid });
      this.live.push({ record, process: proc, gauges: undefined, tipHash: undefined, okAtMs: 0, everUp: false, polling: false });
    });
    const collectorRecord = this.manifest.collector;
    if (collectorRecord !== null) {
      const args = ['log-collector', '--dir', collectorRecord.dir, ...collectorRecord.sources.flatMap((s) => ['--source', s])];
      this.collector = supervisor.add({
        name: 'log-collector',
        command: cairn.command,
        args: [...cairn.args, ...args],
        consoleFile: join(this.manifest.dir, 'log-collector.console.log'),
        stopTimeoutMs: serviceStopTimeoutMs,
        stopStage: 2,
      });
      this.collector.onStart = (pid) => this.update((m) => ({ ...m, collector: m.collector === null ? null : { ...m.collector, pid } }));
    }
    const serviceArgs = this.walletServiceArgs();
    if (serviceArgs !== undefined) {
      this.walletService = supervisor.add({
        name: 'wallet-service',
        command: cairn.command,
        args: [...cairn.args, ...serviceArgs],
        consoleFile: join(this.manifest.dir, 'wallet-service.console.log'),
        stopTimeoutMs: serviceStopTimeoutMs,
        stopStage: 0,
      });
      this.walletService.onStart = (pid) => this.update((m) => ({ ...m, walletService: m.walletService == null ? null : { ...m.walletService, pid } }));
    }
    const webArgs = this.webArgs();
    if (webArgs !== undefined) {
      this.web = supervisor.add({
        name: 'web',
        command: cairn.command,
        args: [...cairn.args, ...webArgs],
        consoleFile: join(this.manifest.dir, 'web.console.log'),
        stopTimeoutMs: serviceStopTimeoutMs,
        stopStage: 0,
      });
      this.web.onStart = (pid) => this.update((m) => ({ ...m, web: m.web == null ? null : { ...m.web, pid } }));
    }
    this.addExchange(supervisor, serviceStopTimeoutMs);
    // However this process ends — stop(), a crash, a SIGKILL — the children's links close and they stop themselves.
    supervisor.startAll();
    this.traders?.start();

    this.spender = new DemoSpender(
      { params: this.options.params, txRate: this.manifest.txRate, nodeCount: this.manifest.nodes.length },
      { keys: this.keys, nodes: () => this.spenderView(), ...(this.logger ? { logger: this.logger } : {}) },
    );
    this.spender.start();
    const period = this.options.pollIntervalMs ?? 1_000;
    this.pollTimer = setInterval(() => this.pollAll(period), period);
    this.pollAll(period);
  }

  /** Adds the `cairn exchange serve` child (stopped with the wallet service, before the nodes) and its demo traders. */
  private addExchange(supervisor: Supervisor, stopTimeoutMs: number): void {
    const record = this.manifest.exchange;
    if (record == null) return;
    const { cairn } = this.options;
    this.exchange = supervisor.add({
      name: 'exchange',
      command: cairn.command,
      args: [...cairn.args, ...exchangeServeArgs(record, this.options.params.name, this.options.logLevel, this.manifest.nodes[0]!.apiUrl)],
      consoleFile: record.consoleLog,
      stopTimeoutMs,
      stopStage: 0,
    });
    this.exchange.onStart = (pid) => this.update((m) => ({ ...m, exchange: m.exchange == null ? null : { ...m.exchange, pid } }));
    this.traders = new DemoTraders(
      {
        baseUrl: record.url,
        symbol: record.symbol,
        // CRN by real deposits from the demo wallet (the spender's coins, paid inside its loop); nothing else.
        payDeposit: (address, valueSats) => (this.spender !== undefined ? this.spender.pay(address, valueSats) : Promise.reject(new Error('the demo wallet is not running yet'))),
      },
      this.logger !== undefined ? { logger: this.logger } : {},
    );
  }

  /** Polls the exchange's market for the table (one poll at a time). */
  private pollExchange(timeoutMs: number): void {
    const record = this.manifest.exchange;
    if (record == null || this.exchangePolling || this.exchange?.state !== 'running') return;
    this.exchangePolling = true;
    readExchangeMarket(record, timeoutMs)
      .then((market) => {
        this.exchangeMarket = market;
        this.exchangeOkAtMs = Date.now();
        this.exchangeEverUp = true;
      })
      .catch(() => undefined) // not up yet, or gone: the line shows it
      .finally(() => (this.exchangePolling = false));
  }

  private spenderView(): SpenderNodeView[] {
    const now = Date.now();
    return this.live.map((l, index) => ({
      index,
      apiUrl: l.record.apiUrl,
      up: l.process.state === 'running' && now - l.okAtMs < 3_000,
      height: l.gauges?.height ?? -1,
    }));
  }

  private pollAll(periodMs: number): void {
    this.pollExchange(Math.max(300, periodMs - 100));
    for (const [index, live] of this.live.entries()) {
      if (live.polling || live.process.state !== 'running') continue;
      live.polling = true;
      void this.pollNode(index, live, Math.max(300, periodMs - 100)).finally(() => (live.polling = false));
    }
  }

  private async pollNode(index: number, live: NodeLive, timeoutMs: number): Promise<void> {
    try {
      const base = `http://127.0.0.1:${live.record.ports.api}`;
      const [metrics, tipHash] = await Promise.all([httpText(`${base}/metrics`, timeoutMs), httpText(`${base}/api/blocks/tip/hash`, timeoutMs)]);
      live.gauges = parseNodeGauges(metrics);
      live.tipHash = tipHash.trim();
      live.okAtMs = Date.now();
      live.everUp = true;
    } catch {
      // Not up yet, or gone: the row shows it.
    }
    if (live.record.peerId === null) this.readNodeInfo(index, live);
  }

  /** Picks up the peer id from the node's node.json, for devnet.json's p2p multiaddr. */
  private readNodeInfo(index: number, live: NodeLive): void {
    // Undefined while not written yet or being rewritten: next poll.
    const info = readNodeRuntimeInfo(live.record.datadir);
    if (typeof info?.peerId === 'string' && info.peerId.length > 0) {
      this.setNodeRecord(index, { peerId: info.peerId, p2pMultiaddr: loopbackMultiaddr(live.record.ports.p2p, info.peerId) });
    }
  }

  /** The status table's data now. */
  snapshot(): DevnetSnapshot {
    const now = Date.now();
    const wallet = this.spender?.getStats() ?? {
      state: 'off' as const, sent: 0, confirmed: 0, failed: 0, dropped: 0, pending: 0, confirmedByNode: [], spendableSats: 0n, immatureSats: 0n, tipHeight: -1,
    };
    const nodes = this.live.map((l, i): NodeStatusRow => {
      const p = l.process;
      const fresh = now - l.okAtMs < 3_000;
      const state: NodeStatusRow['state'] =
        p.state === 'running' ? (fresh ? 'up' : l.everUp ? 'unreachable' : 'starting') : p.state;
      return {
        name: l.record.name,
        state,
        pid: p.pid,
        lastExit: p.lastExit,
        restartInSec: p.restartAtMs !== undefined ? Math.max(0, Math.ceil((p.restartAtMs - now) / 1000)) : undefined,
        restarts: Math.max(0, p.starts - 1),
        gauges: l.gauges,
        tipHash: l.tipHash,
        lastBlockAgeSec: l.gauges !== undefined && Number.isFinite(l.gauges.tipTimeSec) ? Math.max(0, Math.round(now / 1000 - l.gauges.tipTimeSec)) : undefined,
        txsConfirmed: wallet.confirmedByNode[i] ?? 0,
      };
    });
    const tips = new Set(this.live.filter((l) => now - l.okAtMs < 3_000 && l.tipHash !== undefined).map((l) => l.tipHash));
    return {
      nodes,
      distinctTips: tips.size,
      wallet,
      collector: this.collector ? { state: this.collector.state, pid: this.collector.pid } : undefined,
      walletService:
        this.walletService && this.manifest.walletService != null
          ? { state: this.walletService.state, pid: this.walletService.pid, url: this.manifest.walletService.url }
          : undefined,
      web: this.web && this.manifest.web != null ? { state: this.web.state, pid: this.web.pid, url: this.manifest.web.url } : undefined,
      exchange:
        this.exchange && this.manifest.exchange != null
          ? {
              // As a node's row: starting (no answer yet) | up | unreachable (answered before, not now) | the child's state.
              state: this.exchange.state === 'running' ? (now - this.exchangeOkAtMs < 3_000 ? 'up' : this.exchangeEverUp ? 'unreachable' : 'starting') : this.exchange.state,
              pid: this.exchange.pid,
              url: this.manifest.exchange.url,
              symbol: this.manifest.exchange.symbol,
              market: this.exchangeMarket,
              traders: this.traders?.getStats() ?? DEMO_TRADERS_OFF,
            }
          : undefined,
    };
  }

  /**
   * Stops everything: the demo spender and traders, then the wallet service (a client of node1) and the exchange, then every node (SIGINT, SIGKILL
   * after stopTimeoutMs), then the log collector (so it takes the nodes' last lines), and marks devnet.json as not
   * running.
   */
  async stop(): Promise<DevnetStopReport> {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    await Promise.all([this.spender?.stop(), this.traders?.stop()]);
    const children = (await this.supervisor?.stop()) ?? [];
    const report = children.map(({ name, code, signal, killed }) => ({ name, code, signal, killed }));
    this.update((m) => ({ ...m, supervisor: { ...m.supervisor, running: false } }));
    this.logger?.info({ children: report }, 'devnet stopped');
    return { children: report };
  }
}
