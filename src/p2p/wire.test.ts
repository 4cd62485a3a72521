import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devnet, main, regtest } from '../params/networks.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { hashToHex } from '../primitives/hex.js';
import { DecodeError } from '../primitives/decodeError.js';
import {
  decodeBlocksRequest,
  decodeResponseChunk,
  encodeResponseChunk,
  MAX_BLOCKS_REQUEST_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_HEADERS_REQUEST_BYTES,
  RespStatus,
  decodeHeaders,
  decodeHeadersRequest,
  decodeStatus,
  encodeBlocksRequest,
  encodeHeaders,
  encodeHeadersRequest,
  encodeStatus,
  MAX_BLOCKS_PER_REQUEST,
  MAX_HEADERS_PER_RESPONSE,
  MAX_LOCATOR_HASHES,
  protocolIds,
} from './wire.js';
import { decodeBlockHash } from '../primitives/identity.js';
import type { BlockHash } from '../primitives/types.js';

const hash = (b: number): BlockHash => decodeBlockHash(new Uint8Array(32).fill(b));

test('protocol ids and topics carry the network name and genesis prefix, so networks never share them', () => {
  const d = protocolIds(devnet);
  const r = protocolIds(regtest);
  assert.equal(d.status, `/cairn/devnet/${devnet.genesisHashHex.slice(0, 8)}/req/status/2`);
  assert.equal(d.blockTopic, `/cairn/devnet/${devnet.genesisHashHex.slice(0, 8)}/block`);
  assert.equal(d.txTopic.endsWith('/tx'), true);
  for (const key of ['status', 'headers', 'blocks', 'blockTopic', 'txTopic'] as const) {
    assert.notEqual(d[key], r[key]);
    assert.notEqual(d[key], protocolIds(main)[key]);
  }
});

test('status round-trips, chainWork as a 256-bit number', () => {
  const status = {
    network: 'devnet',
    genesisHash: hash(1),
    tipHash: hash(2),
    tipHeight: 123_456,
    chainWork: (1n << 200n) + 12345n,
    userAgent: '/cairn:0.1.0/',
  };
  const back = decodeStatus(encodeStatus(status));
  assert.deepEqual(back, status);
  assert.throws(() => decodeStatus(encodeStatus(status).subarray(0, 40)));
  assert.throws(() => decodeStatus(new Uint8Array([...encodeStatus(status), 0])));
  // A user agent longer than 64 bytes is cut at a character boundary, so the status still decodes.
  assert.equal(decodeStatus(encodeStatus({ ...status, userAgent: 'é'.repeat(40) })).userAgent, 'é'.repeat(32));
});

test('headers request: round-trip, locator and count limits', () => {
  const req = { locator: [hash(3), hash(4)], stopHash: hash(0), maxCount: 2000 };
  assert.deepEqual(decodeHeadersRequest(encodeHeadersRequest(req)), req);
  const tooLong = { locator: Array.from({ length: MAX_LOCATOR_HASHES + 1 }, (_, i) => hash(i)), stopHash: hash(0), maxCount: 1 };
  assert.throws(() => decodeHeadersRequest(encodeHeadersRequest(tooLong)), /locator/);
  assert.throws(() => decodeHeadersRequest(encodeHeadersRequest({ ...req, maxCount: 0 })), /maxCount/);
  assert.equal(decodeHeadersRequest(encodeHeadersRequest({ ...req, maxCount: 10_000 })).maxCount, MAX_HEADERS_PER_RESPONSE);
});

test('headers response carries real headers byte-exactly (genesis of every network)', () => {
  const headers = [main.genesis.header, devnet.genesis.header, regtest.genesis.header];
  const back = decodeHeaders(encodeHeaders(headers));
  assert.deepEqual(back.map((h) => hashToHex(computeBlockHash(h))), [main.genesisHashHex, devnet.genesisHashHex, regtest.genesisHashHex]);
  const tooMany = Array.from({ length: MAX_HEADERS_PER_RESPONSE + 1 }, () => main.genesis.header);
  assert.throws(() => decodeHeaders(encodeHeaders(tooMany)), /exceed/);
});

