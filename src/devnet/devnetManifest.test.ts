import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DevnetError } from './devnetError.js';
import { DEVNET_MANIFEST_VERSION, loopbackMultiaddr, manifestPathOf, readManifest, writeManifest, type DevnetManifest } from './devnetManifest.js';

test('devnet.json: written atomically, read back; absent = undefined; a foreign file is refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-manifest-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(readManifest(dir), undefined);
  const manifest: DevnetManifest = {
    version: DEVNET_MANIFEST_VERSION,
    network: 'devnet',
    dir,
    createdAtSec: 1,
    supervisor: { pid: 10, running: true, startedAtSec: 2, logDir: join(dir, 'devnet', 'logs') },
    minersPerNode: 1,
    txRate: 1,
    nodes: [
      {
        name: 'node1',
        datadir: join(dir, 'node1'),
        ports: { p2p: 28733, rpc: 28732, api: 28730, stratum: 28734 },
        p2pMultiaddr: loopbackMultiaddr(28733, '12D3KooWtest'),
        peerId: '12D3KooWtest',
        apiUrl: 'http://127.0.0.1:28730/api/',
        rpcUrl: 'http://127.0.0.1:28732/',
        cookieFile: join(dir, 'node1', '.cookie'),
        logDir: join(dir, 'node1', 'logs'),
        consoleLog: join(dir, 'node1', 'console.log'),
        miningAddress: 'dcrn1q…',
        pid: 11,
      },
    ],
    collector: null,
    demoWallet: { file: join(dir, 'demo-wallet.json') },
  };
  writeManifest(manifest);
  assert.deepEqual(readManifest(dir), manifest);
  assert.equal(manifest.nodes[0]!.p2pMultiaddr, '/ip4/127.0.0.1/tcp/28733/p2p/12D3KooWtest');
  assert.equal(loopbackMultiaddr(1234), '/ip4/127.0.0.1/tcp/1234');

  writeFileSync(manifestPathOf(dir), JSON.stringify({ ...manifest, nodes: [{ name: 'x' }] }));
  assert.throws(() => readManifest(dir), (e: unknown) => e instanceof DevnetError && e.code === 'bad-manifest');
  writeFileSync(manifestPathOf(dir), 'garbage');
  assert.throws(() => readManifest(dir), (e: unknown) => e instanceof DevnetError && e.code === 'bad-manifest');
});
