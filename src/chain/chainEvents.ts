import { TypedEmitter, type Listener } from '../async/typedEmitter.js';
import type { Logger } from '../logging/logger.js';
import type { BlockIndexEntry } from '../storage/chainStore.js';
import type { Block, Hash256, Tx } from '../primitives/types.js';

/** A block became part of the main chain (its UTXO changes are in the store). `txids` are block.txs' txids in order. */
export interface BlockConnectedEvent {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  readonly txids: readonly Hash256[];
}

/** A block left the main chain in a reorg (its UTXO changes were undone). Its non-coinbase txs may return to the mempool. */
export interface BlockDisconnectedEvent {
  readonly entry: BlockIndexEntry;
  readonly block: Block;
  readonly txids: readonly Hash256[];
}

/**
 * The end of one batch of connects/disconnects (one processBlock call or chain open). Emitted once per batch in which
 * any block was connected or disconnected, after all blockDisconnected and blockConnected events of the batch.
 * `tip` may equal `previousTip` when a reorg attempt failed and the chain went back to its old tip.
 * `reorgDepth` = previousTip.height - height of the fork point of previousTip and tip (0 when the tip only advanced).
 * `disconnectedTxs` are the non-coinbase txs of the blocks disconnected in the batch that are not in a block connected
 * in it, oldest block first and in block order (a topological order the mempool can re-add them in).
 */
export interface TipChangedEvent {
  readonly tip: BlockIndexEntry;
  readonly previousTip: BlockIndexEntry;
  readonly reorgDepth: number;
  readonly disconnectedTxs: readonly Tx[];
}

/** A block was found to break a consensus rule (context-free, contextual, or on connect). `score` is the ban score. */
export interface BlockInvalidEvent {
  readonly hashHex: string;
  readonly reason: string;
  readonly detail?: string;
  readonly score: number;
}

/**
 * The events a Chain emits, by name. Within a reorg every blockDisconnected (tip first) comes before the
 * blockConnected events (fork point upward), and tipChanged comes once at the end of the batch.
 * @see Bitcoin Core validationinterface.h (BlockDisconnected, BlockConnected, UpdatedBlockTip); bcoin chain events
 */
export interface ChainEvents {
  blockConnected: BlockConnectedEvent;
  blockDisconnected: BlockDisconnectedEvent;
  tipChanged: TipChangedEvent;
  blockInvalid: BlockInvalidEvent;
}

/** A listener of one chain event. */
export type ChainListener<K extends keyof ChainEvents> = Listener<ChainEvents, K>;

/**
 * The chain's emitter of ChainEvents: a TypedEmitter whose listener errors are logged (a mempool bug must not
 * corrupt block processing).
 */
export class ChainEventEmitter extends TypedEmitter<ChainEvents> {
  constructor(logger: Logger) {
    super((err, event) => logger.error({ err, event }, 'chain event listener threw'));
  }
}
