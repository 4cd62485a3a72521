import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUPERVISOR_FD, SUPERVISOR_FD_ENV, SUPERVISOR_STOP_TIMEOUT_ENV, supervisorLinkEnv, watchSupervisor } from './supervisorLink.js';

// The link itself is exercised with real processes in supervisor.test.ts; here, the environment that describes it.
test('watchSupervisor: nothing to watch without the environment; a malformed one is reported, ignored, and removed', () => {
  const lines: string[] = [];
  const write = (l: string): void => void lines.push(l);
  assert.equal(watchSupervisor({ env: {}, write }), undefined);
  assert.deepEqual(lines, []);

  for (const bad of ['x', '2', '-3', '']) {
    const env: NodeJS.ProcessEnv = { [SUPERVISOR_FD_ENV]: bad, [SUPERVISOR_STOP_TIMEOUT_ENV]: '500', OTHER: 'kept' };
    assert.equal(watchSupervisor({ env, write }), undefined);
    // Removed, so that processes this one starts never take a descriptor for a link.
    assert.deepEqual(env, { OTHER: 'kept' });
  }
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /ignoring CAIRN_SUPERVISOR_FD='x' \(not a descriptor number >= 3\)/);
});

test('supervisorLinkEnv: names descriptor 3 and the stop timeout in whole ms', () => {
  assert.equal(SUPERVISOR_FD, 3);
  assert.deepEqual(supervisorLinkEnv(15_000.4), { CAIRN_SUPERVISOR_FD: '3', CAIRN_SUPERVISOR_STOP_TIMEOUT_MS: '15000' });
});
