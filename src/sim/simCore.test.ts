/**
 * The discrete-event core and the network model: time order and FIFO ties, seeded streams, delays from latency and
 * bandwidth, loss, topologies, and partitions that drop messages (also those in flight).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventQueue } from './eventQueue.js';
import { SimNetwork } from './network.js';
import { SimRng } from './simRng.js';
import { SimError } from './simError.js';

describe('EventQueue', () => {
  it('runs events in time order, same-time events first-scheduled first, and cancelled ones never', async () => {
    const q = new EventQueue(1_000);
    const seen: string[] = [];
    q.schedule(30, () => void seen.push('c@30'));
    q.schedule(10, () => void seen.push('a@10'));
    q.schedule(10, () => void seen.push('b@10'));
    const h = q.schedule(20, () => void seen.push('cancelled'));
    h.cancel();
    q.schedule(5, () => {
      seen.push('d@5');
      q.schedule(0, () => void seen.push('e@5'));
    });
    await q.runUntil(Infinity);
    assert.deepEqual(seen, ['d@5', 'e@5', 'a@10', 'b@10', 'c@30']);
    assert.equal(q.nowMs, 1_030);
    assert.throws(() => q.schedule(-1, () => {}), RangeError);
  });

  it('runUntil stops at the bound and moves the clock to it', async () => {
    const q = new EventQueue(0);
    let ran = 0;
    q.schedule(100, () => void ran++);
    q.schedule(300, () => void ran++);
    await q.runUntil(200);
    assert.equal(ran, 1);
    assert.equal(q.nowMs, 200);
    assert.equal(q.nowSec(), 0);
  });
});

describe('SimRng', () => {
  it('is deterministic per seed, forks independent streams, and draws exponentials with the right mean', () => {
    const a = new SimRng('s');
    const b = new SimRng('s');
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    assert.deepEqual(Array.from({ length: 5 }, () => b.nextUint32()), xs);
    assert.notDeepEqual(Array.from({ length: 5 }, () => new SimRng('t').nextUint32()), xs);
    assert.notEqual(a.fork('x').next(), a.fork('y').next());
    const r = new SimRng('exp');
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) sum += r.exponential(600);
    // Mean 600, sd of the mean 600/√n ≈ 4.2: six sd.
    assert.ok(Math.abs(sum / n - 600) < 25, `mean ${sum / n}`);
  });
});

describe('SimNetwork', () => {
  const make = (opts: Partial<ConstructorParameters<typeof SimNetwork>[0]> = {}) => {
    const q = new EventQueue(0);
    const net = new SimNetwork({ latency: { kind: 'fixed', ms: 100 }, topology: { kind: 'mesh' }, ...opts }, q, new SimRng('net'));
    return { q, net };
  };

  it('delivers after latency + size × 8 / bandwidth', async () => {
    const { q, net } = make({ bandwidthBitsPerSec: 8_000_000 });
    net.addNode();
    net.addNode();
    let at = -1;
    net.send(0, 1, 1_000_000, () => void (at = q.nowMs));
    await q.runUntil(Infinity);
    assert.equal(at, 100 + 1_000);
    assert.equal(net.stats.bytes, 1_000_000);
  });

  it('serializes transfers on a directed link: two big blocks on one slow link arrive one transfer time apart', async () => {
    // 1 MB at 8 Mbit/s = 1,000 ms on the wire; latency 100 ms.
    const { q, net } = make({ bandwidthBitsPerSec: 8_000_000 });
    for (let i = 0; i < 3; i++) net.addNode();
    const arrivals: string[] = [];
    const log = (what: string) => () => void arrivals.push(`${what}@${q.nowMs}`);
    net.send(0, 1, 1_000_000, log('first 0>1'));
    net.send(0, 1, 1_000_000, log('second 0>1'));
    // Other directed links have their own queues: the reverse direction and another peer are not held up.
    net.send(1, 0, 1_000_000, log('1>0'));
    net.send(0, 2, 1_000_000, log('0>2'));
    await q.runUntil(500);
    // A transfer sent while the link is busy waits for it; one sent after the link went idle starts at once.
    net.send(0, 1, 500_000, log('third 0>1'));
    await q.runUntil(Infinity);
    assert.deepEqual(arrivals, ['first 0>1@1100', '1>0@1100', '0>2@1100', 'second 0>1@2100', 'third 0>1@2600']);
    q.schedule(10_000, () => {
      net.send(0, 1, 500_000, log('idle 0>1'));
    });
    await q.runUntil(Infinity);
    assert.equal(arrivals.at(-1), 'idle 0>1@13200');
  });

  it('builds a ring and a mesh', () => {
    const ring = make({ topology: { kind: 'ring' } }).net;
    for (let i = 0; i < 5; i++) ring.addNode();
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => ring.peers(i)), [[1, 4], [0, 2], [1, 3], [2, 4], [0, 3]]);
    const mesh = make().net;
    for (let i = 0; i < 4; i++) mesh.addNode();
    assert.deepEqual(mesh.peers(2), [0, 1, 3]);
    const rnd = make({ topology: { kind: 'random', degree: 2 } }).net;
    for (let i = 0; i < 10; i++) rnd.addNode();
    assert.ok(rnd.peers(9).length >= 2);
  });

  it('drops messages across a partition, including those in flight, and delivers again after heal', async () => {
    const { q, net } = make();
    net.addNode();
    net.addNode();
    let delivered = 0;
    assert.equal(net.send(0, 1, 10, () => void delivered++), true);
    net.partition([0, 1]);
    await q.runUntil(Infinity);
    assert.equal(delivered, 0, 'cut while in flight');
    assert.equal(net.send(0, 1, 10, () => void delivered++), false);
    net.heal();
    net.send(0, 1, 10, () => void delivered++);
    await q.runUntil(Infinity);
    assert.equal(delivered, 1);
    assert.equal(net.stats.cut, 2);
  });

  it('loses about lossRate of the messages and refuses bad options', async () => {
    const { q, net } = make({ lossRate: 0.25 });
    net.addNode();
    net.addNode();
    let delivered = 0;
    for (let i = 0; i < 2_000; i++) net.send(0, 1, 1, () => void delivered++);
    await q.runUntil(Infinity);
    assert.ok(delivered > 1_400 && delivered < 1_600, `delivered ${delivered}`);
    assert.throws(() => make({ lossRate: 1 }), SimError);
    assert.throws(() => make({ latency: { kind: 'uniform', minMs: 5, maxMs: 1 } }), SimError);
  });
});
