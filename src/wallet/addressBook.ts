import { bytesToHex } from '../primitives/hex.js';
import { EXTERNAL_CHAIN, INTERNAL_CHAIN, type ChainIndex, type DerivedAddress, type HdAccount } from './hdAccount.js';
import { WalletError } from './walletError.js';

/** BIP-44's address gap limit: discovery stops after this many consecutive unused addresses. @see BIP-44 "Address gap limit" */
export const DEFAULT_GAP_LIMIT = 20;

/** Whether an address has ever received or spent (e.g. it has a transaction history on the node). */
export type IsUsedFn = (scriptPubKey: Uint8Array, address: DerivedAddress) => Promise<boolean>;

/** Options of an AddressBook. */
export interface AddressBookOptions {
  /** Consecutive unused addresses that end discovery on a chain (default 20, BIP-44's). */
  readonly gapLimit?: number;
  /** Most isUsed calls in flight at once during discovery (default 10). */
  readonly concurrency?: number;
}

/** What discovery found on one chain. */
export interface ChainDiscovery {
  /** Highest used index, -1 when none. */
  readonly highestUsed: number;
  /** Addresses checked (highestUsed + 1 + gapLimit). */
  readonly scanned: number;
}

/**
 * The addresses of one HD account, receive (external) and change (internal) chains: discovery with a gap limit, the
 * next unused receive and change indexes, and lookup of an output script among every address derived so far (the
 * used ones plus the gap window after them). Pure: isUsed is injected, nothing here does I/O.
 * Addresses handed out more than gapLimit past the last used one are not found again by a restore with the same gap
 * limit (BIP-44's caveat).
 * @see BIP-44 "Account discovery", "Address gap limit"
 */
export class AddressBook {
  readonly gapLimit: number;
  private readonly concurrency: number;
  private readonly derived: [DerivedAddress[], DerivedAddress[]] = [[], []];
  private readonly byScript = new Map<string, DerivedAddress>();
  private readonly highestUsed: [number, number] = [-1, -1];
  /** Next receive index newReceiveAddress may hand out (addresses handed out but not yet used are not reused). */
  private nextIssuedReceive = 0;

  constructor(readonly account: HdAccount, options: AddressBookOptions = {}) {
    const gapLimit = options.gapLimit ?? DEFAULT_GAP_LIMIT;
    const concurrency = options.concurrency ?? 10;
    if (!Number.isInteger(gapLimit) || gapLimit < 1) throw new WalletError('bad-index', `gap limit ${gapLimit} is not a positive integer`);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new WalletError('bad-index', `concurrency ${concurrency} is not a positive integer`);
    this.gapLimit = gapLimit;
    this.concurrency = concurrency;
    this.ensureWindow(EXTERNAL_CHAIN);
    this.ensureWindow(INTERNAL_CHAIN);
  }

  /** The address at chain/index, derived once and remembered for lookup. */
  getAddress(chain: ChainIndex, index: number): DerivedAddress {
    const list = this.derived[chain];
    while (list.length <= index) {
      const a = this.account.deriveAddress(chain, list.length);
      list.push(a);
      this.byScript.set(bytesToHex(a.scriptPubKey), a);
    }
    return list[index]!;
  }

  /** Derives every address up to the gap window after the highest used one. */
  private ensureWindow(chain: ChainIndex): void {
    const upTo = Math.max(this.highestUsed[chain], chain === EXTERNAL_CHAIN ? this.nextIssuedReceive - 1 : -1) + this.gapLimit;
    if (upTo >= 0) this.getAddress(chain, upTo);
  }

  /**
   * Scans both chains from index 0, asking isUsed of each address, until gapLimit consecutive unused addresses; the
   * highest used index of each chain becomes at least the one found (an address once used is never handed out
   * again, even if the tx that used it vanished in a reorg).
   * @see BIP-44 "Account discovery"
   */
  async discover(isUsed: IsUsedFn): Promise<{ receive: ChainDiscovery; change: ChainDiscovery }> {
    const receive = await this.discoverChain(EXTERNAL_CHAIN, isUsed);
    const change = await this.discoverChain(INTERNAL_CHAIN, isUsed);
    return { receive, change };
  }

  private async discoverChain(chain: ChainIndex, isUsed: IsUsedFn): Promise<ChainDiscovery> {
    let highest = -1;
    let unusedRun = 0;
    let next = 0;
    while (unusedRun < this.gapLimit) {
      // Never ask beyond the gap: a batch ends where the run of unused addresses would reach the limit.
      const size = Math.min(this.concurrency, this.gapLimit - unusedRun);
      const batch = Array.from({ length: size }, (_, k) => this.getAddress(chain, next + k));
      const used = await Promise.all(batch.map((a) => isUsed(a.scriptPubKey, a)));
      used.forEach((u, k) => {
        if (u) {
          highest = next + k;
          unusedRun = 0;
        } else {
          unusedRun++;
        }
      });
      next += size;
    }
    if (highest >= 0) this.markUsed(chain, highest);
    return { highestUsed: highest, scanned: next };
  }

  /** Records that chain/index is used (e.g. the change of a tx just broadcast) and extends the gap window. */
  markUsed(chain: ChainIndex, index: number): void {
    if (index > this.highestUsed[chain]) this.highestUsed[chain] = index;
    this.ensureWindow(chain);
  }

  /** Highest used index of a chain, -1 when none. */
  getHighestUsed(chain: ChainIndex): number {
    return this.highestUsed[chain];
  }

  /** First receive index after the highest used one. */
  get nextReceiveIndex(): number {
    return this.highestUsed[EXTERNAL_CHAIN] + 1;
  }

  /** First change index after the highest used one: where the next change output goes. */
  get nextChangeIndex(): number {
    return this.highestUsed[INTERNAL_CHAIN] + 1;
  }

  /**
   * Hands out a fresh receive address: the first one neither used nor handed out before (as Core's getnewaddress,
   * each call gives a new address).
   */
  newReceiveAddress(): DerivedAddress {
    const index = Math.max(this.nextReceiveIndex, this.nextIssuedReceive);
    this.nextIssuedReceive = index + 1;
    this.ensureWindow(EXTERNAL_CHAIN);
    return this.getAddress(EXTERNAL_CHAIN, index);
  }

  /** The change address the next payment should use: the first unused one on the internal chain. */
  getChangeAddress(): DerivedAddress {
    return this.getAddress(INTERNAL_CHAIN, this.nextChangeIndex);
  }

  /** The derived address paying to this script, or undefined when the script is not one of this account's (so far). */
  lookup(scriptPubKey: Uint8Array): DerivedAddress | undefined {
    return this.byScript.get(bytesToHex(scriptPubKey));
  }

  /** Every address derived so far on a chain, in index order (used ones and the gap window). */
  getAddresses(chain: ChainIndex): readonly DerivedAddress[] {
    return this.derived[chain];
  }
}
