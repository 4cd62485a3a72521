import type { BlockTemplateSource } from '../interfaces/blockTemplate.js';
import type { ChainReader } from '../interfaces/chainReader.js';
import type { ProcessBlockResult } from '../interfaces/chainTypes.js';
import type { MempoolReader } from '../interfaces/mempoolReader.js';
import type { ChainParams } from '../params/chainParams.js';
import type { Block } from '../primitives/types.js';

/**
 * What the node's miners and the Stratum server need from the node (a narrow view of NodeContext, which satisfies it):
 * the tip and its changes, mempool arrivals (a better template), templates, the clock, and the door for found blocks.
 * @see STYLE.md §6.3 (inject narrow functions, not the whole chain)
 */
export interface MiningNode {
  readonly params: ChainParams;
  readonly chain: Pick<ChainReader, 'tip' | 'height' | 'on'>;
  readonly mempool: Pick<MempoolReader, 'on'>;
  readonly blockTemplates: BlockTemplateSource;
  /** Offers a found block to the chain (the same path as the network's). */
  submitBlock(block: Block): Promise<ProcessBlockResult>;
  /** Current time, seconds since the epoch. */
  nowSec(): number;
}
