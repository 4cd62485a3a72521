/**
 * Why a block, header or transaction was refused: Bitcoin Core's reject strings as one union, each with a category
 * that says what the refusal means for the sender and for the caller (as bcoin's reject codes and btcd's ErrorCode).
 * - `consensus`: it breaks a consensus rule; invalid on every node (a peer that sends it is at fault).
 * - `policy`: valid by consensus but refused by this node's relay policy (standardness, fees, limits, not yet final);
 *   another node, or this one later, may take it.
 * - `already-known`: already in the mempool or the chain.
 * - `missing-inputs`: an input (or a block's parent) is unknown or already spent; it may be an orphan.
 * @see Bitcoin Core consensus/validation.h TxValidationResult, BlockValidationResult; bcoin lib/protocol/errors.js;
 *   btcd blockchain/error.go ErrorCode
 */

/** The categories of RejectReason. */
export type RejectCategory = 'consensus' | 'policy' | 'already-known' | 'missing-inputs';

/**
 * Every fixed reject string cairn uses, with its category. Frozen: the single list reasons are checked against.
 */
export const REJECT_CATEGORIES = Object.freeze({
  // --- header and block: context-free and contextual (Core's CheckBlockHeader/CheckBlock/ContextualCheck*) ---
  'high-hash': 'consensus',
  'bad-diffbits': 'consensus',
  'time-too-old': 'consensus',
  'time-too-new': 'consensus',
  'bad-prevblk': 'consensus',
  'prev-blk-not-found': 'missing-inputs',
  'duplicate-invalid': 'consensus',
  'bad-blk-length': 'consensus',
  'bad-blk-weight': 'consensus',
  'bad-txnmrklroot': 'consensus',
  'bad-txns-duplicate': 'consensus',
  'bad-cb-missing': 'consensus',
  'bad-cb-multiple': 'consensus',
  'bad-cb-length': 'consensus',
  'bad-cb-height': 'consensus',
  'bad-cb-amount': 'consensus',
  'bad-witness-nonce-size': 'consensus',
  'bad-witness-merkle-match': 'consensus',
  'unexpected-witness': 'consensus',
  'bad-txns-nonfinal': 'consensus',
  'bad-txns-BIP30': 'consensus',
  // --- transaction: context-free (CheckTransaction) and against the UTXO set (CheckTxInputs) ---
  'bad-txns-vin-empty': 'consensus',
  'bad-txns-vout-empty': 'consensus',
  'bad-txns-oversize': 'consensus',
  'bad-txns-vout-negative': 'consensus',
  'bad-txns-vout-toolarge': 'consensus',
  'bad-txns-txouttotal-toolarge': 'consensus',
  'bad-txns-vout-script': 'consensus',
  'bad-txns-inputs-duplicate': 'consensus',
  'bad-txns-prevout-null': 'consensus',
  'bad-txns-inputs-missingorspent': 'missing-inputs',
  'bad-txns-premature-spend-of-coinbase': 'consensus',
  'bad-txns-inputvalues-outofrange': 'consensus',
  'bad-txns-in-belowout': 'consensus',
  'bad-txns-fee-outofrange': 'consensus',
  'bad-txns-spends-conflicting-tx': 'consensus',
  'coinbase': 'consensus',
  // --- signature hashing asked for inputs it cannot cover (the caller's prevouts do not match the tx) ---
  'sighash-missing-prevouts': 'consensus',
  'sighash-input-index': 'consensus',
  'sighash-cache-mismatch': 'consensus',
  'schnorr-sig-hashtype': 'consensus',
  // --- mempool policy (Core's IsStandardTx, PreChecks, PolicyScriptChecks, ReplacementChecks, limits) ---
  'version': 'policy',
  'tx-size': 'policy',
  'tx-size-small': 'policy',
  'scriptsig-size': 'policy',
  'scriptpubkey': 'policy',
  'dust': 'policy',
  'multi-op-return': 'policy',
  'bad-witness-nonstandard': 'policy',
  'non-final': 'policy',
  'mempool min fee not met': 'policy',
  'min relay fee not met': 'policy',
  'insufficient fee': 'policy',
  'too many potential replacements': 'policy',
  'replacement-adds-unconfirmed': 'policy',
  'too-long-mempool-chain': 'policy',
  'mempool full': 'policy',
  'max-fee-exceeded': 'policy',
  // --- already there, or an orphan ---
  'txn-already-in-mempool': 'already-known',
  'txn-same-nonwitness-data-in-mempool': 'already-known',
  'txn-already-known': 'already-known',
  'missing-inputs': 'missing-inputs',
} as const satisfies Record<string, RejectCategory>);

/**
 * Why an input's script check failed (consensus/verifyInput): Core's ScriptError strings for the spends cairn allows,
 * plus cairn's own refusals of every other kind of output.
 * @see Bitcoin Core script/script_error.cpp ScriptErrorString
 */
export type ScriptError =
  | 'witness-program-mismatch'
  | 'push-size'
  | 'equalverify'
  | 'sig-der'
  | 'sig-high-s'
  | 'sig-hashtype'
  | 'witness-pubkeytype'
  | 'eval-false'
  | 'sig-nullfail'
  | 'witness-program-witness-empty'
  | 'taproot-script-path-unsupported'
  | 'schnorr-sig-size'
  | 'schnorr-sig-hashtype'
  | 'schnorr-sig'
  | 'unsupported-script-type'
  | 'scriptsig-not-empty'
  | 'script-verify-failed';

/** A script failure as a block or the mempool reports it: Core's `mandatory-script-verify-flag-failed (<error>)`. */
export type ScriptRejectReason = `mandatory-script-verify-flag-failed (${ScriptError})`;

/** Why a block, header or transaction was refused: one of REJECT_CATEGORIES' keys, or a script failure. */
export type RejectReason = keyof typeof REJECT_CATEGORIES | ScriptRejectReason;

const SCRIPT_REJECT_PREFIX = 'mandatory-script-verify-flag-failed (';

/** The reject reason of a failed script check. @see Bitcoin Core validation.cpp CheckInputScripts */
export function scriptRejectReason(error: ScriptError): ScriptRejectReason {
  return `mandatory-script-verify-flag-failed (${error})`;
}

/** The category of a reject reason (script failures are consensus failures). */
export function rejectCategory(reason: RejectReason): RejectCategory {
  if (reason.startsWith(SCRIPT_REJECT_PREFIX)) return 'consensus';
  return REJECT_CATEGORIES[reason as keyof typeof REJECT_CATEGORIES];
}

/** True when `text` is a reject reason cairn knows (for reasons read back from storage or the wire). */
export function isRejectReason(text: string): text is RejectReason {
  if (Object.hasOwn(REJECT_CATEGORIES, text)) return true;
  return text.startsWith(SCRIPT_REJECT_PREFIX) && text.endsWith(')');
}
