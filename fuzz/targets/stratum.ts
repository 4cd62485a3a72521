/**
 * Fuzz target `stratum`: the Stratum V1 codec that external miners and pools feed (src/mining/stratumProtocol.ts) —
 * the line splitter over a TCP byte stream cut at arbitrary points, message parsing, mining.notify job decoding and
 * set_difficulty targets.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  difficultyToTarget,
  encodeNotifyParams,
  LineSplitter,
  parseNotifyParams,
  parseStratumMessage,
  StratumProtocolError,
} from '../../src/mining/stratumProtocol.js';
import { arbBlockHash, arbHash256 } from '../../src/testing/arbitraries.js';
import { mutatedBytes } from '../mutate.js';
import { check, decodeOrRefusal, refusal } from '../oracle.js';
import { defineTarget } from '../target.js';

/** The stratum server's line limit. */
const MAX_LINE_BYTES = 8_192;
const stratumRefusal = refusal(StratumProtocolError);

const arbJob = fc.record({
  jobId: fc.string({ minLength: 1, maxLength: 64 }),
  prevHash: arbBlockHash,
  coinb1: fc.uint8Array({ maxLength: 120 }),
  coinb2: fc.uint8Array({ maxLength: 120 }),
  merkleBranch: fc.array(arbHash256, { maxLength: 12 }),
  version: fc.integer({ min: 0, max: 0xffffffff }),
  bits: fc.integer({ min: 0, max: 0xffffffff }),
  time: fc.integer({ min: 0, max: 0xffffffff }),
  cleanJobs: fc.boolean(),
});

/** Lines a miner or a pool sends: notify, set_difficulty, subscribe/authorize/submit requests, responses. */
const arbLine: fc.Arbitrary<string> = fc.oneof(
  arbJob.map((job) => JSON.stringify({ id: null, method: 'mining.notify', params: encodeNotifyParams(job) })),
  fc.oneof(fc.double(), fc.constantFrom(1, 1 / 1024, 0, -1, 1e-300, 1e300)).map((d) => JSON.stringify({ id: null, method: 'mining.set_difficulty', params: [d] })),
  fc.constantFrom(
    '{"id":1,"method":"mining.subscribe","params":["cairn-miner/0.1"]}',
    '{"id":2,"method":"mining.authorize","params":["worker","x"]}',
    '{"id":3,"method":"mining.submit","params":["worker","1","00000000","5f5e1000","00000001"]}',
    '{"id":1,"result":[[["mining.notify","ab"]],"00000001",4],"error":null}',
    '{"id":4,"result":null,"error":[21,"Job not found",null]}',
  ),
);

/** A stream: lines joined by LF (some CRLF), as bytes, mutated, then cut into chunks at the given points. */
export interface StratumInput {
  readonly stream: Uint8Array;
  readonly cuts: readonly number[];
}

const arbStream = fc
  .tuple(fc.array(arbLine, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([lines, crlf]) => new TextEncoder().encode(lines.join(crlf ? '\r\n' : '\n') + '\n'));

export default defineTarget<StratumInput>({
  name: 'stratum',
  description:
    'LineSplitter + parseStratumMessage + parseNotifyParams / difficultyToTarget: values or StratumProtocolError; a ' +
    'decoded job re-encodes to params that decode to the same job',
  input: () => fc.record({ stream: mutatedBytes(arbStream, { maxLength: 32 * 1024 }), cuts: fc.array(fc.nat(), { maxLength: 4 }) }),
  run({ stream, cuts }) {
    const splitter = new LineSplitter(MAX_LINE_BYTES);
    const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % stream.length)))].sort((a, b) => a - b);
    const lines: string[] = [];
    let from = 0;
    for (const to of [...points, stream.length]) {
      const got = decodeOrRefusal(() => splitter.push(Buffer.from(stream.subarray(from, to))), stratumRefusal);
      if (got === undefined) return; // line-too-long: the connection is dropped
      lines.push(...got);
      from = to;
    }
    for (const line of lines) {
      const message = decodeOrRefusal(() => parseStratumMessage(line), stratumRefusal);
      if (message === undefined) continue;
      if (message.method === 'mining.notify') {
        const job = decodeOrRefusal(() => parseNotifyParams(message.params), stratumRefusal);
        if (job === undefined) continue;
        check(isDeepStrictEqual(parseNotifyParams(encodeNotifyParams(job)), job), 'a mining.notify job does not survive re-encoding');
      } else if (message.method === 'mining.set_difficulty' && typeof message.params?.[0] === 'number') {
        const target = decodeOrRefusal(() => difficultyToTarget(message.params![0] as number), stratumRefusal);
        check(target === undefined || (target >= 0n && target < 1n << 256n), `target ${target} out of range`);
      }
    }
  },
});
