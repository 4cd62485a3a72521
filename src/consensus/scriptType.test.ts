import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hexToBytes } from '../primitives/hex.js';
import { readVectorJson, VectorTally } from '../testing/vectors.js';
import {
  classifyScript,
  getWitnessProgram,
  isCairnOutputScript,
  isUnspendable,
  type ScriptType,
} from './scriptType.js';

const cat = (...parts: (Uint8Array | number[])[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const bytes = (n: number, fill = 0x11): Uint8Array => new Uint8Array(n).fill(fill);
const COMPRESSED = cat([0x02], bytes(32));
const UNCOMPRESSED = cat([0x04], bytes(64));

/** BIP-141/BIP-341 names for a witness program (version, length), as Core's Solver reports them. */
function witnessTypeBySpec(version: number, length: number): ScriptType {
  if (version === 0 && length === 20) return 'witness_v0_keyhash';
  if (version === 0 && length === 32) return 'witness_v0_scripthash';
  if (version === 0) return 'nonstandard';
  if (version === 1 && length === 32) return 'witness_v1_taproot';
  return 'witness_unknown';
}

test('bech32 validAddress scriptPubKeys classify by witness version and program length', (t) => {
  const file = 'bech32-bech32m-vectors.json';
  const { validAddress } = readVectorJson<{ validAddress: { address: string; scriptPubKeyHex: string }[] }>(file);
  const tally = new VectorTally(file);
  for (const v of validAddress) {
    const spk = hexToBytes(v.scriptPubKeyHex);
    const wp = getWitnessProgram(spk);
    // The address's data part starts with the witness version character (q = 0, p = 1, …, l = 31 → version 16).
    const versionChar = v.address.toLowerCase()[v.address.lastIndexOf('1') + 1]!;
    const version = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'.indexOf(versionChar);
    tally.check(v.address, {
      'witness version': [wp?.version, version],
      'program length': [wp?.program.length, spk.length - 2],
      classifyScript: [classifyScript(spk), witnessTypeBySpec(version, spk.length - 2)],
      isCairnOutputScript: [isCairnOutputScript(spk), version === 0 ? spk.length === 22 : version === 1 && spk.length === 34],
    });
  }
  tally.report(t);
});

test('BIP-341 scriptPubKey vectors are witness_v1_taproot and valid cairn outputs', (t) => {
  const file = 'bip341-wallet-test-vectors.json';
  const { scriptPubKey } = readVectorJson<{ scriptPubKey: { expected: { scriptPubKey: string } }[] }>(file);
  const tally = new VectorTally(`${file} scriptPubKey`);
  scriptPubKey.forEach((v, i) => {
    const spk = hexToBytes(v.expected.scriptPubKey);
    tally.check(`#${i} ${v.expected.scriptPubKey}`, {
      classifyScript: [classifyScript(spk), 'witness_v1_taproot'],
      isCairnOutputScript: [isCairnOutputScript(spk), true],
      isUnspendable: [isUnspendable(spk), false],
    });
  });
  tally.report(t);
});

test("classifyScript follows Core's Solver templates", () => {
  const cases: [string, Uint8Array, ScriptType][] = [
    ['P2PKH', cat([0x76, 0xa9, 0x14], bytes(20), [0x88, 0xac]), 'pubkeyhash'],
    ['P2PKH with a 21-byte hash', cat([0x76, 0xa9, 0x15], bytes(21), [0x88, 0xac]), 'nonstandard'],
    ['P2SH', cat([0xa9, 0x14], bytes(20), [0x87]), 'scripthash'],
    ['P2PK compressed', cat([33], COMPRESSED, [0xac]), 'pubkey'],
    ['P2PK uncompressed', cat([65], UNCOMPRESSED, [0xac]), 'pubkey'],
    ['P2PK hybrid 0x06', cat([65, 0x06], bytes(64), [0xac]), 'pubkey'],
    ['P2PK bad header 0x05', cat([33, 0x05], bytes(32), [0xac]), 'nonstandard'],
    ['P2PK 33-byte key with 0x04 header', cat([33, 0x04], bytes(32), [0xac]), 'nonstandard'],
    ['multisig 1-of-2', cat([0x51, 33], COMPRESSED, [65], UNCOMPRESSED, [0x52, 0xae]), 'multisig'],
    ['multisig 2-of-3', cat([0x52], ...[0, 1, 2].map(() => cat([33], COMPRESSED)), [0x53, 0xae]), 'multisig'],
    [
      'multisig 1-of-17 (pushed count)',
      cat([0x51], ...Array.from({ length: 17 }, () => cat([33], COMPRESSED)), [0x01, 17, 0xae]),
      'multisig',
    ],
    ['multisig with non-minimal count push', cat([0x01, 0x01, 33], COMPRESSED, [0x51, 0xae]), 'nonstandard'],
    ['multisig 0-of-1', cat([0x00, 33], COMPRESSED, [0x51, 0xae]), 'nonstandard'],
    ['multisig 2-of-1', cat([0x52, 33], COMPRESSED, [0x51, 0xae]), 'nonstandard'],
    ['multisig n != keys', cat([0x51, 33], COMPRESSED, [0x52, 0xae]), 'nonstandard'],
    ['multisig with a bad key', cat([0x51, 33, 0x05], bytes(32), [0x51, 0xae]), 'nonstandard'],
    ['OP_RETURN alone', Uint8Array.of(0x6a), 'nulldata'],
    ['OP_RETURN pushes', cat([0x6a, 0x04], bytes(4), [0x4c, 0x50], bytes(80), [0x00, 0x51]), 'nulldata'],
    ['OP_RETURN then OP_CHECKSIG', Uint8Array.of(0x6a, 0xac), 'nonstandard'],
    ['OP_RETURN truncated push', Uint8Array.of(0x6a, 0x05, 1, 2), 'nonstandard'],
    ['P2WPKH', cat([0x00, 0x14], bytes(20)), 'witness_v0_keyhash'],
    ['P2WSH', cat([0x00, 0x20], bytes(32)), 'witness_v0_scripthash'],
    ['P2TR', cat([0x51, 0x20], bytes(32)), 'witness_v1_taproot'],
    ['v0 with 21 bytes', cat([0x00, 0x15], bytes(21)), 'nonstandard'],
    ['v1 with 20 bytes', cat([0x51, 0x14], bytes(20)), 'witness_unknown'],
    ['v16 with 2 bytes', Uint8Array.of(0x60, 0x02, 1, 2), 'witness_unknown'],
    ['P2A anchor', Uint8Array.of(0x51, 0x02, 0x4e, 0x73), 'anchor'],
    ['v2 with 4e73', Uint8Array.of(0x52, 0x02, 0x4e, 0x73), 'witness_unknown'],
    ['41-byte program: not a witness program', cat([0x51, 41], bytes(41)), 'nonstandard'],
    ['push length disagrees with size', cat([0x00, 0x14], bytes(21)), 'nonstandard'],
    ['empty', new Uint8Array(0), 'nonstandard'],
  ];
  for (const [name, script, type] of cases) assert.equal(classifyScript(script), type, name);
});

test('isCairnOutputScript accepts exactly P2WPKH, P2TR and OP_RETURN up to 83 bytes', () => {
  assert.equal(isCairnOutputScript(cat([0x00, 0x14], bytes(20))), true);
  assert.equal(isCairnOutputScript(cat([0x51, 0x20], bytes(32))), true);
  assert.equal(isCairnOutputScript(Uint8Array.of(0x6a)), true);
  assert.equal(isCairnOutputScript(cat([0x6a, 0x4c, 80], bytes(80))), true); // 83 bytes
  assert.equal(isCairnOutputScript(cat([0x6a, 0x4c, 81], bytes(81))), false); // 84 bytes
  assert.equal(isCairnOutputScript(cat([0x00, 0x20], bytes(32))), false);
  assert.equal(isCairnOutputScript(cat([0x00, 0x14], bytes(21))), false);
  assert.equal(isCairnOutputScript(cat([0x51, 0x20], bytes(31))), false);
  assert.equal(isCairnOutputScript(Uint8Array.of(0x51, 0x02, 0x4e, 0x73)), false);
  assert.equal(isCairnOutputScript(cat([0x76, 0xa9, 0x14], bytes(20), [0x88, 0xac])), false);
  assert.equal(isCairnOutputScript(cat([0xa9, 0x14], bytes(20), [0x87])), false);
  assert.equal(isCairnOutputScript(new Uint8Array(0)), false);
});

test('isUnspendable: OP_RETURN first or larger than 10,000 bytes', () => {
  assert.equal(isUnspendable(Uint8Array.of(0x6a)), true);
  assert.equal(isUnspendable(Uint8Array.of(0x6a, 0xac)), true);
  assert.equal(isUnspendable(cat([0x51], bytes(10_000))), true);
  assert.equal(isUnspendable(cat([0x51], bytes(9_999))), false);
  assert.equal(isUnspendable(cat([0x00, 0x14], bytes(20))), false);
  assert.equal(isUnspendable(new Uint8Array(0)), false);
});
