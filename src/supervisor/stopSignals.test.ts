import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STOP_SIGNALS, onStopSignals, waitForStopSignal } from './stopSignals.js';

// Real signals to this process; SIGHUP only, since the test runner may handle SIGINT and SIGTERM itself.
test('stop signals: Ctrl-C, SIGTERM and SIGHUP reach one handler, counted, until disposed', async (t) => {
  // Signal handlers do not keep the event loop alive; this does, while the signals are on their way.
  const alive = setInterval(() => undefined, 1_000);
  t.after(() => clearInterval(alive));
  const before = STOP_SIGNALS.map((s) => process.listenerCount(s));
  const seen: [NodeJS.Signals, number][] = [];
  let notify: () => void = () => undefined;
  const next = (): Promise<void> => new Promise<void>((r) => (notify = r));
  const dispose = onStopSignals((signal, count) => {
    seen.push([signal, count]);
    notify();
  });
  assert.deepEqual(
    STOP_SIGNALS.map((s) => process.listenerCount(s)),
    before.map((n) => n + 1),
  );
  // One at a time: a signal sent while the same one is pending is merged with it.
  for (let i = 0; i < 2; i++) {
    const delivered = next();
    process.kill(process.pid, 'SIGHUP');
    await delivered;
  }
  assert.deepEqual(seen, [
    ['SIGHUP', 1],
    ['SIGHUP', 2],
  ]);
  dispose();
  assert.deepEqual(
    STOP_SIGNALS.map((s) => process.listenerCount(s)),
    before,
  );

  const repeats: NodeJS.Signals[] = [];
  const wait = waitForStopSignal((s) => repeats.push(s));
  process.kill(process.pid, 'SIGHUP');
  assert.equal(await wait.signal, 'SIGHUP');
  wait.dispose();
  assert.deepEqual(repeats, []);
});
