/**
 * Live mode: the simulation paced by the wall clock with real proof of work at a simulation difficulty. Virtual time
 * advances with real time (× speed) from the genesis time, so the nodes' clocks and block times read like a real
 * network's; every miner grinds real nonces (sha256d of the real header) on its own current block, a share of the
 * network's hashes per tick equal to its hash share; the first valid header wins, as on a real network.
 * The difficulty is regtest's genesis with ASERT (aserti3-2d) anchored at the genesis with `hashesPerBlock` expected
 * hashes, so it follows the miners' real speed around the block interval.
 */
import { bitsToTarget, checkProofOfWork, targetToBits } from '../consensus/pow.js';
import type { ChainParams } from '../params/chainParams.js';
import { regtest } from '../params/networks.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import type { Block } from '../primitives/types.js';
import type { Simulation } from './simulation.js';
import type { SimUser } from './simUser.js';

/** Default expected hashes per block in live mode (about a second of one core's JS sha256d per block, shared). */
export const DEFAULT_LIVE_HASHES_PER_BLOCK = 65_536;

/**
 * Params of live mode: regtest (same genesis, so the same stores) with ASERT: anchor bits for `hashesPerBlock` expected
 * hashes (target = 2^256 / hashesPerBlock), the given block interval as target spacing, half-life 20 intervals.
 */
export function liveParams(blockIntervalSec: number, hashesPerBlock = DEFAULT_LIVE_HASHES_PER_BLOCK): ChainParams {
  const anchorBits = targetToBits(2n ** 256n / BigInt(Math.max(2, Math.round(hashesPerBlock))));
  return Object.freeze({
    ...regtest,
    targetSpacingSec: blockIntervalSec,
    difficulty: {
      kind: 'asert',
      halfLifeSec: 20 * blockIntervalSec,
      anchorHeight: 0,
      anchorBits,
      anchorParentTimeSec: regtest.genesis.header.time - blockIntervalSec,
    },
  } as const);
}

/** Expected hashes of one block at `bits` (2^256 / (target + 1)). */
export function expectedHashes(bits: number): number {
  return Number(2n ** 256n / (bitsToTarget(bits).target + 1n));
}

/** Per-miner work in progress: the block being ground and the next nonce. */
interface Candidate {
  block: Block;
  nextNonce: number;
  tipHex: string;
  mempoolSize: number;
}

/**
 * Runs a simulation live: each tick, due events run, then each miner grinds its share of `hashesPerSec × tick` real
 * nonces; a solved block is processed and relayed like any other. Stops after `durationMs` of wall time.
 */
export class LiveRunner {
  private readonly candidates = new Map<number, Candidate>();
  private extra = 0;

  constructor(
    private readonly sim: Simulation,
    /** Network hash rate to spend, hashes per wall second. */
    private readonly hashesPerSec: number,
    private readonly speed = 1,
    private readonly tickMs = 50,
  ) {}

  /** Runs for `durationMs` of wall time; returns the blocks found. */
  async run(durationMs: number): Promise<number> {
    const sim = this.sim;
    const startWall = performance.now();
    const startVirtual = sim.queue.nowMs;
    const minedBefore = sim.stats.mined;
    for (;;) {
      const elapsed = performance.now() - startWall;
      await sim.queue.runUntil(startVirtual + Math.min(elapsed, durationMs) * this.speed);
      if (elapsed >= durationMs) break;
      await this.tick();
      await new Promise((r) => setTimeout(r, this.tickMs));
    }
    return sim.stats.mined - minedBefore;
  }

  /** One round of hashing for every miner. */
  private async tick(): Promise<void> {
    const sim = this.sim;
    const total = sim.users.reduce((s, u) => s + u.hashShare, 0);
    if (total <= 0) return;
    for (const u of sim.users) {
      const quota = (this.hashesPerSec * this.tickMs * u.hashShare) / total / 1000;
      this.extra += quota - Math.floor(quota);
      let n = Math.floor(quota);
      if (this.extra >= 1) {
        n++;
        this.extra -= 1;
      }
      if (n === 0) continue;
      const solved = this.grind(u, n);
      if (solved !== undefined) {
        this.candidates.delete(u.index);
        await sim.submitMinedBlock(u, solved);
      }
    }
  }

  private grind(u: SimUser, attempts: number): Block | undefined {
    const sim = this.sim;
    let c = this.candidates.get(u.index);
    if (c === undefined || c.tipHex !== u.chain.tip.hashHex || c.mempoolSize !== u.mempool.size || c.nextNonce > 0xffff_ffff) {
      const block = u.assembleBlock(sim.nowSec(), `/live:${u.name}:${sim.stats.mined}/`);
      c = { block, nextNonce: 0, tipHex: u.chain.tip.hashHex, mempoolSize: u.mempool.size };
      this.candidates.set(u.index, c);
    }
    const params = sim.params;
    for (let i = 0; i < attempts && c.nextNonce <= 0xffff_ffff; i++) {
      const header = { ...c.block.header, nonce: c.nextNonce++ };
      if (checkProofOfWork(computeBlockHash(header), header.bits, params.powLimit)) return { ...c.block, header };
    }
    return undefined;
  }
}
