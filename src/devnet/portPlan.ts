/**
 * The TCP ports of a devnet's nodes, chosen once on the first run and recorded in devnet.json. With a base port B,
 * node i (0-based) takes B + 10·i + {0 api, 2 rpc, 3 p2p, 4 stratum} — the layout of the devnet's default ports
 * (28730 api, 28732 rpc, 28733 p2p, 28734 stratum) — else free ports the OS hands out.
 */
import { createServer, type Server } from 'node:net';
import type { NodePorts } from './devnetManifest.js';
import { DevnetError } from './devnetError.js';

/** Ports between two nodes of a base-port layout. */
export const PORT_STRIDE = 10;

/** Node `index`'s ports in the base-port layout. @throws DevnetError port-unavailable beyond 65535 */
export function basePortLayout(basePort: number, index: number): NodePorts {
  const b = basePort + PORT_STRIDE * index;
  if (!Number.isInteger(basePort) || basePort < 1 || b + 4 > 65535) {
    throw new DevnetError('port-unavailable', `base port ${basePort} leaves no room for node ${index + 1} (ports up to ${b + 4})`);
  }
  return { api: b, rpc: b + 2, p2p: b + 3, stratum: b + 4 };
}

function listen(port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => resolve(server));
  });
}

function closeAll(servers: readonly Server[]): Promise<void> {
  return Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
}

/** True when a TCP port can be bound on the host now. */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    await closeAll([await listen(port, host)]);
    return true;
  } catch {
    return false;
  }
}

/**
 * `count` distinct free TCP ports on the host, each bound once by the OS (port 0) and released: all are held until
 * the last one is found, so none repeats. Another process may still take one before the node binds it (rare).
 */
export async function findFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen(0, host));
    return servers.map((s) => {
      const address = s.address();
      return typeof address === 'object' && address !== null ? address.port : 0;
    });
  } finally {
    await closeAll(servers);
  }
}

/**
 * Ports for new nodes `fromIndex .. fromIndex+count-1`: the base-port layout checked free, or free OS ports, never
 * one of `taken` (ports recorded for other nodes).
 * @throws DevnetError port-unavailable when a base-layout port is in use
 */
export async function planNodePorts(
  fromIndex: number,
  count: number,
  basePort: number | undefined,
  taken: ReadonlySet<number>,
): Promise<NodePorts[]> {
  const plans: NodePorts[] = [];
  if (basePort !== undefined) {
    for (let i = fromIndex; i < fromIndex + count; i++) {
      const ports = basePortLayout(basePort, i);
      for (const [role, port] of Object.entries(ports)) {
        if (taken.has(port) || !(await isPortFree(port))) {
          throw new DevnetError('port-unavailable', `port ${port} (${role} of node${i + 1}) is in use; pick another --base-port`);
        }
      }
      plans.push(ports);
    }
    return plans;
  }
  const free = (await findFreePorts(count * 4 + taken.size)).filter((p) => !taken.has(p));
  for (let i = 0; i < count; i++) {
    const [p2p, rpc, api, stratum] = free.slice(i * 4, i * 4 + 4) as [number, number, number, number];
    plans.push({ p2p, rpc, api, stratum });
  }
  return plans;
}

/** `cairn web` listens on the api port + this (node1's in a devnet; the network's default api port standalone). */
export const WEB_PORT_OFFSET = 5;
