import { randomBytes } from 'node:crypto';
import { xOnlyPublicKey } from '../crypto/schnorr.js';
import { ElectError } from './electError.js';

/** Quorum rule of a chain: `majority` = ⌊N/2⌋+1 (crash faults, the origin system's rule); `2/3` = ⌊2N/3⌋+1 (Byzantine, N ≥ 3f+1). */
export type QuorumRule = 'majority' | '2/3';

/** One member of the fixed membership: its index (its id in every message) and BIP-340 x-only public key, hex. */
export interface ElectMember {
  readonly index: number;
  readonly publicKeyHex: string;
}

/**
 * The genesis of an elect chain (JSON file written by `cairn elect init`): the fixed membership, the quorum, and the
 * bounds a leader's challenge difficulty must stay in (leading zero bits of sha256d(header), little-endian number
 * as Bitcoin compares hashes), the block reward in base units (decimal string: bigint) and the election timings.
 */
export interface ElectGenesis {
  readonly version: 1;
  /** 16 hex chars; part of every topic and signed into every message. */
  readonly chainId: string;
  readonly members: readonly ElectMember[];
  readonly quorumRule: QuorumRule;
  /** Signatures needed for a leader or a commit. */
  readonly quorum: number;
  readonly minZeroBits: number;
  readonly maxZeroBits: number;
  /** Difficulty of the first challenge, in [minZeroBits, maxZeroBits]. */
  readonly initialZeroBits: number;
  /** The leader steers difficulty toward this solve time, ms. */
  readonly targetSolveMs: number;
  /** Reward of a block's winner, base units (1 coin = 10^8), decimal string. */
  readonly rewardSats: string;
  /** Raft election timeout window [min, max), ms; heartbeats every heartbeatMs. */
  readonly electionTimeoutMinMs: number;
  readonly electionTimeoutMaxMs: number;
  readonly heartbeatMs: number;
  /** The leader starts a challenge no sooner than this after the last commit, ms (0 = at once). */
  readonly minBlockIntervalMs: number;
}

/** Options of createGenesis. */
export interface CreateGenesisOptions {
  readonly peers: number;
  readonly quorumRule?: QuorumRule;
  readonly minZeroBits?: number;
  readonly maxZeroBits?: number;
  readonly initialZeroBits?: number;
  readonly targetSolveMs?: number;
  readonly electionTimeoutMinMs?: number;
  readonly electionTimeoutMaxMs?: number;
  readonly heartbeatMs?: number;
  readonly minBlockIntervalMs?: number;
}

/**
 * The number of signatures a quorum needs among `n` members.
 * @throws ElectError bad-genesis when n < 1, or n < 4 under `2/3` (N ≥ 3f+1 with f ≥ 1)
 */
export function computeQuorum(n: number, rule: QuorumRule): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new ElectError('bad-genesis', `peers must be >= 1, got ${n}`);
  if (rule === 'majority') return Math.floor(n / 2) + 1;
  if (n < 4) throw new ElectError('bad-genesis', `quorum 2/3 needs N >= 3f+1 >= 4 peers, got ${n}`);
  return Math.floor((2 * n) / 3) + 1;
}

/**
 * Makes a new chain: N fresh secp256k1 keys (returned, in member order, for the peers' data dirs) and the genesis
 * that lists their x-only public keys. Randomness from node:crypto (this is a key generator, not consensus).
 * @throws ElectError bad-genesis on bad counts or bounds
 */
