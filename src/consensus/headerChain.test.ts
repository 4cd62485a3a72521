import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256, sha256d } from '../crypto/hash.js';
import type { ChainParams, DifficultyRule } from '../params/chainParams.js';
import { computeBlockHash, decodeBlockHeader, encodeBlockHeader, NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { bytesToHex, hashToHex, hexToBytes } from '../primitives/hex.js';
import type { BlockHeader } from '../primitives/types.js';
import { bitcoin as bitcoinParamsForTests } from '../params/networks.js';
import { readVectorJson, readVectorText, reportVectors, VectorTally } from '../testing/vectors.js';
import { getNextWorkRequired } from './difficulty.js';
import { verifyHeaderChain, type HeaderChainResult } from './headerChain.js';
import { computeMedianTimePast } from './medianTimePast.js';
import { bitsToTarget, checkProofOfWork, targetToBits } from './pow.js';

const HEADERS_FILE = 'mainnet/headers-0-255.hex';
const headerLines = readVectorText(HEADERS_FILE)
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '');
const mainnetHeaders: BlockHeader[] = headerLines.map((l) => decodeBlockHeader(hexToBytes(l)));

/** Chainwork of one block at 0x1d00ffff, as Core's getblockheader shows for the genesis block: 0x100010001. */
const WORK_1D00FFFF = 0x100010001n;

function expectFailure(r: HeaderChainResult, height: number, reason: string): void {
  assert.equal(r.ok, false, `expected ${reason} at ${height}, got ok`);
  if (r.ok) return;
  assert.equal(r.reason, reason, r.detail);
  assert.equal(r.height, height, r.detail);
}

test('the Bitcoin test params are mainnet\'s', () => {
  const p = bitcoinParamsForTests;
  assert.equal(p.powLimit, (1n << 224n) - 1n);
  assert.equal(targetToBits(p.powLimit), p.powLimitBits);
  // The genesis block in the params is the first header of the vector file and hashes to the pinned hash.
  assert.equal(bytesToHex(encodeBlockHeader(p.genesis.header)), headerLines[0]);
  assert.equal(hashToHex(computeBlockHash(p.genesis.header)), p.genesisHashHex);
  // Without a tx codec yet, check the coinbase scripts appear verbatim in the raw genesis block.
  const rawGenesis = readVectorText('mainnet/block-000000.hex').trim();
  const coinbase = p.genesis.txs[0];
  assert.ok(coinbase?.inputs[0] && coinbase.outputs[0]);
  assert.ok(rawGenesis.includes(bytesToHex(coinbase.inputs[0].scriptSig)));
  assert.ok(rawGenesis.includes(bytesToHex(coinbase.outputs[0].scriptPubKey)));
});

test('mainnet headers 0..255 verify with Bitcoin rules', (t) => {
  assert.equal(mainnetHeaders.length, 256);
  const r = verifyHeaderChain(bitcoinParamsForTests, mainnetHeaders, 0);
  assert.ok(r.ok, r.ok ? '' : `${HEADERS_FILE}: header at height ${r.height} refused: ${r.reason} (${r.detail ?? ''})`);
  assert.equal(r.count, 256);
  assert.equal(r.firstHeight, 0);
  assert.equal(r.tipHeight, 255);
  // Tip hash computed independently: sha256d of the raw 80 bytes of the last line.
  assert.equal(r.tipHash, hashToHex(sha256d(hexToBytes(headerLines[255] as string))));
  assert.equal(r.chainWork, 256n * WORK_1D00FFFF);
  assert.equal(r.retargetsChecked, 0);
  assert.equal(r.retargetsUnchecked, 0);
  // Every header up to the tip passed (a failure would report how far it got).
  reportVectors(t, `${HEADERS_FILE} (verifyHeaderChain)`, r.ok ? r.count : 0, headerLines.length, 256);
  // Known hashes from mainnet/blocks-index.json (heights 0, 1, 170) sit at their heights of the verified chain.
  const indexFile = 'mainnet/blocks-index.json';
  const index = readVectorJson<{ blocks: { height: number; hash: string }[] }>(indexFile);
  const inRange = index.blocks.filter((x) => x.height <= 255);
  const tally = new VectorTally(`${indexFile} (hashes of heights <= 255)`);
  for (const b of inRange) tally.check(`height ${b.height}`, { hash: [hashToHex(sha256d(hexToBytes(headerLines[b.height] as string))), b.hash] });
  tally.report(t, 3);
});

