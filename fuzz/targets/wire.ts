/**
 * Fuzz targets `wire-*`: the decoders of cairn's p2p request/response messages (src/p2p/wire.ts), which read bytes
 * straight from any peer. Each gets valid encodings with mutations; the property is "a message or the documented
 * refusal (DecodeError, or RangeError for a count over its limit)", and a decoded message re-encodes to the input.
 * Blocks and transactions on the gossip topics go through the `block` and `tx` targets.
 */
import fc from 'fast-check';
import { regtest } from '../../src/params/networks.js';
import {
  decodeBlocksRequest,
  decodeHeaders,
  decodeHeadersRequest,
  decodeResponseChunk,
  decodeStatus,
  encodeBlocksRequest,
  encodeHeaders,
  encodeHeadersRequest,
  encodeResponseChunk,
  encodeStatus,
  MAX_BLOCKS_PER_REQUEST,
  MAX_HEADERS_PER_RESPONSE,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_LOCATOR_HASHES,
  RespStatus,
} from '../../src/p2p/wire.js';
import { verifyHeaderChain } from '../../src/consensus/headerChain.js';
import { DecodeError } from '../../src/primitives/decodeError.js';
import { NULL_BLOCK_HASH } from '../../src/primitives/blockHeader.js';
import { arbBlockHeader, arbBlockHash } from '../../src/testing/arbitraries.js';
import { mutatedBytes } from '../mutate.js';
import { assertSameBytes, check, decodeOrRefusal, refusal, type RefusalRule } from '../oracle.js';
import { defineTarget } from '../target.js';

/** What wire.ts documents: DecodeError from the byte reader, RangeError for counts and strings over their limits. */
const WIRE_REFUSALS: RefusalRule[] = [refusal(DecodeError), refusal(RangeError)];

const arbUtf8 = (maxBytes: number): fc.Arbitrary<string> =>
  fc.string({ maxLength: maxBytes, unit: 'grapheme' }).filter((s) => new TextEncoder().encode(s).length <= maxBytes);

const arbStatusBytes = fc
  .record({
    network: fc.oneof(fc.constantFrom('main', 'test', 'devnet', 'regtest'), arbUtf8(16)),
    genesisHash: arbBlockHash,
    tipHash: arbBlockHash,
    tipHeight: fc.integer({ min: 0, max: 0xffffffff }),
    chainWork: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
    userAgent: fc.oneof(fc.constant('/cairn:0.1.0/'), arbUtf8(64)),
  })
  .map((s) => encodeStatus(s));

/** Status: network and user agent strings, hashes, height, 256-bit chain work. */
export const statusTarget = defineTarget<Uint8Array>({
  name: 'wire-status',
  description: 'decodeStatus: a StatusMessage or DecodeError/RangeError; a decoded status re-encodes to the input',
  input: () => mutatedBytes(arbStatusBytes, { maxLength: 1024 }),
  run(bytes) {
    const status = decodeOrRefusal(() => decodeStatus(bytes), ...WIRE_REFUSALS);
    if (status === undefined) return;
    assertSameBytes(encodeStatus(status), bytes, 'encodeStatus(decodeStatus(bytes))');
  },
});

const arbHeadersRequestBytes = fc
  .record({
    locator: fc.array(arbBlockHash, { maxLength: MAX_LOCATOR_HASHES + 2 }),
    stopHash: fc.oneof(fc.constant(NULL_BLOCK_HASH), arbBlockHash),
    maxCount: fc.oneof(fc.integer({ min: 0, max: MAX_HEADERS_PER_RESPONSE + 1 }), fc.constantFrom(0xffffffff, 2 ** 31)),
  })
  .map((r) => encodeHeadersRequest(r));

/** Headers request: locator, stop hash, max count (clamped to MAX_HEADERS_PER_RESPONSE when decoded). */
export const headersRequestTarget = defineTarget<Uint8Array>({
  name: 'wire-headers-request',
  description:
    'decodeHeadersRequest: a request within the limits or DecodeError/RangeError; it re-encodes to the input (maxCount clamped)',
  input: () => mutatedBytes(arbHeadersRequestBytes, { maxLength: 8 * 1024 }),
  run(bytes) {
    const req = decodeOrRefusal(() => decodeHeadersRequest(bytes), ...WIRE_REFUSALS);
    if (req === undefined) return;
    check(req.locator.length <= MAX_LOCATOR_HASHES, `locator of ${req.locator.length} hashes accepted`);
    check(req.maxCount >= 1 && req.maxCount <= MAX_HEADERS_PER_RESPONSE, `maxCount ${req.maxCount} accepted`);
    const sentMaxCount = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
    assertSameBytes(encodeHeadersRequest({ ...req, maxCount: sentMaxCount }), bytes, 'encodeHeadersRequest(decodeHeadersRequest(bytes))');
  },
});

