import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatCoins } from '../consensus/amount.js';
import { DEFAULT_NODE_COUNT, Devnet, type DevnetSnapshot, type NodeStatusRow } from '../devnet/devnet.js';
import { DevnetError } from '../devnet/devnetError.js';
import type { DevnetManifest } from '../devnet/devnetManifest.js';
import { formatExchangeLine, formatExchangeStatusPart } from '../devnet/devnetExchange.js';
import { createLogger, moduleLogger, type LogLevel, type Logger } from '../logging/logger.js';
import { devnet as devnetParams } from '../params/networks.js';
import type { Sats } from '../primitives/types.js';
import { CliError } from './input.js';
import { formatHashRate } from '../mining/hashRate.js';
import type { Leftover, LeftoverOutcome } from '../supervisor/leftoverProcesses.js';
import { waitForStopSignal } from '../supervisor/stopSignals.js';
import { parsePort } from './nodeCommand.js';

/** Default cluster dir of `cairn devnet`: ~/.cairn/devnet-cluster (~/.cairn/devnet is a single node's default datadir). */
export function defaultDevnetDir(): string {
  return join(homedir(), '.cairn', 'devnet-cluster');
}

interface DevnetFlags {
  nodes?: string;
  minersPerNode?: string;
  dir?: string;
  txRate?: string;
  basePort?: string;
  table: boolean;
  logLevel: string;
  statusInterval: string;
}

/** Seconds between plain status lines when the output is not a terminal (or with --no-table). */
const PLAIN_LINE_SEC = 5;

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new CliError(`${flag} must be a positive integer, got '${value}'`);
  return Number(value);
}

/** Sats as coins with two decimals (truncated, exact), e.g. "1,234.50". */
function coins(sats: Sats): string {
  return formatCoins(sats, { decimals: 2, grouping: true });
}

function exitText(row: NodeStatusRow): string {
  const e = row.lastExit;
  if (e === undefined) return '';
  return e.signal !== null ? `killed by ${e.signal}` : `exit code ${e.code ?? '?'}`;
}

/** The cells of one node row (state words for a node that is not up). */
function nodeCells(row: NodeStatusRow): string[] {
  const g = row.gauges;
  const state =
    row.state === 'restarting'
      ? `crashed (${exitText(row)}), restart in ${row.restartInSec ?? 0}s`
      : row.state + (row.restarts > 0 ? ` (${row.restarts} restart${row.restarts > 1 ? 's' : ''})` : '');
  const known = g !== undefined && row.state !== 'restarting';
  const num = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : String(v));
  return [
    row.name,
    state,
    known ? num(g.height) : '-',
    known && row.tipHash !== undefined ? row.tipHash.slice(0, 16) : '-',
    known ? num(g.peers) : '-',
    known ? num(g.mempoolTxs) : '-',
    known && Number.isFinite(g.hashesPerSecond) ? formatHashRate(g.hashesPerSecond) : '-',
    known && row.lastBlockAgeSec !== undefined ? `${row.lastBlockAgeSec}s ago` : '-',
    String(row.txsConfirmed),
  ];
}

const HEADERS = ['node', 'state', 'height', 'tip', 'peers', 'mempool', 'hash rate', 'last block', 'txs confirmed'];

/** The wallet line of the table. */
export function formatWalletLine(s: DevnetSnapshot['wallet']): string {
  const what =
    s.state === 'off'
      ? 'off (--tx-rate 0)'
      : s.state === 'syncing'
        ? 'waiting for a node'
        : s.state === 'waiting'
          ? `waiting for mature coins (coinbases mature after ${devnetParams.coinbaseMaturity} blocks)`
          : 'sending';
  return (
    `demo wallet: ${what} | ${coins(s.spendableSats)} coins spendable, ${coins(s.immatureSats)} immature | ` +
    `txs sent ${s.sent}, confirmed ${s.confirmed}, pending ${s.pending}, refused ${s.failed}` +
    (s.dropped > 0 ? `, dropped ${s.dropped}` : '')
  );
}

