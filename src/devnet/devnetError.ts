/** Why a devnet operation failed. */
export type DevnetErrorReason =
  /** devnet.json or demo-wallet.json is unreadable or of another layout. */
  | 'bad-manifest'
  /** Another `cairn devnet` process supervises this dir. */
  | 'dir-busy'
  /** A port of the plan is taken or out of range. */
  | 'port-unavailable'
  /** An option is out of range. */
  | 'bad-option';

/** An error of the devnet supervisor, with a code the CLI turns into a message. */
export class DevnetError extends Error {
  constructor(
    readonly code: DevnetErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'DevnetError';
  }
}
