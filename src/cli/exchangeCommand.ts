import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { createLogger, type LogLevel } from '../logging/logger.js';
import { waitForStopSignal } from '../supervisor/stopSignals.js';
import { defaultDatadir } from './datadir.js';
import { CliError } from './input.js';
import type { BridgeFlags } from './exchangeBridgeCli.js';
import { parsePort } from './nodeCommand.js';

interface CommonFlags {
  network: string;
  datadir?: string;
  json?: boolean;
}

interface HistoryFlags {
  db?: string;
  dbSchema?: string;
  history?: boolean;
}

interface RunFlags extends CommonFlags, HistoryFlags, BridgeFlags {
  markets?: string;
  snapshotEvery: string;
  snapshotIntervalSec: string;
  logLevel: string;
  logDir?: string;
}

interface ServeFlags extends RunFlags {
  host: string;
  port?: string;
  adminTokenFile?: string;
  tokenTtl: string;
  ipLimit: string;
  keyLimit: string;
  trustProxy?: boolean;
  json?: boolean;
}

interface HashFlags extends CommonFlags, HistoryFlags {
  fromScratch?: boolean;
  toSeq?: string;
  rebuildHistory?: boolean;
}

/** The history store the flags name: SQLite in the data dir, PostgreSQL with --db, or none with --no-history. */
function historyOf(flags: HistoryFlags): { url?: string; pgSchema?: string } | false {
  if (flags.history === false) {
    if (flags.db !== undefined) throw new CliError('--db and --no-history exclude each other');
    return false;
  }
  if (flags.db !== undefined && !/^postgres(ql)?:\/\//i.test(flags.db)) throw new CliError('--db must be a postgres://… URL (SQLite in the data dir is the default)');
  if (flags.dbSchema !== undefined && flags.db === undefined) throw new CliError('--db-schema goes with --db');
  return { ...(flags.db !== undefined ? { url: flags.db } : {}), ...(flags.dbSchema !== undefined ? { pgSchema: flags.dbSchema } : {}) };
}

const NETWORKS = ['main', 'test', 'devnet', 'regtest'] as const;
type Network = (typeof NETWORKS)[number];

function network(name: string): Network {
  if (!(NETWORKS as readonly string[]).includes(name)) throw new CliError(`--network must be one of ${NETWORKS.join(', ')} (the exchange runs on cairn networks)`);
  return name as Network;
}

function datadirOf(flags: CommonFlags): string {
  return flags.datadir ?? join(defaultDatadir(network(flags.network)), 'exchange');
}

function positiveInt(value: string, flag: string, min = 1): number {
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) throw new CliError(`${flag} must be an integer ≥ ${min}, got '${value}'`);
  return Number(value);
}

/** JSON text with bigints as decimal strings (the exchange's amounts). */
function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Maps the exchange's errors to CLI errors with their message (never a stack trace for bad input or bad data). */
function cliFailure(what: string, err: unknown): CliError {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
  return new CliError(`${what}: ${err instanceof Error ? err.message : String(err)}${code !== undefined ? ` (${code})` : ''}`);
}

/** Opens the exchange service the flags describe (shared by `run` and `serve`). */
async function openExchange(flags: RunFlags, net: Network): Promise<{ service: import('../exchange/exchangeService.js').ExchangeService; datadir: string; logger: import('pino').Logger }> {
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
  if (!levels.includes(flags.logLevel)) throw new CliError(`--log-level must be one of ${levels.join(', ')}`);
  const snapshotEvery = positiveInt(flags.snapshotEvery, '--snapshot-every');
  const snapshotIntervalSec = positiveInt(flags.snapshotIntervalSec, '--snapshot-interval-sec', 0);
  const history = historyOf(flags);
  const { defaultExchangeConfig, parseMarketsFile } = await import('../exchange/exchangeConfig.js');
  const { ExchangeService } = await import('../exchange/exchangeService.js');
  let config;
  try {
    config = flags.markets !== undefined ? parseMarketsFile(readFileSync(flags.markets, 'utf8'), net) : defaultExchangeConfig(net);
  } catch (err) {
    throw cliFailure(`cannot read the markets file ${flags.markets ?? ''}`, err);
  }
  // --log-dir: rotating NDJSON files (what a devnet's log collector gathers) instead of standard error.
  const logger = createLogger({ level: flags.logLevel as LogLevel, base: { module: 'exchange', network: net }, ...(flags.logDir !== undefined ? { logDir: flags.logDir } : {}) });
  const datadir = datadirOf(flags);
  const service = await ExchangeService.open(
    { datadir, config, snapshotEveryCommands: snapshotEvery, snapshotEveryMs: snapshotIntervalSec * 1000, history },
    {
      logger,
      onFatal: (err) => {
        process.stderr.write(`error: the exchange stopped: ${err.message}\n`);
        process.exit(1);
      },
    },
  ).catch((err: unknown) => {
    throw cliFailure(`cannot start the exchange on ${datadir}`, err);
  });
  return { service, datadir, logger };
}

