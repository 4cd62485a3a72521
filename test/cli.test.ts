/**
 * End-to-end tests of the `cairn` CLI: every command runs as a real process (the TypeScript entry through tsx, and
 * once the built bin/cairn.js), on the shared vectors. Expected values come from the vector files or are computed
 * here with node:crypto directly from the raw bytes, not with cairn's code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { computeSegwitV0Sighash, computeTaprootKeyPathSighash, p2wpkhScriptCode, SIGHASH } from '../src/consensus/sighash.js';
import { ecdsaSign, encodeDerSignature, publicKeyFromPrivate } from '../src/crypto/ecdsa.js';
import { hash160 } from '../src/crypto/hash.js';
import { schnorrSign, xOnlyPublicKey } from '../src/crypto/schnorr.js';
import { tweakPrivateKey } from '../src/crypto/taproot.js';
import { encodeTx } from '../src/primitives/tx.js';
import type { Tx, TxOut } from '../src/primitives/types.js';
import { readVectorBytes, readVectorJson, readVectorText, reportVectors, vectorPath } from '../src/testing/vectors.js';
import { decodeTxid } from '../src/primitives/identity.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TIMEOUT_MS = 60_000;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** At most this many CLI processes at a time, so each one's timeout measures its own run, not a queue for the CPU. */
const MAX_PROCESSES = 4 * availableParallelism();
let running = 0;
const waiting: (() => void)[] = [];

async function withProcessSlot<T>(run: () => Promise<T>): Promise<T> {
  if (running >= MAX_PROCESSES) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    return await run();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** Runs a node script with arguments from the repo root; resolves with exit code and output (never rejects). */
function runNode(nodeArgs: string[]): Promise<RunResult> {
  return withProcessSlot(() => spawnNode(nodeArgs));
}

function spawnNode(nodeArgs: string[]): Promise<RunResult> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      nodeArgs,
      { cwd: REPO_ROOT, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        const code = e === null ? 0 : typeof e.code === 'number' ? e.code : null;
        resolveRun({ code, signal: e?.signal ?? null, stdout, stderr });
      },
    );
  });
}

/** `cairn <args>` from the TypeScript source. */
const cairn = (...args: string[]): Promise<RunResult> => runNode(['--import', 'tsx', 'src/cli/run.ts', ...args]);

/** Parses stdout as JSON, failing with the process output when it is not. */
function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** Exit code 1 and exactly one line `error: …` on stderr, without a stack trace. */
function assertCleanError(r: RunResult, pattern?: RegExp): void {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: \S/);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:.*\n.*at /);
  if (pattern) assert.match(lines[0]!, pattern);
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const sha256d = (b: Uint8Array): Buffer => sha256(sha256(b));
/** Bitcoin's display form of a hash: the sha256d bytes reversed, in hex. */
const displayHash = (b: Uint8Array): string => Buffer.from(sha256d(b)).reverse().toString('hex');
const fromHex = (hex: string): Buffer => Buffer.from(hex, 'hex');
const reverseHex = (hex: string): string => fromHex(hex).reverse().toString('hex');

/** Bitcoin merkle root over display-hex txids, with node:crypto (odd levels duplicate their last hash). */
function merkleRootHex(txids: string[]): string {
  let level = txids.map((t) => fromHex(t).reverse());
  while (level.length > 1) {
    if (level.length % 2 === 1) level.push(level[level.length - 1]!);
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(sha256d(Buffer.concat([level[i]!, level[i + 1]!])));
    level = next;
  }
  return Buffer.from(level[0]!).reverse().toString('hex');
}

