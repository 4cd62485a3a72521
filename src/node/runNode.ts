import { startRestServer, type RestServer } from '../api/restServer.js';
import { startRpcServer, type RpcServer } from '../api/rpcServer.js';
import { moduleLogger } from '../logging/logger.js';
import type { LogLevel } from '../logging/logger.js';
import { MiningController } from '../mining/miningController.js';
import { payoutScriptFromAddress } from '../mining/payoutAddress.js';
import { StratumServer } from '../mining/stratumServer.js';
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
  /** Mine with the node's own miners (needs miningAddress). */
  readonly mine?: boolean;
  /** Miner threads when mining (default 1). */
  readonly miners?: number;
  /** Payout address of mined blocks: a P2WPKH or P2TR address of the network. */
  readonly miningAddress?: string;
  /** Shortest time between two blocks mined on a trivial target (regtest), ms (default 1,000; 0 = unpaced). */
  readonly mineIntervalMs?: number;
  /** Stratum V1 port (0 = ephemeral; default params.defaultPorts.stratum); null = no Stratum server. */
  readonly stratumPort?: number | null;
  /** Share difficulty of the Stratum server (default 2^-10, about 2^22 hashes a share). */
  readonly stratumDifficulty?: number;
}

/** A running node with its servers; stop() shuts everything down in order. */
export interface RunningNode {
  readonly node: FullNode;
  readonly rpc: RpcServer;
  readonly rest: RestServer;
  /** The Stratum server, unless stratumPort was null. */
  readonly stratum: StratumServer | undefined;
  /** The node's miners: mining when options.mine, and always the solver behind generatetoaddress. */
  readonly mining: MiningController;
  /** Stops the servers, then the node (idempotent). */
  stop(): Promise<void>;
}

/**
 * Starts a full node and its interfaces: opens the node in the data dir, then the JSON-RPC server (cookie in the data
 * dir), the Esplora REST server and the Stratum server, and with `mine` the node's own miners. The MiningController
 * is always created and is the node's solveBlock (generatetoaddress): trivial targets (regtest) are solved on the
 * calling thread, real-PoW ones (devnet) on its WebAssembly miner pool, created on first use. When a server fails to
 * start (port taken), what was started is stopped again and the error is thrown.
 * @throws Error when `mine` is set without a valid miningAddress (P2WPKH/P2TR of the network), or a port is taken
 */
export async function startNode(options: NodeRunOptions): Promise<RunningNode> {
  const { params } = options;
  if (options.mine && options.miningAddress === undefined) throw new Error('mining needs a mining address');
  const rewardScript = options.miningAddress !== undefined ? payoutScriptFromAddress(options.miningAddress, params) : undefined;
  const node = await FullNode.open({
    params,
    datadir: options.datadir,
    ...(options.logLevel ? { logLevel: options.logLevel } : {}),
    ...(options.scriptThreads !== undefined ? { scriptThreads: options.scriptThreads } : {}),
  });
  const log = moduleLogger(node.logger, 'node');
  const host = options.host ?? '127.0.0.1';
  const mining = new MiningController(
    {
      ...(options.miners !== undefined ? { threads: options.miners } : {}),
      ...(rewardScript !== undefined ? { rewardScript } : {}),
      ...(options.mineIntervalMs !== undefined ? { minBlockIntervalMs: options.mineIntervalMs } : {}),
    },
    { node, logger: moduleLogger(node.logger, 'mining') },
  );
  node.mining = mining;
  node.solveBlock = (block) => mining.solveBlock(block);
  let rpc: RpcServer | undefined;
  let rest: RestServer | undefined;
  let stratum: StratumServer | undefined;
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
    if (options.stratumPort !== null) {
      stratum = await StratumServer.start(
        {
          host,
          port: options.stratumPort ?? params.defaultPorts.stratum,
          ...(options.stratumDifficulty !== undefined ? { shareDifficulty: options.stratumDifficulty } : {}),
        },
        { node, logger: moduleLogger(node.logger, 'stratum') },
      );
      stratum.registerMetrics(rest.metrics.registry);
    }
    mining.registerMetrics(rest.metrics.registry);
    if (options.mine) mining.start();
  } catch (err) {
    await mining.close();
    await stratum?.close();
    await rest?.close();
    await rpc?.close();
    await node.close();
    throw err;
  }
  log.info(
    { network: params.name, height: node.chain.height, rpcPort: rpc.port, apiPort: rest.port, stratumPort: stratum?.port, mining: mining.isMining() },
    'node started',
  );
  let stopping: Promise<void> | undefined;
  const started = { node, rpc, rest, stratum, mining };
  return {
    ...started,
    stop(): Promise<void> {
      stopping ??= (async () => {
        log.info('node stopping');
        await mining.close();
        await started.stratum?.close();
        await started.rest.close();
        await started.rpc.close();
        await node.close();
      })();
      return stopping;
    },
  };
}
