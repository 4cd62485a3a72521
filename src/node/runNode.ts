import { Gauge, type Registry } from 'prom-client';
import { registerReadGauge } from '../api/metrics.js';
import { removeNodeRuntimeInfo, writeNodeRuntimeInfo } from '../api/nodeRuntimeInfo.js';
import type { NodeRuntimeInfo } from '../interfaces/nodeRuntimeInfo.js';
import { CAIRN_VERSION } from '../api/rpc/networkRpc.js';
import { Networker } from '../p2p/networker.js';
import { defaultUtxosLimit } from '../api/rest/addressRoutes.js';
import { startRestServer, type RestServer } from '../api/restServer.js';
import { startRpcServer, type RpcServer } from '../api/rpcServer.js';
import { moduleLogger } from '../logging/logger.js';
import type { LogLevel } from '../logging/logger.js';
import { MiningController } from '../mining/miningController.js';
import { payoutScriptFromAddress } from '../mining/payoutAddress.js';
import { StratumServer } from '../mining/stratumServer.js';
import type { ChainParams } from '../params/chainParams.js';
import type { NodeContext } from '../interfaces/nodeContext.js';
import { createNodeContext, FullNode } from './fullNode.js';

export type { NodeRuntimeInfo };

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
  /** Most confirmed unspent outputs the REST API lists for one address (default defaultUtxosLimit(params.name): 500 on main, 100,000 on test networks). */
  readonly apiUtxosLimit?: number;
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
  /** P2P listen port (0 = ephemeral; default the network's), or null for no networking at all. */
  readonly p2pPort?: number | null;
  /** Peers to keep connected (`--connect`): multiaddrs (peer id optional) or host:port. */
  readonly connect?: readonly string[];
  /** Bootstrap peers (multiaddrs with /p2p/<id>). */
  readonly bootstrap?: readonly string[];
  /** Discover peers with mDNS on the local network. */
  readonly mdns?: boolean;
  /** Name of this node in logs and node.json (e.g. `node2` in a devnet). */
  readonly nodeName?: string;
}

