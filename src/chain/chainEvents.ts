import { TypedEmitter, type Listener } from '../async/typedEmitter.js';
import type { Logger } from '../logging/logger.js';
import type { ChainEvents } from '../interfaces/chainTypes.js';

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
