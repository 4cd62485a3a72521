/**
 * `npm start` smoke test: `npm start` runs `cairn devnet`; here the same command runs as a real process (through tsx,
 * like the other end-to-end tests, so no build is needed) on a temp dir: 3 node processes on the devnet chain with real
 * proof of work, linked, mining to the demo wallet, which sends transactions at 2 tx/s. The test waits (bounded) until
 * the nodes have mined, agree on one tip (read through each node's REST API from devnet.json) and a demo transaction
 * is in a block; a user of the wallet service the devnet runs (registered, logged in) gets the faucet's coins, which
 * node1's miner funded; then SIGINT: the devnet exits 0, every node process is gone and has removed its node.json, and the log
 * collector has consolidated the logs. A second run on the same dir resumes the same chain on the same ports.
 *
 * Issue 12: the devnet also runs the exchange (CRN/USD) at the URL devnet.json gives, where its demo traders (two makers
 * and a taker over the signed REST API) trade: GET /api/v3/trades shows their trades, after the demo wallet funded
 * them by real on-chain deposits the exchange credited (GET /v1/deposits); its process stops with the rest and a resume
 * keeps its port and its trades.
 *
 * Issue 16: a devnet supervisor SIGKILLed during start-up, while running and while stopping leaves no process of the
 * devnet behind (each child stops itself when its link to the supervisor closes); a resume then keeps the chain, and
 * tells which processes an earlier run left running and what it did with them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevnetManifest } from '../src/devnet/devnetManifest.js';
import { waitFor } from '../src/testing/nodeCluster.js';
import { isLiveProcess, liveProcessesMentioning } from '../src/testing/processTable.js';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
/** Bound of each phase on a loaded 2-core machine. */
const COME_UP_MS = 240_000;
const STOP_MS = 90_000;

interface DevnetProcess {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

function startDevnet(dir: string, extra: string[]): DevnetProcess {
  const child = spawn(process.execPath, [...CLI, 'devnet', '--dir', dir, '--no-table', '--status-interval', '2', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A base port whose 3-node layout (base .. base+24) is free now. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 3_000);
    // +1 of node1: the wallet service; +5: the web UI; +6: the exchange.
    const ports = [base + 1, base + 5, base + 6, ...[0, 1, 2].flatMap((i) => [0, 2, 3, 4].map((o) => base + 10 * i + o))];
    let ok = true;
    for (const p of ports) if (!(await portFree(p))) ok = false;
    if (ok) return base;
  }
  throw new Error('no free base port');
}

async function get(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

/** A JSON request to the wallet service: status and parsed body. */
async function serviceCall(method: string, url: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function readManifest(dir: string): DevnetManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8')) as DevnetManifest;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, timeoutMs: number, devnet: DevnetProcess, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (devnet.child.exitCode !== null) throw new Error(`the devnet exited while waiting for ${what}:\n${devnet.output()}`);
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${devnet.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Tip heights and hashes of every node, through their REST APIs. */
async function tips(m: DevnetManifest): Promise<{ height: number; hash: string }[]> {
  return Promise.all(
    m.nodes.map(async (n) => ({ height: Number(await get(`${n.apiUrl}blocks/tip/height`)), hash: (await get(`${n.apiUrl}blocks/tip/hash`)).trim() })),
  );
}

/** A confirmed non-coinbase tx that spends a demo wallet coin, found by walking back from node1's tip. */
async function findConfirmedDemoTx(m: DevnetManifest, walletAddresses: ReadonlySet<string>): Promise<string | undefined> {
  const api = m.nodes[0]!.apiUrl;
  let hash = (await get(`${api}blocks/tip/hash`)).trim();
  for (let i = 0; i < 40 && hash; i++) {
    const txids = JSON.parse(await get(`${api}block/${hash}/txids`)) as string[];
    for (const txid of txids.slice(1)) {
      const tx = JSON.parse(await get(`${api}tx/${txid}`)) as { vin: { is_coinbase: boolean; prevout: { scriptpubkey_address?: string } | null }[]; status: { confirmed: boolean } };
      if (tx.status.confirmed && tx.vin.every((v) => !v.is_coinbase && walletAddresses.has(v.prevout?.scriptpubkey_address ?? ''))) return txid;
    }
    const block = JSON.parse(await get(`${api}block/${hash}`)) as { previousblockhash: string | null; height: number };
    if (block.height === 0) break;
    hash = block.previousblockhash ?? '';
  }
  return undefined;
}

async function stopAndCheck(devnet: DevnetProcess, m: DevnetManifest): Promise<void> {
  const pids = m.nodes.map((n) => n.pid!).concat(m.collector?.pid ?? [], m.walletService?.pid ?? [], m.web?.pid ?? [], m.exchange?.pid ?? []);
  devnet.child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([devnet.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), STOP_MS)))]);
  clearTimeout(timer);
  assert.equal(code, 0, `devnet exit code; output:\n${devnet.output().slice(-4000)}`);
  assert.match(devnet.output(), /stopped\. demo wallet/);
  assert.match(devnet.output(), /resume: {2}cairn devnet --dir /);
  assert.match(devnet.output(), /wallet-service: exited with code 0/);
  assert.match(devnet.output(), /exchange: exited with code 0/);
  for (const pid of pids) assert.equal(isLiveProcess(pid), false, `process ${pid} still runs after the devnet stopped`);
  for (const n of m.nodes) assert.equal(existsSync(join(n.datadir, 'node.json')), false, `${n.name} left its node.json`);
  assert.equal(readManifest(m.dir)!.supervisor.running, false);
}

