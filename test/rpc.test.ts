/**
 * `cairn rpc` (the bitcoin-cli of cairn) as a real process against an in-process regtest node with its JSON-RPC server:
 * parameter conversion, positional and named arguments, output as bitcoin-cli prints it (strings raw, JSON indented
 * with amounts as sent, errors on stderr with exit code |code|), cookie and password auth, connection failures.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startRpcServer, type RpcServer } from '../src/api/rpcServer.js';
import { silentLogger } from '../src/logging/logger.js';
import { createNodeContext, FullNode } from '../src/node/fullNode.js';
import { regtest } from '../src/params/networks.js';
import { makeTestKey, testKeyAddress } from '../src/testing/txFactory.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NOW = 2_000_000_000;
const MINER_ADDRESS = testKeyAddress(makeTestKey('rpc-cli/miner'), regtest.bech32Hrp);

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cairn <args>` through tsx from the repo root; resolves with the exit code and output. */
function cairn(args: string[]): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', ...args],
      { cwd: REPO_ROOT, timeout: 60_000, encoding: 'utf8' },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** A TCP port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
}

describe('cairn rpc against a running node', () => {
  let datadir: string;
  let node: FullNode;
  let server: RpcServer;
  let base: string[];

  before(async () => {
    datadir = mkdtempSync(join(tmpdir(), 'cairn-rpc-cli-'));
    node = await FullNode.open({ params: regtest, datadir, scriptThreads: 1 }, { nowSec: () => NOW, logger: silentLogger() });
    server = await startRpcServer({ port: 0, datadir }, { node: createNodeContext(node), logger: silentLogger() });
    base = ['rpc', '--network', 'regtest', '--rpcport', String(server.port), '--datadir', datadir];
  });

  after(async () => {
    await server?.close();
    await node?.close();
    rmSync(datadir, { recursive: true, force: true });
  });

  it('prints results as bitcoin-cli: numbers and strings raw, JSON indented with 8-decimal amounts', async () => {
    const mined = await cairn([...base, 'generatetoaddress', '3', MINER_ADDRESS]);
    assert.equal(mined.code, 0, mined.stderr);
    const hashes = JSON.parse(mined.stdout) as string[];
    assert.equal(hashes.length, 3);
    assert.equal(node.chain.height, 3);

    const [count, genesis, block, block2, peers, help, hashps, address] = await Promise.all([
      cairn([...base, 'getblockcount']),
      cairn([...base, 'getblockhash', '0']),
      cairn([...base, 'getblock', hashes[2]!]),
      cairn([...base, 'getblock', hashes[2]!, '2']),
      cairn([...base, 'getpeerinfo']),
      cairn([...base, 'help', 'getblockcount']),
      cairn([...base, 'getnetworkhashps', '-1']),
      cairn([...base, 'validateaddress', MINER_ADDRESS]),
    ]);
    assert.deepEqual(count, { code: 0, stdout: '3\n', stderr: '' });
    assert.equal(genesis.stdout, `${regtest.genesisHashHex}\n`);

    assert.equal(block.code, 0, block.stderr);
    assert.match(block.stdout, /^\{\n {2}"hash": "[0-9a-f]{64}",\n {2}"confirmations": 1,\n/);
    const json = JSON.parse(block.stdout) as { hash: string; height: number; tx: string[] };
    assert.equal(json.hash, hashes[2]);
    assert.equal(json.height, 3);
    assert.match(block2.stdout, /\n {10}"value": 50\.00000000,\n/, 'amounts keep their 8 decimals');

    // UniValue prints an empty array on two lines.
    assert.equal(peers.stdout, '[\n]\n');
    assert.match(help.stdout, /^getblockcount\n\nReturns the height of the most-work fully-validated chain\./);
    assert.equal(hashps.code, 0, hashps.stderr);
    assert.ok(Number.isFinite(Number(hashps.stdout)));
    // A hex-looking or numeric address stays a string because the method takes a string there.
    assert.equal((JSON.parse(address.stdout) as { isvalid: boolean }).isvalid, true);
  });

  it('named parameters', async () => {
    const named = await cairn([...base, '--named', 'getblockhash', 'height=0']);
    assert.deepEqual(named, { code: 0, stdout: `${regtest.genesisHashHex}\n`, stderr: '' });
    const header = await cairn([...base, '--named', 'getblockheader', `blockhash=${regtest.genesisHashHex}`, 'verbose=false']);
    assert.equal(header.code, 0, header.stderr);
    // The 80 header bytes hash (sha256d, computed here) to the genesis hash.
    const bytes = Buffer.from(header.stdout.trim(), 'hex');
    const hash = createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest().reverse().toString('hex');
    assert.equal(hash, regtest.genesisHashHex);
  });

  it('RPC errors go to stderr as bitcoin-cli prints them, with exit code |code|', async () => {
    const [range, unknown, type] = await Promise.all([
      cairn([...base, 'getblockhash', '99999']),
      cairn([...base, 'nosuchmethod']),
      cairn([...base, 'getblockhash', '"x"']),
    ]);
    assert.deepEqual(range, { code: 8, stdout: '', stderr: 'error code: -8\nerror message:\nBlock height out of range\n' });
    assert.equal(unknown.stderr, 'error code: -32601\nerror message:\nMethod not found\n');
    assert.equal(unknown.code, 32601 & 0xff);
    assert.equal(type.code, 3);
    assert.match(type.stderr, /^error code: -3\nerror message:\nWrong type passed:/);
  });

  it('credentials: password, missing cookie; no server', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'cairn-rpc-cli-empty-'));
    try {
      const port = await closedPort();
      const [wrong, noCookie, refused] = await Promise.all([
        cairn(['rpc', '--network', 'regtest', '--rpcport', String(server.port), '--rpcuser', 'u', '--rpcpassword', 'p', 'getblockcount']),
        cairn(['rpc', '--network', 'regtest', '--rpcport', String(server.port), '--datadir', emptyDir, 'getblockcount']),
        cairn(['rpc', '--network', 'regtest', '--rpcport', String(port), '--datadir', datadir, 'getblockcount']),
      ]);
      assert.deepEqual(wrong, { code: 1, stdout: '', stderr: 'error: Authorization failed: Incorrect rpcuser or rpcpassword\n' });
      assert.equal(noCookie.code, 1);
      assert.match(noCookie.stderr, /Could not locate RPC credentials/);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, new RegExp(`^error: Could not connect to the server 127\\.0\\.0\\.1:${port}\n`));
      assert.match(refused.stderr, /make sure the cairn node is running/i);
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});