function tipsLine(snapshot: DevnetSnapshot): string {
  const up = snapshot.nodes.filter((n) => n.state === 'up').length;
  const tips =
    up === 0 ? 'no node answers yet' : snapshot.distinctTips <= 1 ? `${up}/${snapshot.nodes.length} nodes up, on one tip` : `${up}/${snapshot.nodes.length} nodes up, ${snapshot.distinctTips} different tips`;
  const collector = snapshot.collector === undefined ? 'log collector: none' : `log collector: ${snapshot.collector.state}`;
  const service = snapshot.walletService === undefined ? '' : ` | wallet service: ${snapshot.walletService.state} ${snapshot.walletService.url}/v1/`;
  const web = snapshot.web === undefined ? '' : ` | web: ${snapshot.web.state} ${snapshot.web.url}`;
  return `${tips} | ${collector}${service}${web}`;
}

/** The live table: a header, one row per node, the tips line and the wallet line. */
export function formatDevnetTable(snapshot: DevnetSnapshot): string[] {
  const rows = [HEADERS, ...snapshot.nodes.map(nodeCells)];
  const widths = HEADERS.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
  return [...lines, tipsLine(snapshot), formatWalletLine(snapshot.wallet), ...(snapshot.exchange !== undefined ? [formatExchangeLine(snapshot.exchange)] : [])];
}

/** One plain status line (logs, pipes): heights, peers, mempools, wallet counters. */
export function formatDevnetStatusLine(snapshot: DevnetSnapshot): string {
  const per = (f: (r: NodeStatusRow) => string): string => snapshot.nodes.map(f).join('/');
  const val = (r: NodeStatusRow, v: number | undefined): string => (r.state === 'up' && v !== undefined && Number.isFinite(v) ? String(v) : '-');
  const w = snapshot.wallet;
  return [
    new Date().toISOString().slice(11, 19),
    `heights ${per((r) => val(r, r.gauges?.height))}`,
    snapshot.distinctTips <= 1 ? 'one tip' : `${snapshot.distinctTips} tips`,
    `peers ${per((r) => val(r, r.gauges?.peers))}`,
    `mempool ${per((r) => val(r, r.gauges?.mempoolTxs))}`,
    ...snapshot.nodes.filter((r) => r.state !== 'up').map((r) => `${r.name} ${r.state}`),
    `demo txs sent ${w.sent} confirmed ${w.confirmed} pending ${w.pending} refused ${w.failed}`,
    ...(snapshot.exchange !== undefined ? [formatExchangeStatusPart(snapshot.exchange)] : []),
  ].join(' | ');
}

/** "node1 (pid 4242), log-collector (pid 4250)". */
function processList(ps: readonly Leftover[]): string {
  return ps.map((p) => `${p.name} (pid ${p.pid})`).join(', ');
}

/** What the devnet says when it finds processes of an earlier run of the dir still running, before it stops them. */
export function formatLeftoversFound(found: readonly Leftover[], dir: string, previousSupervisorPid: number, timeoutMs: number): string {
  return (
    `found ${processList(found)} of an earlier cairn devnet on ${dir} still running, though its supervisor (pid ` +
    `${previousSupervisorPid}) is gone; stopping ${found.length === 1 ? 'it' : 'them'}: SIGINT, then SIGKILL after ${Math.round(timeoutMs / 1000)} s…`
  );
}

/** What the devnet says once it has stopped them. */
export function formatLeftoversStopped(outcomes: readonly LeftoverOutcome[], timeoutMs: number): string {
  const stopped = outcomes.filter((o) => o.outcome === 'stopped');
  const killed = outcomes.filter((o) => o.outcome === 'killed');
  return [
    ...(stopped.length > 0 ? [`stopped ${processList(stopped)} (ended on SIGINT)`] : []),
    ...(killed.length > 0 ? [`killed ${processList(killed)} (still running ${Math.round(timeoutMs / 1000)} s after SIGINT)`] : []),
  ].join('; ');
}

