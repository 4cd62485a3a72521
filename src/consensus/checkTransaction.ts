import { formatOutpoint, isNullOutpoint, outpointKey, type OutpointKey } from '../primitives/outpoint.js';
import { getTxBaseSize, isCoinbase } from '../primitives/tx.js';
import type { Tx } from '../primitives/types.js';
import { MAX_MONEY } from './amount.js';
import { isCairnOutputScript } from './scriptType.js';
import { VerifyError } from './verifyError.js';

/** Bitcoin's block weight limit, and so the largest weight a lone transaction may have. @see BIP-141 */
export const MAX_BLOCK_WEIGHT = 4_000_000;
/** Weight units per non-witness byte. @see BIP-141 */
export const WITNESS_SCALE_FACTOR = 4;

/** Options of checkTransaction that depend on the network, not on chain state. */
export interface CheckTransactionOptions {
  /** `cairn` (default): outputs must be P2WPKH, P2TR or OP_RETURN ≤ 83 bytes. `any`: Bitcoin's rule. */
  readonly outputScriptRule?: 'cairn' | 'any';
}

/**
 * Context-free transaction checks: they depend on neither the chain nor the mempool.
 * Bitcoin Core's CheckTransaction, plus cairn's output-script rule (DESIGN.md, Scripts).
 * @throws VerifyError bad-txns-vin-empty | bad-txns-vout-empty | bad-txns-oversize | bad-txns-vout-negative |
 *   bad-txns-vout-toolarge | bad-txns-txouttotal-toolarge | bad-txns-inputs-duplicate | bad-cb-length |
 *   bad-txns-prevout-null | bad-txns-vout-script (cairn: output script not P2WPKH/P2TR/OP_RETURN)
 * @see Bitcoin Core consensus/tx_check.cpp CheckTransaction
 */
export function checkTransaction(tx: Tx, options: CheckTransactionOptions = {}): void {
  if (tx.inputs.length === 0) throw new VerifyError('bad-txns-vin-empty', 10);
  if (tx.outputs.length === 0) throw new VerifyError('bad-txns-vout-empty', 10);
  if (getTxBaseSize(tx) * WITNESS_SCALE_FACTOR > MAX_BLOCK_WEIGHT) throw new VerifyError('bad-txns-oversize', 100);

  let total = 0n;
  const rule = options.outputScriptRule ?? 'cairn';
  for (const [n, output] of tx.outputs.entries()) {
    if (output.value < 0n) throw new VerifyError('bad-txns-vout-negative', 100, `output ${n}`);
    if (output.value > MAX_MONEY) throw new VerifyError('bad-txns-vout-toolarge', 100, `output ${n}`);
    total += output.value;
    if (total > MAX_MONEY) throw new VerifyError('bad-txns-txouttotal-toolarge', 100, `output ${n}`);
    if (rule === 'cairn' && !isCairnOutputScript(output.scriptPubKey)) {
      throw new VerifyError('bad-txns-vout-script', 100, `output ${n}: only P2WPKH, P2TR and OP_RETURN (<= 83 bytes) are valid`);
    }
  }

  // PERF: a tx of one input (most of a block's) cannot spend an outpoint twice: no key or Set is made for it.
  if (tx.inputs.length > 1) {
    const seen = new Set<OutpointKey>();
    for (const input of tx.inputs) {
      const key = outpointKey(input.prevout);
      if (seen.has(key)) throw new VerifyError('bad-txns-inputs-duplicate', 100, formatOutpoint(input.prevout));
      seen.add(key);
    }
  }

  if (isCoinbase(tx)) {
    const len = tx.inputs[0]!.scriptSig.length;
    if (len < 2 || len > 100) throw new VerifyError('bad-cb-length', 100, `coinbase scriptSig is ${len} bytes`);
  } else {
    for (const [i, input] of tx.inputs.entries()) {
      if (isNullOutpoint(input.prevout)) throw new VerifyError('bad-txns-prevout-null', 10, `input ${i}`);
    }
  }
}
