import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { formatCoins } from '../consensus/amount.js';
import { createLogger, type LogLevel } from '../logging/logger.js';
import { DEFAULT_FAUCET_AMOUNT_SATS } from '../walletService/faucetDefaults.js';
import { networkOption } from './decodeCommands.js';
import { defaultDatadir } from './datadir.js';
import { CliError, parseCoinsArg } from './input.js';
import { parsePort } from './nodeCommand.js';

interface WalletServiceFlags {
  network: string;
  node?: string;
  host: string;
  port?: string;
  datadir?: string;
  db?: string;
  dbSchema?: string;
  faucetAmount?: string;
  faucetMnemonicFile?: string;
  tokenTtl: string;
  trustProxy?: boolean;
  logLevel: string;
}

/** Registers `cairn wallet-service`. */
export function registerWalletServiceCommand(program: Command): void {
  program
    .command('wallet-service')
    .description(
      'run the custodial wallet REST service over a node\'s Esplora API: accounts with JWT logins, one HD wallet per account ' +
        '(seeds encrypted at rest under <datadir>/master.key), balance, history, idempotent sends, a faucet on devnet/regtest, ' +
        'chain summary; SQLite in the data dir or PostgreSQL with --db; stops cleanly on Ctrl-C / SIGTERM',
    )
    .option('--network <name>', 'main | test | devnet | regtest', 'devnet')
    .option('--node <url>', "the node's Esplora REST base URL (default http://127.0.0.1:<the network's api port>/api)")
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', "port to listen on (default the network's api port + 1, e.g. 28731 on devnet; 0 = any free port)")
    .option('--datadir <dir>', 'data directory: master key, token secret, faucet keystore, SQLite file, log (default ~/.cairn/<network>/wallet-service)')
    .option('--db <url>', 'postgres://user@host:port/database to store in PostgreSQL (default SQLite <datadir>/wallet-service.sqlite)')
    .option('--db-schema <name>', 'with --db: PostgreSQL schema of the tables (created if missing)')
    .option('--faucet-amount <coins>', `what the faucet pays per request, in coins (default ${formatCoins(DEFAULT_FAUCET_AMOUNT_SATS, { trim: true })})`)
    .option('--faucet-mnemonic-file <file>', 'the faucet wallet\'s BIP-39 mnemonic (default a keystore made in the data dir on first start)')
    .option('--token-ttl <sec>', 'lifetime of login tokens, seconds', '3600')
    .option('--trust-proxy', 'take client IPs from X-Forwarded-For (behind a reverse proxy)')
    .option('--log-level <level>', 'trace | debug | info | warn | error', 'info')
    .action(async (flags: WalletServiceFlags) => {
      const params = networkOption(flags.network);
      if (params.name === 'bitcoin') throw new CliError("the 'bitcoin' params only check Bitcoin data; run a cairn network");
      const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
      if (!levels.includes(flags.logLevel)) throw new CliError(`--log-level must be one of ${levels.join(', ')}`);
      if (flags.db !== undefined && !/^postgres(ql)?:\/\//i.test(flags.db)) throw new CliError(`--db must be a postgres://… URL (SQLite is the default)`);
      if (flags.dbSchema !== undefined && flags.db === undefined) throw new CliError('--db-schema goes with --db');
      if (!/^\d+$/.test(flags.tokenTtl) || Number(flags.tokenTtl) < 1) throw new CliError(`--token-ttl must be a positive number of seconds, got '${flags.tokenTtl}'`);
      const nodeUrl = flags.node ?? `http://127.0.0.1:${params.defaultPorts.api}/api`;
      if (!/^https?:\/\//.test(nodeUrl)) throw new CliError(`--node must be an http(s) URL of an Esplora API, e.g. http://127.0.0.1:${params.defaultPorts.api}/api`);
      const datadir = flags.datadir ?? join(defaultDatadir(params.name), 'wallet-service');
      const port = flags.port !== undefined ? parsePort(flags.port, '--port') : params.defaultPorts.api + 1;
      // The data dir holds secrets: the owner's only (created here, before the log file in it).
      mkdirSync(datadir, { recursive: true, mode: 0o700 });
      const logger = createLogger({ level: flags.logLevel as LogLevel, logDir: join(datadir, 'logs'), base: { network: params.name } });
      // Loaded here: fastify, kysely and pg are not needed by other commands.
      const { startWalletService } = await import('../walletService/walletService.js');
      const service = await startWalletService(
        {
          params,
          nodeUrl,
          datadir,
          host: flags.host,
          port,
          tokenTtlSec: Number(flags.tokenTtl),
          ...(flags.db !== undefined ? { dbUrl: flags.db } : {}),
          ...(flags.dbSchema !== undefined ? { pgSchema: flags.dbSchema } : {}),
          ...(flags.faucetAmount !== undefined ? { faucetAmountSats: parseCoinsArg(flags.faucetAmount, '--faucet-amount') } : {}),
          ...(flags.faucetMnemonicFile !== undefined ? { faucetMnemonicFile: flags.faucetMnemonicFile } : {}),
          ...(flags.trustProxy ? { trustProxy: true } : {}),
        },
        { logger },
      ).catch((err: unknown) => {
        throw new CliError(`cannot start the wallet service: ${err instanceof Error ? err.message : String(err)}`);
      });
      const out = process.stdout;
      out.write(
        `cairn wallet-service on ${params.name}: ${service.url}/v1/\n` +
          `  node      ${nodeUrl}\n` +
          `  database  ${service.dbDescription}\n` +
          `  datadir   ${datadir}  (logs in logs/)\n` +
          (service.faucetAddress !== undefined
            ? `  faucet    ${service.faucetAddress}  (mine to it to fund it; seed in ${service.faucetSource ?? ''})\n`
            : `  faucet    off (devnet and regtest only)\n`),
      );
      await new Promise<void>((resolve) => {
        const shutdown = (why: string): void => {
          out.write(`stopping (${why})…\n`);
          service
            .close()
            .then(() => {
              out.write('stopped\n');
              resolve();
            })
            .catch((err: unknown) => {
              process.stderr.write(`error while stopping: ${String(err)}\n`);
              resolve();
            });
        };
        process.once('SIGINT', () => shutdown('SIGINT'));
        process.once('SIGTERM', () => shutdown('SIGTERM'));
      });
    });
}
