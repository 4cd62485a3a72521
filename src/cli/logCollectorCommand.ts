import type { Command } from 'commander';
import { CliError } from './input.js';
import { LogCollector } from '../logging/logCollector.js';
import { LogError } from '../logging/logError.js';
import { createLogger, moduleLogger, type LogLevel } from '../logging/logger.js';
import { registerLogsCommand } from './logsCommand.js';

interface LogCollectorFlags {
  dir: string;
  source?: string[];
  scan?: string[];
  pollMs: string;
  once?: boolean;
  logLevel: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Registers `cairn log-collector` and `cairn logs` (logsCommand.ts). */
export function registerLogCommands(program: Command): void {
  registerLogCollectorCommand(program);
  registerLogsCommand(program);
}

/** Registers `cairn log-collector`. */
export function registerLogCollectorCommand(program: Command): void {
  program
    .command('log-collector')
    .description(
      'consolidate the rotated NDJSON logs of cairn processes into <dir>/YYYY-MM-DD/<module>.ndjson, at least once: ' +
        'each rotated file is acknowledged (<file>.ack) only after its lines are fsynced here, and only then does its ' +
        'producer delete it. A process logs into <logdir>/current.ndjson and <logdir>/rotated/ (a node: <datadir>/logs). ' +
        'Runs until Ctrl-C / SIGTERM, then makes a last pass; read the result with `cairn logs --dir <dir>`',
    )
    .requiredOption('--dir <out>', 'output dir of the consolidated logs')
    .option('--source <logdir>', 'a producer log dir to collect from (repeatable)', collect)
    .option('--scan <dir>', 'collect from every producer log dir found under <dir>, searched again every 2 s (repeatable; e.g. a devnet dir)', collect)
    .option('--poll-ms <ms>', 'milliseconds between passes', '500')
    .option('--once', 'make one pass and exit')
    .option('--log-level <level>', "level of the collector's own log on standard error", 'info')
    .action(async (flags: LogCollectorFlags) => {
      const sources = flags.source ?? [];
      const scan = flags.scan ?? [];
      if (sources.length === 0 && scan.length === 0) throw new CliError('give at least one --source or --scan');
      const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
      if (!levels.includes(flags.logLevel)) throw new CliError(`--log-level must be one of ${levels.join(', ')}`);
      const pollMs = Number(flags.pollMs);
      if (!Number.isInteger(pollMs) || pollMs < 10) throw new CliError('--poll-ms must be an integer >= 10');
      const log = moduleLogger(createLogger({ level: flags.logLevel as LogLevel }), 'log-collector');
      let collector: LogCollector;
      try {
        collector = LogCollector.open({ outDir: flags.dir, sources, scanRoots: scan, pollMs }, { logger: log });
      } catch (err) {
        if (err instanceof LogError) throw new CliError(err.message);
        throw err;
      }
      const out = process.stdout;
      try {
        if (flags.once) {
          const pass = collector.runPass();
          out.write(`collected ${pass.files} file(s), ${pass.lines} line(s) into ${collector.outDir}\n`);
          return;
        }
        const found = collector.sources();
        out.write(
          `log collector: ${collector.outDir} <- ${found.length} source(s)` + (scan.length > 0 ? `, scanning ${scan.join(', ')}` : '') + '\n',
        );
        log.info({ outDir: collector.outDir, sources: found, scan }, 'log collector started');
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        const totals = await collector.run(stop.signal);
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
        log.info({ ...totals }, 'log collector stopped');
        out.write(
          `log collector stopped: ${totals.files} file(s), ${totals.lines} line(s) collected into ${collector.outDir}` +
            ` (${totals.adopted} leftover current.ndjson of dead producers rotated, ${totals.rolledBack + totals.rolledForward} interrupted batch(es) recovered)\n`,
        );
      } finally {
        collector.close();
      }
    });
}
