/**
 * Proof of liabilities by a Merkle sum tree: every account's balance of the on-chain asset is a leaf (a hash that
 * hides the user id behind a salted tag, and the balance); every node commits to its children's hashes and sums, so
 * the root's sum is the total the exchange admits owing. A user given their leaf and the path to the published root
 * checks that their balance is counted, and that no sum on the way is negative or fails to add up (the flaw of the
 * first version of Maxwell's scheme, fixed by hashing both child sums into the parent). Pure: no I/O.
 * Hashes: BIP-340 tagged SHA-256, tags `cairn/liabilities/leaf` and `cairn/liabilities/node`; sums are u64 big-endian.
 * @see G. Maxwell, proof of reserves (2013); Z. Wilcox / Hu, Zhang, Guo "Merkle sum tree" fix (2019)
 */
import { taggedHash } from '../../crypto/hash.js';
import { bytesToHex, hexToBytes } from '../../primitives/hex.js';

const LEAF_TAG = 'cairn/liabilities/leaf';
const NODE_TAG = 'cairn/liabilities/node';
const USER_TAG = 'cairn/liabilities/user';
const U64_MAX = (1n << 64n) - 1n;

/** A node of the tree: its hash and the sum of the balances below it (sats). */
export interface SumNode {
  readonly hash: Uint8Array;
  readonly sumSats: bigint;
}

/** One step of an inclusion path: the sibling and on which side it sits. */
export interface ProofStep {
  /** Hex hash of the sibling. */
  readonly hash: string;
  /** The sibling's sum, sats, decimal. */
  readonly sum: string;
  readonly side: 'left' | 'right';
}

/** What a user gets: their leaf's inputs, the path, and the root it must reach. JSON-ready. */
export interface LiabilitiesProof {
  readonly format: 'cairn-liabilities-proof/1';
  /** The engine sequence number the tree was built at. */
  readonly seq: number;
  readonly asset: string;
  readonly userId: number;
  /** Hex of the user's salted tag (only this user is told it). */
  readonly userTag: string;
  /** The user's balance counted, sats, decimal. */
  readonly balance: string;
  readonly path: readonly ProofStep[];
  /** The published root: hash (hex) and total liabilities (sats, decimal). */
  readonly root: { readonly hash: string; readonly sum: string };
}

function u64(v: bigint): Uint8Array {
  if (v < 0n || v > U64_MAX) throw new RangeError(`sum ${v} is not a u64`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}

/** The salted tag hiding a user id in a leaf: tagged hash of the salt and the user id. */
export function computeUserTag(salt: Uint8Array, userId: number): Uint8Array {
  return taggedHash(USER_TAG, salt, u64(BigInt(userId)));
}

/** A leaf: tagged hash of the user tag and the balance. @throws RangeError for a negative balance */
export function computeLeaf(userTag: Uint8Array, balanceSats: bigint): SumNode {
  return { hash: taggedHash(LEAF_TAG, userTag, u64(balanceSats)), sumSats: balanceSats };
}

/** A parent: tagged hash of both children's hashes and sums; its sum is theirs added. */
export function computeParent(left: SumNode, right: SumNode): SumNode {
  return { hash: taggedHash(NODE_TAG, left.hash, u64(left.sumSats), right.hash, u64(right.sumSats)), sumSats: left.sumSats + right.sumSats };
}

/** The filler an odd node is paired with: 32 zero bytes, sum 0. */
const EMPTY: SumNode = Object.freeze({ hash: new Uint8Array(32), sumSats: 0n });

/**
 * The tree of a set of balances: leaves in increasing user id order. Negative balances (a frozen account after a
 * reversed deposit) count as 0: a debt of a user is not a liability of the exchange, and a negative leaf would let
 * the exchange hide liabilities. Returns the root and a function giving a user's proof.
 */
export function buildLiabilitiesTree(
  balances: ReadonlyMap<number, bigint>,
  salt: Uint8Array,
  meta: { seq: number; asset: string },
): { root: SumNode; proofFor: (userId: number) => LiabilitiesProof | undefined } {
  const users = [...balances.keys()].sort((a, b) => a - b);
  const tags = users.map((u) => computeUserTag(salt, u));
  const counted = users.map((u) => (balances.get(u)! > 0n ? balances.get(u)! : 0n));
  const levels: SumNode[][] = [users.map((_, i) => computeLeaf(tags[i]!, counted[i]!))];
  if (levels[0]!.length === 0) levels[0]!.push(EMPTY);
  while (levels.at(-1)!.length > 1) {
    const below = levels.at(-1)!;
    const up: SumNode[] = [];
    for (let i = 0; i < below.length; i += 2) up.push(computeParent(below[i]!, below[i + 1] ?? EMPTY));
    levels.push(up);
  }
  const root = levels.at(-1)![0]!;
  const proofFor = (userId: number): LiabilitiesProof | undefined => {
    let index = users.indexOf(userId);
    if (index < 0) return undefined;
    const leafIndex = index;
    const path: ProofStep[] = [];
    for (let l = 0; l < levels.length - 1; l++) {
      const sibling = levels[l]![index ^ 1] ?? EMPTY;
      path.push({ hash: bytesToHex(sibling.hash), sum: sibling.sumSats.toString(), side: index % 2 === 0 ? 'right' : 'left' });
      index >>= 1;
    }
    return {
      format: 'cairn-liabilities-proof/1',
      seq: meta.seq,
      asset: meta.asset,
      userId,
      userTag: bytesToHex(tags[leafIndex]!),
      balance: counted[leafIndex]!.toString(),
      path,
      root: { hash: bytesToHex(root.hash), sum: root.sumSats.toString() },
    };
  };
  return { root, proofFor };
}

/**
 * Checks a proof: recomputes the leaf from the tag and balance, climbs the path (every sum a u64), and compares with
 * the root. Returns undefined when it holds, otherwise why not.
 */
export function verifyLiabilitiesProof(proof: unknown): string | undefined {
  try {
    const p = proof as LiabilitiesProof;
    if (typeof p !== 'object' || p === null || p.format !== 'cairn-liabilities-proof/1') return 'not a cairn-liabilities-proof/1 document';
    if (!/^[0-9a-f]{64}$/.test(p.userTag) || !/^\d{1,20}$/.test(p.balance) || !Array.isArray(p.path) || p.path.length > 64) return 'malformed leaf or path';
    let node = computeLeaf(hexToBytes(p.userTag), BigInt(p.balance));
    for (const [i, step] of p.path.entries()) {
      if (!/^[0-9a-f]{64}$/.test(step?.hash ?? '') || !/^\d{1,20}$/.test(step?.sum ?? '') || (step.side !== 'left' && step.side !== 'right')) return `malformed step ${i}`;
      const sibling = { hash: hexToBytes(step.hash), sumSats: BigInt(step.sum) };
      node = step.side === 'left' ? computeParent(sibling, node) : computeParent(node, sibling);
    }
    if (typeof p.root?.hash !== 'string' || typeof p.root?.sum !== 'string') return 'malformed root';
    if (bytesToHex(node.hash) !== p.root.hash) return 'the path does not lead to the root hash';
    if (node.sumSats.toString() !== p.root.sum) return 'the sums do not add up to the root sum';
    return undefined;
  } catch (err) {
    return `malformed proof: ${(err as Error).message}`;
  }
}
