// The training loop on the cpu backend with a tiny tabular dataset: every step reported once and
// in order with its warm-up rate, validations within and at the end of each epoch, the step limit,
// a stop, a divergence, the final evaluation, and no tensor left behind.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { DatasetManifest } from '../../../src/shared/dataset-types.js';
import type { EpochMetrics, StepMetrics, TrainConfig } from '../../../src/shared/run-types.js';
import type { LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { runTrainingLoop, TrainingDivergedError, type TrainLoopOptions } from '../../../src/main/engine/training/train-loop.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** 150 samples of 4 features in 3 separable classes: 120 to train, 30 to validate. */
function dataset(scale = 1): LoadedDataset {
  const n = 150;
  const x = new Float32Array(n * 4);
  const y = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (j === y[i] ? 1 : 0) + ((i * 7 + j * 3) % 10) / 20;
  }
  const manifest = { inputShape: [4], classes: ['a', 'b', 'c'], normalization: { kind: 'scale', scale } } as unknown as DatasetManifest;
  const index = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
  return { manifest, x, y, trainIndex: index(0, 120), validationIndex: index(120, 150), sampleSize: 4 };
}

const config: TrainConfig = {
  model: 'mlp',
  batchSize: 16,
  epochs: 2,
  learningRate: 0.01,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 4,
  backend: 'cpu',
  seed: 3,
};

function options(o: Partial<TrainLoopOptions> = {}): TrainLoopOptions & { steps: StepMetrics[]; epochs: EpochMetrics[] } {
  const steps: StepMetrics[] = [];
  const epochs: EpochMetrics[] = [];
  return {
    dataset: dataset(),
    config,
    shouldStop: () => false,
    onStep: (s) => steps.push(s),
    onEpoch: (e) => epochs.push(e),
    memoryBytes: () => 42,
    readbackIntervalMs: 0,
    ...o,
    steps,
    epochs,
  };
}

test('two epochs: every step once and in order, validations within and at the end of each epoch', async () => {
  const before = tf.memory().numTensors;
  const o = options({ config: { ...config, validationsPerEpoch: 2 }, readbackIntervalMs: 1e9 });
  const r = await runTrainingLoop(o);
  assert.equal(r.status, 'completed');
  assert.deepEqual(
    o.steps.map((s) => s.step),
    Array.from({ length: 16 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    o.steps.map((s) => s.epoch),
    [...Array<number>(8).fill(1), ...Array<number>(8).fill(2)],
  );
  assert.deepEqual(
    o.steps.slice(0, 5).map((s) => s.learningRate),
    [0.0025, 0.005, 0.0075, 0.01, 0.01],
  );
  assert.ok(o.steps.every((s) => Number.isFinite(s.loss) && s.memoryBytes === 42 && s.samplesPerSecond > 0));
  assert.ok(o.steps.every((s, i) => i === 0 || s.time >= o.steps[i - 1]!.time));
  assert.deepEqual(
    o.epochs.map((e) => [e.epoch, e.step]),
    [
      [1, 4],
      [1, 8],
      [2, 12],
      [2, 16],
    ],
  );
  assert.ok(o.epochs.every((e) => Number.isFinite(e.valLoss) && Number.isFinite(e.trainLoss)));
  assert.deepEqual([r.summary.steps, r.summary.epochsCompleted], [16, 2]);
  assert.equal(r.summary.finalValAccuracy, o.epochs.at(-1)!.valAccuracy);
  assert.equal(r.summary.bestValAccuracy, Math.max(...o.epochs.map((e) => e.valAccuracy)));
  assert.equal(r.evaluation, undefined);
  r.model.dispose();
  assert.equal(tf.memory().numTensors, before, 'nothing left but the model, which the caller disposes');
});

test('the step limit ends the run completed; a stop ends it stopped, without the evaluation', async () => {
  const limited = options({ maxSteps: 5 });
  const a = await runTrainingLoop(limited);
  assert.deepEqual([a.status, a.summary.steps, a.summary.epochsCompleted, limited.steps.length, limited.epochs.length], ['completed', 5, 0, 5, 0]);
  a.model.dispose();

  const stopping = options({ evaluate: true, shouldStop: () => stopping.steps.length >= 3 });
  const b = await runTrainingLoop(stopping);
  assert.deepEqual([b.status, b.summary.steps, b.evaluation], ['stopped', 3, undefined]);
  b.model.dispose();
});

test('with evaluate, the confusion matrix of the validation split', async () => {
  const r = await runTrainingLoop(options({ evaluate: true }));
  const e = r.evaluation!;
  assert.deepEqual(e.classes, ['a', 'b', 'c']);
  assert.equal(
    e.confusion.flat().reduce((s, v) => s + v, 0),
    30,
  );
  assert.equal(e.misclassified.length, 30 - e.confusion.reduce((s, row, k) => s + row[k]!, 0));
  r.model.dispose();
});

test('a non-finite loss fails the run with TrainingDivergedError, and every tensor is released', async () => {
  const before = tf.memory().numTensors;
  const o = options({ dataset: dataset(Infinity), readbackIntervalMs: 1e9 });
  await assert.rejects(runTrainingLoop(o), (err: unknown) => err instanceof TrainingDivergedError && err.step === 1);
  assert.equal(tf.memory().numTensors, before);
});

test('validation and the final evaluation run forward only in chunks of the evaluation batch (default: the batch size), with the same results', async () => {
  // Every forward-only pass's batch, seen at the model's apply (training passes say training: true).
  const seen: number[] = [];
  const apply = tf.LayersModel.prototype.apply;
  tf.LayersModel.prototype.apply = function (this: tf.LayersModel, x, kwargs) {
    if (kwargs?.['training'] === false) seen.push((Array.isArray(x) ? x[0]! : (x as tf.Tensor)).shape[0] ?? 0);
    return apply.call(this, x, kwargs);
  };
  try {
    const run = async (evalBatchSize?: number) => {
      seen.length = 0;
      const o = options({ config: { ...config, ...(evalBatchSize !== undefined ? { evalBatchSize } : {}) }, evaluate: true });
      const r = await runTrainingLoop(o);
      r.model.dispose();
      return { epochs: o.epochs, chunks: [...seen], evaluation: r.evaluation };
    };
    const byDefault = await run();
    const seven = await run(7);
    const whole = await run(1024);
    // 30 validation samples, validated twice (two epochs) and evaluated once.
    assert.deepEqual(byDefault.chunks, Array<number[]>(3).fill([16, 14]).flat(), 'the batch size (16) by default');
    assert.deepEqual(seven.chunks, Array<number[]>(3).fill([7, 7, 7, 7, 2]).flat());
    assert.deepEqual(whole.chunks, [30, 30, 30]);
    for (const other of [seven, whole]) {
      assert.deepEqual(
        other.epochs.map((e) => e.valAccuracy),
        byDefault.epochs.map((e) => e.valAccuracy),
      );
      other.epochs.forEach((e, i) => assert.ok(Math.abs(e.valLoss - byDefault.epochs[i]!.valLoss) < 1e-5));
      assert.deepEqual(other.evaluation?.confusion, byDefault.evaluation?.confusion);
    }
  } finally {
    tf.LayersModel.prototype.apply = apply;
  }
});
