import { createHash } from 'node:crypto';
import { StrictNoSign, type GossipsubOpts, type Message } from '@libp2p/gossipsub';
import type { ChainParams } from '../../params/chainParams.js';
import { maxBlockMessageBytes } from '../wire.js';

/**
 * cairn's gossipsub settings: unsigned messages (StrictNoSign; blocks and txs prove themselves), content-addressed
 * message ids (sha256 of topic and data, so the same block or tx from two sources is one message), flood publishing,
 * and inbound messages up to the largest block frame. Exported so test peers speak exactly what nodes speak.
 */
export function cairnGossipsubOptions(params: ChainParams): Partial<GossipsubOpts> {
  return {
    globalSignaturePolicy: StrictNoSign,
    msgIdFn: (msg: Message) => createHash('sha256').update(msg.topic).update(msg.data).digest(),
    allowPublishToZeroTopicPeers: true,
    emitSelf: false,
    floodPublish: true,
    maxInboundDataLength: maxBlockMessageBytes(params) + 4096,
  };
}
