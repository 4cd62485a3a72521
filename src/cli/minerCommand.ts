import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { MinerPool } from '../mining/minerPool.js';
import { StratumMiner } from '../mining/stratumMiner.js';
import { CliError } from './input.js';

/** What `cairn miner --benchmark` prints. */
export interface MinerBenchmarkResult {
  readonly threads: number;
  /** Measured wall-clock time, seconds. */
  readonly seconds: number;
  readonly hashes: number;
  readonly hashesPerSecond: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Mines a target no hash meets (0) on `threads` worker threads for `seconds`, from the workers' first progress
 * report, and reports the hashes done: the machine's hash rate with the WebAssembly kernel.
 * @throws CliError when the kernel is missing (run `npm run build`)
 */
export async function runMinerBenchmark(threads: number, seconds: number): Promise<MinerBenchmarkResult> {
  let pool: MinerPool;
  try {
    pool = new MinerPool({ threads, chunkNonces: 1 << 16 });
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  try {
    const header80 = new Uint8Array(80);
    new DataView(header80.buffer).setUint32(68, Math.floor(Date.now() / 1000), true);
    pool.startJob({ jobId: 'benchmark', header80, target: 0n });
    // The window opens at the first progress report, so worker start-up (and tsx compiling) is not counted.
    const deadline = performance.now() + 60_000;
    while (pool.stats.hashes === 0) {
      if (performance.now() > deadline) throw new CliError('the miner workers did not start within 60 s');
      await sleep(5);
    }
    const startHashes = pool.stats.hashes;
    const start = performance.now();
    await sleep(seconds * 1000);
    const hashes = pool.stats.hashes - startHashes;
    const elapsed = (performance.now() - start) / 1000;
    return { threads, seconds: Number(elapsed.toFixed(3)), hashes, hashesPerSecond: Math.round(hashes / elapsed) };
  } finally {
    await pool.close();
  }
}

function positiveNumber(text: string, what: string, integer: boolean): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(value > 0) || (integer && !Number.isSafeInteger(value))) {
    throw new CliError(`${what} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  }
  return value;
}

/**
 * Parses `--stratum`: `host:port`, `[v6addr]:port` or `stratum+tcp://host:port`.
 * @throws CliError on anything else
 */
export function parseStratumUrl(text: string): { host: string; port: number } {
  const m = /^(?:stratum\+tcp:\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s\[\]]+):(\d{1,5})\/?$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new CliError(`--stratum must be host:port (e.g. 127.0.0.1:28734), got '${text}'`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

interface MinerFlags {
  benchmark?: boolean;
  threads?: string;
  seconds: string;
  stratum?: string;
  user?: string;
  password: string;
  statusInterval: string;
}

/**
 * Mines for a Stratum server until SIGINT/SIGTERM (or the server refuses the user): prints a line per share and the
 * hash rate every few seconds.
 * @throws CliError when the server refuses the username or the kernel is missing
 */
async function runStratumMiner(flags: MinerFlags, threads: number): Promise<void> {
  const { host, port } = parseStratumUrl(flags.stratum!);
  if (flags.user === undefined) throw new CliError('--stratum needs --user <payout address> (the address the server pays)');
  const statusSec = Number(flags.statusInterval);
  if (!(statusSec >= 0)) throw new CliError(`--status-interval must be a number of seconds >= 0, got '${flags.statusInterval}'`);
  const out = process.stdout;
  let miner: StratumMiner;
  try {
    miner = new StratumMiner(
      { host, port, user: flags.user, password: flags.password, threads, statusIntervalMs: statusSec * 1000 },
      { print: (line) => out.write(`${line}\n`) },
    );
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  out.write(`cairn miner: ${threads} thread(s) mining for stratum+tcp://${host}:${port} as ${flags.user}\n`);
  const onSignal = (signal: string): void => {
    out.write(`stopping (${signal})…\n`);
    void miner.stop();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  miner.start();
  const why = await miner.done;
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  const { accepted, rejected, blocks } = miner.stats;
  out.write(`stopped: shares accepted ${accepted}, rejected ${rejected}, blocks ${blocks}\n`);
  if (why !== null) throw new CliError(why);
}

/** Registers `cairn miner`: `--benchmark`, or `--stratum host:port --user <address>` to mine for a Stratum server. */
export function registerMinerCommand(program: Command): void {
  program
    .command('miner')
    .description(
      'CPU miner (WebAssembly sha256d kernel on worker threads). --stratum host:port --user <payout address> mines for ' +
        'a Stratum V1 server (a cairn node) until Ctrl-C; --benchmark hashes for --seconds and prints ' +
        '{threads, seconds, hashes, hashesPerSecond}',
    )
    .option('--benchmark', 'measure the hash rate (no pool, no blocks)')
    .option('--threads <N>', 'worker threads (default: the number of cores)')
    .option('--seconds <S>', 'benchmark duration', '10')
    .option('--stratum <host:port>', 'mine for this Stratum V1 server (e.g. 127.0.0.1:28734 for a devnet node)')
    .option('--user <address>', 'Stratum username: the payout address of your blocks (optionally address.worker)')
    .option('--password <x>', 'Stratum password (cairn nodes ignore it)', 'x')
    .option('--status-interval <sec>', 'seconds between hash-rate lines with --stratum (0 = none)', '5')
    .action(async (opts: MinerFlags) => {
      const threads = opts.threads === undefined ? availableParallelism() : positiveNumber(opts.threads, '--threads', true);
      if (opts.benchmark !== true) {
        if (opts.stratum !== undefined) return runStratumMiner(opts, threads);
        throw new CliError('nothing to do: give --stratum <host:port> --user <address>, or --benchmark');
      }
      const seconds = positiveNumber(opts.seconds, '--seconds', false);
      const result = await runMinerBenchmark(threads, seconds);
      process.stdout.write(JSON.stringify(result) + '\n');
    });
}
