/**
 * `cairn sim` driven as a user would: the real CLI process, its menu fed line by line on stdin (the shell reads a
 * pipe as well as a terminal). Three users, 100 blocks for alice's first coinbase to mature, a payment to bob, an
 * overdraft refused, a block by carol; then the balances and one chain for all.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = ['--import', 'tsx', 'src/cli/run.ts'];

function runShell(lines: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'sim', '--seed', 'shell-test', '--latency-ms', '500'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(lines.join('\n') + '\n');
  });
}

describe('cairn sim shell', () => {
  it('creates three users, pays, refuses an overdraft, and shows the balances and one chain', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-sim-shell-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { code, stdout, stderr } = await runShell([
      'create', 'alice', '1',
      '1', 'bob', '1',
      'create', 'carol', '',
      'mine', 'alice', '100',
      'pay', 'alice', 'bob', '12.5',
      'pay', 'bob', 'carol', '1',
      'mine', 'carol', '1',
      'pay', 'bob', 'carol', '20',
      'status',
      'chains',
      'export', dir,
      'quit',
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /created carol \(node 2\)/);
    assert.match(stdout, /sent 12\.5 from alice to bob: txid [0-9a-f]{64} \(in 3 mempools/);
    assert.match(stdout, /refused: insufficient-funds: bob has 0 spendable sats/);
    assert.match(stdout, /refused: insufficient-funds: bob has 1250000000 spendable sats/);
    // status: alice had one mature coinbase (50), paid 12.5 + 0.00001 fee, then block 101 matured her second one.
    assert.match(stdout, /alice +101 +\w{6} +87\.49999 +4900 /);
    assert.match(stdout, /bob +101 +\w{6} +12\.5 +0 /);
    assert.match(stdout, /carol +101 +\w{6} +0 +50\.00001 /);
    // show chains: the three columns agree at the top height, each with its tip mark, and one active tip each.
    const row = stdout.split('\n').find((l) => /^101 /.test(l));
    assert.ok(row, 'a row for height 101');
    const cells = row!.trim().split(/\s+/).slice(1);
    assert.equal(cells.length, 3);
    assert.ok(cells.every((c) => c === cells[0] && c.endsWith('(carol)*')), row);
    assert.equal((stdout.match(/101:\w{6} active/g) ?? []).length, 3);
    const users = JSON.parse(readFileSync(join(dir, 'users.json'), 'utf8')) as { name: string; balance: string; tip: string }[];
    assert.deepEqual(users.map((u) => [u.name, u.balance]), [['alice', '87.49999'], ['bob', '12.5'], ['carol', '0']]);
    assert.equal(new Set(users.map((u) => u.tip)).size, 1);
  });

  it('run refuses a missing scenario with a code, not a stack', async () => {
    const child = spawn(process.execPath, [...CLI, 'sim', 'run', 'no/such/file.json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 1);
    assert.match(stderr, /^error: bad-scenario: cannot read no\/such\/file\.json: ENOENT\n$/);
  });
});
