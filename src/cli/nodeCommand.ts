import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { LogLevel } from '../logging/logger.js';
import { formatHashRate } from '../mining/hashRate.js';
import { payoutScriptFromAddress } from '../mining/payoutAddress.js';
import type { NodeRunOptions, RunningNode } from '../node/runNode.js';
import { formatPeersStatus } from '../p2p/peers/peerManager.js';
import type { ChainParams } from '../params/chainParams.js';
import { networkOption } from './decodeCommands.js';
import { defaultDatadir } from './datadir.js';
import { CliError } from './input.js';

/** Parses --utxos-limit (a positive integer). @throws CliError */
export function parseUtxosLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(`--utxos-limit must be a positive integer, got ${value}`);
  }
  return n;
}

/** Parses a TCP port flag (0 = ephemeral). @throws CliError */
export function parsePort(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new CliError(`${flag} must be a port number 0..65535, got '${value}'`);
  return Number(value);
}

/** The one-line status `cairn node` prints every few seconds. */
export function formatStatusLine(running: RunningNode): string {
  const node = running.context;
  const tip = node.chain.tip;
  const ageSec = Math.max(0, node.nowSec() - tip.header.time);
  const hashRate = node.mining.hashesPerSecond();
  return [
    `height ${tip.height}`,
    `tip ${tip.hashHex.slice(0, 16)}…`,
    `age ${ageSec}s`,
    running.networker !== undefined ? formatPeersStatus(running.networker.health(), node.nowSec()) : `peers ${node.network.peers().length}`,
    ...syncPart(running),
    `mempool ${node.mempool.size} tx / ${node.mempool.totalVsize} vB`,
    `hashrate ${formatHashRate(hashRate)}`,
    ...(running.mining.isMining() ? [`mined ${running.mining.stats.blocksAccepted}`] : []),
  ].join(' | ');
}

/**
 * The sync part of the status line while headers-first sync runs: "sync 1200/2000 (60%) 310 blk/s eta 3s"; while
 * blocks of known headers are missing and no sync runs: "sync 1200/2000 (60%) stalled".
 */
function syncPart(running: RunningNode): string[] {
  const progress = running.networker?.syncProgress;
  if (progress === undefined || progress.headersHeight <= progress.blocksHeight) return [];
  const pct = progress.headersHeight > 0 ? Math.floor((progress.blocksHeight / progress.headersHeight) * 100) : 0;
  if (!progress.active) return [`sync ${progress.blocksHeight}/${progress.headersHeight} (${pct}%) stalled`];
  const eta = progress.etaSec !== undefined ? ` eta ${Math.ceil(progress.etaSec)}s` : '';
  return [`sync ${progress.blocksHeight}/${progress.headersHeight} (${pct}%) ${progress.blocksPerSec.toFixed(0)} blk/s${eta}`];
}

/**
 * A terminal progress bar (cli-progress) shown while the node downloads more than `minGap` blocks from peers:
 * blocks, headers, blocks/s and ETA. Only on a TTY; returns a function that removes it.
 */