export function createGenesis(options: CreateGenesisOptions): { genesis: ElectGenesis; privateKeys: Uint8Array[] } {
  const rule = options.quorumRule ?? 'majority';
  const quorum = computeQuorum(options.peers, rule);
  const privateKeys: Uint8Array[] = [];
  const members: ElectMember[] = [];
  for (let i = 0; i < options.peers; i++) {
    let key: Uint8Array;
    for (;;) {
      key = new Uint8Array(randomBytes(32));
      try {
        members.push({ index: i, publicKeyHex: Buffer.from(xOnlyPublicKey(key)).toString('hex') });
        break;
      } catch {
        // a key outside [1, n-1]: astronomically rare, draw again
      }
    }
    privateKeys.push(key);
  }
  const minZeroBits = options.minZeroBits ?? 8;
  const maxZeroBits = options.maxZeroBits ?? 32;
  const genesis: ElectGenesis = {
    version: 1,
    chainId: randomBytes(8).toString('hex'),
    members,
    quorumRule: rule,
    quorum,
    minZeroBits,
    maxZeroBits,
    initialZeroBits: options.initialZeroBits ?? Math.min(maxZeroBits, Math.max(minZeroBits, 18)),
    targetSolveMs: options.targetSolveMs ?? 2_000,
    rewardSats: String(50n * 100_000_000n),
    electionTimeoutMinMs: options.electionTimeoutMinMs ?? 1_500,
    electionTimeoutMaxMs: options.electionTimeoutMaxMs ?? 3_000,
    heartbeatMs: options.heartbeatMs ?? 500,
    minBlockIntervalMs: options.minBlockIntervalMs ?? 0,
  };
  checkGenesis(genesis);
  return { genesis, privateKeys };
}

/**
 * Checks a parsed genesis file: shapes, member keys (64 hex), indexes 0..N-1, quorum matching the rule, bounds
 * 1 ≤ min ≤ initial ≤ max ≤ 64, timings with heartbeat < min timeout < max timeout.
 * @throws ElectError bad-genesis naming the first bad field
 */
export function checkGenesis(value: unknown): asserts value is ElectGenesis {
  const g = value as Partial<ElectGenesis> | null;
  const bad = (what: string): never => {
    throw new ElectError('bad-genesis', what);
  };
  if (g === null || typeof g !== 'object') bad('not an object');
  const gg = g as Partial<ElectGenesis>;
  if (gg.version !== 1) bad('version must be 1');
  if (typeof gg.chainId !== 'string' || !/^[0-9a-f]{16}$/.test(gg.chainId)) bad('chainId must be 16 hex chars');
  if (!Array.isArray(gg.members) || gg.members.length < 1) bad('members must be a non-empty list');
  const members = gg.members as ElectMember[];
  members.forEach((m, i) => {
    if (m?.index !== i) bad(`members[${i}].index must be ${i}`);
    if (typeof m.publicKeyHex !== 'string' || !/^[0-9a-f]{64}$/.test(m.publicKeyHex)) bad(`members[${i}].publicKeyHex must be 64 hex chars`);
  });
  if (gg.quorumRule !== 'majority' && gg.quorumRule !== '2/3') bad('quorumRule must be majority or 2/3');
  if (gg.quorum !== computeQuorum(members.length, gg.quorumRule as QuorumRule)) bad('quorum does not match the rule');
  const ints = ['minZeroBits', 'maxZeroBits', 'initialZeroBits', 'targetSolveMs', 'electionTimeoutMinMs', 'electionTimeoutMaxMs', 'heartbeatMs'] as const;
  for (const k of ints) if (!Number.isSafeInteger(gg[k]) || (gg[k] as number) < 1) bad(`${k} must be a positive integer`);
  const min = gg.minZeroBits as number;
  const max = gg.maxZeroBits as number;
  const init = gg.initialZeroBits as number;
  if (!(min <= init && init <= max && max <= 64)) bad('need 1 <= minZeroBits <= initialZeroBits <= maxZeroBits <= 64');
  if (!((gg.heartbeatMs as number) < (gg.electionTimeoutMinMs as number) && (gg.electionTimeoutMinMs as number) < (gg.electionTimeoutMaxMs as number))) {
    bad('need heartbeatMs < electionTimeoutMinMs < electionTimeoutMaxMs');
  }
  if (!Number.isSafeInteger(gg.minBlockIntervalMs) || (gg.minBlockIntervalMs as number) < 0) bad('minBlockIntervalMs must be an integer >= 0');
  if (typeof gg.rewardSats !== 'string' || !/^(0|[1-9][0-9]{0,17})$/.test(gg.rewardSats)) bad('rewardSats must be a decimal string');
}

/** The x-only public key (32 bytes) of member `index`, or undefined when there is no such member. */
export function memberPublicKey(genesis: ElectGenesis, index: number): Uint8Array | undefined {
  const m = Number.isSafeInteger(index) ? genesis.members[index] : undefined;
  return m === undefined ? undefined : new Uint8Array(Buffer.from(m.publicKeyHex, 'hex'));
}
