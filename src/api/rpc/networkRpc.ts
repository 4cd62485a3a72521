import { isIP } from 'node:net';
import { CoreAmount } from '../coreJson.js';
import type { NetworkInfoSource, PeerInfo } from '../../interfaces/networkInfo.js';
import { RPC_ERROR, RpcError } from './rpcError.js';
import type { RpcTable } from './rpcTable.js';

/** cairn's version, as the `version` field encodes it (major·10000 + minor·100 + patch) and as text. */
export const CAIRN_VERSION = '0.1.0';
const CLIENT_VERSION = 100;
/** Core's PROTOCOL_VERSION; cairn's wire protocol is libp2p, but clients compare this number. */
const PROTOCOL_VERSION = 70016;
/** NODE_NETWORK | NODE_WITNESS, as Core prints service bits: 16 hex digits. */
const LOCAL_SERVICES = '0000000000000009';

/** Host and port of a peer address: a multiaddr (`/ip4/1.2.3.4/tcp/8733/p2p/…`) or `host:port`. */
function splitAddress(addr: string): { host: string; port: number } {
  const multi = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/(?:tcp|udp)\/(\d+)/.exec(addr);
  if (multi) return { host: multi[1]!, port: Number(multi[2]) };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(addr);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const plain = /^([^:]+):(\d+)$/.exec(addr);
  if (plain) return { host: plain[1]!, port: Number(plain[2]) };
  return { host: addr, port: 0 };
}

/** Core's network name of an address: ipv4, ipv6, or not_publicly_routable for loopback, private and the rest. */
function networkOf(addr: string): string {
  const { host } = splitAddress(addr);
  const family = isIP(host);
  if (family === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    const isPrivate = a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
    return isPrivate ? 'not_publicly_routable' : 'ipv4';
  }
  if (family === 6) return host === '::1' || /^f[cd]/i.test(host) || /^fe80/i.test(host) ? 'not_publicly_routable' : 'ipv6';
  return 'not_publicly_routable';
}

/** One peer as getpeerinfo prints it: Core's field names for what the p2p layer knows. */
function peerToJson(peer: PeerInfo): Record<string, unknown> {
  return {
    id: peer.id,
    addr: peer.addr,
    network: networkOf(peer.addr),
    services: LOCAL_SERVICES,
    servicesnames: ['NETWORK', 'WITNESS'],
    conntime: peer.connectedSinceSec,
    inbound: peer.inbound,
    startingheight: peer.startingHeight ?? -1,
    synced_headers: peer.syncedHeaders ?? -1,
    synced_blocks: peer.syncedBlocks ?? -1,
    connection_type: peer.inbound ? 'inbound' : 'outbound-full-relay',
    ...(peer.banScore !== undefined ? { banscore: peer.banScore } : {}),
    ...(peer.peerId !== undefined ? { peerid: peer.peerId } : {}),
  };
}

/** The network source's control method, or an RPC error saying networking is off. */
function control<K extends keyof NetworkInfoSource>(network: NetworkInfoSource, name: K): NonNullable<NetworkInfoSource[K]> {
  const method = network[name];
  if (typeof method !== 'function') throw new RpcError(RPC_ERROR.CLIENT_P2P_DISABLED, 'Error: Peer-to-peer functionality missing or disabled');
  return (method as (...args: never[]) => unknown).bind(network) as NonNullable<NetworkInfoSource[K]>;
}

