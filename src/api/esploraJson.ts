import { scriptPubKeyToAddress } from '../crypto/address.js';
import { classifyScript } from '../consensus/scriptType.js';
import type { ChainParams } from '../params/chainParams.js';
import { bytesToHex, hashToHex } from '../primitives/hex.js';
import { computeTxid, getTxSize, getTxWeight, isCoinbase } from '../primitives/tx.js';
import type { Sats, Tx, TxOut, Txid } from '../primitives/types.js';
import type { BlockIndexEntry } from '../interfaces/chainTypes.js';
import { difficultyFromBits } from './coreJson.js';
import { esploraAsm } from './esploraAsm.js';
import type { EsploraBlock, EsploraTx, EsploraTxIn, EsploraTxOut, EsploraTxStatus } from './esploraSchemas.js';

export type { EsploraBlock, EsploraTx, EsploraTxIn, EsploraTxOut, EsploraTxStatus } from './esploraSchemas.js';

/** Largest script Core considers spendable; longer ones are provably unspendable. */
const MAX_SCRIPT_SIZE = 10_000;
const OP_RETURN = 0x6a;
const ZERO_TXID = '0'.repeat(64);

/**
 * Sats as a JSON number, as Esplora prints amounts. Exact: every amount in a valid tx is at most 21e14 < 2^53.
 */
export function satsToNumber(sats: Sats): number {
  return Number(sats);
}

/**
 * Esplora's `scriptpubkey_type` of an output script, in electrs's order of tests: `empty`, `op_return` (first byte
 * OP_RETURN), `p2pk`, `p2pkh`, `p2sh`, `v0_p2wpkh`, `v0_p2wsh`, `v1_p2tr`, `anchor` (mempool.space's name for
 * pay-to-anchor), `provably_unspendable` (over 10,000 bytes), else `unknown` (bare multisig included, as electrs).
 * @see Blockstream electrs src/rest.rs TxOutValue::new
 */
export function esploraScriptType(script: Uint8Array): string {
  if (script.length === 0) return 'empty';
  if (script[0] === OP_RETURN) return 'op_return';
  switch (classifyScript(script)) {
    case 'pubkey':
      return 'p2pk';
    case 'pubkeyhash':
      return 'p2pkh';
    case 'scripthash':
      return 'p2sh';
    case 'witness_v0_keyhash':
      return 'v0_p2wpkh';
    case 'witness_v0_scripthash':
      return 'v0_p2wsh';
    case 'witness_v1_taproot':
      return 'v1_p2tr';
    case 'anchor':
      return 'anchor';
    default:
      return script.length > MAX_SCRIPT_SIZE ? 'provably_unspendable' : 'unknown';
  }
}

/** One output as Esplora prints it; `scriptpubkey_address` only when the script has an address on this network. */
export function txOutToEsplora(output: TxOut, params: ChainParams): EsploraTxOut {
  const address = scriptPubKeyToAddress(output.scriptPubKey, params.bech32Hrp);
  const json: EsploraTxOut = {
    scriptpubkey: bytesToHex(output.scriptPubKey),
    scriptpubkey_asm: esploraAsm(output.scriptPubKey),
    scriptpubkey_type: esploraScriptType(output.scriptPubKey),
    value: satsToNumber(output.value),
  };
  if (address !== null) json.scriptpubkey_address = address;
  return json;
}

/** What txToEsplora needs besides the tx: the coins its inputs spend, its fee and where it is. */
export interface EsploraTxContext {
  readonly params: ChainParams;
  /** The outputs the inputs spend, aligned with tx.inputs; undefined where unknown (always for a coinbase). */
  readonly prevouts: readonly (TxOut | undefined)[];
  /** Fee in sats (0 for a coinbase). */
  readonly fee: Sats;
  readonly status: EsploraTxStatus;
  /** The txid when the caller has it (saves a hash). */
  readonly txid?: Txid;
}

/**
 * A transaction as Esplora's GET /tx/:txid prints it: txid, version, locktime, vin[] (txid, vout, prevout, scriptsig,
 * scriptsig_asm, witness — absent when empty, is_coinbase, sequence), vout[], size, weight, fee, status.
 * The coinbase input shows the zero txid, vout 4294967295 and prevout null.
 * @see Blockstream esplora API.md "Transaction format"; electrs src/rest.rs TransactionValue
 */
export function txToEsplora(tx: Tx, ctx: EsploraTxContext): EsploraTx {
  const coinbase = isCoinbase(tx);
  const vin = tx.inputs.map((input, i): EsploraTxIn => {
    const prevout = coinbase ? undefined : ctx.prevouts[i];
    const json: EsploraTxIn = {
      txid: coinbase ? ZERO_TXID : hashToHex(input.prevout.txid),
      vout: input.prevout.index,
      prevout: prevout === undefined ? null : txOutToEsplora(prevout, ctx.params),
      scriptsig: bytesToHex(input.scriptSig),
      scriptsig_asm: esploraAsm(input.scriptSig),
      is_coinbase: coinbase,
      sequence: input.sequence,
    };
    if (input.witness.length > 0) json.witness = input.witness.map((w) => bytesToHex(w));
    return json;
  });
  return {
    txid: hashToHex(ctx.txid ?? computeTxid(tx)),
    version: tx.version,
    locktime: tx.locktime,
    vin,
    vout: tx.outputs.map((o) => txOutToEsplora(o, ctx.params)),
    size: getTxSize(tx),
    weight: getTxWeight(tx),
    fee: coinbase ? 0 : satsToNumber(ctx.fee),
    status: ctx.status,
  };
}

/** The status of a transaction confirmed in `entry`'s block. */
export function confirmedStatus(entry: BlockIndexEntry): EsploraTxStatus {
  return { confirmed: true, block_height: entry.height, block_hash: entry.hashHex, block_time: entry.header.time };
}

/** The status of a mempool transaction. */
export const UNCONFIRMED_STATUS: EsploraTxStatus = Object.freeze({ confirmed: false });

/**
 * A block as Esplora's GET /block/:hash prints it: id, height, version, timestamp, tx_count, size, weight,
 * merkle_root, previousblockhash (null for the genesis), mediantime, nonce, bits (number), difficulty
 * (Core's GetDifficulty). The index entry holds everything but the median time past.
 * @see Blockstream esplora API.md "Block format"; electrs src/rest.rs BlockValue
 */
export function blockToEsplora(entry: BlockIndexEntry, medianTimeSec: number): EsploraBlock {
  const h = entry.header;
  return {
    id: entry.hashHex,
    height: entry.height,
    version: h.version,
    timestamp: h.time,
    tx_count: entry.txCount,
    size: entry.sizeBytes,
    weight: entry.weight,
    merkle_root: hashToHex(h.merkleRoot),
    previousblockhash: entry.height > 0 ? hashToHex(h.prevBlock) : null,
    mediantime: medianTimeSec,
    nonce: h.nonce >>> 0,
    bits: h.bits >>> 0,
    difficulty: difficultyFromBits(h.bits),
  };
}
