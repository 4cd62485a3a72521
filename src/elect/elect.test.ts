import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkElectBlock, computeElectBlockHash, encodeElectHeader, targetFromZeroBits, type ElectBlock } from './block.js';
import { verifyCertifiedBlock, verifyLeaderProof, VoteTally } from './certificate.js';
import { Election, type LogPosition } from './election.js';
import { ElectError } from './electError.js';
import { checkGenesis, computeQuorum, createGenesis } from './genesis.js';
import { signMessage, verifyMessage, type MessageBodies, type MessageHeader, type MessageType } from './message.js';
import { SeededRng } from '../testing/seededRng.js';

const { genesis, privateKeys } = createGenesis({ peers: 5, minZeroBits: 4, maxZeroBits: 20, initialZeroBits: 6 });

function sign<T extends MessageType>(from: number, type: T, height: number, term: number, body: MessageBodies[T], chainId = genesis.chainId) {
  return signMessage({ chainId, height, term, type, from, body } as MessageHeader<T>, privateKeys[from]!);
}

function mine(miner: number): ElectBlock {
  const template = { height: 1, prevHash: '0'.repeat(64), term: 1, leader: 0, zeroBits: 6, txs: ['00ff'], timeSec: 1_700_000_000 };
  for (let nonce = 0; ; nonce++) {
    const block = { ...template, miner, nonce };
    try {
      checkElectBlock(genesis, block);
      return block;
    } catch {
      // not yet
    }
  }
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ElectError, String(err));
    return err.code;
  }
  return 'no error';
}

test('genesis: quorum rules, bounds checked, keys match members', () => {
  assert.equal(computeQuorum(10, 'majority'), 6);
  assert.equal(computeQuorum(7, '2/3'), 5);
  assert.equal(code(() => computeQuorum(3, '2/3')), 'bad-genesis');
  checkGenesis(JSON.parse(JSON.stringify(genesis)));
  assert.equal(code(() => checkGenesis({ ...genesis, quorum: 2 })), 'bad-genesis');
  assert.equal(code(() => checkGenesis({ ...genesis, maxZeroBits: 3 })), 'bad-genesis');
  assert.equal(privateKeys.length, 5);
});

test('envelope: signed messages verify; another chain, a non-member, a tampered payload are refused', () => {
  const env = sign(2, 'blockVote', 7, 3, { blockHash: 'ab'.repeat(32), yes: true });
  const v = verifyMessage(genesis, JSON.stringify(env));
  assert.deepEqual([v.header.from, v.header.height, v.header.term, v.header.type], [2, 7, 3, 'blockVote']);
  assert.equal(code(() => verifyMessage(genesis, sign(2, 'blockVote', 7, 3, { blockHash: 'ab'.repeat(32), yes: true }, 'ffffffffffffffff'))), 'wrong-chain');
  assert.equal(code(() => verifyMessage(genesis, { payload: env.payload.replace('"from":2', '"from":9'), sig: env.sig })), 'non-member');
  assert.equal(code(() => verifyMessage(genesis, { payload: env.payload.replace('"yes":true', '"yes":false'), sig: env.sig })), 'bad-signature');
  // signed by member 1 while claiming to be member 2: a forged vote
  const forged = signMessage({ chainId: genesis.chainId, height: 7, term: 3, type: 'blockVote', from: 2, body: { blockHash: 'ab'.repeat(32), yes: true } }, privateKeys[1]!);
  assert.equal(code(() => verifyMessage(genesis, forged)), 'bad-signature');
  assert.equal(code(() => verifyMessage(genesis, 'not json')), 'bad-envelope');
});

test('block: proof of work binds the miner; bounds are the genesis ones; the header is what cairn miners grind', () => {
  const block = mine(3);
  const hash = checkElectBlock(genesis, block);
  assert.equal(hash, computeElectBlockHash(genesis.chainId, block));
  assert.ok(BigInt('0x' + hash) <= targetFromZeroBits(6));
  // claiming another member's solution changes the commitment, so the work no longer counts (with 1 - 2^-6 odds)
  const stolen = [0, 1, 2, 4].map((m) => { try { checkElectBlock(genesis, { ...block, miner: m }); return 'ok'; } catch (e) { return (e as ElectError).code; } });
  assert.ok(stolen.filter((c) => c === 'high-hash').length >= 3, stolen.join());
  assert.equal(code(() => checkElectBlock(genesis, { ...block, zeroBits: 30 })), 'bad-difficulty');
  assert.equal(code(() => checkElectBlock(genesis, { ...block, miner: 5 })), 'bad-block');
  assert.equal(encodeElectHeader(genesis.chainId, block).length, 80);
});

