/**
 * The selfish pool's strategy as a node behaviour (Eyal & Sirer 2014, Algorithm 1), on a real node: the pool mines on
 * its own chain tip (its private branch, which its node has connected), withholds the blocks it finds, and publishes
 * them in reaction to the honest network's blocks:
 * - pool finds a block: if the lead was 0 while a tie race was on (private branch of length 1 matched by the public
 *   one) it publishes (it wins the race); otherwise it keeps the block private;
 * - others find a block (public height grows): lead was 0 → the pool's node has already switched to the longer public
 *   chain (most-work fork choice), so it just forgets its withheld blocks; lead 1 → it publishes its block (tie race);
 *   lead 2 → it publishes everything (wins by one); lead > 2 → it publishes its first unpublished block.
 * "Lead" = height of the pool's tip − height of the best public tip it has seen, both counted from genesis.
 * @see Ittay Eyal and Emin Gün Sirer, "Majority is not Enough: Bitcoin Mining is Vulnerable", FC 2014, Algorithm 1
 */
import type { Block, BlockHash } from '../primitives/types.js';
import type { SimUser } from './simUser.js';

/** The withholding state of a selfish pool; the Simulation calls it on the pool's own and received blocks. */
export class SelfishMiner {
  /** The pool's blocks not yet published, oldest first, with their heights (all on its current tip's branch). */
  private readonly withheld: { block: Block; height: number }[] = [];
  /** Height of the best block the pool has seen from others (the public chain). */
  private publicHeight = 0;
  /** Height of the pool's private tip (its node's tip while it has a branch of its own). */
  private privateHeight = 0;
  /** Length of the private branch since the last fork (Eyal & Sirer's privateBranchLen). */
  private privateBranchLen = 0;

  constructor(
    private readonly user: SimUser,
    private readonly publish: (block: Block) => void,
  ) {}

  /** Called after the pool's node connected a block the pool found (now its tip). */
  onOwnBlock(block: Block): void {
    const leadBefore = this.privateHeight - this.publicHeight;
    this.privateHeight = this.user.chain.height;
    this.withheld.push({ block, height: this.privateHeight });
    this.privateBranchLen++;
    if (leadBefore === 0 && this.privateBranchLen === 2) {
      // Was a tie race: the pool's branch now wins; publish it all.
      this.publishUpTo(Infinity);
      this.privateBranchLen = 0;
    }
  }

  /** Called after the pool's node processed (connected or stored as side chain) a block found by someone else. */
  onOthersBlock(_block: Block, hash: BlockHash): void {
    const entry = this.user.chain.getEntry(hash);
    if (entry === undefined || entry.height <= this.publicHeight) return;
    const leadBefore = this.privateHeight - this.publicHeight;
    this.publicHeight = entry.height;
    const lead = this.privateHeight - this.publicHeight;
    if (lead < 0 || (leadBefore === 0 && lead <= 0)) {
      // The public chain is longer: the node already follows it (most work); the private branch is abandoned.
      this.withheld.length = 0;
      this.privateBranchLen = 0;
      this.privateHeight = this.user.chain.height;
    } else if (lead === 0) {
      // Same length now: publish the pool's block(s) and race (γ of the honest hash rate may mine on ours).
      this.publishUpTo(Infinity);
    } else if (lead === 1) {
      // Publish everything: the pool's branch is longer by one, the honest block goes stale.
      this.publishUpTo(Infinity);
      this.privateBranchLen = 0;
    } else {
      // Far ahead: publish the withheld blocks up to the public height (Algorithm 1: the first unpublished one).
      this.publishUpTo(this.publicHeight);
    }
  }

  private publishUpTo(height: number): void {
    while (this.withheld.length > 0 && this.withheld[0]!.height <= height) this.publish(this.withheld.shift()!.block);
  }
}