function banner(manifest: DevnetManifest, devnet: Devnet, collectorAvailable: boolean): string {
  const lines = [
    ...(manifest.web != null
      ? [`open ${manifest.web.url} — the web UI: explorer, wallet (register, faucet, send)${manifest.exchange != null ? ' and trading (CRN/USD)' : ''}`]
      : []),
    `cairn devnet: ${manifest.nodes.length} nodes on the devnet chain (real proof of work, ${devnetParams.targetSpacingSec} s blocks), ` +
      `${manifest.minersPerNode} miner thread(s) each, demo txs at ${manifest.txRate}/s — ${devnet.resumed ? 'resumed' : 'new'} in ${manifest.dir}`,
  ];
  for (const n of manifest.nodes) {
    lines.push(`  ${n.name}  REST ${n.apiUrl}  RPC ${n.rpcUrl} (cookie ${n.cookieFile})  p2p ${n.p2pMultiaddr}  stratum :${n.ports.stratum}`);
  }
  const w = manifest.walletService;
  if (w != null) {
    lines.push(
      `  wallet service ${w.url}/v1/ (register, login, POST /v1/faucet) — its faucet ${w.faucetAddress} is funded by node1's miner; ` +
        `seed ${w.faucetMnemonicFile} (devnet only), data ${w.datadir}`,
    );
  }
  const x = manifest.exchange;
  if (x != null) {
    lines.push(
      `  exchange ${x.restBase} (Binance spot REST; streams ${x.wsUrl}/ws/<stream>; accounts ${x.url}/v1/) — ${x.symbol} with demo traders; ` +
        `curl '${x.restBase}depth?symbol=${x.symbol}&limit=5'; data ${x.datadir}`,
    );
  }
  lines.push(
    `  devnet.json ${join(manifest.dir, 'devnet.json')} · demo wallet ${manifest.demoWallet.file} (devnet only, unencrypted)`,
    collectorAvailable && manifest.collector !== null
      ? `  logs: consolidated in ${manifest.collector.dir} (read them with: cairn logs --dir ${manifest.collector.dir}); each node's in <node dir>/logs`
      : `  logs: each node's in <node dir>/logs (no log collector in this build)`,
    '  Ctrl-C stops every process; run the same command again to resume this chain.',
    '',
  );
  return lines.join('\n') + '\n';
}