/** A run of headers that link (prevBlock = hash of the one before), starting from regtest's genesis child, or random ones. */
const arbHeadersBytes = fc
  .oneof(
    fc.array(arbBlockHeader, { maxLength: 30 }),
    fc.array(fc.constant(regtest.genesis.header), { minLength: 1, maxLength: 3 }),
  )
  .map((headers) => encodeHeaders(headers));

/** Headers response: count + 80-byte headers, then the header-chain checks a syncing node runs on them. */
export const headersTarget = defineTarget<Uint8Array>({
  name: 'wire-headers',
  description:
    'decodeHeaders: at most MAX_HEADERS_PER_RESPONSE headers or DecodeError/RangeError; they re-encode to the input; ' +
    'verifyHeaderChain returns a result (never throws) for them',
  input: () => mutatedBytes(arbHeadersBytes, { maxLength: 200 * 1024 }),
  run(bytes) {
    const headers = decodeOrRefusal(() => decodeHeaders(bytes), ...WIRE_REFUSALS);
    if (headers === undefined) return;
    check(headers.length <= MAX_HEADERS_PER_RESPONSE, `${headers.length} headers accepted`);
    assertSameBytes(encodeHeaders(headers), bytes, 'encodeHeaders(decodeHeaders(bytes))');
    if (headers.length > 0) verifyHeaderChain(regtest, headers, 1);
  },
});

const arbBlocksRequestBytes = fc
  .array(arbBlockHash, { maxLength: MAX_BLOCKS_PER_REQUEST + 2 })
  .map((hashes) => encodeBlocksRequest(hashes));

/** Blocks request: a list of block hashes. */
export const blocksRequestTarget = defineTarget<Uint8Array>({
  name: 'wire-blocks-request',
  description: 'decodeBlocksRequest: at most MAX_BLOCKS_PER_REQUEST hashes or DecodeError/RangeError; they re-encode to the input',
  input: () => mutatedBytes(arbBlocksRequestBytes, { maxLength: 4 * 1024 }),
  run(bytes) {
    const hashes = decodeOrRefusal(() => decodeBlocksRequest(bytes), ...WIRE_REFUSALS);
    if (hashes === undefined) return;
    check(hashes.length <= MAX_BLOCKS_PER_REQUEST, `${hashes.length} hashes accepted`);
    assertSameBytes(encodeBlocksRequest(hashes), bytes, 'encodeBlocksRequest(decodeBlocksRequest(bytes))');
  },
});

const arbResponseChunkBytes = fc
  .oneof(
    fc.uint8Array({ maxLength: 512 }).map((payload) => encodeResponseChunk({ status: RespStatus.SUCCESS, payload })),
    fc
      .record({ retryAfterMs: fc.integer({ min: 0, max: 0xffffffff }), message: arbUtf8(MAX_ERROR_MESSAGE_BYTES) })
      .map(({ retryAfterMs, message }) => encodeResponseChunk({ status: RespStatus.RATE_LIMITED, retryAfterMs, message })),
    fc
      .record({
        status: fc.constantFrom(RespStatus.INVALID_REQUEST, RespStatus.SERVER_ERROR, RespStatus.RESOURCE_UNAVAILABLE),
        message: arbUtf8(MAX_ERROR_MESSAGE_BYTES),
      })
      .map(({ status, message }) => encodeResponseChunk({ status, message })),
  );

/** Response chunk (req/resp /2): a result code byte, then the payload, or a retry delay and an error message. */
export const responseChunkTarget = defineTarget<Uint8Array>({
  name: 'wire-response-chunk',
  description:
    'decodeResponseChunk: a chunk with a known result code or DecodeError/RangeError; a decoded chunk re-encodes to the input',
  input: () => mutatedBytes(arbResponseChunkBytes, { maxLength: 2 * 1024 }),
  run(bytes) {
    const chunk = decodeOrRefusal(() => decodeResponseChunk(bytes), ...WIRE_REFUSALS);
    if (chunk === undefined) return;
    if (chunk.status !== RespStatus.SUCCESS) {
      check(new TextEncoder().encode(chunk.message).length <= MAX_ERROR_MESSAGE_BYTES, 'an error message over its limit accepted');
    }
    assertSameBytes(encodeResponseChunk(chunk), bytes, 'encodeResponseChunk(decodeResponseChunk(bytes))');
  },
});
