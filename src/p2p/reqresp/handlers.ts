import type { Chain } from '../../chain/chain.js';
import { bytesEqual } from '../../primitives/hex.js';
import type { BlockHash, BlockHeader } from '../../primitives/types.js';
import type { BlockIndexEntry } from '../../interfaces/chainTypes.js';
import {
  decodeBlocksRequest,
  decodeHeadersRequest,
  decodeStatus,
  encodeHeaders,
  encodeStatus,
  MAX_BLOCKS_REQUEST_BYTES,
  MAX_BLOCKS_RESPONSE_BYTES,
  MAX_HEADERS_PER_RESPONSE,
  MAX_HEADERS_REQUEST_BYTES,
  MAX_STATUS_BYTES,
  RespStatus,
  type HeadersRequest,
  type ResponseChunk,
  type StatusMessage,
} from '../wire.js';
import type { ReqRespHandler } from './reqResp.js';

/**
 * The status handler: answers with our status, then hands the peer's to `onStatus`, which throws PeerMisbehaviour
 * for a peer on another network or genesis (after our answer, so it learns why).
 */
export function statusHandler(deps: {
  readonly ourStatus: () => StatusMessage;
  readonly onStatus: (peerId: string, status: StatusMessage) => void;
}): ReqRespHandler<StatusMessage> {
  return {
    method: 'status',
    maxRequestBytes: MAX_STATUS_BYTES,
    decodeRequest: decodeStatus,
    *handle(status, peerId) {
      yield { status: RespStatus.SUCCESS, payload: encodeStatus(deps.ourStatus()) };
      deps.onStatus(peerId, status);
    },
  };
}

/** The headers handler: main-chain headers after the locator's fork point (Core's getheaders). */
export function headersHandler(chain: Chain): ReqRespHandler<HeadersRequest> {
  return {
    method: 'headers',
    maxRequestBytes: MAX_HEADERS_REQUEST_BYTES,
    decodeRequest: decodeHeadersRequest,
    *handle(request) {
      yield { status: RespStatus.SUCCESS, payload: encodeHeaders(headersAfterLocator(chain, request)) };
    },
  };
}

/**
 * The blocks handler: each block asked for, in order, from its stored bytes (never decoded here); RESOURCE_UNAVAILABLE
 * for one we do not have. Stops before the block that would take the response past `maxResponseBytes` (default
 * MAX_BLOCKS_RESPONSE_BYTES; at least one block is served); the client asks again for the rest.
 */
export function blocksHandler(chain: Chain, maxResponseBytes: number = MAX_BLOCKS_RESPONSE_BYTES): ReqRespHandler<BlockHash[]> {
  return {
    method: 'blocks',
    maxRequestBytes: MAX_BLOCKS_REQUEST_BYTES,
    decodeRequest: decodeBlocksRequest,
    itemCount: (hashes) => Math.max(1, hashes.length),
    *handle(hashes): Generator<ResponseChunk> {
      let bytes = 0;
      for (const hash of hashes) {
        const raw = chain.getRawBlock(hash);
        if (raw === undefined) {
          yield { status: RespStatus.RESOURCE_UNAVAILABLE, message: 'block not available' };
          continue;
        }
        if (bytes > 0 && bytes + raw.length > maxResponseBytes) return;
        bytes += raw.length;
        yield { status: RespStatus.SUCCESS, payload: raw };
      }
    },
  };
}

/** Main-chain headers after the first locator hash on our main chain (genesis if none), up to stopHash or maxCount. */
export function headersAfterLocator(chain: Chain, request: HeadersRequest): BlockHeader[] {
  let fork: BlockIndexEntry = chain.getEntryByHeight(0)!;
  for (const hash of request.locator) {
    const entry = chain.getEntry(hash);
    if (entry !== undefined && chain.isMainChain(entry)) {
      fork = entry;
      break;
    }
  }
  const out: BlockHeader[] = [];
  const max = Math.min(request.maxCount, MAX_HEADERS_PER_RESPONSE);
  for (let h = fork.height + 1; h <= chain.height && out.length < max; h++) {
    const entry = chain.getEntryByHeight(h)!;
    out.push(entry.header);
    if (bytesEqual(entry.hash, request.stopHash)) break;
  }
  return out;
}
