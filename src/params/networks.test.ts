import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBlock } from '../consensus/checkBlock.js';
import { bitsToTarget, checkProofOfWork, targetToBits } from '../consensus/pow.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { encodeBlock } from '../primitives/block.js';
import { bytesToHex, hashToHex } from '../primitives/hex.js';
import { readVectorText } from '../testing/vectors.js';
import { bitcoin, devnet, getNetworkParams, main, NETWORKS, regtest, test as testnet } from './networks.js';

// Each cairn genesis block was mined once (scripts/mineGenesis.ts); these hashes pin it. Changing any genesis field
// or the genesis builder changes the hash and fails here.
const PINNED_GENESIS = {
  main: '000000a8ee8d25c48ad6a8d31ed67db3e19bd802f889814b74186e12003fd495',
  test: '00000022963929806a448e6bc6b61586a9e9001fb75f0865b944a8d1dad84933',
  devnet: '0000014b7bd703075dbe015a9d2fa110049404b6b985555b24c5a41938cd1742',
  regtest: '16a01f6fdb0ddcb08f581b78f468395b18f2f040bc65cd6e2173ab75c2441b3b',
} as const;

test('cairn genesis blocks: pinned hashes, valid PoW, pass checkBlock', () => {
  for (const [name, pinned] of Object.entries(PINNED_GENESIS)) {
    const params = getNetworkParams(name);
    const hash = computeBlockHash(params.genesis.header);
    assert.equal(hashToHex(hash), pinned, `${name} genesis hash`);
    assert.equal(params.genesisHashHex, pinned);
    assert.ok(checkProofOfWork(hash, params.genesis.header.bits, params.powLimit), `${name} genesis PoW`);
    assert.doesNotThrow(() => checkBlock(params.genesis, params), `${name} genesis passes checkBlock`);
    assert.equal(params.topicPrefix, `/cairn/${name}/${pinned.slice(0, 8)}`);
  }
});

test('bitcoin params: genesis is Bitcoin mainnet block 0 byte for byte', () => {
  const line0 = readVectorText('mainnet/block-000000.hex').trim();
  assert.equal(bytesToHex(encodeBlock(bitcoin.genesis)), line0);
  assert.equal(bitcoin.genesisHashHex, '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f');
  assert.equal(bitcoin.powLimit, 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn);
});

test('powLimit agrees with powLimitBits and each network has its own HRP, ports and topic', () => {
  for (const params of [main, testnet, devnet, regtest]) {
    const decoded = bitsToTarget(params.powLimitBits);
    assert.equal(decoded.target, params.powLimit, params.name);
    assert.equal(targetToBits(params.powLimit), params.powLimitBits, params.name);
    // genesis must not be easier than powLimit
    assert.ok(bitsToTarget(params.genesis.header.bits).target <= params.powLimit, params.name);
  }
  const hrps = Object.values(NETWORKS).map((p) => p.bech32Hrp);
  assert.deepEqual(hrps, ['crn', 'tcrn', 'dcrn', 'rcrn', 'bc']);
  const p2pPorts = new Set(Object.values(NETWORKS).map((p) => p.defaultPorts.p2p));
  assert.equal(p2pPorts.size, 5);
  assert.ok(Object.isFrozen(main));
  assert.throws(() => getNetworkParams('mainnet'), /unknown-network/);
});