test('blocks request: round-trip and the per-request limit', () => {
  const hashes = [hash(9), hash(10)];
  assert.deepEqual(decodeBlocksRequest(encodeBlocksRequest(hashes)), hashes);
  const tooMany = Array.from({ length: MAX_BLOCKS_PER_REQUEST + 1 }, (_, i) => hash(i));
  assert.throws(() => decodeBlocksRequest(encodeBlocksRequest(tooMany)), /at most/);
});

test('the largest requests fit the request frame limits the server reads', () => {
  const locator = Array.from({ length: MAX_LOCATOR_HASHES }, (_, i) => hash(i));
  assert.equal(encodeHeadersRequest({ locator, stopHash: hash(0), maxCount: MAX_HEADERS_PER_RESPONSE }).length <= MAX_HEADERS_REQUEST_BYTES, true);
  const hashes = Array.from({ length: MAX_BLOCKS_PER_REQUEST }, (_, i) => hash(i));
  assert.equal(encodeBlocksRequest(hashes).length <= MAX_BLOCKS_REQUEST_BYTES, true);
});

test('response chunks: a result code, then the payload or the error; RATE_LIMITED carries the wait', () => {
  const payload = Uint8Array.of(1, 2, 3);
  const ok = encodeResponseChunk({ status: RespStatus.SUCCESS, payload });
  assert.deepEqual([...ok], [0, 1, 2, 3]);
  assert.deepEqual(decodeResponseChunk(ok), { status: RespStatus.SUCCESS, payload });
  const limited = { status: RespStatus.RATE_LIMITED, retryAfterMs: 1500, message: 'rate limited (200 blocks per 500 ms)' } as const;
  const limitedBytes = encodeResponseChunk(limited);
  assert.deepEqual([...limitedBytes.subarray(0, 5)], [139, 0xdc, 0x05, 0, 0], 'code 139, then u32 LE 1500');
  assert.deepEqual(decodeResponseChunk(limitedBytes), limited);
  for (const status of [RespStatus.INVALID_REQUEST, RespStatus.SERVER_ERROR, RespStatus.RESOURCE_UNAVAILABLE] as const) {
    assert.deepEqual(decodeResponseChunk(encodeResponseChunk({ status, message: 'why' })), { status, message: 'why' });
  }
  // A long message is cut to the limit on encode, and refused beyond it on decode.
  const long = encodeResponseChunk({ status: RespStatus.SERVER_ERROR, message: 'x'.repeat(1000) });
  assert.equal(long.length, 1 + MAX_ERROR_MESSAGE_BYTES);
  assert.throws(() => decodeResponseChunk(Uint8Array.of(2, ...new Uint8Array(MAX_ERROR_MESSAGE_BYTES + 1).fill(65))), /exceeds/);
  assert.throws(() => decodeResponseChunk(new Uint8Array(0)), DecodeError);
  assert.throws(() => decodeResponseChunk(Uint8Array.of(139, 1, 2)), DecodeError);
  assert.throws(() => decodeResponseChunk(Uint8Array.of(7)), /unknown response code 7/);
  assert.throws(() => decodeResponseChunk(Uint8Array.of(1, 0xff, 0xfe)), /UTF-8/);
  // Cut at a character boundary: a message of 3-byte characters still decodes after the cut.
  const wide = decodeResponseChunk(encodeResponseChunk({ status: RespStatus.SERVER_ERROR, message: '€'.repeat(200) }));
  assert.ok(wide.status === RespStatus.SERVER_ERROR && wide.message === '€'.repeat(Math.floor(MAX_ERROR_MESSAGE_BYTES / 3)));
  // A message that starts with a byte-order mark keeps it (found by the wire-response-chunk fuzz target: the decoder
  // dropped it, so the chunk did not re-encode to its bytes).
  const bom = Uint8Array.of(1, 0xef, 0xbb, 0xbf);
  const withBom = decodeResponseChunk(bom);
  assert.deepEqual(withBom, { status: RespStatus.INVALID_REQUEST, message: '\ufeff' });
  assert.deepEqual([...encodeResponseChunk(withBom)], [...bom]);
});
