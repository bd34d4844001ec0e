// Starting from a trained model on the wasm backend (the app's batch-norm kernels): a resnet-8
// trained a few steps on the MNIST sample at 8×8, fine-tuned on RGB 16×16 copies of the same
// digits with its last block unfrozen. Its batch-norm layers are the app's (so the unfrozen one
// trains through the closed-form kernels), the frozen weights stay bit-identical, the loss is
// the cpu backend's for the same batch, and it falls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { importDataset, loadDataset, type LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { BATCH_NORM_TRAINING_GRAD } from '../../../src/main/engine/kernels/batch-norm.js';
import { BatchNormalization } from '../../../src/main/engine/models/batch-norm-layer.js';
import { saveModelToDir } from '../../../src/main/engine/models/model-files.js';
import { createNetOptimizer } from '../../../src/main/engine/models/optimizer.js';
import { startModelNet, type StartModelSpec } from '../../../src/main/engine/models/start-model.js';
import type { TrainableNet } from '../../../src/main/engine/models/trainable-net.js';
import { makeBatch, runTrainingLoop } from '../../../src/main/engine/training/train-loop.js';
import { setUpBackends } from '../kernels/helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'start-model-wasm-'));
const START = path.join(tmp, 'resnet-8');
let digits: LoadedDataset;

before(async () => {
  await setUpBackends();
  await importDataset('sample:mnist', { limit: 100, imageSize: [8, 8] }, path.join(tmp, 'mnist8'));
  digits = loadDataset(path.join(tmp, 'mnist8'));
  const r = await runTrainingLoop({
    dataset: digits,
    config: { model: 'resnet-8', batchSize: 16, epochs: 1, learningRate: 0.01, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'wasm', seed: 2 },
    maxSteps: 4,
    shouldStop: () => false,
    onStep: () => undefined,
    onEpoch: () => undefined,
    memoryBytes: () => 0,
    readbackIntervalMs: 0,
  });
  await saveModelToDir(r.model, START, { classes: digits.manifest.classes, inputShape: [8, 8, 1], normalization: digits.manifest.normalization, runId: 1 });
  r.model.dispose();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

const spec: StartModelSpec = {
  dir: START,
  unfreeze: 1,
  fineTuneRateFactor: 0.1,
  inputShape: [16, 16, 3],
  classes: 10,
  normalization: { kind: 'scale', scale: 1 / 255 },
  seed: 4,
};

/** The first 16 training digits enlarged to 16×16 and made RGB: [16, 16, 16, 3] in [0, 1]. */
function rgbBatch(): { x: tf.Tensor; oneHot: tf.Tensor2D; labels: tf.Tensor1D } {
  const b = makeBatch(digits, digits.trainIndex.subarray(0, 16));
  const x = tf.tidy(() => tf.tile(tf.image.resizeNearestNeighbor(b.x as tf.Tensor4D, [16, 16]), [1, 1, 1, 3]));
  b.x.dispose();
  return { x, oneHot: b.oneHot, labels: b.labels };
}

/** A layer weight's variable name (unique in the process). */
const varName = (w: tf.LayerVariable) => (w.read() as tf.Variable).name;

function loss(net: TrainableNet, x: tf.Tensor, oneHot: tf.Tensor2D): number {
  return tf.tidy(() => tf.losses.softmaxCrossEntropy(oneHot, net.trained(net.frozen(x))).dataSync()[0]!);
}

test('wasm: a fine-tuned resnet-8 trains its last block through the app’s batch-norm kernels, frozen weights unchanged, cpu’s loss, falling', async () => {
  await tf.setBackend('cpu');
  const cpuNet = await startModelNet(spec);
  let batch = rgbBatch();
  const cpuLoss = loss(cpuNet, batch.x, batch.oneHot);
  tf.dispose([batch.x, batch.oneHot, batch.labels]);
  cpuNet.disposeParts();
  cpuNet.model.dispose();

  await tf.setBackend('wasm');
  assert.ok(tf.getKernel(BATCH_NORM_TRAINING_GRAD, 'wasm'), 'the app’s batch-norm gradient kernel is registered on wasm');
  const before = tf.memory().numTensors;
  const net = await startModelNet(spec);
  const bn = net.model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  assert.ok(bn.length === 9 && bn.every((l) => l instanceof BatchNormalization));
  batch = rgbBatch();
  const first = loss(net, batch.x, batch.oneHot);
  assert.ok(Math.abs(first - cpuLoss) <= 1e-4 * Math.max(1, cpuLoss), `wasm ${first} vs cpu ${cpuLoss}`);
  const trainedNames = new Set(net.trainable.map((v) => v.name));
  const frozenBefore = net.model.weights.filter((w) => !trainedNames.has(varName(w))).map((w) => [varName(w), w.read().dataSync().slice()] as const);
  const optimizer = createNetOptimizer('adam', 0.01, 0.9, net.rateGroups);
  const losses: number[] = [];
  for (let i = 0; i < 12; i++) {
    losses.push(
      tf.tidy(() => {
        const features = net.frozen(batch.x);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(batch.oneHot, net.trained(features)) as tf.Scalar, net.trainable);
        optimizer.applyGradients(grads);
        return value.dataSync()[0]!;
      }),
    );
  }
  assert.ok(losses.at(-1)! < losses[0]! * 0.8, `loss ${losses[0]} → ${losses.at(-1)}`);
  const now = new Map(net.model.weights.map((w) => [varName(w), w.read().dataSync()]));
  // The unfrozen block's moving statistics move (they are not trainable variables); all else frozen stays put.
  const lastBlockMoving = new Set(
    bn
      .slice(-3)
      .flatMap((l) => l.nonTrainableWeights)
      .map((w) => varName(w)),
  );
  for (const [name, values] of frozenBefore) {
    const same = Buffer.from(values.buffer).equals(Buffer.from(now.get(name)!.buffer));
    assert.equal(same, !lastBlockMoving.has(name), name);
  }
  tf.dispose([batch.x, batch.oneHot, batch.labels]);
  optimizer.dispose();
  net.disposeParts();
  net.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});
