import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitcoin } from '../params/networks.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { getBlockSize, getBlockWeight } from '../primitives/block.js';
import { hashToHex, hexToBytes } from '../primitives/hex.js';
import { esploraAsm } from './esploraAsm.js';
import { blockToEsplora, esploraScriptType, txToEsplora } from './esploraJson.js';

/**
 * Scripts with the `scriptpubkey_asm` / `scriptsig_asm` and `scriptpubkey_type` that Esplora (blockstream.info and
 * mempool.space electrs) printed for them, copied from published API responses: Bitcoin's genesis coinbase
 * (tx 4a5e1e4b…), mainnet block 613,546 (OP_RETURN), testnet txs (P2SH-P2WPKH spend, P2PKH, P2TR, OP_RETURN).
 */
const ESPLORA_SCRIPTS: readonly { hex: string; asm: string; type?: string }[] = [
  {
    hex: '4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac',
    asm: 'OP_PUSHBYTES_65 04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f OP_CHECKSIG',
    type: 'p2pk',
  },
  {
    hex: '04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73',
    asm: 'OP_PUSHBYTES_4 ffff001d OP_PUSHBYTES_1 04 OP_PUSHBYTES_69 5468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73',
  },
  {
    hex: '76a9140e54b44d63fa16782f11c2fe9ff580d3718d183a88ac',
    asm: 'OP_DUP OP_HASH160 OP_PUSHBYTES_20 0e54b44d63fa16782f11c2fe9ff580d3718d183a OP_EQUALVERIFY OP_CHECKSIG',
    type: 'p2pkh',
  },
  {
    hex: '6a161701544b4337cd600cad892f12383525087bebc8b591',
    asm: 'OP_RETURN OP_PUSHBYTES_22 1701544b4337cd600cad892f12383525087bebc8b591',
    type: 'op_return',
  },
  {
    hex: '6a20ef4f66bcf4f55bc72c2c8e01894fe944a5fa3be3a8b2a2a474f0447838ddc1c2',
    asm: 'OP_RETURN OP_PUSHBYTES_32 ef4f66bcf4f55bc72c2c8e01894fe944a5fa3be3a8b2a2a474f0447838ddc1c2',
    type: 'op_return',
  },
  { hex: '6a', asm: 'OP_RETURN', type: 'op_return' },
  {
    hex: 'a9141701162e649099dc1ffc99ea1f7d45963553f6c287',
    asm: 'OP_HASH160 OP_PUSHBYTES_20 1701162e649099dc1ffc99ea1f7d45963553f6c2 OP_EQUAL',
    type: 'p2sh',
  },
  {
    hex: '160014dc14b9f045dc9714fced41ea8f86ec1ea5383007',
    asm: 'OP_PUSHBYTES_22 0014dc14b9f045dc9714fced41ea8f86ec1ea5383007',
  },
  {
    hex: '0014dc14b9f045dc9714fced41ea8f86ec1ea5383007',
    asm: 'OP_0 OP_PUSHBYTES_20 dc14b9f045dc9714fced41ea8f86ec1ea5383007',
    type: 'v0_p2wpkh',
  },
  {
    hex: '51203d07d2d99aed4e465abb056e679dc6b697152db27149fedf23464d626e188f1d',
    asm: 'OP_PUSHNUM_1 OP_PUSHBYTES_32 3d07d2d99aed4e465abb056e679dc6b697152db27149fedf23464d626e188f1d',
    type: 'v1_p2tr',
  },
  {
    hex: '47304402201bb80468498f5909577ea09e954384c18d34370f66a55d3173f50cd888c2bd37022062f97c3c3650d7c1f7f511ea1d244d0a5f65bd58f6c15d95a75b178cdd97123401210264bba522150343c8d1f63d312b5ffed0d37366969bbf1c7e1f8897962fc5ac7f',
    asm: 'OP_PUSHBYTES_71 304402201bb80468498f5909577ea09e954384c18d34370f66a55d3173f50cd888c2bd37022062f97c3c3650d7c1f7f511ea1d244d0a5f65bd58f6c15d95a75b178cdd97123401 OP_PUSHBYTES_33 0264bba522150343c8d1f63d312b5ffed0d37366969bbf1c7e1f8897962fc5ac7f',
  },
];

