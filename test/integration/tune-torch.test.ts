// Auto-tune on the PyTorch engine, through the service (issue 16): Quick and Full end to end on
// torch-cpu in the user's Python — the search routed there, the rung stored, the memory read from
// the device and named, "Train with this" training on torch-cpu — and an explicit torch-cpu search
// on the Python trainer's capped test device, which must meet at least one real out-of-memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRng } from '../../src/shared/random.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import type { TuningSessionRecord } from '../../src/main/store/index.js';
import { tempHome } from './helpers.js';
import { missing, torchPython } from '../support/parts.js';

/** A planned run of ten minutes: the search's time allowance (30 s Quick, 90 s Full) then cuts no probe on these small datasets, which is what these tests check; its trials take 6 s each (1 % of it). */
const TEN_MINUTES = 600;

const skip = missing('torch');

/** A service whose torch rungs use the test machine's Python with PyTorch, with the MNIST sample imported. */
async function torchService(limit: number): Promise<{ service: AutoBatchService; datasetId: number }> {
  const service = new AutoBatchService({ home: tempHome(), python: torchPython() });
  const ds = await service.importDataset('sample:mnist', { name: 'mnist', limit });
  return { service, datasetId: ds.id };
}

/** The search ran on the torch engine's CPU rung, and said how it measured memory. */
function assertOnTorchCpu(service: AutoBatchService, t: TuningSessionRecord): void {
  assert.equal(t.status, 'completed', t.error ?? '');
  assert.equal(t.backend, 'torch');
  assert.equal(t.rung, 'torch-cpu');
  assert.match(t.device ?? '', /PyTorch/);
  const memory = service.tuningTrials(t.id).filter((x) => x.kind === 'memory' && x.status === 'ok');
  assert.ok(memory.length >= 5, `${memory.length} memory probes`);
  for (const m of memory)
    assert.ok(['cpu-peak-rss', 'live-tensor-bytes'].includes(String(m.result.memorySource)), `memory source ${String(m.result.memorySource)}`);
  assert.ok(
    t.report!.reasons.some((r) => /Memory was measured as the (peak resident size|peak live tensor bytes) of each step, on PyTorch \(/.test(r)),
    t.report!.reasons.join('\n'),
  );
}

test('Quick on torch-cpu: the search runs in Python, stores the rung, and "Train with this" trains on torch-cpu', { skip, timeout: 300_000 }, async () => {
  const { service, datasetId } = await torchService(1000);
  try {
    const started = performance.now();
    const t = await service.startTuning({ dataset: datasetId, model: 'mlp', mode: 'quick', backend: 'torch-cpu', budgetSeconds: TEN_MINUTES }).done;
    assertOnTorchCpu(service, t);
    const r = t.report!;
    assert.ok(r.recommendation.batchSize >= 1 && r.recommendation.batchSize <= r.recommendation.memoryCeiling);
    assert.ok(r.recommendation.expectedSamplesPerSecond > 0);
    assert.ok(r.learningRateTest && r.learningRateTest.points.length >= 8, 'a range test with readings');
    assert.ok(service.tuningTrials(t.id).every((x) => x.status === 'ok'));
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 90, `Quick took ${seconds.toFixed(1)} s`);

    const run = await service.startTraining({ dataset: '', fromTuning: t.id, config: { epochs: 1 }, maxSteps: 3 }).done;
    assert.equal(run.status, 'completed', run.error ?? '');
    assert.equal(run.rung, 'torch-cpu');
    assert.equal(run.backend, 'torch');
    assert.equal(run.config.batchSize, r.recommendation.batchSize);
    // The evaluation batch, checked by a forward pass in Python, is what the run validates at.
    assert.ok(service.tuningTrials(t.id).some((x) => x.kind === 'forward-memory' && x.batchSize === r.recommendation.evalBatchSize));
    assert.equal(run.config.evalBatchSize, r.recommendation.evalBatchSize);
  } finally {
    await service.close();
  }
});

test('Full on torch-cpu: the noise scale, goodput and equal-time trials measured in Python', { skip, timeout: 300_000 }, async () => {
  const { service, datasetId } = await torchService(1000);
  try {
    const t = await service.startTuning({ dataset: datasetId, model: 'mlp', mode: 'full', backend: 'torch-cpu', budgetSeconds: TEN_MINUTES }).done;
    assertOnTorchCpu(service, t);
    const r = t.report!;
    assert.ok(r.recommendation.noiseScale !== null && r.recommendation.noiseScale >= 0);
    assert.ok(r.curves.some((c) => c.goodput !== undefined && c.efficiency !== undefined));
    const kinds = new Set(service.tuningTrials(t.id).map((x) => x.kind));
    assert.deepEqual([...kinds].sort(), ['forward-memory', 'learning-rate', 'memory', 'noise', 'throughput', 'trial']);
    // Validated in Python: each trial that ran reports its validation loss (6 s trials on 800
    // samples may overfit, and be flagged worse or oscillating; the flag is the trials' own job).
    const trials = service.tuningTrials(t.id).filter((x) => x.kind === 'trial' && Number.isFinite(Number(x.result.valLoss)));
    assert.ok(trials.length >= 2, `validated trials: ${JSON.stringify(service.tuningTrials(t.id).filter((x) => x.kind === 'trial'))}`);
  } finally {
    await service.close();
  }
});

test('an explicit torch-cpu search on the capped test device meets a real out-of-memory and still recommends', { skip, timeout: 300_000 }, async () => {
  const home = tempHome();
  const csv = path.join(home, 'rows.csv');
  const rng = createRng(5);
  const lines = ['a,b,c,d,label'];
  for (let i = 0; i < 30_000; i++) lines.push(`${(i % 3) + rng()},${rng() * 2},${(i % 3) * 2 + rng()},${rng()},c${i % 3}`);
  writeFileSync(csv, lines.join('\n') + '\n');
  const service = new AutoBatchService({ home, python: torchPython() });
  try {
    const ds = await service.importDataset(csv, {});
    // On torch the MLP's step holds ~19 KB (weights, optimizer state) plus ~0.4 KB per sample of
    // live tensors: 256 KiB puts the ceiling near 600, below the dataset's 1 200 cap.
    const cap = 256 * 1024;
    const t = await service.startTuning({ dataset: ds.id, model: 'mlp', mode: 'quick', backend: 'torch-cpu', memoryCapBytes: cap, budgetSeconds: TEN_MINUTES })
      .done;
    assert.equal(t.status, 'completed', t.error ?? '');
    assert.equal(t.rung, 'torch-cpu');
    assert.equal(t.budgetBytes, cap, 'the cap is the budget');
    const memory = service.tuningTrials(t.id).filter((x) => x.kind === 'memory');
    assert.ok(
      memory.some((x) => x.status === 'oom'),
      memory.map((x) => `${x.batchSize}: ${x.status}`).join(', '),
    );
    assert.ok(memory.filter((x) => x.status === 'ok').every((x) => x.result.memorySource === 'live-tensor-bytes'));
    assert.ok(t.report!.recommendation.batchSize <= t.report!.recommendation.memoryCeiling);
  } finally {
    await service.close();
  }
});