test('mainnet headers from a later start height verify without genesis', () => {
  const r = verifyHeaderChain(bitcoinParamsForTests, mainnetHeaders.slice(100), 100);
  assert.ok(r.ok);
  assert.equal(r.count, 156);
  assert.equal(r.firstHeight, 100);
  assert.equal(r.tipHeight, 255);
  assert.equal(r.chainWork, 156n * WORK_1D00FFFF);
});

test('mainnet negative cases', () => {
  const params = bitcoinParamsForTests;
  // A changed nonce changes the hash: it no longer meets the target.
  const nonce = mainnetHeaders.slice();
  nonce[100] = { ...(nonce[100] as BlockHeader), nonce: ((nonce[100] as BlockHeader).nonce + 1) >>> 0 };
  expectFailure(verifyHeaderChain(params, nonce, 0), 100, 'high-hash');

  // Swapped order: header 51 (valid PoW) arrives at height 50 but does not link to 49.
  const swapped = mainnetHeaders.slice();
  [swapped[50], swapped[51]] = [swapped[51] as BlockHeader, swapped[50] as BlockHeader];
  expectFailure(verifyHeaderChain(params, swapped, 0), 50, 'bad-prevblk');

  // Changed bits on a real header fail high-hash, not bad-diffbits: PoW is checked first (as Core's CheckBlockHeader
  // runs before ContextualCheckBlockHeader) and bits are part of the hashed header, so the new hash is random; easier
  // bits than 0x1d00ffff are above powLimit anyway. bad-diffbits is exercised on the mined synthetic chains below.
  for (const bits of [0x1d00fffe, 0x1d01ffff, 0x1c00ffff]) {
    const changed = mainnetHeaders.slice();
    changed[100] = { ...(changed[100] as BlockHeader), bits };
    expectFailure(verifyHeaderChain(params, changed, 0), 100, 'high-hash');
  }

  // A file that claims to start at genesis but does not.
  expectFailure(verifyHeaderChain(params, mainnetHeaders.slice(1), 0), 0, 'bad-genesis');
  expectFailure(verifyHeaderChain(params, [], 0), 0, 'no-headers');
  expectFailure(verifyHeaderChain(params, mainnetHeaders, -1), 0, 'bad-start-height');
});

// ---- synthetic chains mined in the test against an easy powLimit ----

/** 2^247 - 1: ~1 in 500 hashes meets it, and target * 4 * timespan stays below 2^256 (no arith_uint256 wrap). */
const EASY_POW_LIMIT = (1n << 247n) - 1n;

function easyParams(difficulty: DifficultyRule, genesisHashHex = ''): ChainParams {
  return {
    ...bitcoinParamsForTests,
    genesisHashHex,
    powLimit: EASY_POW_LIMIT,
    powLimitBits: targetToBits(EASY_POW_LIMIT),
    targetSpacingSec: 10,
    difficulty,
  };
}

const BITCOIN_RULE: DifficultyRule = { kind: 'bitcoin', retargetInterval: 4, targetTimespanSec: 40 };

/** Finds a nonce that meets the header's bits under powLimit (the header must carry valid bits). */
function mine(h: Omit<BlockHeader, 'nonce'>, powLimit: bigint): BlockHeader {
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    const header = { ...h, nonce };
    if (checkProofOfWork(computeBlockHash(header), header.bits, powLimit)) return header;
  }
  throw new Error('no nonce found');
}

/** Mines a chain from genesis whose block i has time times[i] and the bits the params' rule demands. */
function mineChain(params: ChainParams, times: number[]): BlockHeader[] {
  const chain: BlockHeader[] = [];
  for (let i = 0; i < times.length; i++) {
    const prev = chain[i - 1];
    const bits =
      prev === undefined
        ? params.powLimitBits
        : getNextWorkRequired(params, { height: i - 1, time: prev.time, bits: prev.bits }, (height) => {
            const a = chain[height];
            assert.ok(a);
            return a;
          });
    chain.push(
      mine(
        {
          version: 1,
          prevBlock: prev === undefined ? NULL_BLOCK_HASH : computeBlockHash(prev),
          merkleRoot: sha256(Uint8Array.of(i)),
          time: times[i] as number,
          bits,
        },
        params.powLimit,
      ),
    );
  }
  return chain;
}