/** Registers getpeerinfo, getconnectioncount, getnetworkinfo and the peer-control calls (addnode, bans, …). */
export function registerNetworkRpc(table: RpcTable): void {
  table.register({
    name: 'getpeerinfo',
    category: 'network',
    description: 'Returns data about each connected network peer as a json array of objects.',
    args: [],
    result:
      '[ { "id", "addr", "network", "services", "servicesnames", "conntime", "inbound", "startingheight",\n' +
      '    "synced_headers", "synced_blocks", "connection_type", "banscore" (when scored) } ]',
    handler: (_args, ctx) => ctx.node.network.peers().map(peerToJson),
  });

  table.register({
    name: 'getconnectioncount',
    category: 'network',
    description: 'Returns the number of connections to other nodes.',
    args: [],
    result: 'n    (numeric) The connection count',
    handler: (_args, ctx) => ctx.node.network.peers().length,
  });

  table.register({
    name: 'getnetworkinfo',
    category: 'network',
    description: 'Returns an object containing various state info regarding P2P networking.',
    args: [],
    result:
      '{ "version", "subversion", "protocolversion", "localservices", "localservicesnames", "localrelay", "timeoffset",\n' +
      '  "networkactive", "connections", "connections_in", "connections_out", "networks", "relayfee", "incrementalfee",\n' +
      '  "localaddresses": [{ "address", "port", "score" }], "warnings": [str] }',
    handler: (_args, ctx) => {
      const { node } = ctx;
      const peers = node.network.peers();
      const inbound = peers.filter((p) => p.inbound).length;
      const { options } = node.mempool;
      return {
        version: CLIENT_VERSION,
        subversion: `/cairn:${CAIRN_VERSION}/`,
        protocolversion: PROTOCOL_VERSION,
        localservices: LOCAL_SERVICES,
        localservicesnames: ['NETWORK', 'WITNESS'],
        localrelay: true,
        timeoffset: 0,
        networkactive: node.network.isNetworkActive?.() ?? false,
        connections: peers.length,
        connections_in: inbound,
        connections_out: peers.length - inbound,
        networks: [],
        relayfee: new CoreAmount(BigInt(options.minRelayFeeRateSatPerKvb)),
        incrementalfee: new CoreAmount(BigInt(options.incrementalRelayFeeRateSatPerKvb)),
        localaddresses: node.network.localAddresses().map((a) => {
          const { host, port } = splitAddress(a);
          return { address: host, port, score: 1 };
        }),
        warnings: [],
      };
    },
  });

  table.register({
    name: 'addnode',
    category: 'network',
    description:
      "Attempts to add or remove a node from the addnode list, or try a connection to a node once.\n" +
      'Nodes added with "add" are kept connected: redialed while down (cairn: libp2p multiaddr or host:port).',
    args: [
      { name: 'node', type: 'string', description: 'The address of the peer: /ip4/<ip>/tcp/<port>[/p2p/<id>] or host:port' },
      { name: 'command', type: 'string', description: "'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a connection to the node once" },
    ],
    result: 'null',
    handler: ([nodeArg, command], ctx) => {
      if (command !== 'add' && command !== 'remove' && command !== 'onetry') {
        throw new RpcError(RPC_ERROR.INVALID_PARAMETER, "Error: command must be one of 'add', 'remove', 'onetry'");
      }
      try {
        control(ctx.node.network, 'addNode')(String(nodeArg), command);
      } catch (err) {
        if (err instanceof RpcError) throw err;
        throw new RpcError(RPC_ERROR.INVALID_PARAMETER, `Error: ${(err as Error).message}`);
      }
      return null;
    },
  });

  table.register({
    name: 'disconnectnode',
    category: 'network',
    description: 'Immediately disconnects from the specified peer node (by address as getpeerinfo shows it, libp2p peer id, or nodeid).',
    args: [
      { name: 'address', type: 'string', optional: true, default: 'fallback to nodeid', description: 'The address or libp2p peer id of the node' },
      { name: 'nodeid', type: 'number', optional: true, default: 'fallback to address', description: 'The node ID (see getpeerinfo for node IDs)' },
    ],
    result: 'null',
    handler: async ([address, nodeid], ctx) => {
      const target = address !== undefined && address !== '' ? String(address) : nodeid !== undefined ? Number(nodeid) : undefined;
      if (target === undefined) throw new RpcError(RPC_ERROR.INVALID_PARAMS, 'Error: Only one of address and nodeid should be provided.');
      const found = await control(ctx.node.network, 'disconnectNode')(target);
      if (!found) throw new RpcError(RPC_ERROR.CLIENT_NODE_NOT_CONNECTED, 'Node not found in connected nodes');
      return null;
    },
  });

  table.register({
    name: 'listbanned',
    category: 'network',
    description: 'List all manually and automatically banned peers (by libp2p peer id).',
    args: [],
    result: '[ { "address": str (peer id), "ban_created"?: n, "banned_until": n, "ban_reason": str } ]',
    handler: (_args, ctx) =>
      control(ctx.node.network, 'listBanned')().map((b) => ({
        address: b.peerId,
        banned_until: Math.floor(b.untilMs / 1000),
        ban_duration: Math.max(0, Math.floor((b.untilMs - Date.now()) / 1000)),
        ban_reason: b.reason,
      })),
  });

  table.register({
    name: 'setban',
    category: 'network',
    description: 'Attempts to add or remove a peer (libp2p peer id) from the banned list.',
    args: [
      { name: 'subnet', type: 'string', description: 'The libp2p peer id to ban or unban' },
      { name: 'command', type: 'string', description: "'add' to add to the list, 'remove' to remove from the list" },
      { name: 'bantime', type: 'number', optional: true, default: '86400', description: 'Ban duration in seconds' },
    ],
    result: 'null',
    handler: async ([peerId, command, bantime], ctx) => {
      if (command !== 'add' && command !== 'remove') throw new RpcError(RPC_ERROR.INVALID_PARAMETER, "Error: command must be 'add' or 'remove'");
      await control(ctx.node.network, 'setBan')(String(peerId), command, bantime !== undefined ? Number(bantime) : undefined);
      return null;
    },
  });

  table.register({
    name: 'clearbanned',
    category: 'network',
    description: 'Clear all banned peers.',
    args: [],
    result: 'null',
    handler: (_args, ctx) => {
      control(ctx.node.network, 'clearBanned')();
      return null;
    },
  });

  table.register({
    name: 'setnetworkactive',
    category: 'network',
    description: 'Disable/enable all p2p network activity.',
    args: [{ name: 'state', type: 'boolean', description: 'true to enable networking, false to disable' }],
    result: 'true|false    (boolean) The value that was passed in',
    handler: async ([state], ctx) => {
      const active = state === true || state === 'true';
      await control(ctx.node.network, 'setNetworkActive')(active);
      return active;
    },
  });
}
