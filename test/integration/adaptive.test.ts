// An adaptive run on both engines, through the service: a Quick Auto-tune of the model and dataset
// gives the time model; a run from it at a batch far below the tuning's choice measures its noise
// scale every 10 steps (every step taken as halves) and moves to a batch of better predicted
// goodput — the change taken mid-run, stored as an event with the run's new config, every step
// once; `runs show` says it. Without a tuning an adaptive run is refused, nothing stored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoBatchService } from '../../src/main/service/service.js';
import type { BackendChoice } from '../../src/shared/run-types.js';
import { tempHome } from './helpers.js';
import { missing } from '../support/parts.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');
/** A planned run of ten minutes: the search's time allowance cuts no probe on this small dataset. */
const TEN_MINUTES = 600;

async function adaptiveRun(backend: BackendChoice) {
  const home = tempHome();
  const service = new AutoBatchService({ home, adaptive: { everySteps: 10, minStepsBetween: 10 } });
  try {
    const ds = await service.importDataset('sample:mnist', { name: 'mnist', limit: 1000 });
    const refused = () => service.startTraining({ dataset: ds.id, config: { model: 'small', batchSize: 8, epochs: 1, backend, adaptive: true } });
    assert.throws(refused, /an adaptive run needs an Auto-tune of this model and dataset/);
    assert.equal(service.listRuns().length, 0, 'nothing stored');
    const tuning = service.startTuning({ dataset: ds.id, model: 'small', mode: 'quick', backend, budgetSeconds: TEN_MINUTES });
    const tuned = await tuning.done;
    assert.equal(tuned.status, 'completed', tuned.error ?? '');
    const { runId, done } = service.startTraining({ dataset: ds.id, fromTuning: tuning.sessionId, config: { batchSize: 8, epochs: 1, adaptive: true } });
    const run = await done;
    assert.equal(run.status, 'completed', run.error ?? '');
    const events = service.runEvents(runId);
    const [first] = events;
    assert.ok(first?.kind === 'batch-adapted', JSON.stringify(events));
    assert.equal(first.fromBatch, 8);
    assert.ok(first.toBatch > 8 && first.gain >= 0.05 && first.noiseScale > 0, JSON.stringify(first));
    assert.ok(first.step >= 10, 'after the first window');
    assert.equal(
      run.config.batchSize,
      events.at(-1)!.kind === 'batch-adapted' ? (events.at(-1) as typeof first).toBatch : -1,
      'the stored config trains at the last batch',
    );
    const steps = service.runSteps(runId);
    assert.deepEqual(
      steps.map((s) => s.step),
      Array.from({ length: steps.length }, (_, i) => i + 1),
      'every step once',
    );
    assert.ok(steps.length < 100, `fewer steps than 100 at batch 8: ${steps.length}`);
    const shown = spawnSync(process.execPath, [bin, 'runs', 'show', String(runId)], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8' });
    assert.match(
      shown.stdout,
      new RegExp(
        `At step ${first.step} the measured noise scale \\(\\d[\\d,]*\\) made batch ${first.toBatch} \\d+ % better in predicted goodput: batch 8 → ${first.toBatch}`,
      ),
    );
  } finally {
    await service.close();
    rmSync(home, { recursive: true, force: true });
  }
}

test('tfjs (wasm): an adaptive run moves from batch 8 to the batch its noise scale and the tuning’s throughput favour', { timeout: 300_000 }, async () => {
  await adaptiveRun('wasm');
});

test('torch-cpu: the same, on the PyTorch engine', { timeout: 300_000, skip: missing('torch') }, async () => {
  await adaptiveRun('torch-cpu');
});
