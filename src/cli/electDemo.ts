import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createLogger, moduleLogger } from '../logging/logger.js';
import { verifyMessage, type MessageBodies } from '../elect/message.js';
import { LEADER_TOPIC, topicPrefix } from '../elect/mqttTransport.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { waitForStopSignal } from '../supervisor/stopSignals.js';
import { initChain, loadGenesis } from './electChainFiles.js';
import { CliError } from './input.js';

/** Options of `cairn elect demo`. */
export interface ElectDemoOptions {
  readonly peers: number;
  readonly dir: string;
  readonly brokerUrl: string | undefined;
  readonly threads: number;
  readonly zeroBits: string;
  readonly quorum: string;
  readonly table: boolean;
}

interface CommitRow {
  height: number;
  hash: string;
  zeroBits: number;
  winner: number;
  votes: number;
  txs: number;
  term: number;
  leader: number;
  solveMs: number | undefined;
  atMs: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * `cairn elect demo`: makes (or reuses) a chain of N peers in `dir`, starts the embedded broker (a `cairn elect
 * broker` child) unless a broker URL is given, N `cairn elect peer` children under one Supervisor, and watches the
 * chain's topics to draw a live table; Ctrl-C (or SIGTERM) stops the peers, then the broker.
 * @throws CliError when dir holds a chain of another size
 */
export async function runElectDemo(o: ElectDemoOptions): Promise<void> {
  mkdirSync(o.dir, { recursive: true });
  const genesisPath = join(o.dir, 'genesis.json');
  if (!existsSync(genesisPath)) {
    await initChain({
      peers: String(o.peers), quorum: o.quorum, dir: o.dir, minZeroBits: '8', maxZeroBits: '32', zeroBits: o.zeroBits, targetSolveMs: '2000',
      electionTimeoutMinMs: '1500', electionTimeoutMaxMs: '3000', heartbeatMs: '500',
    });
  }
  const genesis = await loadGenesis(genesisPath);
  if (genesis.members.length !== o.peers) throw new CliError(`${o.dir} holds a chain of ${genesis.members.length} peers; use --peers ${genesis.members.length} or another --dir`);
  const logger = moduleLogger(createLogger({ level: 'info', logDir: join(o.dir, 'demo', 'logs') }), 'elect');
  const supervisor = new Supervisor({ logger });
  const cairn = [...process.execArgv.filter((a) => !a.startsWith('--inspect')), process.argv[1]!];
  let brokerUrl = o.brokerUrl;
  if (brokerUrl === undefined) {
    const port = await freePort();
    brokerUrl = `mqtt://127.0.0.1:${port}`;
    supervisor.add({ name: 'broker', command: process.execPath, args: [...cairn, 'elect', 'broker', '--port', String(port)], consoleFile: join(o.dir, 'broker.console.log'), stopStage: 1, restart: true });
  }
  const peerProcs = genesis.members.map((m) =>
    supervisor.add({
      name: `peer${m.index + 1}`,
      command: process.execPath,
      args: [...cairn, 'elect', 'peer', '--genesis', genesisPath, '--datadir', join(o.dir, `peer${m.index + 1}`), '--broker', brokerUrl!, '--threads', String(o.threads), '--demo-tx-interval-ms', String(o.peers * 1000)],
      consoleFile: join(o.dir, `peer${m.index + 1}`, 'console.log'),
      stopStage: 0,
      restart: true,
    }),
  );
  // the log collector consolidates every peer's (and the demo's) logs into <dir>/logs; it stops last
  supervisor.add({
    name: 'log-collector',
    command: process.execPath,
    args: [...cairn, 'log-collector', '--dir', join(o.dir, 'logs'), '--source', join(o.dir, 'demo', 'logs'), ...genesis.members.flatMap((m) => ['--source', join(o.dir, `peer${m.index + 1}`, 'logs')])],
    consoleFile: join(o.dir, 'log-collector.console.log'),
    stopStage: 2,
    restart: true,
  });
  supervisor.startAll();

  const prefix = topicPrefix(genesis.chainId);
  const statuses = new Map<number, MessageBodies['status'] & { term: number; atMs: number }>();
  const commits: CommitRow[] = [];
  let leader: { term: number; leader: number } | undefined;
  const observer = mqtt.connect(brokerUrl, { clientId: `cairn-elect-demo-${process.pid}`, reconnectPeriod: 500 });
  observer.on('connect', () => observer.subscribe([prefix + 'status', prefix + 'commit', prefix + LEADER_TOPIC], { qos: 1 }));
  observer.on('error', () => undefined);
  observer.on('message', (topic, payload) => {
    try {
      if (topic === prefix + LEADER_TOPIC) {
        leader = JSON.parse(payload.toString('utf8')) as { term: number; leader: number };
        return;
      }
      const { header } = verifyMessage(genesis, payload);
      if (header.type === 'status') statuses.set(header.from, { ...(header.body as MessageBodies['status']), term: header.term, atMs: Date.now() });
      if (header.type === 'commit') {
        const c = header.body as MessageBodies['commit'];
        if (commits.some((r) => r.height === c.block.height)) return;
        commits.push({ height: c.block.height, hash: c.certificate.blockHash, zeroBits: c.block.zeroBits, winner: c.block.miner, votes: c.certificate.votes.length, txs: c.block.txs.length, term: c.certificate.term, leader: header.from, solveMs: c.solveMs, atMs: Date.now() });
        if (commits.length > 200) commits.shift();
      }
    } catch {
      // forged or foreign: the peers record those; the table ignores them
    }
  });

  const out = process.stdout;
  const live = o.table && out.isTTY === true;
  let drawn = 0;
  const render = (): string[] => {
    const lines = [`cairn elect demo: chain ${genesis.chainId}, ${o.peers} peers, quorum ${genesis.quorum} (${genesis.quorumRule}), broker ${brokerUrl} — data in ${o.dir}; Ctrl-C stops`];
    lines.push('height  hash              zero bits  winner  votes  txs  solve     term  leader');
    for (const c of commits.slice(-10)) {
      lines.push(`${String(c.height).padEnd(7)} ${c.hash.slice(0, 16)}  ${String(c.zeroBits).padEnd(10)} peer${String(c.winner + 1).padEnd(3)} ${`${c.votes}/${o.peers}`.padEnd(6)} ${String(c.txs).padEnd(4)} ${(c.solveMs === undefined ? '-' : `${(c.solveMs / 1000).toFixed(2)}s`).padEnd(9)} ${String(c.term).padEnd(5)} peer${c.leader + 1}`);
    }
    lines.push(`leader: ${leader === undefined ? 'none yet' : `peer${leader.leader + 1} (term ${leader.term})`}`);
    lines.push('peer    process     role          term  height  hash rate');
    peerProcs.forEach((p, i) => {
      const s = statuses.get(i);
      const fresh = s !== undefined && Date.now() - s.atMs < 3_000;
      lines.push(`peer${String(i + 1).padEnd(3)} ${p.state.padEnd(11)} ${(fresh ? s.state : 'silent').padEnd(13)} ${String(s?.term ?? '-').padEnd(5)} ${String(s?.tipHeight ?? '-').padEnd(7)} ${s === undefined ? '-' : `${(s.hashesPerSecond / 1e6).toFixed(2)} MH/s`}`);
    });
    return lines;
  };
  const timer = setInterval(() => {
    if (live) {
      const lines = render();
      out.write((drawn > 0 ? `\x1b[${drawn}F\x1b[J` : '') + lines.join('\n') + '\n');
      drawn = lines.length;
    } else if (Math.floor(Date.now() / 1000) % 5 === 0) {
      const tip = commits.at(-1);
      out.write(`height ${tip?.height ?? 0}, leader ${leader === undefined ? '-' : `peer${leader.leader + 1} term ${leader.term}`}, peers up ${peerProcs.filter((p) => p.state === 'running').length}/${o.peers}\n`);
    }
  }, 1_000);

  const stop = waitForStopSignal(() => out.write('still stopping…\n'));
  await stop.signal;
  clearInterval(timer);
  out.write('stopping the peers, then the broker…\n');
  observer.end(true);
  await supervisor.stop();
  stop.dispose();
  out.write(`logs: cairn logs --dir ${join(o.dir, 'logs')} --module elect\n`);
  out.write(`stopped. Chain data in ${o.dir} (cairn elect status --datadir ${join(o.dir, 'peer1')})\n`);
}
