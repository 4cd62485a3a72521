import { formatCoins } from '../consensus/amount.js';
import { scriptPubKeyToAddress } from '../crypto/address.js';
import { classifyScript } from '../consensus/scriptType.js';
import type { ChainParams } from '../params/chainParams.js';
import { computeBlockHash } from '../primitives/blockHeader.js';
import { getBlockSize, getBlockWeight } from '../primitives/block.js';
import { bytesToHex, hashToHex } from '../primitives/hex.js';
import { disassembleScript } from '../primitives/script.js';
import { computeTxid, computeWtxid, encodeTx, getTxSize, getTxVsize, getTxWeight, isCoinbase } from '../primitives/tx.js';
import type { Block, BlockHeader, Sats, Tx, TxOut } from '../primitives/types.js';

const AMOUNT_MARK = '\u0000amount:';

/**
 * An amount that serializes into JSON as a plain number with exactly 8 decimals (`50.00000000`), as Bitcoin Core's
 * ValueFromAmount does, so clients see Core's exact text. Use with formatCoreJson.
 */
export class CoreAmount {
  constructor(readonly sats: Sats) {}

  /** Decimal coin string with 8 decimals, e.g. 5000000000n → "50.00000000". */
  toDecimal(): string {
    return formatCoins(this.sats);
  }

  toJSON(): string {
    return AMOUNT_MARK + this.toDecimal();
  }
}

/**
 * JSON.stringify that prints CoreAmount values as bare 8-decimal numbers and bigints as numbers.
 * @see Bitcoin Core core_write.cpp ValueFromAmount
 */
export function formatCoreJson(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? AMOUNT_MARK + 'int:' + v.toString() : v), indent);
  return text
    .replace(/"\\u0000amount:int:(-?\d+)"/g, '$1')
    .replace(/"\\u0000amount:(-?\d+\.\d{8})"/g, '$1');
}

/** scriptPubKey object of Core's decoderawtransaction vout: asm, hex, address (when it has one), type. */
export interface CoreScriptPubKeyJson {
  asm: string;
  hex: string;
  address?: string;
  type: string;
}

/** Describes an output script as Core's ScriptToUniv(…, include_address = true). */
export function scriptPubKeyToCoreJson(script: Uint8Array, params: ChainParams): CoreScriptPubKeyJson {
  const address = scriptPubKeyToAddress(script, params.bech32Hrp);
  return {
    asm: disassembleScript(script),
    hex: bytesToHex(script),
    ...(address !== null ? { address } : {}),
    type: classifyScript(script),
  };
}

/** One vout entry as Core prints it. */
export function txOutToCoreJson(out: TxOut, n: number, params: ChainParams): Record<string, unknown> {
  return { value: new CoreAmount(out.value), n, scriptPubKey: scriptPubKeyToCoreJson(out.scriptPubKey, params) };
}

/**
 * A transaction as Bitcoin Core's decoderawtransaction (TxToUniv) prints it: txid, hash (wtxid), version, size, vsize,
 * weight, locktime, vin[] (coinbase hex or txid/vout/scriptSig, txinwitness, sequence), vout[]; plus `hex` when asked
 * (getrawtransaction / getblock 2 include it).
 * @see Bitcoin Core core_write.cpp TxToUniv
 */
export function txToCoreJson(tx: Tx, params: ChainParams, options: { includeHex?: boolean } = {}): Record<string, unknown> {
  const coinbase = isCoinbase(tx);
  const vin = tx.inputs.map((input) => {
    const entry: Record<string, unknown> = coinbase
      ? { coinbase: bytesToHex(input.scriptSig) }
      : {
          txid: hashToHex(input.prevout.txid),
          vout: input.prevout.index,
          // Core decodes sighash types in scriptSigs only (TxToUniv calls ScriptToAsmStr(scriptSig, true)).
          scriptSig: {
            asm: disassembleScript(input.scriptSig, { attemptSighashDecode: true }),
            hex: bytesToHex(input.scriptSig),
          },
        };
    if (input.witness.length > 0) entry['txinwitness'] = input.witness.map((w) => bytesToHex(w));
    entry['sequence'] = input.sequence;
    return entry;
  });
  const json: Record<string, unknown> = {
    txid: hashToHex(computeTxid(tx)),
    hash: hashToHex(computeWtxid(tx)),
    version: tx.version,
    size: getTxSize(tx),
    vsize: getTxVsize(tx),
    weight: getTxWeight(tx),
    locktime: tx.locktime,
    vin,
    vout: tx.outputs.map((o, n) => txOutToCoreJson(o, n, params)),
  };
  if (options.includeHex) json['hex'] = bytesToHex(encodeTx(tx));
  return json;
}

/**
 * Difficulty as a floating-point multiple of the minimum difficulty (bits 0x1d00ffff), as Core's GetDifficulty.
 * @see Bitcoin Core rpc/blockchain.cpp GetDifficulty
 */
export function difficultyFromBits(bits: number): number {
  let shift = (bits >>> 24) & 0xff;
  let diff = 0x0000ffff / (bits & 0x00ffffff);
  while (shift < 29) {
    diff *= 256;
    shift++;
  }
  while (shift > 29) {
    diff /= 256;
    shift--;
  }
  return diff;
}

/** Compact bits as Core prints them: 8 lower-case hex digits. */
export function bitsToHex(bits: number): string {
  return (bits >>> 0).toString(16).padStart(8, '0');
}

/** Header fields common to getblock and getblockheader (without chain context such as height or confirmations). */
export function headerToCoreJson(header: BlockHeader): Record<string, unknown> {
  return {
    hash: hashToHex(computeBlockHash(header)),
    version: header.version,
    versionHex: (header.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: hashToHex(header.merkleRoot),
    time: header.time,
    nonce: header.nonce,
    bits: bitsToHex(header.bits),
    difficulty: difficultyFromBits(header.bits),
    previousblockhash: hashToHex(header.prevBlock),
  };
}

/**
 * A block as Core's `getblock <hash> 2` prints it, without the fields that need a chain (confirmations, height,
 * mediantime, chainwork, nextblockhash): callers with chain context add them.
 * @see Bitcoin Core rpc/blockchain.cpp blockToJSON (TxVerbosity::SHOW_DETAILS)
 */
export function blockToCoreJson(block: Block, params: ChainParams): Record<string, unknown> {
  const h = headerToCoreJson(block.header);
  return {
    hash: h['hash'],
    size: getBlockSize(block),
    strippedsize: getBlockSize(block, false),
    weight: getBlockWeight(block),
    version: h['version'],
    versionHex: h['versionHex'],
    merkleroot: h['merkleroot'],
    tx: block.txs.map((tx) => txToCoreJson(tx, params, { includeHex: true })),
    time: h['time'],
    nonce: h['nonce'],
    bits: h['bits'],
    difficulty: h['difficulty'],
    nTx: block.txs.length,
    previousblockhash: h['previousblockhash'],
  };
}
