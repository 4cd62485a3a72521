import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { DevnetError } from './devnetError.js';
import { basePortLayout, findFreePorts, isPortFree, planNodePorts } from './portPlan.js';

test('basePortLayout: node i at base + 10i, in the order of the devnet default ports', () => {
  assert.deepEqual(basePortLayout(28730, 0), { api: 28730, rpc: 28732, p2p: 28733, stratum: 28734 });
  assert.deepEqual(basePortLayout(28730, 2), { api: 28750, rpc: 28752, p2p: 28753, stratum: 28754 });
  assert.throws(() => basePortLayout(65530, 1), (e: unknown) => e instanceof DevnetError && e.code === 'port-unavailable');
});

test('findFreePorts: distinct bindable ports; planNodePorts avoids taken ones and refuses a busy base layout', async () => {
  const ports = await findFreePorts(12);
  assert.equal(new Set(ports).size, 12);
  for (const p of ports.slice(0, 3)) assert.equal(await isPortFree(p), true);

  const plans = await planNodePorts(1, 2, undefined, new Set(ports));
  const planned = plans.flatMap((p) => [p.p2p, p.rpc, p.api, p.stratum]);
  assert.equal(new Set(planned).size, 8);
  assert.ok(planned.every((p) => !ports.includes(p)));

  // A base layout whose rpc port of node2 is held by someone else.
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const held = (blocker.address() as { port: number }).port;
  try {
    const base = held - 12; // node2 (index 1): base + 10 + 2 = held
    await assert.rejects(planNodePorts(1, 1, base, new Set()), (e: unknown) => e instanceof DevnetError && e.code === 'port-unavailable' && e.message.includes(String(held)));
  } finally {
    await new Promise<void>((r) => blocker.close(() => r()));
  }
});
