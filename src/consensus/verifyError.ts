import { rejectCategory, type RejectCategory, type RejectReason } from './rejectReason.js';

/**
 * A consensus or policy rule violation. `code` is Bitcoin Core's reject string (`bad-txns-vin-empty`, `high-hash`,
 * `bad-diffbits`, …, a RejectReason), `category` what it means (consensus, policy, already-known, missing-inputs),
 * `score` the ban score a peer earns for sending it (100 = ban at once, 0 = not the sender's fault), and `detail`
 * optional human-readable context.
 * @see bcoin lib/protocol/errors.js VerifyError; Bitcoin Core consensus/validation.h (TxValidationState, BlockValidationState)
 */
export class VerifyError extends Error {
  override readonly name = 'VerifyError';

  constructor(
    /** Bitcoin Core reject string. */
    readonly code: RejectReason,
    /** Ban score for the peer that sent the object: 0..100. */
    readonly score = 100,
    /** Human-readable context (which input, which values). */
    readonly detail?: string,
  ) {
    super(detail ? `${code} (${detail})` : code);
  }

  /** What the reject means: consensus, policy, already-known or missing-inputs. */
  get category(): RejectCategory {
    return rejectCategory(this.code);
  }
}
