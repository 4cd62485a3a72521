import { computeBlockHash, NULL_BLOCK_HASH } from '../primitives/blockHeader.js';
import { NULL_OUTPOINT } from '../primitives/outpoint.js';
import { hashToHex, hexToBytes } from '../primitives/hex.js';
import { computeTxid } from '../primitives/tx.js';
import { COIN, type Block, type Tx } from '../primitives/types.js';
import type { ChainParams, NetworkName } from './chainParams.js';
import { buildGenesisBlock, type GenesisSpec } from './genesis.js';

/** Expands compact bits to the target (positive, in-range values only: params are chosen, never parsed). */
function bitsToTargetForParams(bits: number): bigint {
  const size = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  return size <= 3 ? mantissa >> BigInt(8 * (3 - size)) : mantissa << BigInt(8 * (size - 3));
}

/** 2026-11-21T00:00:00Z, the day cairn's networks were defined. */
const CAIRN_EPOCH_SEC = 1795219200;

function makeParams(
  name: NetworkName,
  genesis: Block,
  rest: Omit<ChainParams, 'name' | 'genesis' | 'genesisHashHex' | 'topicPrefix' | 'powLimit'>,
): ChainParams {
  const genesisHashHex = hashToHex(computeBlockHash(genesis.header));
  return Object.freeze({
    ...rest,
    name,
    genesis,
    genesisHashHex,
    powLimit: bitsToTargetForParams(rest.powLimitBits),
    topicPrefix: `/cairn/${name}/${genesisHashHex.slice(0, 8)}`,
  });
}

function cairnGenesis(spec: GenesisSpec): Block {
  return buildGenesisBlock(spec);
}

/** Genesis specs of the cairn networks, each mined once by scripts/mineGenesis.ts. */
export const GENESIS_SPECS: Readonly<Record<'main' | 'test' | 'devnet' | 'regtest', GenesisSpec>> = Object.freeze({
  main: { timeSec: CAIRN_EPOCH_SEC, bits: 0x1e00ffff, nonce: 19105998, message: 'cairn main 2026-11-21: stones stacked one on another' },
  test: { timeSec: CAIRN_EPOCH_SEC + 1, bits: 0x1e00ffff, nonce: 10357578, message: 'cairn test 2026-11-21' },
  devnet: { timeSec: CAIRN_EPOCH_SEC + 2, bits: 0x1e020000, nonce: 3428065, message: 'cairn devnet 2026-11-21' },
  regtest: { timeSec: CAIRN_EPOCH_SEC + 3, bits: 0x207fffff, nonce: 0, message: 'cairn regtest 2026-11-21' },
});

const common = {
  initialSubsidy: 50n * COIN,
  halvingInterval: 210_000,
  coinbaseMaturity: 100,
  maxBlockWeight: 4_000_000,
  maxFutureBlockTimeSec: 2 * 60 * 60,
  outputScriptRule: 'cairn',
} as const;

const mainGenesis = cairnGenesis(GENESIS_SPECS.main);
/**
 * cairn main network: 150 s blocks, ASERT with a 2-day half-life anchored at genesis, addresses `crn1…`.
 * The anchor parent time is genesis time − spacing, so block 1's bits equal genesis bits (aserti3-2d with anchor = genesis).
 */
export const main: ChainParams = makeParams('main', mainGenesis, {
  ...common,
  powLimitBits: 0x1e00ffff,
  targetSpacingSec: 150,
  difficulty: {
    kind: 'asert',
    halfLifeSec: 172_800,
    anchorHeight: 0,
    anchorBits: GENESIS_SPECS.main.bits,
    anchorParentTimeSec: GENESIS_SPECS.main.timeSec - 150,
  },
  bech32Hrp: 'crn',
  bip44CoinType: 1729,
  defaultPorts: { p2p: 8733, rpc: 8732, api: 8730, stratum: 8734 },
  allowGenerate: false,
});

/** cairn public test network: as main with a 1-hour ASERT half-life, addresses `tcrn1…`, BIP-44 coin type 1. */
export const test: ChainParams = makeParams('test', cairnGenesis(GENESIS_SPECS.test), {
  ...common,
  powLimitBits: 0x1e00ffff,
  targetSpacingSec: 150,
  difficulty: {
    kind: 'asert',
    halfLifeSec: 3_600,
    anchorHeight: 0,
    anchorBits: GENESIS_SPECS.test.bits,
    anchorParentTimeSec: GENESIS_SPECS.test.timeSec - 150,
  },
  bech32Hrp: 'tcrn',
  bip44CoinType: 1,
  defaultPorts: { p2p: 18733, rpc: 18732, api: 18730, stratum: 18734 },
  allowGenerate: false,
});

