// Resume through the service and the CLI: a run killed with SIGKILL after an epoch's checkpoint
// is resumed in a fresh trainer and ends with the saved model of the same run uninterrupted,
// byte for byte; its series holds each step once, the steps redone are kept apart and counted,
// and the resume is an event. A stopped run is resumed with `autobatch train --resume`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoBatchService } from '../../src/main/service/service.js';
import { serviceWithMnist, tempHome } from './helpers.js';
import { missing, torchPython } from '../support/parts.js';
import { savedWeights, trainerPid } from '../support/run-files.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');

const config = { model: 'small', batchSize: 32, epochs: 3, learningRate: 2e-3, backend: 'wasm', seed: 5, augment: 'light' } as const;

/** The trained model's weights file of a completed run. */
async function until(check: () => boolean, what: string, ms = 240_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test(
  'killed after an epoch checkpoint, resumed: the same saved model as uninterrupted; each step once; the redone steps kept apart',
  { timeout: 600_000 },
  async () => {
    const { service, datasetId } = await serviceWithMnist(600);
    try {
      const whole = await service.startTraining({ dataset: datasetId, config }).done;
      assert.equal(whole.status, 'completed', whole.error ?? '');

      const { runId, done } = service.startTraining({ dataset: datasetId, config });
      let reported = 0;
      service.on('run-metrics', (e) => {
        if (e.runId === runId) reported = Math.max(reported, ...e.steps.map((s) => s.step));
      });
      await until(() => service.runCheckpoint(runId)?.reason === 'epoch', 'the first epoch checkpoint');
      const checkpointStep = service.runCheckpoint(runId)!.step;
      await until(() => reported >= checkpointStep + 3, 'steps after the checkpoint');
      process.kill(trainerPid(service, runId), 'SIGKILL');
      const killed = await done;
      assert.equal(killed.status, 'interrupted');
      const before = service.runSteps(runId).length;
      assert.ok(before > checkpointStep);

      const resumed = await service.resumeTraining(runId).done;
      assert.equal(resumed.status, 'completed', resumed.error ?? '');
      assert.equal(resumed.id, runId);
      assert.ok(savedWeights(service, runId).equals(savedWeights(service, whole.id)), 'the resumed run saved the weights of the uninterrupted one');

      const steps = service.runSteps(runId).map((s) => s.step);
      assert.deepEqual(
        steps,
        Array.from({ length: whole.steps }, (_, i) => i + 1),
        'each step once, in order',
      );
      assert.equal(resumed.steps, whole.steps);
      const events = service.runEvents(runId);
      assert.equal(events.length, 1);
      const e = events[0]!;
      assert.equal(e.kind, 'resumed');
      assert.equal(e.step, checkpointStep);
      assert.equal(e.attempt, 2);
      assert.equal(e.kind === 'resumed' && e.previousStatus, 'interrupted');
      assert.equal(service.runDiscardedSteps(runId), before - checkpointStep);
      // The epochs' validation results are the uninterrupted run's.
      assert.deepEqual(
        service.runEpochs(runId).map((x) => [x.epoch, x.step, x.valAccuracy]),
        service.runEpochs(whole.id).map((x) => [x.epoch, x.step, x.valAccuracy]),
      );
      // A completed run is not resumed again.
      assert.throws(() => service.resumeTraining(runId), /only a stopped, interrupted or failed run/);
    } finally {
      await service.close();
    }
  },
);

test(
  'autobatch train --resume: a stopped run goes on from its stop checkpoint; --json carries the event; other flags refused',
  { timeout: 600_000 },
  async () => {
    const { service, datasetId, home } = await serviceWithMnist(600);
    let runId: number;
    try {
      const started = service.startTraining({ dataset: datasetId, config: { ...config, backend: 'cpu', model: 'mlp', epochs: 2 } });
      runId = started.runId;
      await until(() => service.runSteps(runId).length >= 4, 'four steps');
      service.stopRun(runId);
      const stopped = await started.done;
      assert.equal(stopped.status, 'stopped');
      assert.equal(service.runCheckpoint(runId)?.reason, 'stop');
    } finally {
      await service.close();
    }
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 300_000 });
    const refused = cli('train', '--resume', String(runId), '--epochs', '5');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /--resume continues run \d+ with its own settings: leave out --epochs/);

    const r = cli('train', '--resume', String(runId), '--json');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { id: number; status: string; steps: number; events: { kind: string; attempt: number; previousStatus: string }[] };
    assert.equal(out.id, runId);
    assert.equal(out.status, 'completed');
    assert.equal(out.events.length, 1);
    assert.equal(out.events[0]!.kind, 'resumed');
    assert.equal(out.events[0]!.previousStatus, 'stopped');

    const text = cli('runs', 'show', String(runId));
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /attempt 2 resumes at step \d+ \(the stop checkpoint, after it stopped\)/);

    const again = cli('train', '--resume', String(runId));
    assert.equal(again.status, 1);
    assert.match(again.stderr, /only a stopped, interrupted or failed run can be resumed/);
  },
);

test(
  "torch-cpu: stopped and resumed through the service, on the same rung: the uninterrupted run's saved model",
  { skip: missing('torch'), timeout: 600_000 },
  async () => {
    const service = new AutoBatchService({ home: tempHome(), python: torchPython() });
    try {
      const { id: datasetId } = await service.importDataset('sample:mnist', { name: 'mnist', limit: 600 });
      const torchConfig = { ...config, backend: 'torch-cpu' } as const;
      const whole = await service.startTraining({ dataset: datasetId, config: torchConfig }).done;
      assert.equal(whole.status, 'completed', whole.error ?? '');
      const started = service.startTraining({ dataset: datasetId, config: torchConfig });
      await until(() => service.runCheckpoint(started.runId) !== null, 'a checkpoint');
      service.stopRun(started.runId);
      const stopped = await started.done;
      assert.equal(stopped.status, 'stopped');
      const resumed = await service.resumeTraining(stopped.id).done;
      assert.equal(resumed.status, 'completed', resumed.error ?? '');
      assert.equal(resumed.rung, 'torch-cpu');
      assert.ok(savedWeights(service, stopped.id).equals(savedWeights(service, whole.id)), 'the weights of the uninterrupted run');
      assert.deepEqual(
        service.runSteps(stopped.id).map((s) => s.step),
        Array.from({ length: whole.steps }, (_, i) => i + 1),
      );
    } finally {
      await service.close();
    }
  },
);