test('esploraAsm and esploraScriptType match Esplora on published scripts', () => {
  for (const { hex, asm, type } of ESPLORA_SCRIPTS) {
    const script = hexToBytes(hex);
    assert.equal(esploraAsm(script), asm, hex);
    if (type !== undefined) assert.equal(esploraScriptType(script), type, hex);
  }
  assert.equal(esploraScriptType(new Uint8Array(0)), 'empty');
  assert.equal(esploraAsm(new Uint8Array(0)), '');
});

test('esploraAsm names every opcode as rust-bitcoin and flags truncated pushes', () => {
  // rust-bitcoin's Opcode Debug names (bitcoin/src/blockdata/opcodes.rs).
  assert.equal(esploraAsm(hexToBytes('4f50')), 'OP_PUSHNUM_NEG1 OP_RESERVED');
  assert.equal(esploraAsm(hexToBytes('b1b2ba')), 'OP_CLTV OP_CSV OP_CHECKSIGADD');
  assert.equal(esploraAsm(hexToBytes('bbfeff')), 'OP_RETURN_187 OP_RETURN_254 OP_INVALIDOPCODE');
  assert.equal(esploraAsm(hexToBytes('4c02abcd')), 'OP_PUSHDATA1 abcd');
  assert.equal(esploraAsm(hexToBytes('4d0100ee')), 'OP_PUSHDATA2 ee');
  assert.equal(esploraAsm(hexToBytes('0201')), 'OP_PUSHBYTES_2 <push past end>');
  assert.equal(esploraAsm(hexToBytes('4d01')), '<unexpected end>');
});

test("txToEsplora and blockToEsplora reproduce Esplora's JSON of Bitcoin's genesis block and coinbase", () => {
  const genesis = bitcoin.genesis;
  const coinbase = genesis.txs[0]!;
  const hash = computeBlockHash(genesis.header);
  const status = { confirmed: true, block_height: 0, block_hash: hashToHex(hash), block_time: 1231006505 };
  // GET /api/tx/4a5e1e4b… on blockstream.info (status as for any confirmed tx).
  assert.deepEqual(txToEsplora(coinbase, { params: bitcoin, prevouts: [undefined], fee: 0n, status }), {
    txid: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    version: 1,
    locktime: 0,
    vin: [
      {
        txid: '0000000000000000000000000000000000000000000000000000000000000000',
        vout: 4294967295,
        prevout: null,
        scriptsig:
          '04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73',
        scriptsig_asm:
          'OP_PUSHBYTES_4 ffff001d OP_PUSHBYTES_1 04 OP_PUSHBYTES_69 5468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73',
        is_coinbase: true,
        sequence: 4294967295,
      },
    ],
    vout: [
      {
        scriptpubkey:
          '4104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac',
        scriptpubkey_asm:
          'OP_PUSHBYTES_65 04678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5f OP_CHECKSIG',
        scriptpubkey_type: 'p2pk',
        value: 5000000000,
      },
    ],
    size: 204,
    weight: 816,
    fee: 0,
    status,
  });

  // GET /api/blocks/0 on blockstream.info; its "weight":816 is electrs's (the coinbase's); the block's is 4 x 285.
  const entry = {
    hash,
    hashHex: hashToHex(hash),
    header: genesis.header,
    height: 0,
    chainWork: 0n,
    status: 0,
    txCount: 1,
    sizeBytes: getBlockSize(genesis),
    weight: getBlockWeight(genesis),
  };
  assert.deepEqual(blockToEsplora(entry, 1231006505), {
    id: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
    height: 0,
    version: 1,
    timestamp: 1231006505,
    tx_count: 1,
    size: 285,
    weight: 1140,
    merkle_root: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    previousblockhash: null,
    mediantime: 1231006505,
    nonce: 2083236893,
    bits: 486604799,
    difficulty: 1,
  });
});
