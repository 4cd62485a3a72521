import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../logging/logger.js';

/**
 * The embedded MQTT broker of `cairn elect` (aedes, in memory: retained messages and sessions last as long as the
 * process), so a chain needs nothing installed. Listens on 127.0.0.1:`port` (0 = a free port).
 */
export class EmbeddedBroker {
  private constructor(
    private readonly broker: Aedes,
    private readonly server: Server,
    /** The port it listens on. */
    readonly port: number,
  ) {}

  /**
   * Starts the broker.
   * @throws Error (EADDRINUSE, …) when it cannot listen
   */
  static async start(options: { port?: number; host?: string }, logger: Logger): Promise<EmbeddedBroker> {
    const broker = await Aedes.createBroker();
    broker.on('clientError', (client, err) => logger.debug({ client: client.id, err: err.message }, 'mqtt client error'));
    const server = createServer(broker.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    logger.info({ port }, 'embedded MQTT broker listening');
    return new EmbeddedBroker(broker, server, port);
  }

  /** The URL clients connect to. */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Clients connected now. */
  get connectedClients(): number {
    return this.broker.connectedClients;
  }

  /** Stops listening and closes every client connection. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
