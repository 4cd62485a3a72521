/**
 * A minimal BIP-174 PSBT (version 0) codec for the wallet's unsigned transactions, so another signer (or a later
 * session of this wallet) can sign them: the global unsigned tx, and per input the witness UTXO and the key origin
 * (BIP-32 derivation for P2WPKH, BIP-371 taproot internal key and taproot BIP-32 derivation for P2TR); per output the
 * key origin of the wallet's change. Every other key-value pair is kept as is (`unknown`) so a PSBT survives a round
 * trip through this codec. Signatures and finalized witnesses are not interpreted. Base64 text, as Core prints it.
 * @see BIP-174 "Specification", BIP-371 "Specification"; Bitcoin Core psbt.h
 */
import { BufferReader } from '../primitives/bufferReader.js';
import { BufferWriter } from '../primitives/bufferWriter.js';
import { DecodeError } from '../primitives/decodeError.js';
import { bytesEqual, bytesToHex } from '../primitives/hex.js';
import { decodeTx, decodeTxOut, encodeTx, encodeTxOut, hasWitness } from '../primitives/tx.js';
import type { Tx, TxOut } from '../primitives/types.js';
import type { DerivedAddress } from './hdAccount.js';
import type { WalletCoin } from './txBuilder.js';
import { WalletError } from './walletError.js';

/** "psbt" followed by 0xff. */
const PSBT_MAGIC = Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff);
const GLOBAL_UNSIGNED_TX = 0x00;
const IN_WITNESS_UTXO = 0x01;
const IN_BIP32_DERIVATION = 0x06;
const IN_TAP_BIP32_DERIVATION = 0x16;
const IN_TAP_INTERNAL_KEY = 0x17;
const OUT_BIP32_DERIVATION = 0x02;
const OUT_TAP_INTERNAL_KEY = 0x05;
const OUT_TAP_BIP32_DERIVATION = 0x07;
const HARDENED = 0x80000000;

