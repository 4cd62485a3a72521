/**
 * Mines the genesis block of each cairn network once: finds the first nonce whose header hash meets the genesis bits.
 * The nonces it prints go into GENESIS_SPECS (src/params/networks.ts); a test pins the resulting hashes.
 * Usage: node --import tsx scripts/mineGenesis.ts [main|test|devnet|regtest …]
 */
import { createHash } from 'node:crypto';
import { checkProofOfWork } from '../src/consensus/pow.js';
import { buildGenesisBlock } from '../src/params/genesis.js';
import { GENESIS_SPECS, NETWORKS } from '../src/params/networks.js';
import { encodeBlockHeader } from '../src/primitives/blockHeader.js';
import { hashToHex } from '../src/primitives/hex.js';

const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(GENESIS_SPECS);
for (const name of names) {
  const spec = GENESIS_SPECS[name as keyof typeof GENESIS_SPECS];
  const params = NETWORKS[name as keyof typeof GENESIS_SPECS];
  const header = encodeBlockHeader(buildGenesisBlock({ ...spec, nonce: 0 }).header);
  const view = new DataView(header.buffer, header.byteOffset);
  const started = Date.now();
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    view.setUint32(76, nonce, true);
    const hash = createHash('sha256').update(createHash('sha256').update(header).digest()).digest();
    if (checkProofOfWork(new Uint8Array(hash), spec.bits, params.powLimit)) {
      console.log(`${name}: nonce ${nonce} hash ${hashToHex(new Uint8Array(hash))} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      break;
    }
  }
}