test('tally: a quorum of yes votes makes one certificate; a double vote is evidence; certificates verify', () => {
  const block = mine(1);
  const hash = checkElectBlock(genesis, block);
  const tally = new VoteTally(genesis, 1);
  const vote = (from: number, blockHash = hash, yes = true, term = 2) => verifyMessage(genesis, sign(from, 'blockVote', 1, term, { blockHash, yes })) as never;
  assert.deepEqual(tally.add(vote(0)), { kind: 'counted' });
  assert.deepEqual(tally.add(vote(0)), { kind: 'duplicate' });
  const dbl = tally.add(vote(0, 'cd'.repeat(32)));
  assert.equal(dbl.kind, 'double-vote');
  assert.equal(dbl.kind === 'double-vote' && dbl.evidence.member, 0);
  assert.deepEqual(tally.add(vote(1, hash, false)), { kind: 'counted' });
  assert.deepEqual(tally.add(vote(2)), { kind: 'counted' });
  const third = tally.add(vote(3));
  assert.ok(third.kind === 'counted' && third.certificate !== undefined);
  const cert = third.certificate;
  assert.equal(cert.votes.length, 3);
  assert.equal(verifyCertifiedBlock(genesis, { block, certificate: cert }), hash);
  // fewer than a quorum, a vote of another term, a forged vote: refused
  assert.equal(code(() => verifyCertifiedBlock(genesis, { block, certificate: { ...cert, votes: cert.votes.slice(1) } })), 'bad-certificate');
  assert.equal(code(() => verifyCertifiedBlock(genesis, { block, certificate: { ...cert, votes: [...cert.votes.slice(1), sign(4, 'blockVote', 1, 9, { blockHash: hash, yes: true })] } })), 'bad-certificate');
  assert.equal(code(() => verifyCertifiedBlock(genesis, { block, certificate: { ...cert, votes: [...cert.votes.slice(1), cert.votes[1]!] } })), 'bad-certificate');
  // a certificate moved onto another block (same votes, another miner): refused whatever that block's work
  assert.notEqual(code(() => verifyCertifiedBlock(genesis, { block: mine(4), certificate: cert })), 'no error');
});

/** Five elections wired by a deterministic in-memory bus: every message reaches every other peer in order. */
function cluster(n: number, seed: number, quorum = Math.floor(n / 2) + 1) {
  const rng = new SeededRng(`election/${seed}`);
  const log: LogPosition = { lastTerm: 0, lastHeight: 0 };
  const peers = Array.from({ length: n }, (_, self) => new Election({ self, quorum, electionTimeoutMinMs: 150, electionTimeoutMaxMs: 300, heartbeatMs: 50, random: () => rng.nextUint32() / 2 ** 32 }, { term: 0, votedFor: null }, 0));
  const down = new Set<number>();
  const queue: MessageHeader[] = [];
  const deliver = () => {
    while (queue.length > 0) {
      const msg = queue.shift()!;
      peers.forEach((p, i) => {
        if (down.has(i) || i === msg.from) return;
        for (const out of p.onMessage(now, msg, log)) queue.push({ chainId: 'x', height: 0, from: i, ...out, body: 'body' in out ? out.body : { session: 's', tipHeight: 0, tipHash: '' } } as MessageHeader);
      });
    }
  };
  let now = 0;
  const run = (untilMs: number) => {
    for (; now <= untilMs; now += 5) {
      peers.forEach((p, i) => {
        if (down.has(i)) return;
        for (const out of p.tick(now, log)) queue.push({ chainId: 'x', height: 0, from: i, ...out, body: 'body' in out ? out.body : { session: 's', tipHeight: 0, tipHash: '' } } as MessageHeader);
      });
      deliver();
    }
  };
  const leaders = () => peers.map((p, i) => (p.role === 'leader' && !down.has(i) ? i : -1)).filter((i) => i >= 0);
  return { peers, down, run, leaders, now: () => now };
}