/**
 * Adds the chain bridge's flags (shared by `exchange run` and `exchange serve`; read by startBridge in
 * exchangeBridgeCli.ts): --node-url, --confirmations, --withdrawal-fee, --cold-xpub, --hot-limit.
 * @param how how the command answers the bridge's requests (for the --node-url help)
 */
function addBridgeOptions(command: Command, how: string): void {
  command
    .option('--node-url <url>', `run the chain bridge against this node's Esplora API (e.g. http://127.0.0.1:8730/api): deposit addresses, deposits, withdrawals; ${how}`)
    .option('--confirmations <n>', 'with --node-url: confirmations to credit a deposit and complete a withdrawal (default regtest 1, devnet 3, main 6)')
    .option('--withdrawal-fee <sats>', 'with --node-url: the published withdrawal fee, sats (default 10000)')
    .option('--cold-xpub <key>', "with --node-url and --hot-limit: the cold wallet's BIP-84 account xpub (watch-only); batches send the hot wallet's excess to it")
    .option('--hot-limit <coins>', 'with --cold-xpub: most the hot wallet keeps, in coins (e.g. 10)');
}

/** Registers `cairn exchange` and its subcommands. */
export function registerExchangeCommand(program: Command): void {
  const exchange = program
    .command('exchange')
    .description('the exchange: a Binance-style REST + WebSocket gateway (`cairn exchange` = `cairn exchange serve`) over the engine (markets, accounts and fees, a durable command log with snapshots)');

  const serve = exchange
    .command('serve', { isDefault: true })
    .description(
      'run the exchange with its HTTP gateway: Binance spot REST under /api/v3/, streams under /ws/ and /stream, accounts, API keys, ' +
        'faucet (devnet/regtest) and admin routes under /v1/; with --node-url the chain bridge: deposits and withdrawals of CRN ' +
        '(/v1/deposit/address, /v1/deposits, /v1/withdrawals; Binance /sapi/v1/capital/…); prints its URLs; stops cleanly on Ctrl-C or SIGTERM',
    )
    .option('--network <name>', 'main | test | devnet | regtest (devnet/regtest: a faucet, and admin adjustments may credit any asset)', 'devnet')
    .option('--datadir <dir>', 'data directory: command log, snapshots, history, accounts, admin token (default ~/.cairn/<network>/exchange)')
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', "port to listen on (default the network's api port + 5, e.g. 28735 on devnet; 0 = any free port)")
    .option('--markets <file>', 'markets file: JSON {"assets":[…],"markets":[…]} (default: CRNUSD and CRNUSDT)')
    .option('--snapshot-every <n>', 'write a snapshot every n commands', '10000')
    .option('--snapshot-interval-sec <s>', 'and at most s seconds after a change (0 = only by count)', '60')
    .option('--db <url>', 'postgres://user@host:port/database for the history; default SQLite <datadir>/history.sqlite')
    .option('--db-schema <name>', 'with --db: PostgreSQL schema of the history tables (created if missing)')
    .option('--no-history', 'write no history (allOrders, myTrades and old orders are then not available)')
    .option('--admin-token-file <file>', 'token of the admin routes (default <datadir>/admin.token, made on first start, mode 0600)')
    .option('--token-ttl <sec>', 'lifetime of login tokens, seconds', '3600')
    .option('--ip-limit <n>', 'requests per client IP and minute (0 = no limit)', '6000')
    .option('--key-limit <n>', 'private requests per API key (or login) and 10 seconds (0 = no limit)', '3000')
    .option('--trust-proxy', 'take client IPs from X-Forwarded-For (behind a reverse proxy)')
    .option('--json', 'print one JSON line {"event":"ready",url,wsUrl,…} instead of the banner')
    .option('--log-level <level>', 'trace | debug | info | warn | error | silent (logs go to standard error)', 'warn')
    .option('--log-dir <dir>', 'write the logs as rotating NDJSON files in this dir instead of standard error (a devnet\'s log collector reads them)');
  addBridgeOptions(serve, 'REST routes /v1/deposit/address, /v1/deposits, /v1/withdrawals, /v1/capital/config, /v1/account/liabilities-proof (and /sapi/v1/capital/…)');
  serve.action(async (flags: ServeFlags) => {
      // Listening from the start: a stop asked for while the exchange is still opening (a devnet stopped during
      // start-up) is carried out once it is open, so the process still closes its log and exits 0.
      const stop = waitForStopSignal();
      const net = network(flags.network);
      const { NETWORKS: PARAMS } = await import('../params/networks.js');
      const port = flags.port !== undefined ? parsePort(flags.port, '--port') : PARAMS[net].defaultPorts.api + 5;
      if (!/^\d+$/.test(flags.tokenTtl) || Number(flags.tokenTtl) < 1) throw new CliError(`--token-ttl must be a positive number of seconds, got '${flags.tokenTtl}'`);
      const ipLimit = positiveInt(flags.ipLimit, '--ip-limit', 0);
      const keyLimit = positiveInt(flags.keyLimit, '--key-limit', 0);
      const { service, datadir, logger } = await openExchange(flags, net);
      const { startGateway } = await import('../exchange/gateway/gatewayServer.js');
      let bridge: import('../exchange/bridge/exchangeBridge.js').ExchangeBridge | undefined;
      if (flags.nodeUrl !== undefined) {
        const { startBridge } = await import('./exchangeBridgeCli.js');
        try {
          bridge = startBridge(flags, net, datadir, service, logger);
        } catch (err) {
          await service.close();
          throw err;
        }
      }
      let gateway;
      try {
        gateway = await startGateway(
          {
            network: net,
            datadir,
            host: flags.host,
            port,
            tokenTtlSec: Number(flags.tokenTtl),
            perIpLimit: ipLimit === 0 ? false : { max: ipLimit, timeWindowMs: 60_000 },
            perKeyLimit: keyLimit === 0 ? false : { max: keyLimit, timeWindowMs: 10_000 },
            ...(flags.adminTokenFile !== undefined ? { adminTokenFile: flags.adminTokenFile } : {}),
            ...(flags.trustProxy === true ? { trustProxy: true } : {}),
          },
          { service, logger, ...(bridge !== undefined ? { bridge } : {}) },
        );
      } catch (err) {
        await bridge?.close();
        await service.close();
        throw cliFailure('cannot start the gateway', err);
      }
      const out = process.stdout;
      const hash = service.stateHash();
      if (flags.json === true) {
        const bridgeInfo = bridge === undefined ? null : { nodeUrl: flags.nodeUrl, confirmations: bridge.confirmations, withdrawalFeeSats: bridge.withdrawalFeeSats, xpub: bridge.extendedPublicKey };
        out.write(jsonLine({ event: 'ready', url: gateway.url, wsUrl: gateway.wsUrl, port: gateway.port, adminTokenFile: gateway.adminTokenFile, datadir, network: net, seq: hash.seq, stateHash: hash.hash, bridge: bridgeInfo }) + '\n');
      } else {
        out.write(
          `cairn exchange on ${net}: ${gateway.url}/api/v3/  (Binance spot REST; markets ${service.markets().map((m) => m.symbol).join(', ')})\n` +
            `  streams   ${gateway.wsUrl}/ws/<stream>  ${gateway.wsUrl}/stream?streams=<a>/<b>\n` +
            `  accounts  ${gateway.url}/v1/  (register, login, api-keys${net === 'devnet' || net === 'regtest' ? ', faucet' : ''})\n` +
            `  admin     ${gateway.url}/v1/admin/balance  (header X-CAIRN-ADMIN-TOKEN: the token in ${gateway.adminTokenFile})\n` +
            (bridge !== undefined
              ? `  capital   ${gateway.url}/v1/deposit/address, /v1/withdrawals  (chain bridge on ${flags.nodeUrl ?? ''}, ${bridge.confirmations} confirmations)\n`
              : `  capital   off (no --node-url: deposits and withdrawals answer 503)\n`) +
            `  datadir   ${datadir}  (seq ${hash.seq}, state ${hash.hash.slice(0, 16)}…)\n`,
        );
      }
      const why = await stop.signal;
      if (flags.json !== true) out.write(`stopping (${why})…\n`);
      try {
        await gateway.close();
        await bridge?.close();
        await service.close();
        if (flags.json !== true) out.write('stopped\n');
      } catch (err) {
        process.stderr.write(`error while stopping: ${String(err)}\n`);
        process.exitCode = 1;
      }
      stop.dispose();
    });

  const run = exchange
    .command('run')
    .description(
      'run the engine on a data dir, taking commands as JSON lines on standard input ({"id":…,"command":{…}} or a bare command) ' +
        'and answering each on standard output once it is durable ({"id","seq","timeMs","result"}); {"id","query":"stateHash"|"audit"} ' +
        'answers at once. Prints {"event":"ready",…} first. Stops cleanly at the end of input, on Ctrl-C or SIGTERM.',
    )
    .option('--network <name>', 'main | test | devnet | regtest (regtest/devnet: admin adjustments may credit any asset)', 'devnet')
    .option('--datadir <dir>', 'data directory: command log, snapshots, history (default ~/.cairn/<network>/exchange)')
    .option('--markets <file>', 'markets file: JSON {"assets":[…],"markets":[…]} (default: CRNUSD and CRNUSDT)')
    .option('--snapshot-every <n>', 'write a snapshot every n commands', '10000')
    .option('--snapshot-interval-sec <s>', 'and at most s seconds after a change (0 = only by count)', '60')
    .option('--db <url>', 'postgres://user@host:port/database for the history (orders, trades, ledger, klines); default SQLite <datadir>/history.sqlite')
    .option('--db-schema <name>', 'with --db: PostgreSQL schema of the history tables (created if missing)')
    .option('--no-history', 'write no history (market data then starts empty after a restart)')
    .option('--log-level <level>', 'trace | debug | info | warn | error | silent (logs go to standard error)', 'warn');
  addBridgeOptions(run, 'lines {"id","bridge":"depositAddress"|"deposits"|"withdraw"|"withdrawals","userId",…}');
  run.action(async (flags: RunFlags) => {
      const net = network(flags.network);
      const { service, datadir, logger } = await openExchange(flags, net);
      const { decodeCommand } = await import('../exchange/engineCommand.js');
      const out = process.stdout;
      const { startBridge, answerBridgeLine } = await import('./exchangeBridgeCli.js');
      let bridge;
      try {
        bridge = startBridge(flags, net, datadir, service, logger);
      } catch (err) {
        await service.close();
        throw err;
      }
      const hash = service.stateHash();
      const bridgeInfo = bridge === undefined ? undefined : { nodeUrl: flags.nodeUrl, confirmations: bridge.confirmations, withdrawalFeeSats: bridge.withdrawalFeeSats, xpub: bridge.extendedPublicKey };
      out.write(jsonLine({ event: 'ready', seq: hash.seq, stateHash: hash.hash, datadir, network: net, restored: service.recovery, bridge: bridgeInfo }) + '\n');
      await new Promise<void>((resolve) => {
        const inflight = new Set<Promise<void>>();
        const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
        // Back-pressure: when standard output is full, stop reading input until it drains (no unbounded buffers).
        let paused = false;
        const answer = (v: unknown): void => {
          if (!out.write(jsonLine(v) + '\n') && !paused) {
            paused = true;
            rl.pause();
            out.once('drain', () => {
              paused = false;
              rl.resume();
            });
          }
        };
        rl.on('line', (line) => {
          if (line.trim() === '') return;
          let msg: Record<string, unknown>;
          try {
            const parsed: unknown = JSON.parse(line);
            if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('a line must be a JSON object');
            msg = parsed as Record<string, unknown>;
          } catch (err) {
            answer({ id: null, error: { code: 'BAD_JSON', message: (err as Error).message } });
            return;
          }
          const id = msg.id ?? null;
          if (msg.bridge !== undefined) {
            const p = answerBridgeLine(bridge, msg, { service, datadir, network: net }).then((a) => answer({ id, ...a }));
            inflight.add(p);
            void p.finally(() => inflight.delete(p));
            return;
          }
          if (msg.query !== undefined) {
            if (msg.query === 'stateHash') answer({ id, ...service.stateHash() });
            else if (msg.query === 'audit') answer({ id, audit: service.audit() });
            else answer({ id, error: { code: 'BAD_QUERY', message: 'query must be stateHash or audit' } });
            return;
          }
          let command;
          try {
            command = decodeCommand(msg.command ?? msg);
          } catch (err) {
            answer({ id, error: { code: (err as { code?: string }).code ?? 'BAD_COMMAND', message: (err as Error).message } });
            return;
          }
          const p = service.submit(command).then(
            (o) => answer({ id, seq: o.seq, timeMs: o.timeMs, result: o.result }),
            (err: unknown) => answer({ id, error: { code: (err as { code?: string }).code ?? 'FAILED', message: (err as Error).message } }),
          );
          inflight.add(p);
          void p.finally(() => inflight.delete(p));
        });
        let stopping = false;
        const stop = (): void => {
          if (stopping) return;
          stopping = true;
          void Promise.all(inflight)
            .then(() => bridge?.close())
            .then(() => service.close())
            .then(resolve, (err: unknown) => {
              process.stderr.write(`error while stopping: ${String(err)}\n`);
              process.exitCode = 1;
              resolve();
            });
        };
        rl.on('close', stop);
        process.once('SIGINT', () => rl.close());
        process.once('SIGTERM', () => rl.close());
      });
    });

  exchange
    .command('state-hash')
    .description("print the sha256 of the engine's canonical state: the newest valid snapshot plus the log after it, or with --from-scratch a replay of the whole log (the two must agree)")
    .option('--network <name>', 'main | test | devnet | regtest (for the default data dir)', 'devnet')
    .option('--datadir <dir>', 'data directory (default ~/.cairn/<network>/exchange)')
    .option('--from-scratch', 'replay the whole command log from an empty state')
    .option('--to-seq <n>', 'stop at this sequence number')
    .option('--json', 'print {"seq","stateHash",…} as JSON')
    .action(async (flags: HashFlags) => {
      const { readExchangeState } = await import('../exchange/exchangeService.js');
      const { computeStateHash } = await import('../exchange/engineState.js');
      const datadir = datadirOf(flags);
      const toSeq = flags.toSeq !== undefined ? positiveInt(flags.toSeq, '--to-seq', 0) : undefined;
      let state;
      try {
        state = readExchangeState(datadir, { ...(flags.fromScratch === true ? { fromScratch: true } : {}), ...(toSeq !== undefined ? { toSeq } : {}) });
      } catch (err) {
        throw cliFailure(`cannot read the exchange state in ${datadir}`, err);
      }
      const hash = computeStateHash(state.engine);
      if (flags.json === true) {
        process.stdout.write(jsonLine({ seq: state.engine.seq, stateHash: hash, snapshotSeq: state.report.snapshotSeq, replayed: state.report.replayed, logLastSeq: state.log.lastSeq, damagedTail: state.log.cutRecords }) + '\n');
      } else {
        process.stdout.write(`${hash}  seq ${state.engine.seq} (${state.report.snapshotSeq > 0 ? `snapshot ${state.report.snapshotSeq} + ` : 'from scratch: '}${state.report.replayed} replayed)\n`);
      }
    });

  exchange
    .command('audit')
    .description('check the double-entry invariant (per asset: Σ free + locked of all accounts = credited − withdrawn), locks against open orders and withdrawals, and books against open orders; exits 1 when anything fails')
    .option('--network <name>', 'main | test | devnet | regtest (for the default data dir)', 'devnet')
    .option('--datadir <dir>', 'data directory (default ~/.cairn/<network>/exchange)')
    .option('--from-scratch', 'audit the state replayed from an empty state')
    .option('--node-url <url>', "also check reserves: the exchange's coins per this node's Esplora API (e.g. http://127.0.0.1:8730/api) against its CRN liabilities; exits 1 when short")
    .option('--json', 'print the report as JSON')
    .action(async (flags: HashFlags & { nodeUrl?: string }) => {
      const { readExchangeState } = await import('../exchange/exchangeService.js');
      const { auditEngine } = await import('../exchange/audit.js');
      const datadir = datadirOf(flags);
      let state;
      try {
        state = readExchangeState(datadir, flags.fromScratch === true ? { fromScratch: true } : {});
      } catch (err) {
        throw cliFailure(`cannot read the exchange state in ${datadir}`, err);
      }
      const report = auditEngine(state.engine);
      let reserves;
      if (flags.nodeUrl !== undefined) {
        const { auditReserves } = await import('./exchangeBridgeCli.js');
        reserves = await auditReserves(datadir, flags.nodeUrl, report.assets.find((a) => a.asset === 'CRN')?.held ?? 0n);
      }
      if (flags.json === true) {
        process.stdout.write(jsonLine(reserves === undefined ? report : { ...report, reserves }) + '\n');
      } else {
        const out = process.stdout;
        out.write(`audit at seq ${report.seq}: ${report.ok ? 'OK' : 'FAILED'}\n`);
        for (const a of report.assets) {
          out.write(`  ${a.asset.padEnd(6)} held ${a.held}  credited ${a.credited}  withdrawn ${a.withdrawn}  ${a.balanced ? 'balanced' : 'NOT BALANCED'}\n`);
        }
        for (const p of report.problems) out.write(`  problem: ${p}\n`);
        for (const w of report.warnings) out.write(`  warning: ${w}\n`);
        if (flags.nodeUrl !== undefined && reserves === undefined) out.write(`reserves: no chain bridge in ${datadir} (never run with --node-url): nothing on chain to count\n`);
        if (reserves !== undefined) {
          out.write(
            `reserves: ${reserves.ok ? 'OK' : 'SHORT'}  on chain ${reserves.reservesSats} sats in ${reserves.utxoCount} outputs  ` +
              `liabilities ${reserves.liabilitiesSats}  difference ${reserves.differenceSats}\n`,
          );
        }
      }
      if (!report.ok || reserves?.ok === false) process.exitCode = 1;
    });

  exchange
    .command('liabilities-proof')
    .description("print the root of the Merkle sum tree of every account's CRN (proof of liabilities), and with --user that user's inclusion proof as JSON")
    .option('--network <name>', 'main | test | devnet | regtest (for the default data dir)', 'devnet')
    .option('--datadir <dir>', 'data directory (default ~/.cairn/<network>/exchange)')
    .option('--user <id>', 'the user whose proof to print')
    .action(async (flags: CommonFlags & { user?: string }) => {
      const { readExchangeState } = await import('../exchange/exchangeService.js');
      const { liabilitiesOf } = await import('./exchangeBridgeCli.js');
      const datadir = datadirOf(flags);
      const userId = flags.user !== undefined ? positiveInt(flags.user, '--user', 0) : undefined;
      let state;
      try {
        state = readExchangeState(datadir);
      } catch (err) {
        throw cliFailure(`cannot read the exchange state in ${datadir}`, err);
      }
      const { root, proof } = liabilitiesOf(state.engine, datadir, userId);
      process.stdout.write(jsonLine(proof ?? { root }) + '\n');
    });

  exchange
    .command('verify-liabilities')
    .argument('<proof-file>', "a proof printed by liabilities-proof (or GET /v1/account/liabilities-proof); '-' reads standard input")
    .description('check that a liabilities proof counts the balance it states and leads to the root it states; exits 1 when it does not')
    .action(async (file: string) => {
      const { verifyProofText } = await import('./exchangeBridgeCli.js');
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (err) {
        throw cliFailure(`cannot read ${file}`, err);
      }
      const problem = verifyProofText(text);
      if (problem !== undefined) {
        process.stdout.write(`INVALID: ${problem}\n`);
        process.exitCode = 1;
        return;
      }
      const p = JSON.parse(text) as { userId: number; balance: string; root: { hash: string; sum: string }; seq: number };
      process.stdout.write(`OK: user ${p.userId}'s balance ${p.balance} is included in root ${p.root.hash} (total ${p.root.sum} at seq ${p.seq})\n`);
    });

  exchange
    .command('replay')
    .description(
      'replay the whole command log from an empty state (no HTTP): prints the state hash, the audit, and how long it took; ' +
        'with --rebuild-history, drops the history and writes it again from the log (the exchange must not be running)',
    )
    .option('--network <name>', 'main | test | devnet | regtest (for the default data dir)', 'devnet')
    .option('--datadir <dir>', 'data directory (default ~/.cairn/<network>/exchange)')
    .option('--to-seq <n>', 'stop at this sequence number')
    .option('--rebuild-history', 'rebuild the history (SQLite in the data dir, or --db) from the command log')
    .option('--db <url>', 'with --rebuild-history: the PostgreSQL history to rebuild')
    .option('--db-schema <name>', 'with --db: its schema')
    .option('--json', 'print the result as JSON')
    .action(async (flags: HashFlags) => {
      if (flags.rebuildHistory === true) {
        const history = historyOf(flags);
        if (history === false) throw new CliError('--rebuild-history needs a history store');
        if (flags.toSeq !== undefined) throw new CliError('--rebuild-history rebuilds up to the end of the log; drop --to-seq');
        const { rebuildHistory } = await import('../exchange/exchangeService.js');
        const datadir = datadirOf(flags);
        const started = performance.now();
        const r = await rebuildHistory(datadir, history).catch((err: unknown) => {
          throw cliFailure(`cannot rebuild the history of ${datadir}`, err);
        });
        const out = { seq: r.seq, ms: Math.round(performance.now() - started), rows: r.rows };
        process.stdout.write(flags.json === true ? jsonLine(out) + '\n' : `history rebuilt to seq ${out.seq} in ${out.ms} ms: ${r.rows.orders} order updates, ${r.rows.trades} trades, ${r.rows.ledger} ledger entries, ${r.rows.klines} candle updates\n`);
        return;
      }
      const { readExchangeState } = await import('../exchange/exchangeService.js');
      const { auditEngine } = await import('../exchange/audit.js');
      const { computeStateHash } = await import('../exchange/engineState.js');
      const datadir = datadirOf(flags);
      const toSeq = flags.toSeq !== undefined ? positiveInt(flags.toSeq, '--to-seq', 0) : undefined;
      const started = performance.now();
      let state;
      try {
        state = readExchangeState(datadir, { fromScratch: true, ...(toSeq !== undefined ? { toSeq } : {}) });
      } catch (err) {
        throw cliFailure(`cannot replay the command log in ${datadir}`, err);
      }
      const ms = performance.now() - started;
      const report = auditEngine(state.engine);
      const result = { seq: state.engine.seq, stateHash: computeStateHash(state.engine), replayed: state.report.replayed, ms: Math.round(ms), audit: report.ok ? 'OK' : 'FAILED', problems: report.problems };
      if (flags.json === true) process.stdout.write(jsonLine(result) + '\n');
      else process.stdout.write(`replayed ${result.replayed} commands in ${result.ms} ms: seq ${result.seq}, state hash ${result.stateHash}, audit ${result.audit}\n${report.problems.map((p) => `  problem: ${p}\n`).join('')}`);
      if (!report.ok) process.exitCode = 1;
    });
}
