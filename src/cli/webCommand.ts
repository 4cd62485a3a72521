import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readManifest } from '../devnet/devnetManifest.js';
import { WEB_PORT_OFFSET } from '../devnet/portPlan.js';
import { createLogger, type LogLevel } from '../logging/logger.js';
import { waitForStopSignal } from '../supervisor/stopSignals.js';
import { networkOption } from './decodeCommands.js';
import { defaultDatadir } from './datadir.js';
import { CliError } from './input.js';
import { parsePort } from './nodeCommand.js';

interface WebFlags {
  network: string;
  node?: string;
  walletService?: string;
  exchange?: string;
  host: string;
  port?: string;
  devnet?: string;
  devnetNode: string[];
  logDir?: string;
  logLevel: string;
}


/** Parses `--devnet-node name=url`. @throws CliError on another shape */
function parseNodeTarget(text: string): { name: string; apiUrl: string } {
  const m = /^([A-Za-z0-9_.-]{1,32})=(https?:\/\/\S+)$/.exec(text);
  if (m === null) throw new CliError(`--devnet-node must be name=http://host:port/api, got '${text}'`);
  return { name: m[1]!, apiUrl: m[2]! };
}

/** Registers `cairn web`. */
export function registerWebCommand(program: Command): void {
  program
    .command('web')
    .description(
      'serve the web UI (explorer, wallet; trading when an exchange is given) and proxy, from one origin, /api to the node\'s REST API ' +
        'and websocket, /v1 to the wallet service and /exchange to the exchange; a service that is down answers 502 JSON and only its ' +
        'panels show the error; stops cleanly on Ctrl-C / SIGTERM',
    )
    .option('--network <name>', 'main | test | devnet | regtest (for the default ports and the label)', 'devnet')
    .option('--node <url>', "the node's Esplora REST URL (default http://127.0.0.1:<the network's api port>/api)")
    .option('--wallet-service <url>', "the wallet service's URL (default http://127.0.0.1:<the network's api port + 1>)")
    .option('--exchange <url>', "the exchange gateway's URL (trading pages; default none)")
    .option('--host <addr>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', `port to listen on (default the network's api port + ${WEB_PORT_OFFSET}, e.g. 28735 on devnet; 0 = any free port)`)
    .option('--devnet <dir>', "a devnet dir: list its nodes (from devnet.json) on the dashboard")
    .option('--devnet-node <name=url>', 'a node to list on the dashboard (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--log-dir <dir>', 'directory of the rotating NDJSON log (default ~/.cairn/<network>/web/logs)')
    .option('--log-level <level>', 'trace | debug | info | warn | error', 'info')
    .action(async (flags: WebFlags) => {
      // Listening from the start, so a stop asked for during start-up is carried out once the server is up.
      const stop = waitForStopSignal();
      const params = networkOption(flags.network);
      if (params.name === 'bitcoin') throw new CliError("the 'bitcoin' params only check Bitcoin data; run a cairn network");
      const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
      if (!levels.includes(flags.logLevel)) throw new CliError(`--log-level must be one of ${levels.join(', ')}`);
      const nodeUrl = flags.node ?? `http://127.0.0.1:${params.defaultPorts.api}/api`;
      const walletServiceUrl = flags.walletService ?? `http://127.0.0.1:${params.defaultPorts.api + 1}`;
      const port = flags.port !== undefined ? parsePort(flags.port, '--port') : params.defaultPorts.api + WEB_PORT_OFFSET;
      const nodes = flags.devnetNode.map(parseNodeTarget);
      if (flags.devnet !== undefined) {
        let manifest;
        try {
          manifest = readManifest(flags.devnet);
        } catch (err) {
          throw new CliError(err instanceof Error ? err.message : String(err));
        }
        if (manifest === undefined) throw new CliError(`--devnet: no devnet.json in ${flags.devnet}`);
        for (const n of manifest.nodes) nodes.push({ name: n.name, apiUrl: n.apiUrl });
      }
      const logDir = flags.logDir ?? join(defaultDatadir(params.name), 'web', 'logs');
      mkdirSync(logDir, { recursive: true });
      const logger = createLogger({ level: flags.logLevel as LogLevel, logDir, base: { network: params.name } });
      // Loaded here: the proxy and static plugins are not needed by other commands.
      const { startWebServer } = await import('../web/webServer.js');
      const server = await startWebServer(
        {
          nodeUrl,
          walletServiceUrl,
          ...(flags.exchange !== undefined ? { exchangeUrl: flags.exchange } : {}),
          network: params.name,
          host: flags.host,
          port,
          nodes,
        },
        { logger },
      ).catch((err: unknown) => {
        throw new CliError(`cannot start the web server: ${err instanceof Error ? err.message : String(err)}`);
      });
      const out = process.stdout;
      out.write(
        `cairn web on ${params.name}: ${server.url}/\n` +
          `  /api      → node            ${nodeUrl}\n` +
          `  /v1       → wallet service  ${walletServiceUrl}\n` +
          `  /exchange → exchange        ${flags.exchange ?? '(none)'}\n` +
          `  logs      ${logDir}\n`,
      );
      const why = await stop.signal;
      out.write(`stopping (${why})…\n`);
      await server.close().then(
        () => out.write('stopped\n'),
        (err: unknown) => process.stderr.write(`error while stopping: ${String(err)}\n`),
      );
      stop.dispose();
    });
}
