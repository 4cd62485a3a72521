import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerifyError } from './verifyError.js';
import { decodeBlock } from '../primitives/block.js';
import { bytesToHex, hexToBytes } from '../primitives/hex.js';
import type { BlockHeader, Tx } from '../primitives/types.js';
import { readVectorJson, readVectorText, VectorTally } from '../testing/vectors.js';
import {
  checkBlockContext,
  checkBlockHeaderContext,
  encodeBip34HeightPush,
  isFinalTx,
  LOCKTIME_THRESHOLD,
} from './contextualChecks.js';
import { decodeTxid } from '../primitives/identity.js';
import { NULL_BLOCK_HASH } from '../primitives/blockHeader.js';

const rejects = (reason: string) => (e: unknown) => e instanceof VerifyError && e.code === reason;

/** Bitcoin mainnet activated BIP-34 at this height (Core's consensus.BIP34Height). */
const MAINNET_BIP34_HEIGHT = 227_931;

describe('encodeBip34HeightPush and checkBlockContext (bad-cb-height)', () => {
  it('matches the coinbase of every post-BIP-34 mainnet block in the shared vectors', (t) => {
    const index = readVectorJson<{ blocks: { file: string; height: number }[] }>('mainnet/blocks-index.json');
    const tally = new VectorTally('mainnet/blocks-index.json (post-BIP-34 coinbases)');
    for (const { file, height } of index.blocks) {
      if (height < MAINNET_BIP34_HEIGHT) continue;
      const block = decodeBlock(hexToBytes(readVectorText(`mainnet/${file}`).trim()));
      const push = encodeBip34HeightPush(height);
      const scriptSig = block.txs[0]!.inputs[0]!.scriptSig;
      const outcome = (h: number): string => {
        try {
          checkBlockContext(block, h, 0xffffffff);
          return 'ok';
        } catch (e) {
          return e instanceof VerifyError ? e.code : String(e);
        }
      };
      // The real block passes at its height (lock-time cutoff far in the future) and fails one height off.
      tally.check(`${file} (height ${height})`, {
        'scriptSig height push': [bytesToHex(scriptSig.subarray(0, push.length)), bytesToHex(push)],
        'checkBlockContext at its height': [outcome(height), 'ok'],
        'checkBlockContext one height off': [outcome(height + 1), 'bad-cb-height'],
      });
    }
    tally.report(t);
  });

  it('encodes CScript() << n as Core does: opcodes for 0..16, minimal little-endian pushes with a sign byte', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '51'],
      [16, '60'],
      [17, '0111'],
      [127, '017f'],
      [128, '028000'],
      [255, '02ff00'],
      [256, '020001'],
      [32767, '02ff7f'],
      [32768, '03008000'],
      [482683, '037b5d07'],
      [8388607, '03ffff7f'],
      [8388608, '0400008000'],
    ];
    for (const [n, hex] of cases) assert.equal(bytesToHex(encodeBip34HeightPush(n)), hex, `height ${n}`);
    assert.throws(() => encodeBip34HeightPush(-1), RangeError);
  });
});

describe('isFinalTx (BIP-113 cutoff) and bad-txns-nonfinal', () => {
  const tx = (locktime: number, sequence = 0xfffffffe): Tx => ({
    version: 2,
    inputs: [{ prevout: { txid: decodeTxid(new Uint8Array(32).fill(1)), index: 0 }, scriptSig: new Uint8Array(0), sequence, witness: [] }],
    outputs: [],
    locktime,
  });

  it('height locks compare with the block height, time locks with the cutoff; final sequences override', () => {
    assert.equal(isFinalTx(tx(0), 100, 1_000), true);
    assert.equal(isFinalTx(tx(99), 100, 1_000), true);
    assert.equal(isFinalTx(tx(100), 100, 1_000), false, 'locktime must be below the height');
    assert.equal(isFinalTx(tx(100, 0xffffffff), 100, 1_000), true);
    const t0 = LOCKTIME_THRESHOLD + 1_000;
    assert.equal(isFinalTx(tx(t0 - 1), 100, t0), true);
    assert.equal(isFinalTx(tx(t0), 100, t0), false, 'locktime must be below the cutoff time');
    assert.equal(isFinalTx(tx(LOCKTIME_THRESHOLD - 1), 100, t0), false, 'below the threshold it is a height');
  });
});

describe('checkBlockHeaderContext', () => {
  const header: BlockHeader = {
    version: 0x20000000,
    prevBlock: NULL_BLOCK_HASH,
    merkleRoot: new Uint8Array(32),
    time: 10_000,
    bits: 0x207fffff,
    nonce: 0,
  };
  const ctx = { expectedBits: 0x207fffff, medianTimePastSec: 9_999, nowSec: 10_000 - 7_200, maxFutureBlockTimeSec: 7_200 };

  it('accepts the boundaries and refuses one step past each, in Core\'s order', () => {
    checkBlockHeaderContext(header, ctx);
    assert.throws(() => checkBlockHeaderContext({ ...header, bits: 0x207ffffe }, ctx), rejects('bad-diffbits'));
    assert.throws(() => checkBlockHeaderContext(header, { ...ctx, medianTimePastSec: 10_000 }), rejects('time-too-old'));
    assert.throws(() => checkBlockHeaderContext(header, { ...ctx, nowSec: ctx.nowSec - 1 }), (e: unknown) => {
      return e instanceof VerifyError && e.code === 'time-too-new' && e.score === 0;
    });
    // bits are checked first.
    assert.throws(() => checkBlockHeaderContext({ ...header, bits: 1 }, { ...ctx, medianTimePastSec: 20_000 }), rejects('bad-diffbits'));
  });
});