test('npm start: cairn devnet mines, links 3 nodes, confirms demo transactions, stops cleanly on SIGINT and resumes', async (t) => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, 'node bin/cairn.js devnet');

  const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-e2e-'));
  let devnet: DevnetProcess | undefined;
  t.after(() => {
    // On failure: nothing may outlive the test.
    const m = readManifest(dir);
    if (devnet && devnet.child.exitCode === null) devnet.child.kill('SIGKILL');
    for (const pid of [...(m?.nodes.map((n) => n.pid) ?? []), m?.collector?.pid, m?.walletService?.pid, m?.web?.pid, m?.exchange?.pid]) {
      if (typeof pid === 'number' && isLiveProcess(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const basePort = await freeBasePort();
  const startedMs = Date.now();
  devnet = startDevnet(dir, ['--nodes', '3', '--tx-rate', '2', '--base-port', String(basePort)]);
  const first = devnet;

  const m = await until('devnet.json with the node pids', 60_000, first, async () => {
    const v = readManifest(dir);
    return v?.supervisor.running && v.nodes.every((n) => n.pid !== null) && v.collector?.pid != null && v.walletService?.pid != null && v.exchange?.pid != null ? v : undefined;
  });
  assert.deepEqual(m.nodes.map((n) => n.ports), [0, 1, 2].map((i) => ({ api: basePort + 10 * i, rpc: basePort + 10 * i + 2, p2p: basePort + 10 * i + 3, stratum: basePort + 10 * i + 4 })));
  assert.equal(new Set(m.nodes.map((n) => n.pid)).size, 3);
  const wallet = JSON.parse(readFileSync(m.demoWallet.file, 'utf8')) as { miningAddresses: string[]; demoAddresses: string[]; mnemonic: string };
  // node1 mines to the faucet, the others to the demo wallet.
  assert.deepEqual(wallet.miningAddresses.slice(1), m.nodes.slice(1).map((n) => n.miningAddress));
  assert.equal(m.nodes[0]!.miningAddress, m.walletService!.faucetAddress);
  assert.equal(m.walletService!.url, `http://127.0.0.1:${basePort + 1}`);
  assert.equal(statSync(join(dir, 'faucet-mnemonic.txt')).mode & 0o777, 0o600);
  const walletAddresses = new Set([...wallet.miningAddresses, ...wallet.demoAddresses]);
  // The exchange: node1's api port + 6 in the base-port layout (+5 is the web UI), its data dir in the devnet dir.
  assert.deepEqual(
    { url: m.exchange!.url, restBase: m.exchange!.restBase, wsUrl: m.exchange!.wsUrl, datadir: m.exchange!.datadir },
    { url: `http://127.0.0.1:${basePort + 6}`, restBase: `http://127.0.0.1:${basePort + 6}/api/v3/`, wsUrl: `ws://127.0.0.1:${basePort + 6}`, datadir: join(dir, 'exchange') },
  );
  assert.equal(m.web?.url, `http://127.0.0.1:${basePort + 5}/`);
  assert.ok(m.collector!.sources.includes(m.exchange!.logDir), 'the log collector reads the exchange\'s logs');

  // Mined past coinbase maturity and all three on one tip.
  const agreed = await until('3 nodes on one tip above height 12', COME_UP_MS, first, async () => {
    const ts = await tips(m);
    return ts.every((x) => x.height >= 12 && x.hash === ts[0]!.hash) ? ts[0]! : undefined;
  });
  // Every node knows its peers; node.json carries the peer id devnet.json now shows.
  const peers = await Promise.all(m.nodes.map(async (n) => /cairn_peers (\d+)/.exec(await get(`http://127.0.0.1:${n.ports.api}/metrics`))?.[1]));
  assert.ok(peers.every((p) => Number(p) >= 1), `peers: ${peers.join(',')}`);
  const demoTxid = await until('a confirmed demo transaction', COME_UP_MS - (Date.now() - startedMs), first, () => findConfirmedDemoTx(m, walletAddresses));
  // The demo traders trade on the exchange, through its public REST API at the URL devnet.json gives.
  const trades = await until('trades of the demo traders on the exchange', 60_000, first, async () => {
    const list = JSON.parse(await get(`${m.exchange!.restBase}trades?symbol=CRNUSD&limit=1000`)) as { id: number; price: string; qty: string }[];
    return list.length >= 2 ? list : undefined;
  });
  assert.ok(trades.every((x) => /^\d+\.\d{2}$/.test(x.price) && Number(x.qty) > 0), JSON.stringify(trades.slice(0, 3)));
  const depth = JSON.parse(await get(`${m.exchange!.restBase}depth?symbol=CRNUSD&limit=5`)) as { bids: string[][]; asks: string[][] };
  assert.ok(depth.bids.length > 0 && depth.asks.length > 0, `the makers quote both sides: ${JSON.stringify(depth)}`);
  assert.match(first.output(), /exchange up last \d+\.\d{2} [\d.]+ orders\/s/);
  // The makers were funded by a real on-chain deposit from the demo wallet, credited at the devnet's 3 confirmations
  // (GET /v1/deposits with the trader's login token), before they quoted; the status line counts it.
  const makerLogin = await serviceCall('POST', `${m.exchange!.url}/v1/login`, { username: 'demo-maker-1', password: 'devnet-demo-trader' });
  assert.equal(makerLogin.status, 200, JSON.stringify(makerLogin.body));
  const depositList = await serviceCall('GET', `${m.exchange!.url}/v1/deposits`, undefined, String(makerLogin.body.token));
  assert.equal(depositList.status, 200, JSON.stringify(depositList.body));
  const deposits = depositList.body as unknown as { txId: string; amount: string; state: string; confirmTimes: string }[];
  const credited = deposits.filter((d) => d.state === 'credited');
  assert.equal(credited.length, 1, JSON.stringify(deposits));
  assert.deepEqual({ amount: Number(credited[0]!.amount), confirmTimes: credited[0]!.confirmTimes }, { amount: 20, confirmTimes: '3/3' });
  const depositTx = JSON.parse(await get(`${m.nodes[0]!.apiUrl}tx/${credited[0]!.txId}`)) as { status: { confirmed: boolean }; vin: { prevout: { scriptpubkey_address: string } }[] };
  assert.ok(depositTx.status.confirmed && depositTx.vin.every((i) => walletAddresses.has(i.prevout.scriptpubkey_address)), 'the demo wallet paid the deposit');
  await until('the status line to count the credited deposits', 10_000, first, async () => (/exchange up .* deposits [3-9]/.test(first.output()) ? true : undefined));
  t.diagnostic(`${trades.length} trades on the exchange after ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
  t.diagnostic(`up, agreed at height ${agreed.height} and a demo tx ${demoTxid} confirmed after ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);

  // The web UI (node1's api port + 5) serves the app and sees the three nodes and the wallet service.
  assert.equal(m.web?.url, `http://127.0.0.1:${basePort + 5}/`);
  assert.match(await get(m.web!.url), /<div id="root">/);
  const webStatus = await until('cairn web to see every node up', 30_000, first, async () => {
    const st = JSON.parse(await get(`${m.web!.url}web/status`)) as { nodes: { up: boolean }[]; services: { walletService: { up: boolean } } };
    return st.nodes.length === 3 && st.nodes.every((n) => n.up) && st.services.walletService.up ? st : undefined;
  });
  assert.equal(webStatus.nodes.length, 3);

  // The wallet service's faucet, funded by node1's miner, pays a newly registered user.
  const service = m.walletService!.url;
  const faucet = await until('a funded faucet', Math.max(90_000, COME_UP_MS - (Date.now() - startedMs)), first, async () => {
    const f = JSON.parse(await get(`${service}/v1/faucet`)) as { address: string; amountSats: number; balance: { confirmedSats: number } };
    return f.balance.confirmedSats >= f.amountSats ? f : undefined;
  });
  assert.equal(faucet.address, m.nodes[0]!.miningAddress, 'the service derives the faucet address the devnet mines to');
  const credentials = { username: 'newcomer', password: 'correct horse battery' };
  assert.equal((await serviceCall('POST', `${service}/v1/register`, credentials)).status, 201);
  const login = await serviceCall('POST', `${service}/v1/login`, credentials);
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const token = String(login.body.token);
  const paid = await serviceCall('POST', `${service}/v1/faucet`, {}, token);
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.amountSats, faucet.amountSats);
  const balance = await serviceCall('GET', `${service}/v1/wallet/balance`, undefined, token);
  assert.equal(balance.status, 200, JSON.stringify(balance.body));
  assert.equal(Number(balance.body.confirmedSats) + Number(balance.body.unconfirmedSats), faucet.amountSats, JSON.stringify(balance.body));
  t.diagnostic(`faucet paid ${faucet.amountSats} sats in ${String(paid.body.txid)} after ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
  const running = readManifest(dir)!;
  assert.ok(running.nodes.every((n) => n.peerId !== null && n.p2pMultiaddr.endsWith(`/p2p/${n.peerId}`)), 'peer ids in devnet.json');

  await stopAndCheck(first, running);
  const tip = agreed.hash;
  // The collector consolidated the nodes' logs into <dir>/logs/<day>/<module>.ndjson.
  const days = readdirSync(running.collector!.dir).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d));
  const modules = days.flatMap((d) => readdirSync(join(running.collector!.dir, d)));
  assert.ok(modules.includes('chain.ndjson') && modules.includes('devnet.ndjson'), `consolidated logs: ${modules.join(', ')}`);

  // Resume: same ports, same chain (the block seen above is still on it), same wallet.
  devnet = startDevnet(dir, []);
  const second = devnet;
  const resumed = await until('the resumed devnet', COME_UP_MS, second, async () => {
    const v = readManifest(dir);
    if (!v?.supervisor.running || v.supervisor.pid !== second.child.pid || v.nodes.some((n) => n.pid === null || n.pid === running.nodes[0]!.pid)) return undefined;
    const ts = await tips(v);
    return ts.every((x) => x.height >= agreed.height) ? v : undefined;
  });
  assert.match(second.output(), /resumed in /);
  assert.deepEqual(resumed.nodes.map((n) => n.ports), running.nodes.map((n) => n.ports));
  assert.deepEqual(resumed.walletService && { url: resumed.walletService.url, faucetAddress: resumed.walletService.faucetAddress }, { url: running.walletService!.url, faucetAddress: running.walletService!.faucetAddress });
  assert.equal(resumed.txRate, 2);
  assert.equal(resumed.exchange!.port, running.exchange!.port);
  // The exchange kept its trades: the last one seen before the stop is still there, and the traders trade on.
  const lastSeen = trades[trades.length - 1]!.id;
  await until('new trades on the resumed exchange', 60_000, second, async () => {
    const list = JSON.parse(await get(`${resumed.exchange!.restBase}trades?symbol=CRNUSD&limit=1000`)) as { id: number }[];
    return list.some((x) => x.id === lastSeen) && list.some((x) => x.id > lastSeen + 1) ? true : undefined;
  });
  assert.equal(JSON.parse(readFileSync(resumed.demoWallet.file, 'utf8')).mnemonic, wallet.mnemonic);
  const atHeight = (await get(`${resumed.nodes[1]!.apiUrl}block-height/${agreed.height}`)).trim();
  assert.equal(atHeight, tip);
  await stopAndCheck(second, readManifest(dir)!);
  t.diagnostic(`total ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
});

/** Every live process of the devnet in `dir`: the pids devnet.json names, and any whose command line mentions the dir. */
function devnetProcesses(dir: string): number[] {
  const m = readManifest(dir);
  const recorded = [...(m?.nodes.map((n) => n.pid) ?? []), m?.collector?.pid, m?.walletService?.pid, m?.web?.pid, m?.exchange?.pid].filter((p): p is number => typeof p === 'number');
  return [...new Set([...recorded.filter(isLiveProcess), ...liveProcessesMentioning(dir).keys()])];
}

/** The bound: no process of a devnet left this long after its supervisor was killed. */
const LEFT_BEHIND_MS = 10_000;

/** SIGKILLs the supervisor and waits (bounded by the 10 s) until no process of the devnet is left. */
async function killSupervisor(devnet: DevnetProcess, dir: string, moment: string, minLive: number): Promise<void> {
  const before = devnetProcesses(dir).length;
  devnet.child.kill('SIGKILL');
  await devnet.exited;
  await waitFor(`no process of the devnet left after a SIGKILL of its supervisor ${moment}`, () => devnetProcesses(dir).length === 0, LEFT_BEHIND_MS, 100).catch(
    (err: Error) => {
      throw new Error(`${err.message}; still running: ${JSON.stringify([...liveProcessesMentioning(dir).values()].map((a) => a.slice(0, 6).join(' ')))}`);
    },
  );
  assert.ok(before >= minLive, `${before} processes of the devnet ran ${moment}, expected at least ${minLive}`);
}

/** The devnet.json of `devnet` once it runs every child, as recorded by this supervisor. */
function untilRunning(devnet: DevnetProcess, dir: string): Promise<DevnetManifest> {
  return until('devnet.json with every child pid', 60_000, devnet, async () => {
    const v = readManifest(dir);
    return v?.supervisor.running && v.supervisor.pid === devnet.child.pid && v.nodes.every((n) => n.pid !== null) && v.collector?.pid != null && v.walletService?.pid != null && v.exchange?.pid != null
      ? v
      : undefined;
  });
}

test('a SIGKILLed devnet supervisor leaves no process (during start-up, while running, while stopping); a resume keeps the chain and reports leftovers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-kill-'));
  let devnet: DevnetProcess | undefined;
  t.after(() => {
    if (devnet && devnet.child.exitCode === null && devnet.child.signalCode === null) devnet.child.kill('SIGKILL');
    for (const pid of liveProcessesMentioning(dir).keys()) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const startedMs = Date.now();

  // During start-up: killed right after it has spawned its children, before any has come up.
  devnet = startDevnet(dir, ['--nodes', '2', '--tx-rate', '0']);
  await untilRunning(devnet, dir);
  await killSupervisor(devnet, dir, 'during start-up', 4);

  // While running: the two nodes have mined and agree on a tip, which the chain must keep.
  devnet = startDevnet(dir, []);
  const running = await untilRunning(devnet, dir);
  const kept = await until('2 nodes on one tip above the genesis block', COME_UP_MS, devnet, async () => {
    const ts = await tips(running);
    return ts.every((x) => x.height >= 1 && x.hash === ts[0]!.hash) ? ts[0]! : undefined;
  });
  await killSupervisor(devnet, dir, 'while running', 4);
  t.diagnostic(`kept tip ${kept.hash} at height ${kept.height} after ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);

  // While stopping: killed just after Ctrl-C, when the wallet service has its SIGINT and the nodes do not yet.
  devnet = startDevnet(dir, []);
  const resumed = await untilRunning(devnet, dir);
  const atKept = await until('node2 back up', COME_UP_MS, devnet, async () => (await get(`${resumed.nodes[1]!.apiUrl}block-height/${kept.height}`)).trim());
  assert.equal(atKept, kept.hash, 'the resumed chain has the kept tip');
  devnet.child.kill('SIGINT');
  const stopping = devnet;
  await waitFor('the devnet to begin stopping', () => /stopping \(SIGINT\)/.test(stopping.output()), STOP_MS, 20);
  await killSupervisor(devnet, dir, 'while stopping', 2);

  // A process an earlier run left running (a log collector of this dir, started here without a supervisor, so it
  // does not stop by itself), as devnet.json records it: the resume says what it found and stops it.
  const m = readManifest(dir)!;
  const leftover = spawn(process.execPath, [...CLI, 'log-collector', '--dir', m.collector!.dir, '--source', m.nodes[0]!.logDir], { stdio: ['ignore', 'pipe', 'ignore'] });
  let leftoverOut = '';
  leftover.stdout!.on('data', (d: Buffer) => (leftoverOut += d.toString()));
  await waitFor('the leftover log collector to run', () => leftover.exitCode === null && /^log collector: /m.test(leftoverOut), 60_000, 50);
  writeFileSync(join(dir, 'devnet.json'), JSON.stringify({ ...m, collector: { ...m.collector!, pid: leftover.pid } }, null, 2));
  devnet = startDevnet(dir, []);
  const last = devnet;
  await until('the leftover stopped', 60_000, last, async () => (/stopped log-collector \(pid \d+\) \(ended on SIGINT\)/.test(last.output()) ? true : undefined));
  assert.match(last.output(), new RegExp(`found log-collector \\(pid ${leftover.pid}\\) of an earlier cairn devnet on ${dir} still running`));
  assert.equal(isLiveProcess(leftover.pid!), false);
  const final = await untilRunning(last, dir);
  const ts = await until('both nodes back at the kept height', COME_UP_MS, last, async () => {
    const v = await tips(final);
    return v.every((x) => x.height >= kept.height) ? v : undefined;
  });
  assert.ok(ts.length === 2);
  for (const n of final.nodes) assert.equal((await get(`${n.apiUrl}block-height/${kept.height}`)).trim(), kept.hash, `${n.name} kept the chain`);
  await stopAndCheck(last, readManifest(dir)!);
  assert.deepEqual(devnetProcesses(dir), []);
  t.diagnostic(`total ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
});
