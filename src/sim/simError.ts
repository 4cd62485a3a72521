/** Why a simulation request was refused (stable codes for the CLI and the shell). */
export type SimErrorCode =
  | 'bad-scenario'
  | 'unknown-user'
  | 'duplicate-user'
  | 'insufficient-funds'
  | 'bad-amount'
  | 'tx-rejected'
  | 'block-rejected'
  | 'io-error';

/**
 * An error of the simulator with a code and a reason; the CLI prints `code: message`, never a stack, for these.
 * `tx-rejected` carries the mempool's Bitcoin Core reject reason in the message.
 */
export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SimError';
  }
}
