import type { Block } from '../primitives/types.js';

/** Names of the networks cairn knows. `bitcoin` is Bitcoin mainnet's rules, used to check real Bitcoin headers. */
export type NetworkName = 'main' | 'test' | 'devnet' | 'regtest' | 'bitcoin';

/**
 * How the next block's bits are computed.
 * - `asert`: aserti3-2d with the anchor below (cairn networks). @see BCH spec 2020-11-15-asert
 * - `bitcoin`: Bitcoin's retarget every `retargetInterval` blocks over `targetTimespanSec`, clamped to x4 / ÷4.
 *   @see Bitcoin Core pow.cpp GetNextWorkRequired / CalculateNextWorkRequired
 * - `none`: bits never change (regtest: Core's fPowNoRetargeting).
 */
export type DifficultyRule =
  | {
      readonly kind: 'asert';
      /** ASERT half-life in seconds. */
      readonly halfLifeSec: number;
      /** Height of the anchor block (its parent's time and its own bits are the reference). */
      readonly anchorHeight: number;
      /** nBits of the anchor block. */
      readonly anchorBits: number;
      /** Timestamp of the anchor block's parent, seconds (ignored when `anchorTimeFromChain` is set). */
      readonly anchorParentTimeSec: number;
      /**
       * Take the reference time from the chain itself: the anchor block's own time − targetSpacing stands for its
       * parent's time. devnet uses it with anchorHeight 1, so a devnet started on any day begins at the genesis
       * difficulty instead of running at powLimit (or far above it) until ASERT catches up with the genesis date.
       * Blocks up to and including anchorHeight + 1 carry anchorBits.
       */
      readonly anchorTimeFromChain?: boolean;
    }
  | {
      readonly kind: 'bitcoin';
      readonly retargetInterval: number;
      readonly targetTimespanSec: number;
    }
  | { readonly kind: 'none' };

/**
 * Every consensus and network constant of one chain, as a frozen value passed to whoever needs it
 * (there is no global params). Amounts in sats, times in seconds.
 * @see Bitcoin Core kernel/chainparams.h CChainParams; btcd chaincfg/params.go
 */
export interface ChainParams {
  readonly name: NetworkName;
  /** The genesis block (its coinbase is unspendable, as in Bitcoin). */
  readonly genesis: Block;
  /** Display (reversed) hex of the genesis block hash, pinned by a test. */
  readonly genesisHashHex: string;
  /** Highest allowed target (easiest difficulty). */
  readonly powLimit: bigint;
  /** nBits of powLimit. */
  readonly powLimitBits: number;
  /** Target spacing between blocks, seconds. */
  readonly targetSpacingSec: number;
  readonly difficulty: DifficultyRule;
  /** Subsidy of block 1.. before any halving, sats. */
  readonly initialSubsidy: bigint;
  /** Blocks between subsidy halvings. */
  readonly halvingInterval: number;
  /** Blocks before a coinbase output can be spent (Bitcoin: 100). */
  readonly coinbaseMaturity: number;
  /** Largest allowed block weight, weight units (Bitcoin: 4,000,000). */
  readonly maxBlockWeight: number;
  /** Largest future drift allowed for a block's time over the node's adjusted time, seconds (Bitcoin: 7200). */
  readonly maxFutureBlockTimeSec: number;
  /** bech32/bech32m human-readable part of addresses (`crn`, `tcrn`, `dcrn`, `rcrn`, `bc`). */
  readonly bech32Hrp: string;
  /** BIP-44 coin type used in wallet derivation paths. */
  readonly bip44CoinType: number;
  /** Default TCP ports. */
  readonly defaultPorts: { readonly p2p: number; readonly rpc: number; readonly api: number; readonly stratum: number };
  /** Prefix of gossip topics: `/cairn/<network>/<first 8 hex of genesis hash>`. */
  readonly topicPrefix: string;
  /**
   * Which output scripts are valid: `cairn` = only P2WPKH, P2TR and OP_RETURN data of at most 83 bytes (DESIGN.md,
   * Scripts); `any` = Bitcoin's rule (any script), for checking real Bitcoin blocks.
   */
  readonly outputScriptRule: 'cairn' | 'any';
  /** Whether `generatetoaddress` and other test-only mining RPCs are allowed. */
  readonly allowGenerate: boolean;
}
