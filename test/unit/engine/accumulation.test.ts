// Gradient accumulation in the tfjs loop: a step of 48 samples taken in micro-batches (equal, or
// with a smaller last one) moves the weights by the full batch's gradient, reports the same loss
// and accuracy, and leaves no tensor behind. Plain SGD at rate 1 without momentum, so a step's
// weight change is its gradient.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { StepMetrics, TrainConfig } from '../../../src/shared/run-types.js';
import { tabularDataset } from './tabular-dataset.js';
import { runTrainingLoop } from '../../../src/main/engine/training/train-loop.js';

before(async () => {
  await tf.setBackend('cpu');
});

const config: TrainConfig = { model: 'mlp', batchSize: 48, epochs: 1, learningRate: 1, optimizer: 'sgd', momentum: 0, warmupSteps: 0, backend: 'cpu', seed: 5 };

/** The weights after `steps` steps (0: as built) and the steps' metrics. */
async function train(c: TrainConfig, steps: number): Promise<{ weights: Float32Array[]; metrics: StepMetrics[] }> {
  const metrics: StepMetrics[] = [];
  const r = await runTrainingLoop({
    dataset: tabularDataset(1, 8),
    config: c,
    maxSteps: steps,
    shouldStop: () => false,
    onStep: (s) => metrics.push(s),
    onEpoch: () => undefined,
    memoryBytes: () => 0,
    readbackIntervalMs: 0,
  });
  const weights = r.model.getWeights().map((w) => w.dataSync() as Float32Array);
  r.model.dispose();
  return { weights, metrics };
}

/** The gradient of each weight in the first step: w0 − w1 at rate 1. */
function gradients(w0: Float32Array[], w1: Float32Array[]): Float32Array[] {
  return w0.map((w, i) => w.map((v, j) => v - w1[i]![j]!));
}

test('one step in micro-batches of 16 (3 passes) or 20 (20 + 20 + 8) has the full batch’s gradient, loss and accuracy', async () => {
  const w0 = (await train(config, 0)).weights;
  const full = await train(config, 1);
  const g = gradients(w0, full.weights);
  assert.ok(
    g.some((w) => w.some((v) => Math.abs(v) > 1e-3)),
    'the step moved the weights',
  );
  for (const micro of [16, 20]) {
    const before = tf.memory().numTensors;
    const acc = await train({ ...config, microBatchSize: micro }, 1);
    assert.equal(tf.memory().numTensors, before, `micro-batch ${micro}: no tensor left behind`);
    const ga = gradients(w0, acc.weights);
    // Differences relative to the largest gradient: an entry near zero has no relative precision.
    const scale = Math.max(...g.map((w) => Math.max(...w.map(Math.abs))));
    let worst = 0;
    g.forEach((w, i) => w.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - ga[i]![j]!) / scale))));
    assert.ok(worst < 1e-5, `micro-batch ${micro}: gradients within float rounding of the full batch's (worst difference ${worst} of the largest)`);
    assert.ok(Math.abs(acc.metrics[0]!.loss - full.metrics[0]!.loss) < 1e-5, `loss ${acc.metrics[0]!.loss} vs ${full.metrics[0]!.loss}`);
    assert.ok(Math.abs(acc.metrics[0]!.accuracy - full.metrics[0]!.accuracy) < 1e-6);
  }
});

test('a micro-batch of the whole batch or more is no accumulation: the same weights exactly', async () => {
  const full = await train(config, 2);
  const same = await train({ ...config, microBatchSize: 48 }, 2);
  assert.deepEqual(same.weights, full.weights);
});
