import { isIP } from 'node:net';
import { CoreAmount } from '../coreJson.js';
import type { PeerInfo } from '../nodeContext.js';
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
  };
}

/** Registers getpeerinfo, getconnectioncount and getnetworkinfo. */
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
        networkactive: true,
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
}