const tmp = mkdtempSync(join(tmpdir(), 'cairn-cli-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let tmpCount = 0;
/** Writes a temp file and returns its path. */
function tmpFile(name: string, data: string | Uint8Array): string {
  const path = join(tmp, `${tmpCount++}-${name}`);
  writeFileSync(path, data);
  return path;
}

interface IndexBlock {
  file: string;
  hash: string;
  merkleRoot: string;
  time: number;
  bits: string;
  nonce: number;
  version: number;
  txCount: number;
  sizeBytes: number;
  segwitTxCount: number;
  coinbaseTxid: string;
}
const INDEX_FILE = 'mainnet/blocks-index.json';
const indexBlock = (file: string): IndexBlock => {
  const b = readVectorJson<{ blocks: IndexBlock[] }>(INDEX_FILE).blocks.find((x) => x.file === file);
  assert.ok(b, `${file} is in ${INDEX_FILE}`);
  return b;
};

interface CoreTxJson {
  txid: string;
  hash: string;
  version: number;
  size: number;
  vsize: number;
  weight: number;
  locktime: number;
  vin: {
    coinbase?: string;
    txid?: string;
    vout?: number;
    scriptSig?: { asm: string; hex: string };
    txinwitness?: string[];
    sequence: number;
  }[];
  vout: { value: number; n: number; scriptPubKey: { asm: string; hex: string; address?: string; type: string } }[];
  hex?: string;
}
interface CoreBlockJson {
  hash: string;
  merkleroot: string;
  nTx: number;
  size: number;
  time: number;
  nonce: number;
  bits: string;
  version: number;
  tx: CoreTxJson[];
  check: { merkleRoot: boolean; witnessCommitment: boolean | null; pow: boolean };
}

// Every test spawns processes and waits; running them side by side keeps the file's wall time near its CPU time.
describe('cairn CLI as real processes', { concurrency: true }, () => {
// ---------------------------------------------------------------------------------------------------------------
// decode block
// ---------------------------------------------------------------------------------------------------------------

describe('cairn decode block', { concurrency: true }, () => {
  const B100K = 'mainnet/block-100000.hex';
  const B482683 = 'mainnet/block-482683.hex';

  it(`${B100K} --network bitcoin: Core getblock fields, txids, checks`, async (t) => {
    const r = await cairn('decode', 'block', `@${vectorPath(B100K)}`, '--network', 'bitcoin');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const block = json<CoreBlockJson>(r);
    const idx = indexBlock('block-100000.hex');
    assert.equal(block.hash, '000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506');
    assert.equal(block.merkleroot, 'f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766');
    assert.equal(block.hash, idx.hash);
    assert.equal(block.merkleroot, idx.merkleRoot);
    assert.equal(block.nTx, 4);
    assert.equal(block.tx.length, idx.txCount);
    assert.equal(block.size, idx.sizeBytes);
    assert.equal(block.time, idx.time);
    assert.equal(block.nonce, idx.nonce);
    assert.equal(`0x${block.bits}`, idx.bits);
    assert.equal(block.version, idx.version);
    assert.deepEqual(block.check, { merkleRoot: true, witnessCommitment: null, pow: true });
    assert.equal(block.tx[0]!.txid, idx.coinbaseTxid);

    // Every tx's hex is its slice of the file and its txid is sha256d of it; together they give the merkle root.
    const fileHex = readVectorText(B100K).trim();
    assert.equal(fileHex.slice(0, 160) + '04' + block.tx.map((tx) => tx.hex).join(''), fileHex);
    let passed = 0;
    for (const tx of block.tx) if (tx.txid === displayHash(fromHex(tx.hex!)) && tx.hash === tx.txid) passed++;
    assert.equal(merkleRootHex(block.tx.map((tx) => tx.txid)), idx.merkleRoot);
    reportVectors(t, `${B100K} (txids via cli)`, passed, block.tx.length, idx.txCount);

    // Amounts as Core prints them: bare numbers with 8 decimals.
    assert.match(r.stdout, /"value": 50\.00000000,/);
    assert.doesNotMatch(r.stdout, /"value": "/);
    // Core's scriptSig asm decodes the sighash type of a signature push.
    const asm = block.tx[1]!.vin[0]!.scriptSig!.asm;
    assert.match(asm, /^3046[0-9a-f]+\[ALL\] 04f4[0-9a-f]+$/);
    assert.ok(block.tx[1]!.vin[0]!.scriptSig!.hex.includes(asm.split('[ALL]')[0]! + '01'));
  });

  it(`${B482683}: segwit txs (hash != txid), witness commitment, and a raw-bytes @file gives the same JSON`, async (t) => {
    const hexPath = vectorPath(B482683);
    const r = await cairn('decode', 'block', `@${hexPath}`, '--network', 'bitcoin');
    assert.equal(r.code, 0, r.stderr);
    const block = json<CoreBlockJson>(r);
    const idx = indexBlock('block-482683.hex');
    assert.equal(block.hash, idx.hash);
    assert.equal(block.merkleroot, idx.merkleRoot);
    assert.equal(block.nTx, idx.txCount);
    assert.deepEqual(block.check, { merkleRoot: true, witnessCommitment: true, pow: true });
    assert.equal(block.tx[0]!.txid, idx.coinbaseTxid);
    const segwit = block.tx.filter((tx) => tx.hash !== tx.txid);
    assert.equal(segwit.length, idx.segwitTxCount);
    // hash is the wtxid: sha256d of the full serialization (hex includes the witness).
    let passed = 0;
    for (const tx of block.tx) if (tx.hash === displayHash(fromHex(tx.hex!))) passed++;
    reportVectors(t, `${B482683} (wtxids via cli)`, passed, block.tx.length, idx.txCount);
    for (const tx of segwit) assert.ok(tx.vin.some((v) => (v.txinwitness?.length ?? 0) > 0));
    assert.equal(merkleRootHex(block.tx.map((tx) => tx.txid)), idx.merkleRoot);

    const rawPath = tmpFile('block-482683.bin', fromHex(readVectorText(B482683).trim()));
    const raw = await cairn('decode', 'block', `@${rawPath}`, '--network', 'bitcoin');
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.stdout, r.stdout);
  });

  it('a tampered tx byte fails the merkle check; a tampered nonce fails the proof of work', async () => {
    const hex = readVectorText(B100K).trim();
    // A byte inside tx 1's signature: the block still decodes, but tx 1's txid changes.
    const at = hex.indexOf('3046022100c352d3dd');
    assert.ok(at > 160);
    const pos = at + 20;
    const flip = (h: string, i: number): string => h.slice(0, i) + (h[i] === '0' ? '1' : '0') + h.slice(i + 1);
    const tamperedTx = await cairn('decode', 'block', flip(hex, pos), '--network', 'bitcoin');
    assert.equal(tamperedTx.code, 0, tamperedTx.stderr);
    assert.deepEqual(json<CoreBlockJson>(tamperedTx).check, { merkleRoot: false, witnessCommitment: null, pow: true });

    // The nonce is header bytes 76..79 (hex digits 152..159).
    const tamperedNonce = await cairn('decode', 'block', flip(hex, 152), '--network', 'bitcoin');
    assert.equal(tamperedNonce.code, 0, tamperedNonce.stderr);
    const b = json<CoreBlockJson>(tamperedNonce);
    assert.notEqual(b.nonce, indexBlock('block-100000.hex').nonce);
    assert.deepEqual(b.check, { merkleRoot: true, witnessCommitment: null, pow: false });
  });

  it('the installed bin (node bin/cairn.js) decodes a block', async (t) => {
    if (!existsSync(join(REPO_ROOT, 'dist', 'cli', 'run.js'))) {
      t.skip('dist/cli/run.js is not built: run `npm run build` (CI builds it during `npm ci`)');
      return;
    }
    const r = await runNode(['bin/cairn.js', 'decode', 'block', `@${vectorPath(B100K)}`, '--network', 'bitcoin']);
    assert.equal(r.code, 0, r.stderr);
    const block = json<CoreBlockJson>(r);
    assert.equal(block.hash, '000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506');
    assert.equal(block.merkleroot, 'f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766');
    assert.equal(block.nTx, 4);
    assert.deepEqual(block.check, { merkleRoot: true, witnessCommitment: null, pow: true });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// decode tx
// ---------------------------------------------------------------------------------------------------------------

interface Bip143Example {
  name: string;
  signedTx: string;
  signature: string;
  inputs: { index: number; type: string; scriptPubKey: string; amountSats: number; privateKey: string; publicKey?: string }[];
}
const BIP143_FILE = 'bip143-p2wpkh-examples.json';
const nativeP2wpkh = (): Bip143Example => {
  const ex = readVectorJson<{ examples: Bip143Example[] }>(BIP143_FILE).examples.find((e) => e.name === 'Native P2WPKH');
  assert.ok(ex);
  return ex;
};

interface ValidAddress {
  address: string;
  scriptPubKeyHex: string;
}
const BECH32_FILE = 'bech32-bech32m-vectors.json';
/** The BIP-173/350 vector whose scriptPubKey starts with `prefix` and whose address is on mainnet (bc1…). */
function mainnetAddressVector(prefix: string): ValidAddress {
  const v = readVectorJson<{ validAddress: ValidAddress[] }>(BECH32_FILE).validAddress.find(
    (a) => a.scriptPubKeyHex.startsWith(prefix) && a.address.toLowerCase().startsWith('bc1'),
  );
  assert.ok(v, `a bc1 vector with script ${prefix}…`);
  return v;
}

/** Minimal BIP-173/350 checksum verification and data extraction, independent of cairn's bech32 code. */
function decodeSegwitIndependently(address: string): { hrp: string; version: number; program: string } {
  const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const polymod = (values: number[]): number => {
    let chk = 1;
    for (const v of values) {
      const top = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
    }
    return chk >>> 0;
  };
  const sep = address.lastIndexOf('1');
  const hrp = address.slice(0, sep);
  const data = [...address.slice(sep + 1)].map((c) => CHARSET.indexOf(c));
  assert.ok(data.every((d) => d >= 0), 'bech32 characters');
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  const version = data[0]!;
  assert.equal(polymod([...expanded, ...data]), version === 0 ? 1 : 0x2bc830a3, 'checksum (bech32 for v0, bech32m else)');
  let acc = 0;
  let bits = 0;
  const bytes: number[] = [];
  for (const d of data.slice(1, -6)) {
    acc = (acc << 5) | d;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  return { hrp, version, program: Buffer.from(bytes).toString('hex') };
}

describe('cairn decode tx', { concurrency: true }, () => {
  it(`${BIP143_FILE} signed tx: decoderawtransaction shape, ids computed from the raw bytes`, async () => {
    const ex = nativeP2wpkh();
    const raw = fromHex(ex.signedTx);
    const r = await cairn('decode', 'tx', ex.signedTx);
    assert.equal(r.code, 0, r.stderr);
    const tx = json<CoreTxJson>(r);
    assert.deepEqual(Object.keys(tx), ['txid', 'hash', 'version', 'size', 'vsize', 'weight', 'locktime', 'vin', 'vout']);

    // Stripped serialization: drop the 0001 marker/flag and the witness section (empty for input 0, then
    // [signature, public key] for input 1), which sits just before the 4-byte locktime.
    const wpkhInput = ex.inputs.find((i) => i.type === 'P2WPKH')!;
    const witnessHex = '00' + '02' + (ex.signature.length / 2).toString(16) + ex.signature + '21' + wpkhInput.publicKey!;
    const locktimeHex = ex.signedTx.slice(-8);
    assert.ok(ex.signedTx.endsWith(witnessHex + locktimeHex));
    assert.equal(ex.signedTx.slice(8, 12), '0001');
    const strippedHex = ex.signedTx.slice(0, 8) + ex.signedTx.slice(12, -(witnessHex.length + 8)) + locktimeHex;
    const stripped = fromHex(strippedHex);
    assert.equal(tx.txid, displayHash(stripped));
    assert.equal(tx.hash, displayHash(raw));
    assert.notEqual(tx.txid, tx.hash);
    assert.equal(tx.size, raw.length);
    assert.equal(tx.weight, stripped.length * 3 + raw.length);
    assert.equal(tx.vsize, Math.ceil(tx.weight / 4));
    assert.equal(tx.version, raw.readUInt32LE(0));
    assert.equal(tx.locktime, raw.readUInt32LE(raw.length - 4));

    // vin: the P2PK input has a scriptSig (a signature with [ALL]) and no witness; the P2WPKH input the reverse.
    assert.equal(tx.vin.length, 2);
    const [in0, in1] = tx.vin as [CoreTxJson['vin'][number], CoreTxJson['vin'][number]];
    assert.equal(in0.txid, reverseHex(ex.signedTx.slice(14, 78)));
    assert.equal(in0.vout, 0);
    assert.equal(in0.txinwitness, undefined);
    assert.match(in0.scriptSig!.asm, /^3045[0-9a-f]+\[ALL\]$/);
    assert.equal(in0.scriptSig!.hex, '48' + in0.scriptSig!.asm.replace('[ALL]', '01'));
    assert.ok(ex.signedTx.includes(in0.scriptSig!.hex));
    assert.equal(in0.sequence, 0xffffffee);
    assert.equal(in1.vout, 1);
    assert.deepEqual(in1.scriptSig, { asm: '', hex: '' });
    assert.deepEqual(in1.txinwitness, [ex.signature, wpkhInput.publicKey]);
    assert.equal(in1.sequence, 0xffffffff);

    // vout: values read here from the raw bytes (u64 LE before each script), printed with 8 decimals.
    assert.equal(tx.vout.length, 2);
    for (const [n, out] of tx.vout.entries()) {
      assert.equal(out.n, n);
      assert.equal(out.scriptPubKey.type, 'pubkeyhash');
      const at = raw.indexOf(fromHex('19' + out.scriptPubKey.hex));
      assert.ok(at > 0, `output ${n} script is in the raw tx`);
      const sats = raw.readBigUInt64LE(at - 8);
      const text = `${sats / 100_000_000n}.${(sats % 100_000_000n).toString().padStart(8, '0')}`;
      assert.match(r.stdout, new RegExp(`"value": ${text.replace('.', '\\.')},\\n\\s+"n": ${n},`));
      assert.equal(out.scriptPubKey.asm, `OP_DUP OP_HASH160 ${out.scriptPubKey.hex.slice(6, 46)} OP_EQUALVERIFY OP_CHECKSIG`);
    }
    assert.match(r.stdout, /"value": \d+\.\d{8}/);
  });

  it('addresses use the network HRP: bc1… on --network bitcoin (BIP-173/350 vectors), crn1… on main', async () => {
    const wpkh = mainnetAddressVector('0014');
    const tr = mainnetAddressVector('5120');
    const tx: Tx = {
      version: 2,
      inputs: [{ prevout: { txid: decodeTxid(new Uint8Array(32).fill(9)), index: 3 }, scriptSig: new Uint8Array(0), sequence: 0xffffffff, witness: [] }],
      outputs: [
        { value: 1n, scriptPubKey: fromHex(wpkh.scriptPubKeyHex) },
        { value: 2n, scriptPubKey: fromHex(tr.scriptPubKeyHex) },
      ],
      locktime: 0,
    };
    const hex = Buffer.from(encodeTx(tx)).toString('hex');
    const [onBitcoin, onMain] = await Promise.all([
      cairn('decode', 'tx', hex, '--network', 'bitcoin'),
      cairn('decode', 'tx', hex, '--network', 'main'),
    ]);
    for (const r of [onBitcoin, onMain]) assert.equal(r.code, 0, r.stderr);
    const b = json<CoreTxJson>(onBitcoin).vout;
    assert.equal(b[0]!.scriptPubKey.address, wpkh.address.toLowerCase());
    assert.equal(b[0]!.scriptPubKey.type, 'witness_v0_keyhash');
    assert.equal(b[1]!.scriptPubKey.address, tr.address.toLowerCase());
    assert.equal(b[1]!.scriptPubKey.type, 'witness_v1_taproot');
    assert.match(onBitcoin.stdout, /"value": 0\.00000001,/);

    const vout = json<CoreTxJson>(onMain).vout;
    for (const [n, vector] of [wpkh, tr].entries()) {
      const address = vout[n]!.scriptPubKey.address!;
      assert.ok(address.startsWith('crn1'), address);
      const decoded = decodeSegwitIndependently(address);
      assert.equal(decoded.hrp, 'crn');
      assert.equal(decoded.version, n === 0 ? 0 : 1);
      assert.equal(decoded.program, vector.scriptPubKeyHex.slice(4));
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// headers verify
// ---------------------------------------------------------------------------------------------------------------

describe('cairn headers verify', { concurrency: true }, () => {
  const HEADERS = 'mainnet/headers-0-255.hex';
  const lines = readVectorText(HEADERS).split('\n').filter((l) => l.trim() !== '');

  /** The display hash of the last block of blocks-0-255.dat, from its raw 80 header bytes. */
  function lastDatBlockHash(): string {
    const dat = Buffer.from(readVectorBytes('mainnet/blocks-0-255.dat'));
    let off = 0;
    let last: Buffer | undefined;
    let count = 0;
    while (off < dat.length) {
      assert.equal(dat.subarray(off, off + 4).toString('hex'), 'f9beb4d9');
      const len = dat.readUInt32LE(off + 4);
      last = dat.subarray(off + 8, off + 8 + len);
      off += 8 + len;
      count++;
    }
    assert.equal(count, 256);
    return displayHash(last!.subarray(0, 80));
  }
  /** Work of one block at bits 0x1d00ffff: 2^256 / (target + 1) = 0x100010001. */
  const chainWorkHex = (blocks: number): string => (BigInt(blocks) * 0x100010001n).toString(16).padStart(64, '0');

  it(`--chain bitcoin ${HEADERS}: 256 headers, tip hash and chain work`, async (t) => {
    assert.equal(lines.length, 256);
    const r = await cairn('headers', 'verify', '--chain', 'bitcoin', vectorPath(HEADERS));
    assert.equal(r.code, 0, r.stderr);
    const out = json<{ count: number; firstHeight: number; tipHeight: number; tipHash: string; chainWork: string }>(r);
    const tipHash = lastDatBlockHash();
    const ok = out.count === 256 && out.firstHeight === 0 && out.tipHeight === 255 && out.tipHash === tipHash;
    assert.equal(out.chainWork, chainWorkHex(256));
    assert.deepEqual(
      { count: out.count, firstHeight: out.firstHeight, tipHeight: out.tipHeight, tipHash: out.tipHash },
      { count: 256, firstHeight: 0, tipHeight: 255, tipHash },
    );
    reportVectors(t, HEADERS, ok ? out.count : 0, lines.length, 256);

    const rawPath = tmpFile('headers.bin', Buffer.concat(lines.map((l) => fromHex(l.trim()))));
    const raw = await cairn('headers', 'verify', '--chain', 'bitcoin', rawPath);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.stdout, r.stdout);
  });

  it('--start-height 100 with lines 100..255', async () => {
    const path = tmpFile('headers-100-255.hex', lines.slice(100).join('\n') + '\n');
    const r = await cairn('headers', 'verify', '--chain', 'bitcoin', '--start-height', '100', path);
    assert.equal(r.code, 0, r.stderr);
    const out = json<{ count: number; firstHeight: number; tipHeight: number; tipHash: string; chainWork: string }>(r);
    assert.equal(out.count, 156);
    assert.equal(out.firstHeight, 100);
    assert.equal(out.tipHeight, 255);
    assert.equal(out.tipHash, lastDatBlockHash());
    assert.equal(out.chainWork, chainWorkHex(156));
  });

  it('a tampered nonce at height 77: exit 1, high-hash at 77', async () => {
    const tampered = [...lines];
    const l = tampered[77]!;
    // Nonce = header bytes 76..79 = hex digits 152..159.
    tampered[77] = l.slice(0, 152) + (l[152] === '0' ? '1' : '0') + l.slice(153);
    const r = await cairn('headers', 'verify', '--chain', 'bitcoin', tmpFile('nonce77.hex', tampered.join('\n')));
    assertCleanError(r, /height 77\b.*high-hash/);
  });

  it('two lines swapped: exit 1, bad-prevblk', async () => {
    const swapped = [...lines];
    [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
    const r = await cairn('headers', 'verify', '--chain', 'bitcoin', tmpFile('swapped.hex', swapped.join('\n')));
    assertCleanError(r, /height 10\b.*bad-prevblk/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// tx verify
// ---------------------------------------------------------------------------------------------------------------

interface Bip341KeyPath {
  given: {
    utxosSpent: { scriptPubKey: string; amountSats: number }[];
  };
  inputSpending: { given: { txinIndex: number; internalPrivkey: string; merkleRoot: string | null } }[];
  auxiliary: { fullySignedTx: string };
}
interface InputResult {
  index: number;
  type: string;
  valid: boolean;
  reason: string | null;
}

describe('cairn tx verify', { concurrency: true }, () => {
  const BIP341_FILE = 'bip341-wallet-test-vectors.json';
  const keyPath = readVectorJson<{ keyPathSpending: Bip341KeyPath[] }>(BIP341_FILE).keyPathSpending[0]!;
  const prevoutsJson = JSON.stringify(keyPath.given.utxosSpent.map((u) => ({ value: u.amountSats, scriptPubKey: u.scriptPubKey })));

  function checkBip341Results(r: RunResult): InputResult[] {
    assert.equal(r.code, 1, 'not every input is valid');
    const results = json<InputResult[]>(r);
    const spent = keyPath.given.utxosSpent;
    assert.equal(results.length, spent.length);
    for (const [i, res] of results.entries()) {
      assert.equal(res.index, i);
      if (spent[i]!.scriptPubKey.startsWith('76a914')) {
        assert.deepEqual(res, { index: i, type: 'pubkeyhash', valid: false, reason: 'unsupported-script-type' });
      } else {
        assert.equal(res.valid, true, `input ${i}: ${res.reason}`);
        assert.equal(res.type, spent[i]!.scriptPubKey.startsWith('5120') ? 'witness_v1_taproot' : 'witness_v0_keyhash');
        assert.equal(res.reason, null);
      }
    }
    return results;
  }

  it(`${BIP341_FILE} fullySignedTx, --prevouts as a JSON string: P2PKH unsupported, the rest valid, exit 1`, async (t) => {
    const r = await cairn('tx', 'verify', keyPath.auxiliary.fullySignedTx, '--prevouts', prevoutsJson);
    const results = checkBip341Results(r);
    const expected = keyPath.given.utxosSpent.map((u) => !u.scriptPubKey.startsWith('76a914'));
    reportVectors(t, `${BIP341_FILE} (via cli)`, results.filter((x, i) => x.valid === expected[i]).length, results.length);
  });

  it('the same with the tx and --prevouts as @files', async () => {
    const txPath = tmpFile('bip341.hex', keyPath.auxiliary.fullySignedTx + '\n');
    const pvPath = tmpFile('prevouts.json', prevoutsJson);
    checkBip341Results(await cairn('tx', 'verify', `@${txPath}`, '--prevouts', `@${pvPath}`));
  });

  /**
   * A tx with one P2WPKH input (BIP-143's key and script) and one P2TR key-path input (BIP-341's first key-path
   * input, no script tree), signed here; outputs pay to BIP-173/350 vector scripts.
   */
  function buildSignedTx(): { hex: string; prevouts: { value: number; scriptPubKey: string }[]; tx: Tx } {
    const wpkhVector = nativeP2wpkh().inputs.find((i) => i.type === 'P2WPKH')!;
    const wpkhKey = fromHex(wpkhVector.privateKey);
    const wpkhPub = publicKeyFromPrivate(wpkhKey);
    assert.equal(Buffer.from(wpkhPub).toString('hex'), wpkhVector.publicKey);
    assert.equal('0014' + Buffer.from(hash160(wpkhPub)).toString('hex'), wpkhVector.scriptPubKey);

    const trSpend = keyPath.inputSpending.find((s) => s.given.merkleRoot === null)!;
    const trPrevout = keyPath.given.utxosSpent[trSpend.given.txinIndex]!;
    const trKey = tweakPrivateKey(fromHex(trSpend.given.internalPrivkey));
    assert.equal('5120' + Buffer.from(xOnlyPublicKey(trKey)).toString('hex'), trPrevout.scriptPubKey);

    const prevouts: TxOut[] = [
      { value: BigInt(wpkhVector.amountSats), scriptPubKey: fromHex(wpkhVector.scriptPubKey) },
      { value: BigInt(trPrevout.amountSats), scriptPubKey: fromHex(trPrevout.scriptPubKey) },
    ];
    const unsigned: Tx = {
      version: 2,
      inputs: [0, 1].map((k) => ({
        prevout: { txid: decodeTxid(new Uint8Array(32).fill(0xa0 + k)), index: k },
        scriptSig: new Uint8Array(0),
        sequence: 0xfffffffd,
        witness: [],
      })),
      outputs: [
        { value: 500_000_000n, scriptPubKey: fromHex(mainnetAddressVector('0014').scriptPubKeyHex) },
        { value: 400_000_000n, scriptPubKey: fromHex(mainnetAddressVector('5120').scriptPubKeyHex) },
      ],
      locktime: 0,
    };
    const wpkhSighash = computeSegwitV0Sighash(
      unsigned,
      0,
      p2wpkhScriptCode(hash160(wpkhPub)),
      prevouts[0]!.value,
      SIGHASH.ALL,
    );
    const ecdsaSig = Uint8Array.of(...encodeDerSignature(ecdsaSign(wpkhSighash, wpkhKey)), SIGHASH.ALL);
    const schnorrSig = schnorrSign(computeTaprootKeyPathSighash(unsigned, 1, prevouts, SIGHASH.DEFAULT), trKey);
    const tx: Tx = {
      ...unsigned,
      inputs: [
        { ...unsigned.inputs[0]!, witness: [ecdsaSig, wpkhPub] },
        { ...unsigned.inputs[1]!, witness: [schnorrSig] },
      ],
    };
    return {
      tx,
      hex: Buffer.from(encodeTx(tx)).toString('hex'),
      prevouts: prevouts.map((p) => ({ value: Number(p.value), scriptPubKey: Buffer.from(p.scriptPubKey).toString('hex') })),
    };
  }

  it('a P2WPKH + P2TR key-path tx signed here: all valid, exit 0; a flipped signature byte: invalid, exit 1', async () => {
    const { tx, hex, prevouts } = buildSignedTx();
    const good = await cairn('tx', 'verify', hex, '--prevouts', JSON.stringify(prevouts));
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.deepEqual(json<InputResult[]>(good), [
      { index: 0, type: 'witness_v0_keyhash', valid: true, reason: null },
      { index: 1, type: 'witness_v1_taproot', valid: true, reason: null },
    ]);

    const flipSig = (input: number, byte: number): string => {
      const witness = tx.inputs[input]!.witness.map((w) => Uint8Array.from(w));
      witness[0]![byte] = witness[0]![byte]! ^ 0x01;
      const bad: Tx = { ...tx, inputs: tx.inputs.map((x, k) => (k === input ? { ...x, witness } : x)) };
      return Buffer.from(encodeTx(bad)).toString('hex');
    };
    // ECDSA: a byte of r (DER: 30 len 02 lenR r…); Schnorr: a byte of s.
    const [badEcdsa, badSchnorr] = await Promise.all([
      cairn('tx', 'verify', flipSig(0, 10), '--prevouts', JSON.stringify(prevouts)),
      cairn('tx', 'verify', flipSig(1, 40), '--prevouts', JSON.stringify(prevouts)),
    ]);
    for (const [r, badIndex] of [
      [badEcdsa, 0],
      [badSchnorr, 1],
    ] as const) {
      assert.equal(r.code, 1, r.stderr);
      const results = json<InputResult[]>(r);
      assert.equal(results.length, 2);
      const bad = results[badIndex]!;
      const other = results[1 - badIndex]!;
      assert.equal(bad.valid, false);
      assert.equal(typeof bad.reason, 'string');
      assert.ok(bad.reason!.length > 0);
      assert.equal(other.valid, true, 'the other input is untouched');
    }
  });

  it('a wrong number of prevouts: exit 1, clean error', async () => {
    const fewer = JSON.stringify(JSON.parse(prevoutsJson).slice(1));
    assertCleanError(await cairn('tx', 'verify', keyPath.auxiliary.fullySignedTx, '--prevouts', fewer), /prevouts/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Bad input and help
// ---------------------------------------------------------------------------------------------------------------

describe('cairn: bad input gives exit 1 and a one-line error, help exits 0', { concurrency: true }, () => {
  const signedTx = nativeP2wpkh().signedTx;

  it('non-hex argument', async () => {
    const [word, spaced] = await Promise.all([cairn('decode', 'tx', 'not-hex'), cairn('decode', 'block', '01 000')]);
    assertCleanError(word, /hex/);
    // White space inside hex is dropped; what remains (5 digits) is still not whole bytes.
    assertCleanError(spaced, /hex/);
  });

  it('truncated transaction (while the same hex, whole and split by white space, decodes)', async () => {
    const grouped = signedTx.replace(/(.{64})/g, '$1 \n');
    const [truncated, spaced] = await Promise.all([cairn('decode', 'tx', signedTx.slice(0, -10)), cairn('decode', 'tx', grouped)]);
    assertCleanError(truncated, /decode/);
    assert.equal(spaced.code, 0, spaced.stderr);
    assert.equal(json<CoreTxJson>(spaced).size, signedTx.length / 2);
  });

  it('a --start-height that is not a decimal integer', async () => {
    const r = await cairn('headers', 'verify', '--chain', 'bitcoin', '--start-height', '1e2', vectorPath('mainnet/headers-0-255.hex'));
    assertCleanError(r, /--start-height/);
  });

  it('missing file', async () => {
    const missing = join(tmp, 'does-not-exist.hex');
    const results = await Promise.all([
      cairn('decode', 'block', `@${missing}`),
      cairn('headers', 'verify', '--chain', 'bitcoin', missing),
    ]);
    for (const r of results) assertCleanError(r, /does-not-exist/);
  });

  it('unknown network', async () => {
    assertCleanError(await cairn('decode', 'tx', signedTx, '--network', 'nosuchnet'), /nosuchnet/);
  });

  it('invalid --prevouts JSON', async () => {
    assertCleanError(await cairn('tx', 'verify', signedTx, '--prevouts', '[{'), /JSON/);
  });

  it('no arguments prints the help and exits 0', async () => {
    const r = await cairn();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: cairn/);
    for (const command of ['decode', 'headers', 'tx']) assert.match(r.stdout, new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('decode block --help describes the arguments', async () => {
    const r = await cairn('decode', 'block', '--help');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: cairn decode block \[options\] <hex\|@file>/);
    assert.match(r.stdout, /Arguments:/);
    assert.match(r.stdout, /hex\|@file\s+block as hex, or @path/);
    assert.match(r.stdout, /--network <name>/);
  });
});
});
