/**
 * A libp2p peer written in the test process, for the p2p tests' misbehaving ("rogue") and scripted peers: it speaks
 * exactly the node's transports (TCP, Noise, Yamux, Identify) and gossipsub settings, answers the node's status
 * requests with a status of the test's choosing, and sends whatever raw requests and gossip the test asks for. For
 * tests only.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import * as lp from 'it-length-prefixed';
import { createLibp2p } from 'libp2p';
import type { ChainParams } from '../params/chainParams.js';
import { blockHashFromHex } from '../primitives/hex.js';
import { cairnGossipsubOptions } from '../p2p/gossip/gossipsubOptions.js';
import { decodeResponseChunk, encodeResponseChunk, encodeStatus, protocolIds, RespStatus, type ProtocolIds, type ResponseChunk, type StatusMessage } from '../p2p/wire.js';

/** Options of FakePeer.start. */
export interface FakePeerOptions {
  /** The network whose protocol ids and gossip settings it speaks. */
  readonly params: ChainParams;
  /** Its answer to the node's status requests (default: an honest fresh node at genesis, genesisStatus). */
  readonly status?: StatusMessage;
  /**
   * Closes the node's status requests without answering (no chunk), as a node does while it hangs up on the
   * connection. Default false.
   */
  readonly hangUpOnStatus?: boolean;
  /** Gossip topics to subscribe to at start. */
  readonly topics?: readonly string[];
}

/** The status of a fresh node of `params` at genesis, as an honest peer sends it. */
export function genesisStatus(params: ChainParams, userAgent = '/fake-peer/'): StatusMessage {
  const genesisHash = blockHashFromHex(params.genesisHashHex);
  return { network: params.name, genesisHash, tipHash: genesisHash, tipHeight: 0, chainWork: 2n, userAgent };
}

/** A scripted libp2p peer (see the module doc). Stop it with stop(). */
export class FakePeer {
  /** The network's protocol ids and topics. */
  readonly ids: ProtocolIds;

  private constructor(
    /** The libp2p node, for what the helpers do not cover. */
    readonly libp2p: Libp2p<{ pubsub: GossipSub }>,
    params: ChainParams,
  ) {
    this.ids = protocolIds(params);
  }

  /** Starts a fake peer listening on an ephemeral loopback port. */
  static async start(options: FakePeerOptions): Promise<FakePeer> {
    const node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), pubsub: gossipsub(cairnGossipsubOptions(options.params)) },
    });
    const peer = new FakePeer(node, options.params);
    const status = encodeResponseChunk({ status: RespStatus.SUCCESS, payload: encodeStatus(options.status ?? genesisStatus(options.params)) });
    await node.handle(peer.ids.status, async (stream: Stream) => {
      const frames = lpStream(stream);
      try {
        await frames.read();
        if (options.hangUpOnStatus !== true) await frames.write(status);
        await stream.close();
      } catch (err) {
        stream.abort(err as Error);
      }
    });
    for (const topic of options.topics ?? []) node.services.pubsub.subscribe(topic);
    return peer;
  }

  /** The libp2p peer id, as text. */
  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Dials a node's multiaddr. */
  dial(addr: string, timeoutMs = 10_000): Promise<Connection> {
    return this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Whether a connection to the peer `peerId` is open. */
  isConnectedTo(peerId: string): boolean {
    return this.libp2p.getConnections().some((c) => c.remotePeer.toString() === peerId && c.status === 'open');
  }

  /** Whether any connection is open. */
  get connected(): boolean {
    return this.libp2p.getConnections().length > 0;
  }

  /**
   * Sends one request frame on `protocol` to the node at `addr` and returns the response chunks it answers with,
   * decoded. @throws when the node resets the stream or the dial fails
   */
  async request(addr: string, protocol: string, body: Uint8Array, timeoutMs = 10_000): Promise<ResponseChunk[]> {
    const signal = AbortSignal.timeout(timeoutMs);
    const stream = await this.libp2p.dialProtocol(multiaddr(addr), protocol, { signal });
    if (!stream.send(lp.encode.single(body))) await stream.onDrain({ signal });
    await stream.close({ signal });
    const chunks: ResponseChunk[] = [];
    for await (const frame of lp.decode(stream, { maxDataLength: 8 * 1024 * 1024 })) chunks.push(decodeResponseChunk(frame.subarray()));
    return chunks;
  }

  /**
   * Writes `bytes` as one length-prefixed frame on a new `protocol` stream to `addr`, whatever its size (an
   * oversized request), and leaves the stream to the node. Resolves once written or refused.
   */
  async sendRawFrame(addr: string, protocol: string, bytes: Uint8Array): Promise<void> {
    const stream = await this.libp2p.dialProtocol(multiaddr(addr), protocol, { signal: AbortSignal.timeout(10_000) });
    const frames = lpStream(stream, { maxDataLength: bytes.length + 16 });
    await frames.write(bytes).catch(() => undefined);
  }

  /** Publishes `data` on a gossip topic; returns the peer ids it was sent to. */
  async publish(topic: string, data: Uint8Array): Promise<string[]> {
    const result = await this.libp2p.services.pubsub.publish(topic, data);
    return result.recipients.map((p) => p.toString());
  }

  /** The peer ids subscribed to `topic` that this peer knows of. */
  subscribers(topic: string): string[] {
    return this.libp2p.services.pubsub.getSubscribers(topic).map((p) => p.toString());
  }

  /** Stops the node, closing every connection. */
  async stop(): Promise<void> {
    await this.libp2p.stop();
  }
}
