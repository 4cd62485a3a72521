import { startRestServer, type RestServer } from '../api/restServer.js';
import { startRpcServer, type RpcServer } from '../api/rpcServer.js';
import { moduleLogger } from '../logging/logger.js';
import type { LogLevel } from '../logging/logger.js';
import type { ChainParams } from '../params/chainParams.js';
import { FullNode } from './fullNode.js';

/** Everything `cairn node` starts, as plain options (the CLI maps its flags onto this). */
export interface NodeRunOptions {
  readonly params: ChainParams;
  readonly datadir: string;
  readonly logLevel?: LogLevel;
  /** Interface to bind the RPC and REST servers to (default 127.0.0.1). */
  readonly host?: string;
  /** JSON-RPC port (0 = ephemeral; default params.defaultPorts.rpc). */
  readonly rpcPort?: number;
  /** Esplora REST port (0 = ephemeral; default params.defaultPorts.api). */
  readonly apiPort?: number;
  readonly rpcUser?: string;
  readonly rpcPassword?: string;
  /** Threads that check signatures (default: all cores). */
  readonly scriptThreads?: number;
  /** Requests per minute per client on the REST API (default: the server's default). */
  readonly apiRateLimitPerMinute?: number;
}

/** A running node with its servers; stop() shuts everything down in order. */
export interface RunningNode {
  readonly node: FullNode;
  readonly rpc: RpcServer;
  readonly rest: RestServer;
  /** Stops the servers, then the node (idempotent). */
  stop(): Promise<void>;
}

/**
 * Starts a full node and its interfaces: opens the node in the data dir, then the JSON-RPC server (cookie in the data
 * dir) and the Esplora REST server. When a server fails to start (port taken), what was started is stopped again and
 * the error is thrown.
 */
export async function startNode(options: NodeRunOptions): Promise<RunningNode> {
  const { params } = options;
  const node = await FullNode.open({
    params,
    datadir: options.datadir,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.scriptThreads !== undefined ? { scriptThreads: options.scriptThreads } : {}),
  });
  const log = moduleLogger(node.logger, 'node');
  const host = options.host ?? '127.0.0.1';
  let rpc: RpcServer | undefined;
  let rest: RestServer | undefined;
  try {
    rpc = await startRpcServer(
      {
        host,
        port: options.rpcPort ?? params.defaultPorts.rpc,
        datadir: options.datadir,
        ...(options.rpcUser !== undefined ? { rpcUser: options.rpcUser } : {}),
        ...(options.rpcPassword !== undefined ? { rpcPassword: options.rpcPassword } : {}),
      },
      { node, logger: moduleLogger(node.logger, 'rpc') },
    );
    rest = await startRestServer(
      {
        host,
        port: options.apiPort ?? params.defaultPorts.api,
        ...(options.apiRateLimitPerMinute !== undefined
          ? { rateLimit: { max: options.apiRateLimitPerMinute, timeWindowMs: 60_000 } }
          : {}),
      },
      { node, logger: moduleLogger(node.logger, 'api') },
    );
  } catch (err) {
    await rpc?.close();
    await node.close();
    throw err;
  }
  log.info({ network: params.name, height: node.chain.height, rpcPort: rpc.port, apiPort: rest.port }, 'node started');
  let stopping: Promise<void> | undefined;
  const started = { node, rpc, rest };
  return {
    ...started,
    stop(): Promise<void> {
      stopping ??= (async () => {
        log.info('node stopping');
        await started.rest.close();
        await started.rpc.close();
        await node.close();
      })();
      return stopping;
    },
  };
}