/** Registers `cairn devnet`. */
export function registerDevnetCommand(program: Command): void {
  program
    .command('devnet')
    .description(
      'run a local network of real `cairn node` processes on the devnet chain (real proof of work), linked to each other, ' +
        'mining to a demo wallet that sends signed transactions between its addresses (node1 funds the faucet of a ' +
        '`cairn wallet-service` the devnet also runs), and an exchange (`cairn exchange serve`, CRN/USD) where demo traders ' +
        'trade over the signed REST API; shows a live table; Ctrl-C stops ' +
        'everything cleanly. <dir>/devnet.json lists every node (data dir, ports, p2p address, RPC cookie); running again ' +
        'on the same dir resumes the same chain. `npm start` runs this',
    )
    .option('--nodes <n>', `number of nodes (default ${DEFAULT_NODE_COUNT}, or as recorded in <dir>/devnet.json)`)
    .option('--miners-per-node <n>', 'miner threads per node (default 1, or as recorded)')
    .option('--dir <dir>', 'cluster dir: node data dirs, devnet.json, demo wallet, logs (default ~/.cairn/devnet-cluster)')
    .option('--tx-rate <tx/s>', 'demo transactions per second, may be fractional; 0 = none (default 1, or as recorded)')
    .option('--base-port <port>', 'ports of new nodes: node i uses base+10(i-1) +0 api, +2 rpc, +3 p2p, +4 stratum (default: free ports); recorded, reused on resume')
    .option('--no-table', 'print a status line every few seconds instead of the live table')
    .option('--log-level <level>', 'log level of the nodes and the devnet: trace | debug | info | warn | error', 'info')
    .option('--status-interval <sec>', 'seconds between plain status lines (without a terminal or with --no-table)', String(PLAIN_LINE_SEC))
    .action(async (flags: DevnetFlags, command: Command) => {
      const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
      if (!levels.includes(flags.logLevel)) throw new CliError(`--log-level must be one of ${levels.join(', ')}`);
      let txRate: number | undefined;
      if (flags.txRate !== undefined) {
        txRate = /^\d+(\.\d+)?$/.test(flags.txRate) ? Number(flags.txRate) : NaN;
        if (!Number.isFinite(txRate)) throw new CliError(`--tx-rate must be a number of tx/s >= 0, got '${flags.txRate}'`);
      }
      const statusIntervalSec = Number(flags.statusInterval);
      if (!(statusIntervalSec > 0)) throw new CliError('--status-interval must be a positive number of seconds');
      const basePort = flags.basePort !== undefined ? parsePort(flags.basePort, '--base-port') : undefined;
      if (basePort === 0) throw new CliError('--base-port must be 1..65535 (leave it out for free ports)');

      // What this build's command tree offers: the log collector and the p2p flags of `cairn node`.
      const siblings = command.parent?.commands ?? [];
      const collectorAvailable = siblings.some((c) => c.name() === 'log-collector');
      const walletServiceAvailable = siblings.some((c) => c.name() === 'wallet-service');
      const webAvailable = siblings.some((c) => c.name() === 'web');
      const exchangeAvailable = siblings.some((c) => c.name() === 'exchange');
      const nodeCommand = siblings.find((c) => c.name() === 'node');
      const hasNodeFlag = (long: string): boolean => nodeCommand?.options.some((o) => o.long === long) ?? false;
      const nodeFlags = { p2pPort: hasNodeFlag('--p2p-port'), connect: hasNodeFlag('--connect'), nodeName: hasNodeFlag('--node-name') };

      const dir = resolve(flags.dir ?? defaultDevnetDir());
      const nodes = positiveInt(flags.nodes, '--nodes');
      const minersPerNode = positiveInt(flags.minersPerNode, '--miners-per-node');
      const stopTimeoutMs = 30_000;
      let devnet: Devnet;
      try {
        devnet = await Devnet.open(
          {
            params: devnetParams,
            dir,
            ...(nodes !== undefined ? { nodes } : {}),
            ...(minersPerNode !== undefined ? { minersPerNode } : {}),
            ...(txRate !== undefined ? { txRate } : {}),
            ...(basePort !== undefined ? { basePort } : {}),
            logLevel: flags.logLevel as LogLevel,
            // Children run on the same Node binary and entry as this process: from dist/ (bin/cairn.js) or under tsx.
            cairn: { command: process.execPath, args: [...process.execArgv.filter((a) => !a.startsWith('--inspect')), process.argv[1]!] },
            logCollector: collectorAvailable,
            walletService: walletServiceAvailable,
            web: webAvailable,
            exchange: exchangeAvailable,
            nodeFlags,
            stopTimeoutMs,
          },
          {
            // Said before the wait (up to the stop timeout), so the user knows what the pause is.
            onLeftovers: (found, previousPid) => process.stderr.write(formatLeftoversFound(found, dir, previousPid, stopTimeoutMs) + '\n'),
          },
        );
      } catch (err) {
        if (err instanceof DevnetError) throw new CliError(err.message);
        throw err;
      }
      const manifest = devnet.getManifest();
      let logger: Logger;
      try {
        logger = moduleLogger(createLogger({ level: flags.logLevel as LogLevel, logDir: manifest.supervisor.logDir }), 'devnet');
      } catch (err) {
        throw new CliError(`cannot open the devnet log in ${manifest.supervisor.logDir}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const out = process.stdout;
      // A closed terminal or pipe must not end the supervisor before it has stopped its children.
      out.on('error', () => undefined);
      process.stderr.on('error', () => undefined);
      out.write(banner(manifest, devnet, collectorAvailable));
      if (!collectorAvailable) process.stderr.write('warning: this build has no `cairn log-collector`; logs stay in each node\'s dir\n');
      if (!nodeFlags.connect) process.stderr.write('warning: this build\'s `cairn node` has no --connect; the nodes will not link\n');
      if (devnet.leftovers.length > 0) process.stderr.write(formatLeftoversStopped(devnet.leftovers, stopTimeoutMs) + '\n');
      if (devnet.walletCreated) out.write(`created the demo wallet ${manifest.demoWallet.file}\n`);
      logger.info({ dir, nodes: manifest.nodes.length, resumed: devnet.resumed, nodeFlags, collector: collectorAvailable }, 'devnet starting');
      devnet.start({ logger });

      const live = flags.table && out.isTTY === true;
      let drawnLines = 0;
      const draw = (): void => {
        const width = Math.max(40, out.columns ?? 120);
        const lines = formatDevnetTable(devnet.snapshot()).map((l) => (l.length > width - 1 ? l.slice(0, width - 2) + '…' : l));
        // Back to the start of the previous frame, clear to the end of the screen, draw.
        out.write((drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : '') + lines.join('\n') + '\n');
        drawnLines = lines.length;
      };
      const timer = live
        ? setInterval(draw, 1000)
        : setInterval(() => out.write(formatDevnetStatusLine(devnet.snapshot()) + '\n'), statusIntervalSec * 1000);
      if (live) draw();

      // Every stop signal, including a second Ctrl-C or the terminal closing (SIGHUP) while stopping, goes through
      // here, so the supervisor is never ended by a signal before its children.
      const stopSignal = waitForStopSignal(() => out.write('still stopping…\n'));
      const why = await stopSignal.signal;
      clearInterval(timer);
      if (live) draw();
      out.write(
        `\nstopping (${why}): the demo wallet${manifest.web != null ? ', the web UI' : ''}${manifest.exchange != null ? ', the demo traders, the exchange' : ''}${manifest.walletService != null ? ', the wallet service' : ''}, then every node ` +
          `(SIGINT, then SIGKILL after ${stopTimeoutMs / 1000} s), then the log collector…\n`,
      );
      const report = await devnet.stop();
      stopSignal.dispose();
      const final = devnet.getManifest();
      const snapshot = devnet.snapshot();
      for (const c of report.children) {
        out.write(`  ${c.name}: ${c.killed ? 'killed after the timeout' : c.signal !== null ? `ended by ${c.signal}` : `exited with code ${c.code ?? '?'}`}\n`);
      }
      out.write(
        `stopped. ${formatWalletLine(snapshot.wallet)}\n` +
          `  data:    ${final.dir} (node data dirs ${final.nodes.map((n) => n.name).join(', ')}; devnet.json; demo-wallet.json` +
          `${final.walletService != null ? '; wallet-service/, faucet-mnemonic.txt' : ''}${final.exchange != null ? '; exchange/' : ''})\n` +
          (final.collector !== null
            ? `  logs:    ${final.collector.dir} (cairn logs --dir ${final.collector.dir}); per node in ${join(final.dir, '<node>', 'logs')}\n`
            : `  logs:    per node in ${join(final.dir, '<node>', 'logs')}\n`) +
          `  console: ${join(final.dir, '<node>', 'console.log')}\n` +
          `  resume:  cairn devnet --dir ${final.dir}\n`,
      );
      logger.flush();
      const unclean = report.children.filter((c) => c.killed || (c.code !== 0 && c.code !== null));
      if (unclean.length > 0) process.exitCode = 1;
    });
}
