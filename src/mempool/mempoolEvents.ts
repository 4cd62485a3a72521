import { TypedEmitter, type Listener } from '../async/typedEmitter.js';
import type { Logger } from '../logging/logger.js';
import type { MempoolEvents } from '../interfaces/mempoolTypes.js';

/** A listener of one mempool event. */
export type MempoolListener<K extends keyof MempoolEvents> = Listener<MempoolEvents, K>;

/** The mempool's emitter of MempoolEvents: a TypedEmitter whose listener errors are logged. */
export class MempoolEventEmitter extends TypedEmitter<MempoolEvents> {
  constructor(logger: Logger) {
    super((err, event) => logger.error({ err, event }, 'mempool event listener threw'));
  }
}