/**
 * Local development network with real PoW: 5 s blocks, ASERT half-life 2 minutes anchored at the devnet's block 1, genesis difficulty of about 2^23
 * hashes per block (a few seconds on one core), coinbase maturity 10 so a fresh devnet can spend mined coins within a
 * minute. Addresses `dcrn1…`.
 */
export const devnet: ChainParams = makeParams('devnet', cairnGenesis(GENESIS_SPECS.devnet), {
  ...common,
  coinbaseMaturity: 10,
  powLimitBits: 0x1f00ffff,
  targetSpacingSec: 5,
  difficulty: {
    kind: 'asert',
    halfLifeSec: 120,
    // Anchored at each devnet's own block 1 (see DifficultyRule.anchorTimeFromChain): genesis is years older than
    // any devnet, and anchoring at its time would make a fresh devnet mine at powLimit for hours.
    anchorHeight: 1,
    anchorBits: GENESIS_SPECS.devnet.bits,
    anchorParentTimeSec: GENESIS_SPECS.devnet.timeSec,
    anchorTimeFromChain: true,
  },
  bech32Hrp: 'dcrn',
  bip44CoinType: 1,
  defaultPorts: { p2p: 28733, rpc: 28732, api: 28730, stratum: 28734 },
  allowGenerate: true,
});

/**
 * Regression-test network: trivial PoW (Bitcoin regtest's powLimit), no difficulty change, halving every 150 blocks
 * as Bitcoin regtest, `generatetoaddress` allowed. Addresses `rcrn1…`.
 */
export const regtest: ChainParams = makeParams('regtest', cairnGenesis(GENESIS_SPECS.regtest), {
  ...common,
  halvingInterval: 150,
  powLimitBits: 0x207fffff,
  targetSpacingSec: 600,
  difficulty: { kind: 'none' },
  bech32Hrp: 'rcrn',
  bip44CoinType: 1,
  defaultPorts: { p2p: 38733, rpc: 38732, api: 38730, stratum: 38734 },
  allowGenerate: true,
});

/** Bitcoin's genesis coinbase: "The Times 03/Jan/2009 Chancellor on brink of second bailout for banks", 50 BTC to P2PK. */
function bitcoinGenesis(): Block {
  const coinbase: Tx = {
    version: 1,
    inputs: [
      {
        prevout: NULL_OUTPOINT,
        scriptSig: hexToBytes(
          '04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73',
        ),
        sequence: 0xffffffff,
        witness: [],
      },
    ],
    outputs: [
      {
        value: 50n * COIN,
        scriptPubKey: hexToBytes(
          '4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac',
        ),
      },
    ],
    locktime: 0,
  };
  return {
    header: {
      version: 1,
      prevBlock: NULL_BLOCK_HASH,
      merkleRoot: computeTxid(coinbase),
      time: 1231006505,
      bits: 0x1d00ffff,
      nonce: 2083236893,
    },
    txs: [coinbase],
  };
}

/**
 * Bitcoin mainnet's consensus values (genesis, powLimit, 2016-block retarget over two weeks, 50 BTC halving every
 * 210,000 blocks), used to check real Bitcoin headers and blocks. Its powLimit is Core's 0x00000000ffff…ff, which is
 * above bitsToTarget(0x1d00ffff).
 * @see Bitcoin Core kernel/chainparams.cpp CMainParams
 */
export const bitcoin: ChainParams = Object.freeze({
  ...makeParams('bitcoin', bitcoinGenesis(), {
    ...common,
    powLimitBits: 0x1d00ffff,
    targetSpacingSec: 600,
    difficulty: { kind: 'bitcoin', retargetInterval: 2016, targetTimespanSec: 14 * 24 * 60 * 60 },
    bech32Hrp: 'bc',
    bip44CoinType: 0,
    outputScriptRule: 'any',
    defaultPorts: { p2p: 8333, rpc: 8332, api: 3000, stratum: 3333 },
    allowGenerate: false,
  }),
  powLimit: (1n << 224n) - 1n,
});

/** All networks by name. */
export const NETWORKS: Readonly<Record<NetworkName, ChainParams>> = Object.freeze({ main, test, devnet, regtest, bitcoin });

/** Names accepted by `--network`. */
export const NETWORK_NAMES: readonly NetworkName[] = ['main', 'test', 'devnet', 'regtest', 'bitcoin'];

/**
 * Looks up a network's params by name.
 * @throws Error unknown-network when the name is not one of NETWORK_NAMES
 */
export function getNetworkParams(name: string): ChainParams {
  if (!(NETWORK_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown-network: '${name}' (expected one of ${NETWORK_NAMES.join(', ')})`);
  }
  return NETWORKS[name as NetworkName];
}
