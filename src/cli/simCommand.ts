/**
 * `cairn sim`: the multi-user simulation on real node code (issue 14).
 *   cairn sim [--seed s] [--latency-ms n] [--live]  interactive shell: on a terminal a menu (@inquirer/prompts); from a
 *                                                  pipe a script, one answer a line
 *   cairn sim run <scenario.json> [--out dir]      runs an experiment; prints the table; writes JSON, CSV and SVG
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { SimError } from '../sim/simError.js';
import { SimShell, type ShellIo } from '../sim/simShell.js';
import { readScenarioFile, resultsTable, runScenario, writeResults } from '../sim/scenario.js';
import { CliError } from './input.js';
import { inquirerShellIo } from './simMenuIo.js';

interface ShellFlags {
  seed: string;
  latencyMs: string;
  live?: boolean;
  blockIntervalSec: string;
  hashesPerBlock: string;
}

interface RunFlags {
  out?: string;
  quiet?: boolean;
}

/** An io for the shell on stdin/stdout: lines are queued as they arrive, so piped input is never lost. */
function terminalIo(): { io: ShellIo; close: () => void } {
  const rl = createInterface({ input: process.stdin, terminal: process.stdin.isTTY === true, output: process.stdin.isTTY ? process.stdout : undefined });
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let ended = false;
  rl.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else lines.push(line);
  });
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(undefined);
  });
  const io: ShellIo = {
    print: (text) => process.stdout.write(text),
    ask: (question) => {
      process.stdout.write(question);
      const next = lines.shift();
      if (next !== undefined) {
        if (process.stdin.isTTY !== true) process.stdout.write(`${next}\n`);
        return Promise.resolve(next);
      }
      if (ended) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        waiting.push((line) => {
          if (line !== undefined && process.stdin.isTTY !== true) process.stdout.write(`${line}\n`);
          resolve(line);
        });
      });
    },
  };
  return { io, close: () => rl.close() };
}

function toCliError(err: unknown): never {
  if (err instanceof SimError) throw new CliError(`${err.code}: ${err.message}`);
  throw err;
}

/** Registers `cairn sim` (shell, the default) and `cairn sim run`. */
export function registerSimCommand(program: Command): void {
  const sim = program
    .command('sim')
    .description('simulation of many users, each a real cairn node, on a simulated network (interactive shell, or run a scenario)');
  sim
    .command('shell', { isDefault: true })
    .description('interactive menu: create users, transact, mine, show chains, latency, partition/heal, scenarios, export')
    .option('--seed <seed>', 'seed of the simulation (same seed and same inputs → same chains)', 'cairn')
    .option('--latency-ms <ms>', 'one-hop latency between users, ms', '1000')
    .option('--live', 'live mode: real time and real proof of work at a simulation difficulty (default: fast mode)')
    .option('--block-interval-sec <s>', 'live mode: target block interval, seconds', '10')
    .option('--hashes-per-block <n>', 'live mode: expected hashes per block at the start (ASERT follows the real speed)', '65536')
    .action(async (flags: ShellFlags) => {
      const latencyMs = Number(flags.latencyMs);
      if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new CliError(`--latency-ms must be a number ≥ 0, got '${flags.latencyMs}'`);
      const blockIntervalSec = Number(flags.blockIntervalSec);
      const hashesPerBlock = Number(flags.hashesPerBlock);
      if (!Number.isInteger(blockIntervalSec) || blockIntervalSec < 1) throw new CliError(`--block-interval-sec must be an integer ≥ 1, got '${flags.blockIntervalSec}'`);
      if (!Number.isInteger(hashesPerBlock) || hashesPerBlock < 2 || hashesPerBlock > 2 ** 40) {
        throw new CliError(`--hashes-per-block must be an integer in [2, 2^40], got '${flags.hashesPerBlock}'`);
      }
      // A terminal gets the menu; a pipe (or a file) is read as a script, one answer a line.
      const { io, close } = process.stdin.isTTY === true ? { io: inquirerShellIo(), close: () => undefined } : terminalIo();
      const shell = new SimShell({ seed: flags.seed, latencyMs, ...(flags.live ? { live: { blockIntervalSec, hashesPerBlock } } : {}) }, io);
      try {
        await shell.start();
      } catch (err) {
        toCliError(err);
      } finally {
        close();
      }
    });
  sim
    .command('run <scenario>')
    .description('run an experiment scenario (scenarios/*.json): stale, doubleSpend, selfish, fairness, partition')
    .option('--out <dir>', 'folder for results.json, results.csv and chart.svg (default: results/<scenario name>)')
    .option('--quiet', 'no progress lines on stderr')
    .action(async (path: string, flags: RunFlags) => {
      try {
        const sc = readScenarioFile(path);
        const result = await runScenario(sc, flags.quiet ? undefined : (l) => process.stderr.write(`${l}\n`));
        process.stdout.write(resultsTable(result));
        const name = path.replace(/^.*[\\/]/, '').replace(/\.json$/i, '');
        const files = writeResults(flags.out ?? `results/${name}`, result, sc);
        process.stdout.write(`wrote ${files.join(', ')}\n`);
      } catch (err) {
        toCliError(err);
      }
    });
}
