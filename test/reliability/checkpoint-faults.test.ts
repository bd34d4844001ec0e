// Checkpoints under faults: a trainer killed with SIGKILL in the middle of writing a checkpoint
// leaves the previous one whole, and the run resumes from it to the uninterrupted run's weights;
// a run whose dataset lost its data, or was deleted, is refused a resume with the reason, and
// nothing stored changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AutoBatchService } from '../../src/main/service/service.js';
import { latestCheckpoint } from '../../src/main/engine/training/checkpoint-folder.js';
import { removeDir, serviceWithSample, waitFor } from './helpers.js';
import { savedWeights, trainerPid } from '../support/run-files.js';

const config = { model: 'mlp', batchSize: 32, epochs: 3, learningRate: 2e-3, backend: 'cpu', seed: 9 } as const;
const PAUSE_ENV = 'AUTOBATCH_TEST_CHECKPOINT_PAUSE_MS';

function checkpointsDir(service: AutoBatchService, runId: number): string {
  return path.join(service.paths.home, 'artifacts', `run-${runId}`, 'checkpoints');
}

test('SIGKILL during a checkpoint write: the previous checkpoint is whole, and the run resumes from it to the same weights', { timeout: 600_000 }, async () => {
  const { service, datasetId, home } = await serviceWithSample(600);
  try {
    const whole = await service.startTraining({ dataset: datasetId, config }).done;
    assert.equal(whole.status, 'completed', whole.error ?? '');

    // Each write of this run's trainer holds before its state.json (the fault tests' hook).
    process.env[PAUSE_ENV] = '2500';
    const { runId, done } = service.startTraining({ dataset: datasetId, config });
    const dir = checkpointsDir(service, runId);
    await waitFor(() => service.runCheckpoint(runId) !== null, 240_000, 'the first checkpoint');
    delete process.env[PAUSE_ENV]; // the trainer (started by now) has its own copy of the environment
    const first = service.runCheckpoint(runId)!;
    assert.equal(first.reason, 'epoch');
    await waitFor(() => existsSync(dir) && readdirSync(dir).some((n) => n.startsWith('.partial-')), 240_000, 'the second write under way');
    process.kill(trainerPid(service, runId), 'SIGKILL');
    assert.equal((await done).status, 'interrupted');

    assert.ok(
      readdirSync(dir).some((n) => n.startsWith('.partial-')),
      'the write was cut short',
    );
    const kept = latestCheckpoint(dir)!;
    assert.equal(kept.state.step, first.step, 'the newest whole checkpoint is the one before the cut write');

    const resumed = await service.resumeTraining(runId).done;
    assert.equal(resumed.status, 'completed', resumed.error ?? '');
    assert.ok(savedWeights(service, runId).equals(savedWeights(service, whole.id)));
    assert.deepEqual(
      service.runSteps(runId).map((s) => s.step),
      Array.from({ length: whole.steps }, (_, i) => i + 1),
    );
    assert.ok(!readdirSync(dir).some((n) => n.startsWith('.partial-')), 'the next writes cleared the cut one');
  } finally {
    delete process.env[PAUSE_ENV];
    await service.close();
    removeDir(home);
  }
});

test('a run whose dataset lost its data, or was deleted, is refused a resume with the reason; nothing stored changes', { timeout: 300_000 }, async () => {
  const { service, datasetId, home } = await serviceWithSample(300);
  try {
    const started = service.startTraining({ dataset: datasetId, config: { ...config, epochs: 50 } });
    await waitFor(() => service.runCheckpoint(started.runId) !== null, 120_000, 'a checkpoint');
    service.stopRun(started.runId);
    const stopped = await started.done;
    assert.equal(stopped.status, 'stopped');
    const steps = service.runSteps(stopped.id).length;

    rmSync(service.getDataset(datasetId).cacheDir, { recursive: true, force: true });
    assert.throws(
      () => service.resumeTraining(stopped.id),
      (err: Error) =>
        /cannot be resumed: its dataset "mnist" has lost its cached data/.test(err.message) && /metrics and checkpoints are kept/.test(err.message),
    );
    const after = service.getRun(stopped.id);
    assert.equal(after.status, 'stopped');
    assert.equal(service.runSteps(stopped.id).length, steps);
    assert.deepEqual(service.runEvents(stopped.id), []);
    assert.ok(service.runCheckpoint(stopped.id), 'the checkpoint is kept');

    await service.deleteDataset(datasetId);
    assert.throws(() => service.resumeTraining(stopped.id), /no run "?\d+"?/);
  } finally {
    await service.close();
    removeDir(home);
  }
});