/** Replaces header `height` with a re-mined variant and re-mines every later header onto it. */
function tamper(params: ChainParams, chain: BlockHeader[], height: number, change: Partial<BlockHeader>): BlockHeader[] {
  const out = chain.slice(0, height);
  for (let i = height; i < chain.length; i++) {
    const base = chain[i] as BlockHeader;
    const prev = out[i - 1];
    const fields = i === height ? { ...base, ...change } : base;
    out.push(mine({ ...fields, prevBlock: prev === undefined ? NULL_BLOCK_HASH : computeBlockHash(prev) }, params.powLimit));
  }
  return out;
}

// Heights 0..12: 5 s blocks for two periods (retargets at 4 and 8 make it harder), then 30 s blocks (12 makes it easier).
const TIMES = [1000, 1005, 1010, 1015, 1020, 1025, 1030, 1035, 1040, 1070, 1100, 1130, 1160];
const bitcoinParams = easyParams(BITCOIN_RULE);
const bitcoinChain = mineChain(bitcoinParams, TIMES);

function okResult(r: HeaderChainResult): Extract<HeaderChainResult, { ok: true }> {
  assert.ok(r.ok, r.ok ? '' : `${r.reason} at ${r.height}: ${r.detail}`);
  return r;
}

test('synthetic Bitcoin-rule chain: retargets are checked only when their period is in the file', () => {
  // The chain really does retarget: bits change at 4, 8 and 12 and nowhere else.
  const changes = bitcoinChain.flatMap((h, i) => (i > 0 && h.bits !== bitcoinChain[i - 1]?.bits ? [i] : []));
  assert.deepEqual(changes, [4, 8, 12]);

  const full = okResult(verifyHeaderChain(bitcoinParams, bitcoinChain, 0));
  assert.deepEqual([full.count, full.tipHeight, full.retargetsChecked, full.retargetsUnchecked], [13, 12, 3, 0]);
  assert.equal(full.tipHash, hashToHex(sha256d(encodeBlockHeader(bitcoinChain[12] as BlockHeader))));

  // [first height, expected checked, expected unchecked]: the retarget at H needs header H - 4 in the file.
  const cases: [number, number, number][] = [
    [1, 2, 1], // 4 unchecked (needs 0); 8, 12 checked
    [2, 2, 1],
    [4, 2, 1], // the first header sits at retarget 4: given; 8 (needs 4) and 12 checked
    [5, 1, 1], // 8 unchecked (needs 4); 12 checked
    [9, 0, 1], // 12 unchecked
    [10, 0, 1],
  ];
  for (const [from, checked, unchecked] of cases) {
    const r = okResult(verifyHeaderChain(bitcoinParams, bitcoinChain.slice(from), from));
    assert.deepEqual([r.firstHeight, r.retargetsChecked, r.retargetsUnchecked], [from, checked, unchecked], `from ${from}`);
  }
});

test('synthetic Bitcoin-rule chain: wrong bits fail bad-diffbits', () => {
  // At a retarget height, keeping the old (easier, still <= powLimit) bits: valid PoW, wrong difficulty.
  const noRetarget = tamper(bitcoinParams, bitcoinChain, 8, { bits: (bitcoinChain[7] as BlockHeader).bits });
  expectFailure(verifyHeaderChain(bitcoinParams, noRetarget, 0), 8, 'bad-diffbits');
  // The same header is accepted when its period start (4) is not in the file: counted as unchecked.
  const unchecked = okResult(verifyHeaderChain(bitcoinParams, noRetarget.slice(5, 9), 5));
  assert.equal(unchecked.retargetsUnchecked, 1);
  // Off a retarget height the bits must repeat the predecessor's.
  const offBoundary = tamper(bitcoinParams, bitcoinChain, 6, { bits: bitcoinParams.powLimitBits });
  expectFailure(verifyHeaderChain(bitcoinParams, offBoundary, 0), 6, 'bad-diffbits');
  expectFailure(verifyHeaderChain(bitcoinParams, offBoundary.slice(5), 5), 6, 'bad-diffbits');
});