test('election: one leader per term, elected within the window; a killed leader is replaced in a higher term', () => {
  const c = cluster(5, 42);
  c.run(1_000);
  assert.equal(c.leaders().length, 1);
  const first = c.leaders()[0]!;
  const term = c.peers[first]!.term;
  assert.ok(c.peers.every((p) => p.term === term && p.leader === first));
  c.down.add(first);
  c.peers.forEach((p, i) => i !== first && p.leaderGone(c.now(), first));
  c.run(2_000);
  const [second] = c.leaders();
  assert.ok(second !== undefined && second !== first);
  assert.ok(c.peers[second]!.term > term);
  // each live peer voted at most once in the new term (durable votedFor), and all follow the new leader
  assert.ok(c.peers.every((p, i) => i === first || (p.leader === second && p.durable.term === c.peers[second]!.term)));
});

test('election: pre-vote keeps a returning partitioned peer from disrupting a working leader', () => {
  const c = cluster(5, 7);
  c.run(1_000);
  const leader = c.leaders()[0]!;
  const term = c.peers[leader]!.term;
  const loner = (leader + 1) % 5;
  c.down.add(loner);
  c.run(3_000); // the loner's clock runs out many times while it is away
  c.down.delete(loner);
  // the loner times out and asks for pre-votes: nobody grants, because they hear the leader
  for (let i = 0; i < 3; i++) c.peers[loner]!.tick(c.now() + 10_000 * (i + 1), { lastTerm: 0, lastHeight: 0 });
  c.run(4_000);
  assert.equal(c.peers[leader]!.role, 'leader');
  assert.equal(c.peers[leader]!.term, term);
});

test('election: a restarted peer keeps its vote of the term (durable state)', () => {
  const e = new Election({ self: 1, quorum: 3, electionTimeoutMinMs: 150, electionTimeoutMaxMs: 300, heartbeatMs: 50, random: () => 0.5 }, { term: 4, votedFor: 2 }, 0);
  const log = { lastTerm: 0, lastHeight: 0 };
  const req = (from: number, term: number): MessageHeader => ({ chainId: 'x', height: 0, term, type: 'voteRequest', from, body: { lastTerm: 0, lastHeight: 0 } });
  assert.deepEqual(e.onMessage(0, req(3, 4), log), [{ type: 'vote', term: 4, body: { candidate: 3, granted: false } }]);
  assert.deepEqual(e.onMessage(0, req(2, 4), log), [{ type: 'vote', term: 4, body: { candidate: 2, granted: true } }]);
  // a candidate whose log is behind ours gets no vote even in a new term
  assert.deepEqual(e.onMessage(0, { ...req(3, 5), body: { lastTerm: 0, lastHeight: 0 } }, { lastTerm: 4, lastHeight: 9 }), [{ type: 'vote', term: 5, body: { candidate: 3, granted: false } }]);
});

test("leader proof: a quorum of granted votes for the leader in its term; fewer, another term's, or a denied vote are refused", () => {
  const vote = (from: number, candidate: number, term = 4, granted = true) => sign(from, 'vote', 0, term, { candidate, granted });
  const proof = [vote(1, 1), vote(0, 1), vote(3, 1)];
  verifyLeaderProof(genesis, 4, 1, proof);
  assert.equal(code(() => verifyLeaderProof(genesis, 4, 1, proof.slice(0, 2))), 'bad-certificate');
  assert.equal(code(() => verifyLeaderProof(genesis, 4, 1, [proof[0]!, proof[0]!, proof[1]!])), 'bad-certificate');
  assert.equal(code(() => verifyLeaderProof(genesis, 4, 1, [...proof.slice(0, 2), vote(3, 1, 3)])), 'bad-certificate');
  assert.equal(code(() => verifyLeaderProof(genesis, 4, 1, [...proof.slice(0, 2), vote(3, 1, 4, false)])), 'bad-certificate');
  assert.equal(code(() => verifyLeaderProof(genesis, 4, 2, proof)), 'bad-certificate');
});
