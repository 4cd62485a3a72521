import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../logging/logger.js';
import type { MessageType, SignedEnvelope } from './message.js';

/** The topic (below `cairn/elect/<chainId>/`) each message type travels on: the origin system's names plus commit, sync, status. */
export const TOPIC_OF_TYPE: Readonly<Record<MessageType, string>> = {
  hello: 'init',
  leave: 'will',
  preVoteRequest: 'election',
  preVote: 'election',
  voteRequest: 'election',
  vote: 'election',
  heartbeat: 'election',
  challenge: 'challenge',
  proposal: 'challenge',
  solution: 'solution',
  blockVote: 'voting',
  commit: 'commit',
  tx: 'tx',
  syncRequest: 'sync',
  syncResponse: 'sync',
  status: 'status',
};

/** Retained topic holding the current leader and term (`{term, leader, session}`, JSON). */
export const LEADER_TOPIC = 'leader';

/** The topic prefix of a chain. */
export function topicPrefix(chainId: string): string {
  return `cairn/elect/${chainId}/`;
}

/** Options of MqttTransport. */
export interface MqttTransportOptions {
  /** mqtt://host:port */
  readonly brokerUrl: string;
  readonly chainId: string;
  readonly clientId: string;
  /** Signed `leave` envelope the broker publishes if this client goes away without a clean disconnect. */
  readonly will?: SignedEnvelope;
  /** Drop this fraction of incoming messages (chaos testing: lost messages); default 0. */
  readonly dropRate?: number;
  readonly random?: () => number;
}

/** Per-topic message counts, for the bench's messages-per-round figure. */
export interface TransportCounts {
  readonly sent: number;
  readonly received: number;
  readonly dropped: number;
}

/**
 * The MQTT side of a peer: one `mqtt` client, QoS 1 both ways, subscribed to every topic of its chain, reconnecting
 * by itself (every second) when the broker goes away; a signed last will tells the others when it does not come back
 * cleanly. Messages published while disconnected are queued by the client and sent on reconnect (QoS 1).
 */
export class MqttTransport {
  private readonly client: MqttClient;
  private readonly prefix: string;
  private readonly dropRate: number;
  private readonly random: () => number;
  private sentCount = 0;
  private receivedCount = 0;
  private droppedCount = 0;

  private constructor(
    options: MqttTransportOptions,
    private readonly logger: Logger,
    onMessage: (topic: string, payload: Buffer) => void,
  ) {
    this.prefix = topicPrefix(options.chainId);
    this.dropRate = options.dropRate ?? 0;
    this.random = options.random ?? Math.random;
    this.client = mqtt.connect(options.brokerUrl, {
      clientId: options.clientId,
      clean: true,
      keepalive: 5,
      reconnectPeriod: 500,
      connectTimeout: 5_000,
      will: options.will === undefined ? undefined : { topic: this.prefix + TOPIC_OF_TYPE.leave, payload: Buffer.from(JSON.stringify(options.will)), qos: 1, retain: false },
    });
    this.client.on('connect', () => {
      this.client.subscribe(this.prefix + '#', { qos: 1 }, (err) => {
        if (err) this.logger.warn({ err: err.message }, 'subscribe failed');
      });
      this.logger.info({ broker: options.brokerUrl }, 'connected to the broker');
    });
    this.client.on('offline', () => this.logger.warn('broker unreachable; reconnecting'));
    this.client.on('error', (err) => this.logger.warn({ err: err.message }, 'mqtt error'));
    this.client.on('message', (topic, payload) => {
      if (this.dropRate > 0 && this.random() < this.dropRate) {
        this.droppedCount++;
        return;
      }
      this.receivedCount++;
      onMessage(topic.slice(this.prefix.length), payload);
    });
  }

  /** Connects (in the background; publishes queue until connected). `onMessage` gets the topic below the chain prefix. */
  static connect(options: MqttTransportOptions, logger: Logger, onMessage: (topic: string, payload: Buffer) => void): MqttTransport {
    return new MqttTransport(options, logger, onMessage);
  }

  /** Whether the client is connected now. */
  get connected(): boolean {
    return this.client.connected;
  }

  get counts(): TransportCounts {
    return { sent: this.sentCount, received: this.receivedCount, dropped: this.droppedCount };
  }

  /** Publishes a signed envelope on its type's topic, QoS 1. */
  publish(type: MessageType, envelope: SignedEnvelope): void {
    this.sentCount++;
    this.client.publish(this.prefix + TOPIC_OF_TYPE[type], JSON.stringify(envelope), { qos: 1 });
  }

  /** Publishes a raw retained value below the chain prefix (the leader topic). */
  publishRetained(topic: string, value: string): void {
    this.client.publish(this.prefix + topic, value, { qos: 1, retain: true });
  }

  /** Drops the connection without a DISCONNECT, as a crash would: the broker publishes the last will. */
  forceClose(): Promise<void> {
    return new Promise((resolve) => this.client.end(true, {}, () => resolve()));
  }

  /** Disconnects cleanly (no last will), after flushing what is in flight. */
  close(): Promise<void> {
    return new Promise((resolve) => this.client.end(false, {}, () => resolve()));
  }
}
