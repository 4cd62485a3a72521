import { createHash } from 'node:crypto';
import { checkProofOfWork } from '../consensus/pow.js';
import { encodeBlockHeader } from '../primitives/blockHeader.js';
import type { Block } from '../primitives/types.js';

/**
 * Grinds the header nonce on the calling thread with node:crypto until the block meets its bits, trying at most
 * `maxNonces` nonces from the block's current nonce. Meant for regtest (trivial PoW: a try or two) and tests; real
 * mining uses the WebAssembly miner pool. Returns the solved block, or null when no nonce in range works.
 */
export function solveBlockCpu(block: Block, powLimit: bigint, maxNonces = 0x100000000): Block | null {
  const header = encodeBlockHeader(block.header);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const start = block.header.nonce >>> 0;
  const tries = Math.min(maxNonces, 0x100000000 - start);
  for (let i = 0; i < tries; i++) {
    const nonce = start + i;
    view.setUint32(76, nonce, true);
    const hash = createHash('sha256').update(createHash('sha256').update(header).digest()).digest();
    if (checkProofOfWork(new Uint8Array(hash.buffer, hash.byteOffset, 32), block.header.bits, powLimit)) {
      return { header: { ...block.header, nonce }, txs: block.txs };
    }
  }
  return null;
}