/** A key-value pair the codec does not interpret, kept verbatim (key includes its type byte(s)). */
export interface PsbtUnknown {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Key origin: the master key fingerprint and the derivation path (hardened steps have bit 31 set). */
export interface PsbtKeyOrigin {
  /** 33-byte public key (BIP-32 derivation) or 32-byte x-only key (taproot derivation). */
  readonly publicKey: Uint8Array;
  /** First 4 bytes of hash160 of the master public key, as a big-endian u32. */
  readonly masterFingerprint: number;
  readonly path: readonly number[];
  /** Taproot only: leaf hashes the key signs for (empty for a key-path key). */
  readonly leafHashes?: readonly Uint8Array[];
}

/** Per-input data. */
export interface PsbtInput {
  readonly witnessUtxo?: TxOut;
  readonly bip32Derivations: readonly PsbtKeyOrigin[];
  readonly tapInternalKey?: Uint8Array;
  readonly tapBip32Derivations: readonly PsbtKeyOrigin[];
  readonly unknown: readonly PsbtUnknown[];
}

/** Per-output data. */
export interface PsbtOutput {
  readonly bip32Derivations: readonly PsbtKeyOrigin[];
  readonly tapInternalKey?: Uint8Array;
  readonly tapBip32Derivations: readonly PsbtKeyOrigin[];
  readonly unknown: readonly PsbtUnknown[];
}

/** A decoded PSBT: the unsigned tx and one map per input and per output. */
export interface Psbt {
  readonly tx: Tx;
  readonly inputs: readonly PsbtInput[];
  readonly outputs: readonly PsbtOutput[];
  readonly unknownGlobals: readonly PsbtUnknown[];
}

/**
 * Parses a derivation path `m/84'/1'/0'/1/5` into u32 steps (hardened with bit 31).
 * @throws WalletError bad-psbt
 */
export function parseDerivationPath(path: string): number[] {
  if (!/^m(\/\d+['h]?)*$/.test(path)) throw new WalletError('bad-psbt', `not a derivation path: ${path}`);
  return path.split('/').slice(1).map((step) => {
    const hardened = step.endsWith("'") || step.endsWith('h');
    const n = Number.parseInt(step, 10);
    if (n >= HARDENED) throw new WalletError('bad-psbt', `index ${n} is not below 2^31`);
    return hardened ? n + HARDENED : n;
  });
}

function keyOriginOf(address: DerivedAddress, masterFingerprint: number): PsbtKeyOrigin {
  const path = parseDerivationPath(address.path);
  return address.kind === 'p2tr'
    ? { publicKey: address.internalKey!, masterFingerprint, path, leafHashes: [] }
    : { publicKey: address.publicKey, masterFingerprint, path };
}

/**
 * The PSBT of an unsigned wallet tx: per input its witness UTXO and key origin (P2WPKH: BIP-32 derivation of the
 * pubkey; P2TR: internal key and taproot derivation with no leaf hashes), per output the key origin of the wallet's
 * change (`change`, optional). `masterFingerprint` identifies the wallet's seed.
 * @throws WalletError bad-psbt (the tx has signatures, or inputs and coins do not match)
 * @see BIP-174 "Creator" and "Updater" roles, BIP-371
 */
export function createPsbt(
  tx: Tx,
  inputs: readonly WalletCoin[],
  masterFingerprint: number,
  change?: { readonly index: number; readonly address: DerivedAddress },
): Psbt {
  if (inputs.length !== tx.inputs.length) throw new WalletError('bad-psbt', `${tx.inputs.length} inputs but ${inputs.length} coins`);
  if (tx.inputs.some((i) => i.scriptSig.length > 0 || i.witness.length > 0)) throw new WalletError('bad-psbt', 'the tx must be unsigned');
  const psbtInputs = inputs.map((coin, i): PsbtInput => {
    const prevout = tx.inputs[i]!.prevout;
    if (prevout.index !== coin.outpoint.index || !bytesEqual(prevout.txid, coin.outpoint.txid)) {
      throw new WalletError('bad-psbt', `input ${i} does not spend its coin`);
    }
    const origin = keyOriginOf(coin.address, masterFingerprint);
    return coin.address.kind === 'p2tr'
      ? { witnessUtxo: coin.output, bip32Derivations: [], tapInternalKey: coin.address.internalKey!, tapBip32Derivations: [origin], unknown: [] }
      : { witnessUtxo: coin.output, bip32Derivations: [origin], tapBip32Derivations: [], unknown: [] };
  });
  const outputs = tx.outputs.map((_, i): PsbtOutput => {
    if (change === undefined || change.index !== i) return { bip32Derivations: [], tapBip32Derivations: [], unknown: [] };
    const origin = keyOriginOf(change.address, masterFingerprint);
    return change.address.kind === 'p2tr'
      ? { bip32Derivations: [], tapInternalKey: change.address.internalKey!, tapBip32Derivations: [origin], unknown: [] }
      : { bip32Derivations: [origin], tapBip32Derivations: [], unknown: [] };
  });
  return { tx, inputs: psbtInputs, outputs, unknownGlobals: [] };
}

function writePair(w: BufferWriter, key: Uint8Array, value: Uint8Array): void {
  w.writeVarBytes(key).writeVarBytes(value);
}

function originValue(origin: PsbtKeyOrigin, taproot: boolean): Uint8Array {
  const w = new BufferWriter(8 + 4 * origin.path.length + 33 * (origin.leafHashes?.length ?? 0));
  if (taproot) {
    const leaves = origin.leafHashes ?? [];
    w.writeCompactSize(leaves.length);
    for (const h of leaves) w.writeBytes(h);
  }
  // The fingerprint is the first 4 bytes of hash160 as they are, i.e. a big-endian u32.
  w.writeU8(origin.masterFingerprint >>> 24).writeU8((origin.masterFingerprint >>> 16) & 0xff);
  w.writeU8((origin.masterFingerprint >>> 8) & 0xff).writeU8(origin.masterFingerprint & 0xff);
  for (const step of origin.path) w.writeU32LE(step);
  return w.finish();
}

function writeOrigins(w: BufferWriter, type: number, origins: readonly PsbtKeyOrigin[], taproot: boolean): void {
  for (const o of origins) writePair(w, Uint8Array.of(type, ...o.publicKey), originValue(o, taproot));
}

/** Serializes a PSBT (version 0) to bytes. @see BIP-174 "Specification" */
export function encodePsbt(psbt: Psbt): Uint8Array {
  const w = new BufferWriter(1024);
  w.writeBytes(PSBT_MAGIC);
  writePair(w, Uint8Array.of(GLOBAL_UNSIGNED_TX), encodeTx(psbt.tx, false));
  for (const u of psbt.unknownGlobals) writePair(w, u.key, u.value);
  w.writeU8(0);
  for (const input of psbt.inputs) {
    if (input.witnessUtxo !== undefined) writePair(w, Uint8Array.of(IN_WITNESS_UTXO), encodeTxOut(input.witnessUtxo));
    writeOrigins(w, IN_BIP32_DERIVATION, input.bip32Derivations, false);
    writeOrigins(w, IN_TAP_BIP32_DERIVATION, input.tapBip32Derivations, true);
    if (input.tapInternalKey !== undefined) writePair(w, Uint8Array.of(IN_TAP_INTERNAL_KEY), input.tapInternalKey);
    for (const u of input.unknown) writePair(w, u.key, u.value);
    w.writeU8(0);
  }
  for (const output of psbt.outputs) {
    writeOrigins(w, OUT_BIP32_DERIVATION, output.bip32Derivations, false);
    if (output.tapInternalKey !== undefined) writePair(w, Uint8Array.of(OUT_TAP_INTERNAL_KEY), output.tapInternalKey);
    writeOrigins(w, OUT_TAP_BIP32_DERIVATION, output.tapBip32Derivations, true);
    for (const u of output.unknown) writePair(w, u.key, u.value);
    w.writeU8(0);
  }
  return w.finish();
}

/** Reads one map: key-value pairs up to the 0x00 separator; duplicate keys are invalid (BIP-174). */
function readMap(r: BufferReader, where: string): { type: number; keyData: Uint8Array; key: Uint8Array; value: Uint8Array }[] {
  const pairs: { type: number; keyData: Uint8Array; key: Uint8Array; value: Uint8Array }[] = [];
  const seen = new Set<string>();
  for (;;) {
    const keyLength = r.readCompactSize();
    if (keyLength === 0) return pairs;
    const key = r.readBytes(keyLength).slice();
    const value = r.readVarBytes().slice();
    const kr = new BufferReader(key);
    const type = kr.readCompactSize();
    const keyData = key.subarray(kr.offset);
    const id = bytesToHex(key);
    if (seen.has(id)) throw new WalletError('bad-psbt', `duplicate key ${id} in ${where}`);
    seen.add(id);
    pairs.push({ type, keyData, key, value });
  }
}

function readOrigin(publicKey: Uint8Array, value: Uint8Array, taproot: boolean, where: string): PsbtKeyOrigin {
  const r = new BufferReader(value);
  const leafHashes: Uint8Array[] = [];
  if (taproot) {
    const n = r.readCompactSize();
    for (let i = 0; i < n; i++) leafHashes.push(r.readBytes(32).slice());
  }
  if (r.remaining < 4 || (r.remaining - 4) % 4 !== 0) throw new WalletError('bad-psbt', `bad key origin length in ${where}`);
  const fp = r.readBytes(4);
  const masterFingerprint = ((fp[0]! << 24) | (fp[1]! << 16) | (fp[2]! << 8) | fp[3]!) >>> 0;
  const path: number[] = [];
  while (r.remaining > 0) path.push(r.readU32LE());
  return taproot ? { publicKey, masterFingerprint, path, leafHashes } : { publicKey, masterFingerprint, path };
}

function checkKeyData(keyData: Uint8Array, lengths: readonly number[], what: string): void {
  if (!lengths.includes(keyData.length)) throw new WalletError('bad-psbt', `${what}: key data of ${keyData.length} bytes`);
}

/**
 * Parses a version-0 PSBT. Refuses: a wrong magic, a missing or signed (scriptSig/witness-carrying) unsigned tx,
 * duplicate keys, maps that do not match the tx's inputs/outputs, malformed interpreted fields (witness UTXO,
 * BIP-32/taproot derivations, taproot internal key), a version other than 0, and trailing bytes.
 * @throws WalletError bad-psbt
 * @see BIP-174 "Specification" and its invalid test cases, BIP-371
 */
export function decodePsbt(bytes: Uint8Array): Psbt {
  try {
    return decodePsbtUnchecked(bytes);
  } catch (e) {
    if (e instanceof DecodeError) throw new WalletError('bad-psbt', `malformed PSBT: ${e.message}`);
    throw e;
  }
}

function decodePsbtUnchecked(bytes: Uint8Array): Psbt {
  if (bytes.length < PSBT_MAGIC.length || !bytesEqual(bytes.subarray(0, PSBT_MAGIC.length), PSBT_MAGIC)) {
    throw new WalletError('bad-psbt', 'not a PSBT (bad magic)');
  }
  const r = new BufferReader(bytes);
  r.readBytes(PSBT_MAGIC.length);
  let tx: Tx | undefined;
  const unknownGlobals: PsbtUnknown[] = [];
  for (const p of readMap(r, 'the global map')) {
    if (p.type === GLOBAL_UNSIGNED_TX) {
      checkKeyData(p.keyData, [0], 'unsigned tx');
      tx = decodeTx(p.value);
      if (hasWitness(tx) || tx.inputs.some((i) => i.scriptSig.length > 0)) {
        throw new WalletError('bad-psbt', 'the unsigned tx has a scriptSig or a witness');
      }
    } else {
      if (p.type === 0xfb && (p.value.length !== 4 || new BufferReader(p.value).readU32LE() !== 0)) {
        throw new WalletError('bad-psbt', 'only PSBT version 0 is supported');
      }
      unknownGlobals.push({ key: p.key, value: p.value });
    }
  }
  if (tx === undefined) throw new WalletError('bad-psbt', 'no unsigned tx');
  const inputs: PsbtInput[] = tx.inputs.map((_, i) => {
    const where = `input ${i}`;
    let witnessUtxo: TxOut | undefined;
    let tapInternalKey: Uint8Array | undefined;
    const bip32Derivations: PsbtKeyOrigin[] = [];
    const tapBip32Derivations: PsbtKeyOrigin[] = [];
    const unknown: PsbtUnknown[] = [];
    for (const p of readMap(r, where)) {
      if (p.type === IN_WITNESS_UTXO) {
        checkKeyData(p.keyData, [0], `${where} witness utxo`);
        witnessUtxo = decodeTxOut(p.value);
      } else if (p.type === IN_BIP32_DERIVATION) {
        checkKeyData(p.keyData, [33, 65], `${where} bip32 derivation`);
        bip32Derivations.push(readOrigin(p.keyData.slice(), p.value, false, where));
      } else if (p.type === IN_TAP_BIP32_DERIVATION) {
        checkKeyData(p.keyData, [32], `${where} taproot bip32 derivation`);
        tapBip32Derivations.push(readOrigin(p.keyData.slice(), p.value, true, where));
      } else if (p.type === IN_TAP_INTERNAL_KEY) {
        checkKeyData(p.keyData, [0], `${where} taproot internal key`);
        if (p.value.length !== 32) throw new WalletError('bad-psbt', `${where}: taproot internal key of ${p.value.length} bytes`);
        tapInternalKey = p.value;
      } else {
        unknown.push({ key: p.key, value: p.value });
      }
    }
    return {
      ...(witnessUtxo !== undefined ? { witnessUtxo } : {}),
      bip32Derivations,
      ...(tapInternalKey !== undefined ? { tapInternalKey } : {}),
      tapBip32Derivations,
      unknown,
    };
  });
  const outputs: PsbtOutput[] = tx.outputs.map((_, i) => {
    const where = `output ${i}`;
    let tapInternalKey: Uint8Array | undefined;
    const bip32Derivations: PsbtKeyOrigin[] = [];
    const tapBip32Derivations: PsbtKeyOrigin[] = [];
    const unknown: PsbtUnknown[] = [];
    for (const p of readMap(r, where)) {
      if (p.type === OUT_BIP32_DERIVATION) {
        checkKeyData(p.keyData, [33, 65], `${where} bip32 derivation`);
        bip32Derivations.push(readOrigin(p.keyData.slice(), p.value, false, where));
      } else if (p.type === OUT_TAP_INTERNAL_KEY) {
        checkKeyData(p.keyData, [0], `${where} taproot internal key`);
        if (p.value.length !== 32) throw new WalletError('bad-psbt', `${where}: taproot internal key of ${p.value.length} bytes`);
        tapInternalKey = p.value;
      } else if (p.type === OUT_TAP_BIP32_DERIVATION) {
        checkKeyData(p.keyData, [32], `${where} taproot bip32 derivation`);
        tapBip32Derivations.push(readOrigin(p.keyData.slice(), p.value, true, where));
      } else {
        unknown.push({ key: p.key, value: p.value });
      }
    }
    return { bip32Derivations, ...(tapInternalKey !== undefined ? { tapInternalKey } : {}), tapBip32Derivations, unknown };
  });
  if (r.remaining !== 0) throw new WalletError('bad-psbt', `${r.remaining} bytes after the last map`);
  return { tx, inputs, outputs, unknownGlobals };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The base64 PSBT of an unsigned wallet tx (createPsbt + encodePsbt), as `walletcreatefundedpsbt` returns it.
 * @throws WalletError bad-psbt
 */
export function toPsbt(
  tx: Tx,
  inputs: readonly WalletCoin[],
  masterFingerprint: number,
  change?: { readonly index: number; readonly address: DerivedAddress },
): string {
  return Buffer.from(encodePsbt(createPsbt(tx, inputs, masterFingerprint, change))).toString('base64');
}

/**
 * Decodes a base64 PSBT (whitespace around it ignored).
 * @throws WalletError bad-psbt
 */
export function fromPsbt(base64: string): Psbt {
  const text = typeof base64 === 'string' ? base64.trim() : '';
  if (text.length === 0 || !BASE64.test(text)) throw new WalletError('bad-psbt', 'not base64');
  return decodePsbt(new Uint8Array(Buffer.from(text, 'base64')));
}
