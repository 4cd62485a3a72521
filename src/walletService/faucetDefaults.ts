import type { Sats } from '../primitives/types.js';

/** What the faucet pays per request by default: 10 coins, in sats (kept apart so the CLI help needs no service code). */
export const DEFAULT_FAUCET_AMOUNT_SATS: Sats = 1_000_000_000n;
