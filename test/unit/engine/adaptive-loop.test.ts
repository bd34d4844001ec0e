// The tfjs loop's side of an adaptive run: measured steps (taken as halves) give a finite noise
// scale every window; a new batch from the host takes effect at the next step, mid-epoch, with
// the learning rate ramped to its new value, every step before it reported first; nothing leaks.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { StepMetrics, TrainConfig } from '../../../src/shared/run-types.js';
import { tabularDataset } from './tabular-dataset.js';
import { runTrainingLoop, type BatchChange } from '../../../src/main/engine/training/train-loop.js';
import type { NoiseReport } from '../../../src/main/engine/training/noise-window.js';

before(async () => {
  await tf.setBackend('cpu');
});

const config: TrainConfig = {
  model: 'mlp',
  batchSize: 16,
  epochs: 5,
  learningRate: 0.01,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'cpu',
  seed: 2,
};

test('an adaptive run: a noise scale every window from measured halves; a new batch from step 15 on, its rate ramped; no tensor left', async () => {
  const before = tf.memory().numTensors;
  const steps: StepMetrics[] = [];
  const noise: NoiseReport[] = [];
  const changes: { step: number; batchSize: number }[] = [];
  let pending: BatchChange | undefined;
  const r = await runTrainingLoop({
    dataset: tabularDataset(0.6, 4),
    config,
    adaptive: { everySteps: 10 },
    shouldStop: () => false,
    onStep: (s) => {
      steps.push(s);
      if (s.step === 15) pending = { batchSize: 32, learningRate: 0.02, rampSteps: 4 };
    },
    onEpoch: () => undefined,
    onNoise: (n) => noise.push(n),
    takeBatchChange: () => {
      const c = pending;
      pending = undefined;
      return c;
    },
    onBatchChanged: (c) => changes.push(c),
    memoryBytes: () => 0,
    readbackIntervalMs: 0,
  });
  r.model.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  // 6 steps an epoch at 16: the change came after step 15 (mid-epoch 3), the rest at 32.
  assert.deepEqual(
    changes.map((c) => [c.step, c.batchSize]),
    [[15, 32]],
  );
  const at = (n: number) => steps.find((s) => s.step === n)!;
  assert.ok(steps.filter((s) => s.step <= 15).every((s) => s.step === 15 || s.learningRate === 0.01));
  assert.deepEqual(
    [16, 17, 18, 19, 20].map((n) => Number(at(n).learningRate.toFixed(6))),
    [0.0125, 0.015, 0.0175, 0.02, 0.02],
    'a linear ramp over 4 steps',
  );
  assert.deepEqual(
    steps.map((s) => s.step),
    Array.from({ length: steps.length }, (_, i) => i + 1),
    'every step once, in order',
  );
  // 3 steps of epoch 3 at 16 (48 samples), its other 48 at 32: 2 steps; then 3 a epoch: 6 + 6 + 3 + 2 + 3 + 3.
  assert.equal(steps.length, 23);
  assert.ok(noise.length >= 2, `${noise.length} noise reports`);
  for (const n of noise) {
    assert.equal(n.step % 10, 0);
    assert.equal(n.measurements, 10, 'every step measured (windows of 10: 1 step in 1)');
    assert.ok(Number.isFinite(n.gradSq) && Number.isFinite(n.traceSigma), JSON.stringify(n));
  }
  assert.ok(
    noise.some((n) => n.noiseScale > 0 && Number.isFinite(n.noiseScale)),
    JSON.stringify(noise),
  );
});