function showSyncProgressBar(running: RunningNode, minGap = 50): () => void {
  const networker = running.networker;
  if (networker === undefined || !process.stdout.isTTY) return () => undefined;
  let bar: cliProgress.SingleBar | undefined;
  const unsubscribe = networker.onSyncProgress((p) => {
    const gap = p.headersHeight - p.blocksHeight;
    if (bar === undefined) {
      if (!p.active || gap < minGap) return;
      bar = new cliProgress.SingleBar(
        {
          format: 'sync [{bar}] {value}/{total} blocks | headers {headers} | {rate} blk/s | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(p.headersHeight, p.blocksHeight, { headers: p.headersHeight, rate: '0' });
      return;
    }
    bar.setTotal(p.headersHeight);
    bar.update(p.blocksHeight, { headers: p.headersHeight, rate: p.blocksPerSec.toFixed(0) });
    if (!p.active || gap === 0) {
      bar.stop();
      bar = undefined;
    }
  });
  return () => {
    unsubscribe();
    bar?.stop();
  };
}

interface NodeFlags {
  network: string;
  datadir?: string;
  rpcport?: string;
  apiPort?: string;
  utxosLimit?: string;
  rpcuser?: string;
  rpcpassword?: string;
  host: string;
  logLevel: string;
  statusInterval: string;
  scriptThreads?: string;
  mine?: boolean;
  miners: string;
  miningAddress?: string;
  mineInterval?: string;
  stratumPort?: string;
  stratumDifficulty?: string;
  p2p: boolean;
  p2pPort?: string;
  port?: string;
  connect: string[];
  bootstrap: string[];
  mdns?: boolean;
  nodeName?: string;
}

/** Collects a repeatable flag's values. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses a positive integer flag. @throws CliError */
function positiveInteger(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new CliError(`${flag} must be a positive integer, got '${value}'`);
  }
  return Number(value);
}

/** The mining flags as NodeRunOptions fields. @throws CliError on a missing or invalid mining address or bad numbers */
function miningOptions(flags: NodeFlags, params: ChainParams): Partial<NodeRunOptions> {
  const addressHelp = `a P2WPKH or P2TR address of ${params.name} (${params.bech32Hrp}1…)`;
  if (flags.mine && flags.miningAddress === undefined) throw new CliError(`--mine needs --mining-address <address>: ${addressHelp}`);
  if (flags.miningAddress !== undefined) {
    try {
      payoutScriptFromAddress(flags.miningAddress, params);
    } catch (err) {
      throw new CliError(`--mining-address must be ${addressHelp}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let stratumDifficulty: number | undefined;
  if (flags.stratumDifficulty !== undefined) {
    stratumDifficulty = /^\d+(\.\d+)?(e-?\d+)?$/i.test(flags.stratumDifficulty) ? Number(flags.stratumDifficulty) : NaN;
    if (!(stratumDifficulty > 0) || !Number.isFinite(stratumDifficulty)) {
      throw new CliError(`--stratum-difficulty must be a positive number, got '${flags.stratumDifficulty}'`);
    }
  }
  let mineIntervalMs: number | undefined;
  if (flags.mineInterval !== undefined) {
    if (!/^\d+$/.test(flags.mineInterval)) throw new CliError(`--mine-interval must be milliseconds >= 0, got '${flags.mineInterval}'`);
    mineIntervalMs = Number(flags.mineInterval);
  }
  return {
    mine: flags.mine === true,
    miners: positiveInteger(flags.miners, '--miners'),
    ...(flags.miningAddress !== undefined ? { miningAddress: flags.miningAddress } : {}),
    ...(mineIntervalMs !== undefined ? { mineIntervalMs } : {}),
    ...(flags.stratumPort !== undefined ? { stratumPort: parsePort(flags.stratumPort, '--stratum-port') } : {}),
    ...(stratumDifficulty !== undefined ? { stratumDifficulty } : {}),
  };
}

/**
 * The p2p listen port from --p2p-port or its alias --port (Bitcoin Core's -port): undefined when neither is given
 * (the network default applies), the same port when both name it.
 * @throws CliError when the two flags disagree or the value is not a port
 */
export function resolveP2pPortFlag(flags: { p2pPort?: string; port?: string }): number | undefined {
  const p2p = flags.p2pPort !== undefined ? parsePort(flags.p2pPort, '--p2p-port') : undefined;
  const port = flags.port !== undefined ? parsePort(flags.port, '--port') : undefined;
  if (p2p !== undefined && port !== undefined && p2p !== port) {
    throw new CliError(`--port ${port} and --p2p-port ${p2p} disagree: --port is another name of --p2p-port, give one`);
  }
  return p2p ?? port;
}

/** Registers `cairn node`. */
export function registerNodeCommand(program: Command): void {
  program
    .command('node')
    .description(
      'run a full node: chain state in <datadir>/chain.sqlite, logs in <datadir>/logs/ (NDJSON, rotated for `cairn log-collector`), JSON-RPC (Core method names), ' +
        'the Esplora REST API and a Stratum V1 server on loopback; --mine mines with the node\'s own miners; prints a status line every few seconds; stops cleanly on Ctrl-C / SIGTERM',
    )
    .option('--network <name>', 'main | test | devnet | regtest', 'main')
    .option('--datadir <dir>', 'data directory (default ~/.cairn/<network>)')
    .option('--host <addr>', 'interface the RPC and REST servers listen on', '127.0.0.1')
    .option('--rpcport <port>', 'JSON-RPC port (default: the network default; 0 = any free port)')
    .option('--api-port <port>', 'Esplora REST port (default: the network default; 0 = any free port)')
    .option('--utxos-limit <n>', 'most confirmed unspent outputs GET /api/address/:a/utxo lists; more answers 400 (default 500 on main, as electrs; 100000 on test networks, where one miner or faucet address collects every coinbase)')
    .option('--rpcuser <user>', 'RPC user name (default: cookie authentication, <datadir>/.cookie)')
    .option('--rpcpassword <password>', 'RPC password (with --rpcuser)')
    .option('--script-threads <n>', 'threads that check signatures (default: all cores)')
    .option('--log-level <level>', 'trace | debug | info | warn | error', 'info')
    .option('--status-interval <sec>', 'seconds between status lines (0 = none)', '5')
    .option('--mine', "mine blocks with the node's own miners (WebAssembly sha256d on worker threads); needs --mining-address")
    .option('--miners <n>', 'miner threads with --mine', '1')
    .option('--mining-address <addr>', 'payout address of mined blocks (P2WPKH or P2TR of the network)')
    .option('--mine-interval <ms>', 'with --mine, shortest time between blocks on a trivial target such as regtest (default 1000; 0 = unpaced)')
    .option('--stratum-port <port>', 'Stratum V1 port for external miners (default: the network default; 0 = any free port)')
    .option('--stratum-difficulty <d>', 'share difficulty given to Stratum miners (default 0.0009765625 = 2^-10, ~2^22 hashes a share)')
    .option('--p2p-port <port>', 'libp2p TCP port peers connect to (default: the network default; 0 = any free port)')
    .option('--port <port>', "the same as --p2p-port (Bitcoin Core's -port)")
    .option('--connect <addr>', 'peer to keep connected, redialed while down: /ip4/<ip>/tcp/<port>[/p2p/<id>] or host:port (repeatable)', collect, [])
    .option('--bootstrap <multiaddr>', 'bootstrap peer with its id, /ip4/<ip>/tcp/<port>/p2p/<id> (repeatable)', collect, [])
    .option('--mdns', 'discover peers on the local network with mDNS')
    .option('--no-p2p', 'run without networking (no p2p listener, no peers)')
    .option('--node-name <name>', 'name of this node in logs and <datadir>/node.json')
    .action(async (flags: NodeFlags) => {
      const params = networkOption(flags.network);
      if (params.name === 'bitcoin') throw new CliError("the 'bitcoin' params only check Bitcoin data; run a cairn network");
      if ((flags.rpcuser === undefined) !== (flags.rpcpassword === undefined)) {
        throw new CliError('--rpcuser and --rpcpassword go together');
      }
      const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
      if (!levels.includes(flags.logLevel)) throw new CliError(`--log-level must be one of ${levels.join(', ')}`);
      const datadir = flags.datadir ?? defaultDatadir(params.name);
      const mining = miningOptions(flags, params);
      const p2pPort = resolveP2pPortFlag(flags);
      if (!flags.p2p && p2pPort !== undefined) throw new CliError('--no-p2p runs without a p2p listener: drop --port / --p2p-port');
      // Loaded here, not at the top: the node stack (REST server, libp2p) costs seconds that other commands skip.
      const { startNode } = await import('../node/runNode.js');
      const running = await startNode({
        ...mining,
        params,
        datadir,
        host: flags.host,
        logLevel: flags.logLevel as LogLevel,
        ...(flags.rpcport !== undefined ? { rpcPort: parsePort(flags.rpcport, '--rpcport') } : {}),
        ...(flags.apiPort !== undefined ? { apiPort: parsePort(flags.apiPort, '--api-port') } : {}),
        ...(flags.utxosLimit !== undefined ? { apiUtxosLimit: parseUtxosLimit(flags.utxosLimit) } : {}),
        ...(flags.rpcuser !== undefined ? { rpcUser: flags.rpcuser, rpcPassword: flags.rpcpassword } : {}),
        ...(flags.scriptThreads !== undefined ? { scriptThreads: Number(flags.scriptThreads) } : {}),
        p2pPort: flags.p2p ? (p2pPort ?? params.defaultPorts.p2p) : null,
        connect: flags.connect,
        bootstrap: flags.bootstrap,
        ...(flags.mdns ? { mdns: true } : {}),
        ...(flags.nodeName !== undefined ? { nodeName: flags.nodeName } : {}),
      }).catch((err: unknown) => {
        throw new CliError(`cannot start the node: ${err instanceof Error ? err.message : String(err)}`);
      });
      const out = process.stdout;
      out.write(
        `cairn node on ${params.name}: datadir ${datadir}\n` +
          `  JSON-RPC  http://${flags.host}:${running.rpc.port}/  (auth: ${flags.rpcuser ? 'user/password' : `cookie ${running.rpc.cookiePath ?? ''}`})\n` +
          `  REST      http://${flags.host}:${running.rest.port}/api/\n` +
          (running.networker ? `  P2P       ${running.networker.localAddresses()[0] ?? ''}\n` : '  P2P       off (--no-p2p)\n') +
          (flags.connect.length > 0 ? `  connect   ${flags.connect.join(', ')}\n` : '') +
          (running.stratum
            ? `  Stratum   stratum+tcp://${flags.host}:${running.stratum.port}  (share difficulty ${running.stratum.difficulty})\n`
            : '') +
          (mining.mine ? `  mining    ${mining.miners} thread(s) paying ${flags.miningAddress ?? ''}\n` : '') +
          `  logs      ${join(datadir, 'logs')}/\n`,
      );
      const hideBar = showSyncProgressBar(running);
      const intervalSec = Number(flags.statusInterval);
      const timer =
        intervalSec > 0 ? setInterval(() => out.write(formatStatusLine(running) + '\n'), intervalSec * 1000) : undefined;
      await new Promise<void>((resolve) => {
        const shutdown = (why: string): void => {
          out.write(`stopping (${why})…\n`);
          if (timer) clearInterval(timer);
          hideBar();
          running
            .stop()
            .then(() => {
              out.write(`stopped; data in ${datadir}\n`);
              resolve();
            })
            .catch((err: unknown) => {
              process.stderr.write(`error while stopping: ${String(err)}\n`);
              resolve();
            });
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
        running.onShutdownRequest(() => shutdown('stop RPC'));
      });
    });
}
