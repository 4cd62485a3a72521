import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger, moduleLogger, type LogLevel } from '../logging/logger.js';
import { waitForStopSignal } from '../supervisor/stopSignals.js';
import { CliError } from './input.js';
import { initChain, loadGenesis, parseIntFlag, parseRate, type InitFlags } from './electChainFiles.js';

/** Where `cairn elect demo` keeps its chain unless --dir says otherwise. */
function defaultDemoDir(): string {
  return join(homedir(), '.cairn', 'elect-demo');
}

/** Registers `cairn elect init|peer|status|broker|demo`. */
export function registerElectCommand(program: Command): void {
  const elect = program
    .command('elect')
    .description('the MQTT election-consensus chain: signed votes, Raft-style leader election, parallel mining, quorum commits');

  elect
    .command('init')
    .description('write a new chain: genesis.json (N members\' secp256k1 public keys, quorum, challenge bounds) and peer1..N data dirs with their keys')
    .requiredOption('--peers <n>', 'number of members')
    .option('--quorum <rule>', 'majority (crash faults) or 2/3 (Byzantine, N >= 3f+1)', 'majority')
    .option('--dir <dir>', 'where to write it', defaultDemoDir())
    .option('--min-zero-bits <n>', 'lowest challenge difficulty (leading zero bits)', '8')
    .option('--max-zero-bits <n>', 'highest challenge difficulty', '32')
    .option('--zero-bits <n>', 'first challenge difficulty', '18')
    .option('--target-solve-ms <ms>', 'the leader steers difficulty toward this solve time', '2000')
    .option('--election-timeout-min-ms <ms>', 'Raft election timeout window, low end', '1500')
    .option('--election-timeout-max-ms <ms>', 'Raft election timeout window, high end', '3000')
    .option('--heartbeat-ms <ms>', 'leader heartbeat period', '500')
    .option('--min-block-interval-ms <ms>', 'the leader waits this long after a commit before its next challenge', '0')
    .option('--force', 'replace an existing chain in --dir')
    .action(async (flags: InitFlags) => {
      const r = await initChain(flags);
      process.stdout.write(`chain ${r.chainId}: ${r.genesisPath}\n${r.datadirs.map((d) => `  ${d}`).join('\n')}\n`);
    });

  elect
    .command('peer')
    .description('run one member: connects to the broker, takes part in elections and rounds, stores its chain in --datadir')
    .requiredOption('--genesis <file>', 'genesis.json of the chain')
    .requiredOption('--datadir <dir>', 'this peer\'s data dir (holds elect-key.json and the chain)')
    .option('--broker <url>', 'MQTT broker URL', 'mqtt://127.0.0.1:1883')
    .option('--threads <n>', 'miner threads (default: all cores)')
    .option('--drop-rate <p>', 'drop this fraction of incoming messages (chaos testing)', '0')
    .option('--demo-tx-interval-ms <ms>', 'broadcast a random demo transaction (32 bytes) this often (0 = never)', '0')
    .option('--log-level <level>', 'log level', 'info')
    .action(async (flags: { genesis: string; datadir: string; broker: string; threads?: string; dropRate: string; demoTxIntervalMs: string; logLevel: string }) => {
      const genesis = await loadGenesis(flags.genesis);
      const { readPeerKey } = await import('../elect/peerKey.js');
      const { ElectStore, ELECT_STORE_FILE } = await import('../elect/electStore.js');
      const { ElectPeer } = await import('../elect/electPeer.js');
      const { MinerPool } = await import('../mining/minerPool.js');
      let key;
      try {
        key = readPeerKey(flags.datadir, genesis);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      // <datadir>/logs: NDJSON rotated for `cairn log-collector` (the demo runs one); its pid lock also keeps a second
      // process off this data dir (two processes with one key would sign two votes).
      let root;
      try {
        root = createLogger({ level: flags.logLevel as LogLevel, logDir: join(flags.datadir, 'logs'), base: { chain: genesis.chainId, peer: key.index + 1 } });
      } catch (err) {
        throw new CliError(`${flags.datadir}: ${(err as Error).message}`);
      }
      const logger = moduleLogger(root, 'elect');
      const store = ElectStore.open(join(flags.datadir, ELECT_STORE_FILE));
      const miner = new MinerPool(flags.threads === undefined ? {} : { threads: parseIntFlag('--threads', flags.threads, 1, 256) });
      const peer = new ElectPeer(
        { genesis, self: key.index, privateKey: key.privateKey, brokerUrl: flags.broker, dropRate: parseRate('--drop-rate', flags.dropRate) },
        { store, miner, logger },
      );
      const stop = waitForStopSignal();
      peer.start();
      const txEveryMs = parseIntFlag('--demo-tx-interval-ms', flags.demoTxIntervalMs, 0, 3_600_000);
      const txTimer = txEveryMs > 0 ? setInterval(() => peer.submitTx(randomBytes(32).toString('hex')), txEveryMs) : undefined;
      process.stdout.write(`elect peer ${key.index + 1}/${genesis.members.length} on chain ${genesis.chainId} (broker ${flags.broker}), tip ${peer.status.tipHeight}\n`);
      peer.onCommit((b) => process.stdout.write(`committed ${b.height} ${b.hash} miner ${b.block.miner + 1} term ${b.certificate.term} votes ${b.certificate.votes.length}\n`));
      await stop.signal;
      if (txTimer) clearInterval(txTimer);
      await peer.stop();
      await miner.close();
      store.close();
      stop.dispose();
    });

  elect
    .command('status')
    .description('print the committed chain of a peer (from its store): height, hash, winner, votes, term; balances; evidence; refused messages')
    .requiredOption('--datadir <dir>', 'the peer\'s data dir')
    .option('--json', 'print JSON')
    .option('--last <n>', 'show the last n blocks', '20')
    .action(async (flags: { datadir: string; json?: boolean; last: string }) => {
      const { ElectStore, ELECT_STORE_FILE } = await import('../elect/electStore.js');
      const path = join(flags.datadir, ELECT_STORE_FILE);
      if (!existsSync(path)) throw new CliError(`no chain in ${flags.datadir} (${ELECT_STORE_FILE} missing)`);
      const store = ElectStore.open(path, { readOnly: true });
      try {
        const tip = store.getTip();
        const last = parseIntFlag('--last', flags.last, 0, 1_000_000);
        const blocks = store.getBlocks(Math.max(1, (tip?.height ?? 0) - last + 1), last);
        const balances = [...store.getBalances()].sort((a, b) => a[0] - b[0]);
        const evidence = store.getEvidence();
        const refused = store.countRefused();
        if (flags.json === true) {
          process.stdout.write(JSON.stringify({
            height: tip?.height ?? 0,
            tip: tip?.hash ?? null,
            blocks: blocks.map((b) => ({ height: b.height, hash: b.hash, prevHash: b.block.prevHash, miner: b.block.miner, zeroBits: b.block.zeroBits, term: b.certificate.term, votes: b.certificate.votes.length, solveMs: b.solveMs ?? null })),
            balances: Object.fromEntries(balances.map(([m, s]) => [String(m), s.toString()])),
            evidence,
            refused,
          }) + '\n');
          return;
        }
        const lines = [`height ${tip?.height ?? 0}  tip ${tip?.hash ?? '-'}`, 'height  hash              winner  zero bits  term  votes'];
        for (const b of blocks) lines.push(`${String(b.height).padEnd(7)} ${b.hash.slice(0, 16)}  peer${String(b.block.miner + 1).padEnd(3)} ${String(b.block.zeroBits).padEnd(10)} ${String(b.certificate.term).padEnd(5)} ${b.certificate.votes.length}`);
        lines.push('rewards: ' + (balances.map(([m, s]) => `peer${m + 1} ${(s / 100_000_000n).toString()}.${(s % 100_000_000n).toString().padStart(8, '0')}`).join(', ') || 'none'));
        lines.push(`double-vote evidence: ${evidence.length}; refused messages: ${Object.entries(refused).map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`);
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        store.close();
      }
    });

  elect
    .command('broker')
    .description('run the embedded MQTT broker (aedes) on 127.0.0.1')
    .option('--port <port>', 'TCP port (0 = a free one, printed)', '1883')
    .action(async (flags: { port: string }) => {
      const { EmbeddedBroker } = await import('../elect/embeddedBroker.js');
      const logger = moduleLogger(createLogger({ level: 'info' }), 'elect');
      const broker = await EmbeddedBroker.start({ port: parseIntFlag('--port', flags.port, 0, 65535) }, logger);
      process.stdout.write(`mqtt broker ${broker.url}\n`);
      const stop = waitForStopSignal();
      await stop.signal;
      await broker.close();
      stop.dispose();
    });

  elect
    .command('demo')
    .description('start the embedded broker and N peer processes, and show a live table (height, difficulty, winner, votes, time to solve, term, leader, peer states); Ctrl-C stops everything')
    .option('--peers <n>', 'number of peers', '10')
    .option('--dir <dir>', 'chain dir (reused when it holds a chain of the same size)', defaultDemoDir())
    .option('--broker <url>', 'use this MQTT broker instead of the embedded one')
    .option('--threads <n>', 'miner threads per peer', '1')
    .option('--zero-bits <n>', 'first challenge difficulty (for a new chain)', '18')
    .option('--quorum <rule>', 'majority or 2/3 (for a new chain)', 'majority')
    .option('--no-table', 'print a status line every 5 s instead of the live table')
    .action(async (flags: { peers: string; dir: string; broker?: string; threads: string; zeroBits: string; quorum: string; table: boolean }) => {
      const { runElectDemo } = await import('./electDemo.js');
      await runElectDemo({
        peers: parseIntFlag('--peers', flags.peers, 1, 100),
        dir: resolve(flags.dir),
        brokerUrl: flags.broker,
        threads: parseIntFlag('--threads', flags.threads, 1, 64),
        zeroBits: flags.zeroBits,
        quorum: flags.quorum,
        table: flags.table,
      });
    });
}