/** A running node with its servers; stop() shuts everything down in order. */
export interface RunningNode {
  readonly node: FullNode;
  /** What the node's interfaces see of it (built once at start). */
  readonly context: NodeContext;
  readonly rpc: RpcServer;
  readonly rest: RestServer;
  /** The Stratum server, unless stratumPort was null. */
  readonly stratum: StratumServer | undefined;
  /** The node's miners: mining when options.mine, and always the solver behind generatetoaddress. */
  readonly mining: MiningController;
  /** The p2p Networker, unless started with p2pPort null. */
  readonly networker: Networker | undefined;
  /** What node.json holds. */
  readonly runtimeInfo: NodeRuntimeInfo;
  /** Stops the servers, then the node (idempotent). */
  stop(): Promise<void>;
  /** Registers what to run when the `stop` RPC asks the node to shut down (the process owner stops it). */
  onShutdownRequest(listener: () => void): void;
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
    ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}),
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
  const shutdownListeners: (() => void)[] = [];
  let rpc: RpcServer | undefined;
  let rest: RestServer | undefined;
  let stratum: StratumServer | undefined;
  let networker: Networker | undefined;
  let context: NodeContext;
  try {
    if (options.p2pPort !== null) {
      networker = new Networker(
        {
          params,
          datadir: options.datadir,
          host,
          port: options.p2pPort ?? params.defaultPorts.p2p,
          ...(options.connect !== undefined ? { connect: options.connect } : {}),
          ...(options.bootstrap !== undefined ? { bootstrap: options.bootstrap } : {}),
          ...(options.mdns !== undefined ? { mdns: options.mdns } : {}),
          userAgent: `/cairn:${CAIRN_VERSION}/`,
        },
        { chain: node.chain, mempool: node.mempool, logger: moduleLogger(node.logger, 'p2p'), nowSec: node.nowSec },
      );
      await networker.start();
    }
    context = createNodeContext(node, {
      ...(networker !== undefined ? { network: networker } : {}),
      mining,
      solveBlock: (block) => mining.solveBlock(block),
      requestShutdown: () => {
        for (const listener of shutdownListeners) listener();
      },
    });
    rpc = await startRpcServer(
      {
        host,
        port: options.rpcPort ?? params.defaultPorts.rpc,
        datadir: options.datadir,
        ...(options.rpcUser !== undefined ? { rpcUser: options.rpcUser } : {}),
        ...(options.rpcPassword !== undefined ? { rpcPassword: options.rpcPassword } : {}),
      },
      { node: context, logger: moduleLogger(node.logger, 'rpc') },
    );
    rest = await startRestServer(
      {
        host,
        port: options.apiPort ?? params.defaultPorts.api,
        ...(options.apiRateLimitPerMinute !== undefined
          ? { rateLimit: { max: options.apiRateLimitPerMinute, timeWindowMs: 60_000 } }
          : {}),
        utxosLimit: options.apiUtxosLimit ?? defaultUtxosLimit(params.name),
      },
      { node: context, logger: moduleLogger(node.logger, 'api') },
    );
    if (options.stratumPort !== null) {
      stratum = await StratumServer.start(
        {
          host,
          port: options.stratumPort ?? params.defaultPorts.stratum,
          ...(options.stratumDifficulty !== undefined ? { shareDifficulty: options.stratumDifficulty } : {}),
        },
        { node: context, logger: moduleLogger(node.logger, 'stratum') },
      );
      stratum.registerMetrics(rest.metrics.registry);
    }
    mining.registerMetrics(rest.metrics.registry);
    if (networker !== undefined) registerNetworkMetrics(networker, rest.metrics.registry);
    if (options.mine) mining.start();
  } catch (err) {
    await mining.close();
    await networker?.stop().catch(() => undefined);
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
  const runtimeInfo: NodeRuntimeInfo = {
    pid: process.pid,
    network: params.name,
    nodeName: options.nodeName ?? null,
    peerId: networker?.peerId ?? null,
    p2pAddrs: networker?.localAddresses() ?? [],
    rpcPort: rpc.port,
    apiPort: rest.port,
    stratumPort: stratum?.port ?? null,
    cookieFile: rpc.cookiePath ?? null,
    startedAtSec: node.startedAtSec,
  };
  writeNodeRuntimeInfo(options.datadir, runtimeInfo);
  let stopping: Promise<void> | undefined;
  const started = { node, context, rpc, rest, stratum, mining, networker, runtimeInfo };
  return {
    ...started,
    onShutdownRequest(listener: () => void): void {
      shutdownListeners.push(listener);
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        log.info('node stopping');
        await mining.close();
        await networker?.stop().catch((err: unknown) => log.warn({ err }, 'p2p stop failed'));
        await started.stratum?.close();
        await started.rest.close();
        await started.rpc.close();
        await node.close();
        removeNodeRuntimeInfo(options.datadir);
      })();
      return stopping;
    },
  };
}

/** Prometheus gauges of the p2p layer: sync heights and rate, bans, gossip validation outcomes. */
function registerNetworkMetrics(networker: Networker, registry: Registry): void {
  const gauge = (name: string, help: string, read: () => number): void => registerReadGauge(registry, name, help, read);
  gauge('cairn_sync_active', '1 while headers-first sync downloads headers or blocks', () => (networker.syncProgress.active ? 1 : 0));
  gauge('cairn_sync_headers_height', 'Height of the best known header', () => networker.syncProgress.headersHeight);
  gauge('cairn_sync_blocks_per_second', 'Blocks connected per second in the current sync round', () => networker.syncProgress.blocksPerSec);
  gauge('cairn_p2p_bans_total', 'Peers banned since start', () => networker.bansIssued);
  new Gauge({
    name: 'cairn_p2p_gossip_messages',
    help: 'Gossip messages by topic and validation outcome since start',
    labelNames: ['topic', 'outcome'] as const,
    registers: [registry],
    collect() {
      for (const topic of ['block', 'tx'] as const) {
        for (const outcome of ['accept', 'ignore', 'reject'] as const) {
          this.set({ topic, outcome }, networker.gossipStats[topic][outcome]);
        }
      }
    },
  });
}
