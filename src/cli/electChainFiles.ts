import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ElectGenesis } from '../elect/genesis.js';
import { CliError } from './input.js';

/** Parses an integer flag. @throws CliError when it is not an integer in [min, max] */
export function parseIntFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new CliError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  return n;
}

/** Parses a probability flag. @throws CliError when it is not in [0, 1) */
export function parseRate(name: string, value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new CliError(`${name} must be in [0, 1), got ${value}`);
  return n;
}

/** Reads and checks a genesis file. @throws CliError naming the file and the rule */
export async function loadGenesis(path: string): Promise<ElectGenesis> {
  const mod = await import('../elect/genesis.js');
  const checkGenesis: (v: unknown) => asserts v is ElectGenesis = mod.checkGenesis;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot read genesis ${path}: ${(err as Error).message}`);
  }
  try {
    checkGenesis(value);
  } catch (err) {
    throw new CliError(`genesis ${path}: ${(err as Error).message}`);
  }
  return value;
}

/** Options of `cairn elect init`, as parsed. */
export interface InitFlags {
  peers: string;
  quorum: string;
  dir: string;
  minZeroBits: string;
  maxZeroBits: string;
  zeroBits: string;
  targetSolveMs: string;
  electionTimeoutMinMs: string;
  electionTimeoutMaxMs: string;
  heartbeatMs: string;
  minBlockIntervalMs?: string;
  force?: boolean;
}

/**
 * Writes a new chain into `dir`: genesis.json and peer1..peerN data dirs with each peer's key.
 * @throws CliError on bad flags, or when dir already holds a genesis (without force)
 */
export async function initChain(flags: InitFlags): Promise<{ genesisPath: string; datadirs: string[]; chainId: string }> {
  const { createGenesis } = await import('../elect/genesis.js');
  const { writePeerKey } = await import('../elect/peerKey.js');
  const { ElectError } = await import('../elect/electError.js');
  const dir = resolve(flags.dir);
  const genesisPath = join(dir, 'genesis.json');
  if (existsSync(genesisPath) && flags.force !== true) throw new CliError(`${genesisPath} exists (use --force to replace the chain)`);
  if (flags.quorum !== 'majority' && flags.quorum !== '2/3') throw new CliError(`--quorum must be majority or 2/3, got ${flags.quorum}`);
  let made;
  try {
    made = createGenesis({
      peers: parseIntFlag('--peers', flags.peers, 1, 1000),
      quorumRule: flags.quorum,
      minZeroBits: parseIntFlag('--min-zero-bits', flags.minZeroBits, 1, 64),
      maxZeroBits: parseIntFlag('--max-zero-bits', flags.maxZeroBits, 1, 64),
      initialZeroBits: parseIntFlag('--zero-bits', flags.zeroBits, 1, 64),
      targetSolveMs: parseIntFlag('--target-solve-ms', flags.targetSolveMs, 1, 3_600_000),
      electionTimeoutMinMs: parseIntFlag('--election-timeout-min-ms', flags.electionTimeoutMinMs, 1, 600_000),
      electionTimeoutMaxMs: parseIntFlag('--election-timeout-max-ms', flags.electionTimeoutMaxMs, 1, 600_000),
      heartbeatMs: parseIntFlag('--heartbeat-ms', flags.heartbeatMs, 1, 600_000),
      minBlockIntervalMs: parseIntFlag('--min-block-interval-ms', flags.minBlockIntervalMs ?? '0', 0, 3_600_000),
    });
  } catch (err) {
    if (err instanceof ElectError) throw new CliError(err.message);
    throw err;
  }
  mkdirSync(dir, { recursive: true });
  const datadirs: string[] = [];
  made.privateKeys.forEach((privateKey, index) => {
    const datadir = join(dir, `peer${index + 1}`);
    mkdirSync(datadir, { recursive: true });
    writePeerKey(datadir, { chainId: made.genesis.chainId, index, privateKey });
    datadirs.push(datadir);
  });
  writeFileSync(genesisPath, JSON.stringify(made.genesis, null, 2) + '\n');
  return { genesisPath, datadirs, chainId: made.genesis.chainId };
}

