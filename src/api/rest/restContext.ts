import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyInstance,
  FastifyReply,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Logger } from '../../logging/logger.js';
import { BlockStatus, type BlockIndexEntry } from '../../interfaces/chainTypes.js';
import { HttpError } from '../httpError.js';
import type { MempoolTracker } from '../mempoolTracker.js';
import type { NodeContext } from '../../interfaces/nodeContext.js';
import { parseBlockHashParam } from '../restParams.js';
import type { TxLookup } from '../txLookup.js';

/** The Fastify instance the REST routes are registered on (TypeBox schemas type the handlers). */
export type RestApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  TypeBoxTypeProvider
>;

/** What every REST route module needs: the node and the REST layer's own lookups. */
export interface RestContext {
  readonly node: NodeContext;
  readonly logger: Logger;
  readonly txLookup: TxLookup;
  readonly tracker: MempoolTracker;
}

/** Sends a `text/plain` body (hex, a txid, a height), as Esplora's text routes. */
export function sendText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('text/plain').send(text);
}

/**
 * The index entry of a block named in a URL whose data the node has stored.
 * @throws HttpError 400 "Invalid hex string" | 404 "Block not found"
 */
export function requireBlockEntry(ctx: RestContext, hashHex: string): BlockIndexEntry {
  const entry = ctx.node.chain.getEntry(parseBlockHashParam(hashHex));
  if (entry === undefined || (entry.status & BlockStatus.HAVE_DATA) === 0) throw new HttpError(404, 'Block not found');
  return entry;
}
