// A slow step is not a hang: a real child process whose event loop is blocked for longer than the
// heartbeat timeout (so its heartbeat timer cannot fire) is left alone while it computes, and
// ended — with a message saying so — when it waits without using CPU. Both hosts: a training
// run (TrainerHost) and a probe of the search (ProbeHost). The child is a stand-in speaking the
// trainer protocol (fixtures/slow-trainer.ts), so the step's length is exact and cheap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createForkSpawner, TrainerHost } from '../../src/main/service/trainer-host.js';
import { ProbeHost } from '../../src/main/service/probe-host.js';
import type { TrainJob } from '../../src/shared/trainer-protocol.js';
import type { ProbeSession } from '../../src/shared/probe-protocol.js';
import { waitFor, within } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/slow-trainer.js', import.meta.url));
const TIMEOUT_MS = 1500;
const STUCK_MESSAGE = /sent nothing for \d+(\.\d)? s and used no CPU time \(0\.\d\d s in the last \d+(\.\d)? s\): it was stuck and was ended$/;

const job: TrainJob = {
  kind: 'train',
  runId: 1,
  datasetDir: '/nowhere',
  config: { model: 'small', batchSize: 8, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'cpu', seed: 1 },
};
const session: ProbeSession = { kind: 'probe-session', datasetDir: '/nowhere', model: 'small', optimizer: 'adam', backend: 'cpu', seed: 1 };
const throughputProbe = { kind: 'throughput', id: 1, batchSize: 8, warmupSteps: 0, steps: 1 } as const;

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

test('a trainer computing a step 3× longer than the heartbeat timeout is not hung: its run completes', { timeout: 60_000 }, async () => {
  const host = new TrainerHost(job, { spawn: createForkSpawner(FIXTURE, ['busy', '5000']), heartbeatTimeoutMs: TIMEOUT_MS });
  const outcome = await within(host.done, 40_000, 'the busy trainer');
  assert.equal(outcome.status, 'completed', JSON.stringify(outcome));
  assert.ok(outcome.status === 'completed' && outcome.summary!.trainSeconds >= 5, 'the step really blocked for 5 s');
});

test('a trainer blocked without using CPU is declared hung, says so, and is killed', { timeout: 60_000 }, async () => {
  const t0 = Date.now();
  const host = new TrainerHost(job, { spawn: createForkSpawner(FIXTURE, ['blocked', '60000']), heartbeatTimeoutMs: TIMEOUT_MS });
  const pid = host.pid!;
  const outcome = await within(host.done, 40_000, 'the blocked trainer');
  const took = Date.now() - t0;
  assert.equal(outcome.status, 'failed', JSON.stringify(outcome));
  assert.ok(outcome.status === 'failed');
  assert.equal(outcome.cause, 'hung');
  assert.match(outcome.message, /^the trainer process /);
  assert.match(outcome.message, STUCK_MESSAGE);
  console.log(`# after ${took} ms: ${outcome.message}`);
  // Timeout plus at most a few readings (a tenth of the timeout apart), far below the 60 s block.
  assert.ok(took < 4 * TIMEOUT_MS + 2000, `declared hung after ${took} ms`);
  await waitFor(() => gone(pid), 5000, 'the hung trainer to be killed');
});

test('probe session: a probe computing past the timeout is answered; one blocked without CPU is hung', { timeout: 90_000 }, async () => {
  const busy = new ProbeHost(session, { spawn: createForkSpawner(FIXTURE, ['busy', '4000']), heartbeatTimeoutMs: TIMEOUT_MS });
  assert.equal((await within(busy.start(), 20_000, 'the busy session start')).device, 'slow-trainer fixture');
  const answered = await within(busy.run(throughputProbe), 40_000, 'the busy probe');
  assert.ok(answered.ok && answered.result.kind === 'throughput' && answered.result.secondsPerStep >= 4, JSON.stringify(answered));
  await busy.close();
  assert.equal(busy.processesStarted, 1);

  const blocked = new ProbeHost(session, { spawn: createForkSpawner(FIXTURE, ['blocked', '60000']), heartbeatTimeoutMs: TIMEOUT_MS });
  await within(blocked.start(), 20_000, 'the blocked session start');
  const hung = await within(blocked.run(throughputProbe), 40_000, 'the blocked probe');
  assert.ok(!hung.ok, JSON.stringify(hung));
  assert.equal(hung.cause, 'hung');
  assert.match(hung.message, /^the probe process /);
  assert.match(hung.message, STUCK_MESSAGE);
  console.log(`# after ${hung.seconds.toFixed(2)} s: ${hung.message}`);
  assert.ok(hung.seconds < (4 * TIMEOUT_MS + 2000) / 1000, `declared hung after ${hung.seconds} s`);
  await waitFor(() => !blocked.running, 5000, 'the hung probe process to exit');
});