test('synthetic chain: bits out of range fail high-hash', () => {
  for (const bits of [0x207fffff /* above powLimit */, 0x04923456 /* negative */, 0xff123456 /* overflow */, 0]) {
    const chain = bitcoinChain.slice();
    chain[6] = { ...(chain[6] as BlockHeader), bits };
    expectFailure(verifyHeaderChain(bitcoinParams, chain, 0), 6, 'high-hash');
  }
});

test('synthetic chain: time-too-old against the median of the previous 11', () => {
  const mtp = computeMedianTimePast(TIMES.slice(1, 12));
  const old = tamper(bitcoinParams, bitcoinChain, 12, { time: mtp });
  expectFailure(verifyHeaderChain(bitcoinParams, old, 0), 12, 'time-too-old');
  const justAfter = tamper(bitcoinParams, bitcoinChain, 12, { time: mtp + 1 });
  okResult(verifyHeaderChain(bitcoinParams, justAfter, 0));
  // With fewer than 11 predecessors in the file (and not starting at genesis) the rule cannot be checked.
  okResult(verifyHeaderChain(bitcoinParams, old.slice(5), 5));
  // From genesis the whole ancestry is present, so early blocks are checked against fewer than 11 times.
  const early = tamper(bitcoinParams, bitcoinChain, 3, { time: TIMES[1] as number });
  expectFailure(verifyHeaderChain(bitcoinParams, early, 0), 3, 'time-too-old');
});

test('synthetic chain: genesis is recognised by params.genesisHashHex', () => {
  const genesisHex = hashToHex(computeBlockHash(bitcoinChain[0] as BlockHeader));
  const withGenesis = easyParams(BITCOIN_RULE, genesisHex.toUpperCase());
  okResult(verifyHeaderChain(withGenesis, bitcoinChain, 0));
  const otherGenesis = tamper(bitcoinParams, bitcoinChain, 0, { time: 999 });
  expectFailure(verifyHeaderChain(withGenesis, otherGenesis, 0), 0, 'bad-genesis');
});

test('synthetic ASERT chain: every header after the first is recomputed from the params anchor', () => {
  const times = [2000, 2010, 2015, 2020, 2045, 2050, 2090, 2100, 2101, 2150];
  const asert = easyParams({
    kind: 'asert',
    halfLifeSec: 60,
    anchorHeight: 1,
    anchorBits: targetToBits(EASY_POW_LIMIT),
    anchorParentTimeSec: times[0] as number,
  });
  const chain = mineChain(asert, times);
  assert.ok(new Set(chain.map((h) => h.bits)).size > 2, 'the synthetic ASERT chain should move its difficulty');
  const full = okResult(verifyHeaderChain(asert, chain, 0));
  assert.deepEqual([full.retargetsChecked, full.retargetsUnchecked], [9, 0]);
  const later = okResult(verifyHeaderChain(asert, chain.slice(4), 4));
  assert.deepEqual([later.retargetsChecked, later.retargetsUnchecked], [5, 1]);
  const wrong = tamper(asert, chain, 7, { bits: targetToBits(bitsToTarget((chain[7] as BlockHeader).bits).target >> 1n) });
  expectFailure(verifyHeaderChain(asert, wrong, 0), 7, 'bad-diffbits');
  expectFailure(verifyHeaderChain(asert, wrong.slice(6), 6), 7, 'bad-diffbits');
});

test('synthetic chain with difficulty none: bits never change', () => {
  const none = easyParams({ kind: 'none' });
  const chain = mineChain(none, [1, 2, 3, 4, 5, 6]);
  const r = okResult(verifyHeaderChain(none, chain, 0));
  assert.deepEqual([r.retargetsChecked, r.retargetsUnchecked], [0, 0]);
  const harder = targetToBits(EASY_POW_LIMIT >> 1n);
  expectFailure(verifyHeaderChain(none, tamper(none, chain, 4, { bits: harder }), 0), 4, 'bad-diffbits');
});
