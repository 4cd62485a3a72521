/**
 * Test helpers that make real, signed cairn transactions: deterministic keys, their P2WPKH/P2TR scripts and
 * addresses, and spends signed with BIP-143 (ECDSA) or BIP-341 key-path (Schnorr) sighashes. For tests and benchmarks
 * only (production code never imports src/testing).
 */
import { ecdsaSign, encodeDerSignature, publicKeyFromPrivate } from '../crypto/ecdsa.js';
import { encodeSegwitAddress } from '../crypto/address.js';
import { hash160, sha256 } from '../crypto/hash.js';
import { schnorrSign } from '../crypto/schnorr.js';
import { tweakPrivateKey, tweakPublicKey } from '../crypto/taproot.js';
import { computeSegwitV0Sighash, computeTaprootKeyPathSighash, p2wpkhScriptCode, SighashCache, SIGHASH } from '../consensus/sighash.js';
import { computeTxid } from '../primitives/tx.js';
import type { Outpoint, Sats, Tx, TxIn, TxOut } from '../primitives/types.js';

/** Kinds of output cairn can spend. */
export type KeyKind = 'p2wpkh' | 'p2tr';

/** A private key with the output script it controls. */
export interface TestKey {
  readonly kind: KeyKind;
  readonly privateKey: Uint8Array;
  /** 33-byte compressed public key. */
  readonly publicKey: Uint8Array;
  /** P2WPKH: 0x0014 || hash160(pubkey). P2TR: 0x5120 || BIP-86 tweaked output key (no script tree). */
  readonly scriptPubKey: Uint8Array;
}

/** A coin a test can spend: where it is, what it holds, and the key that controls it. */
export interface SpendableCoin {
  readonly outpoint: Outpoint;
  readonly output: TxOut;
  readonly key: TestKey;
}

/** Builds the P2WPKH scriptPubKey of a compressed public key. */
export function p2wpkhScript(publicKey33: Uint8Array): Uint8Array {
  return new Uint8Array([0x00, 0x14, ...hash160(publicKey33)]);
}

/** Builds the P2TR scriptPubKey of an internal key's BIP-86 output key (key path only, no script tree). */
export function p2trScript(publicKey33: Uint8Array): Uint8Array {
  return new Uint8Array([0x51, 0x20, ...tweakPublicKey(publicKey33.subarray(1)).outputKey]);
}

/** A deterministic key: privateKey = sha256("cairn-test-key/" + seed). Same seed, same key, in every run. */
export function makeTestKey(seed: string | number, kind: KeyKind = 'p2wpkh'): TestKey {
  const privateKey = sha256(new TextEncoder().encode(`cairn-test-key/${seed}`));
  const publicKey = publicKeyFromPrivate(privateKey);
  return { kind, privateKey, publicKey, scriptPubKey: kind === 'p2wpkh' ? p2wpkhScript(publicKey) : p2trScript(publicKey) };
}

/** The key's segwit address under a human-readable part (e.g. params.bech32Hrp). */
export function testKeyAddress(key: TestKey, hrp: string): string {
  return encodeSegwitAddress(hrp, key.kind === 'p2wpkh' ? 0 : 1, key.scriptPubKey.subarray(2));
}

/** Options of signTx. */
export interface BuildTxOptions {
  readonly version?: number;
  readonly locktime?: number;
  /** nSequence of every input; default 0xfffffffd (BIP-125 replaceable, locktime enabled). */
  readonly sequence?: number;
  /** Hash type for every input; default SIGHASH_ALL for P2WPKH and SIGHASH_DEFAULT (0) for P2TR. */
  readonly hashType?: number;
}

/**
 * Builds and signs a transaction spending `coins` (in that order) to `outputs`. Each input gets the witness its key
 * kind needs: P2WPKH [DER sig || hashtype, pubkey] over the BIP-143 sighash; P2TR [64-byte Schnorr sig] (65 with a
 * non-default hash type) over the BIP-341 key-path sighash with the BIP-86 tweaked key.
 */
export function buildSignedTx(coins: readonly SpendableCoin[], outputs: readonly TxOut[], options: BuildTxOptions = {}): Tx {
  const sequence = options.sequence ?? 0xfffffffd;
  const unsigned: Tx = {
    version: options.version ?? 2,
    inputs: coins.map((c): TxIn => ({ prevout: c.outpoint, scriptSig: new Uint8Array(0), sequence, witness: [] })),
    outputs,
    locktime: options.locktime ?? 0,
  };
  const prevouts = coins.map((c) => c.output);
  const cache = new SighashCache(unsigned, prevouts);
  const inputs = coins.map((coin, i): TxIn => {
    const base = unsigned.inputs[i]!;
    if (coin.key.kind === 'p2wpkh') {
      const hashType = options.hashType ?? SIGHASH.ALL;
      const scriptCode = p2wpkhScriptCode(hash160(coin.key.publicKey));
      const msg = computeSegwitV0Sighash(unsigned, i, scriptCode, coin.output.value, hashType, cache);
      const der = encodeDerSignature(ecdsaSign(msg, coin.key.privateKey));
      return { ...base, witness: [new Uint8Array([...der, hashType]), coin.key.publicKey] };
    }
    const hashType = options.hashType ?? SIGHASH.DEFAULT;
    const msg = computeTaprootKeyPathSighash(unsigned, i, prevouts, hashType, undefined, cache);
    const sig = schnorrSign(msg, tweakPrivateKey(coin.key.privateKey));
    return { ...base, witness: [hashType === SIGHASH.DEFAULT ? sig : new Uint8Array([...sig, hashType])] };
  });
  return { ...unsigned, inputs };
}

/**
 * Spends coins to one destination script, paying `feeSats` and returning the change (if any, and above 546 sats) to
 * `changeKey` (default: the first coin's key). Returns the signed tx and the coins it creates, ready to spend next.
 */
export function buildSpend(
  coins: readonly SpendableCoin[],
  to: { key: TestKey; valueSats: Sats },
  feeSats: Sats,
  options: BuildTxOptions & { changeKey?: TestKey } = {},
): { tx: Tx; created: SpendableCoin[] } {
  const total = coins.reduce((sum, c) => sum + c.output.value, 0n);
  const change = total - to.valueSats - feeSats;
  if (change < 0n) throw new Error(`buildSpend: inputs ${total} < value ${to.valueSats} + fee ${feeSats}`);
  const changeKey = options.changeKey ?? coins[0]!.key;
  const outs: { key: TestKey; output: TxOut }[] = [{ key: to.key, output: { value: to.valueSats, scriptPubKey: to.key.scriptPubKey } }];
  if (change > 546n) outs.push({ key: changeKey, output: { value: change, scriptPubKey: changeKey.scriptPubKey } });
  const tx = buildSignedTx(coins, outs.map((o) => o.output), options);
  const txid = computeTxid(tx);
  return { tx, created: outs.map((o, index) => ({ outpoint: { txid, index }, output: o.output, key: o.key })) };
}

/** The spendable coins of a transaction's outputs that pay to `key`. */
export function coinsOf(tx: Tx, key: TestKey): SpendableCoin[] {
  const txid = computeTxid(tx);
  const out: SpendableCoin[] = [];
  tx.outputs.forEach((output, index) => {
    if (output.scriptPubKey.length === key.scriptPubKey.length && output.scriptPubKey.every((b, i) => b === key.scriptPubKey[i])) {
      out.push({ outpoint: { txid, index }, output, key });
    }
  });
  return out;
}
