// Starting from a trained model (models/start-model.ts) on the cpu backend: a 'small' model
// trained for a few steps on the MNIST sample (28×28) and a 'resnet-8' on the sample imported at
// 8×8 (the cpu backend's convolution gradients are slow: a resnet-8 step on 28×28 takes seconds),
// saved as the app saves them, then fine-tuned on the same digits and on digits 0–4 made 32×32
// RGB. What is frozen stays bit-identical, what trains moves at its group's rate, batch norm in
// frozen blocks keeps its statistics, the model saves and loads as a plain tfjs model, a frozen
// backbone's step needs less memory, and nothing leaks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelKind, TrainConfig } from '../../../src/shared/run-types.js';
import { analyseLayersModel, batchNormTrained, ModelTopologyError } from '../../../src/shared/model-topology.js';
import { importDataset, loadDataset, type LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { loadModelFromDir, saveModelToDir } from '../../../src/main/engine/models/model-files.js';
import { createNetOptimizer } from '../../../src/main/engine/models/optimizer.js';
import { startModelNet, type StartModelSpec } from '../../../src/main/engine/models/start-model.js';
import { BatchNormalization } from '../../../src/main/engine/models/batch-norm-layer.js';
import { buildModel } from '../../../src/main/engine/models/build-model.js';
import { builtInNet, type TrainableNet } from '../../../src/main/engine/models/trainable-net.js';
import { makeBatch, runTrainingLoop } from '../../../src/main/engine/training/train-loop.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'start-model-'));
const SMALL = path.join(tmp, 'small');
const RESNET = path.join(tmp, 'resnet-8');
const SCALE = { kind: 'scale', scale: 1 / 255 } as const;
let mnist: LoadedDataset;
/** The sample at 8×8, for the resnet. */
let mnist8: LoadedDataset;
/** Digits 0–4 of the sample, padded to 32×32 and made RGB (grey in each channel). */
let rgbDigits: LoadedDataset;

const baseConfig: TrainConfig = {
  model: 'small',
  batchSize: 8,
  epochs: 1,
  learningRate: 0.01,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'cpu',
  seed: 5,
};

/** Trains `kind` for `steps` steps on the sample and saves it as the trainer does. */
async function pretrain(kind: ModelKind, dir: string, steps: number, dataset = mnist): Promise<void> {
  const r = await runTrainingLoop({
    dataset,
    config: { ...baseConfig, model: kind },
    maxSteps: steps,
    shouldStop: () => false,
    onStep: () => undefined,
    onEpoch: () => undefined,
    memoryBytes: () => 0,
    readbackIntervalMs: 0,
  });
  await saveModelToDir(r.model, dir, {
    classes: dataset.manifest.classes,
    inputShape: dataset.manifest.inputShape,
    normalization: dataset.manifest.normalization,
    runId: 1,
  });
  r.model.dispose();
}

/** A freshly built model of this kind, saved (where its weights do not matter). */
async function saveUntrained(kind: ModelKind, dir: string, inputShape: number[]): Promise<void> {
  const model = buildModel(kind, { inputShape, classes: 10 }, 1);
  await saveModelToDir(model, dir, { classes: mnist.manifest.classes, inputShape, normalization: SCALE });
  model.dispose();
}

function paddedRgbDigits(ds: LoadedDataset, classes: number): LoadedDataset {
  const keep = Array.from(ds.y.keys()).filter((i) => ds.y[i]! < classes);
  const x = new Uint8Array(keep.length * 32 * 32 * 3);
  keep.forEach((src, n) => {
    for (let r = 0; r < 28; r++)
      for (let c = 0; c < 28; c++) for (let ch = 0; ch < 3; ch++) x[((n * 32 + r + 2) * 32 + c + 2) * 3 + ch] = ds.x[src * 784 + r * 28 + c]!;
  });
  const newIndex = new Map(keep.map((src, n) => [src, n]));
  const remap = (idx: Uint32Array) => Uint32Array.from([...idx].filter((i) => newIndex.has(i)).map((i) => newIndex.get(i)!));
  return {
    manifest: { ...ds.manifest, inputShape: [32, 32, 3], classes: ds.manifest.classes.slice(0, classes), count: keep.length },
    x,
    y: Uint16Array.from(keep.map((i) => ds.y[i]!)),
    trainIndex: remap(ds.trainIndex),
    validationIndex: remap(ds.validationIndex),
    sampleSize: 32 * 32 * 3,
  };
}

before(async () => {
  await tf.setBackend('cpu');
  await importDataset('sample:mnist', { limit: 300 }, path.join(tmp, 'mnist'));
  mnist = loadDataset(path.join(tmp, 'mnist'));
  await importDataset('sample:mnist', { limit: 100, imageSize: [8, 8] }, path.join(tmp, 'mnist8'));
  mnist8 = loadDataset(path.join(tmp, 'mnist8'));
  rgbDigits = paddedRgbDigits(mnist, 5);
  await pretrain('small', SMALL, 8);
  await pretrain('resnet-8', RESNET, 3, mnist8);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function spec(dir: string, over: Partial<StartModelSpec> = {}): StartModelSpec {
  return { dir, unfreeze: 0, fineTuneRateFactor: 0.1, inputShape: [28, 28, 1], classes: 10, normalization: SCALE, seed: 3, ...over };
}

/** The first `n` training samples of `ds` as a batch. */
function batch(ds: LoadedDataset, n: number): { x: tf.Tensor; labels: tf.Tensor1D; oneHot: tf.Tensor2D } {
  return makeBatch(ds, ds.trainIndex.subarray(0, n));
}

/** One optimizer step in the training loop's shape: the frozen part outside the tape, the trained part inside. */
function step(net: TrainableNet, optimizer: ReturnType<typeof createNetOptimizer>, x: tf.Tensor, oneHot: tf.Tensor2D): number {
  return tf.tidy(() => {
    const features = net.frozen(x);
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oneHot, net.trained(features)) as tf.Scalar, net.trainable);
    optimizer.applyGradients(grads);
    return value.dataSync()[0]!;
  });
}

/** Every weight of the model by its (unique) variable name, copied off the device. */
function snapshot(model: tf.LayersModel): Map<string, Float32Array> {
  return new Map(model.weights.map((w) => [varName(w), w.read().dataSync() as Float32Array]));
}

/** A layer weight's variable name (unique in the process, unlike its name in the model). */
const varName = (w: tf.LayerVariable) => (w.read() as tf.Variable).name;

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Variable names of the named layers' weights (trainable and not). */
function weightNames(model: tf.LayersModel, layers: readonly string[]): Set<string> {
  return new Set(layers.flatMap((n) => model.getLayer(n).weights.map((w) => varName(w))));
}

function dispose(net: TrainableNet): void {
  net.disposeParts();
  net.model.dispose();
}

test('a trained small model fine-tuned on 32×32 RGB digits in 5 classes: adapters in front, predictions [n, 5], only the classifier trains', async () => {
  const before = tf.memory().numTensors;
  const net = await startModelNet(spec(SMALL, { inputShape: [32, 32, 3], classes: 5 }));
  const { x, labels, oneHot } = batch(rgbDigits, 6);
  const p = net.model.predict(x) as tf.Tensor;
  assert.deepEqual(p.shape, [6, 5]);
  const classes = net.model.layers.map((l) => l.getClassName());
  // Input, RGB → grey (before resizing: fewer channels to resize), the resize's permutes and maps, then the backbone.
  assert.deepEqual(classes.slice(0, 7), ['InputLayer', 'Conv2D', 'Permute', 'Dense', 'Permute', 'Dense', 'Permute']);
  assert.ok(net.model.layers.slice(1, 7).every((l) => l.trainableWeights.length === 0 && (l.weights.length === 0 || !l.trainable)));
  assert.equal(net.model.layers.at(-1)!.name, 'classifier_finetuned');
  assert.deepEqual(
    net.trainable.map((v) => v.shape),
    [[800, 5], [5]],
  );
  assert.equal(net.rateGroups[1]!.variables.length, 0);
  tf.dispose([p, x, labels, oneHot]);
  dispose(net);
  assert.equal(tf.memory().numTensors, before);
});

test("the frozen prefix gives the original model's features exactly (no adapter needed)", async () => {
  const before = tf.memory().numTensors;
  const original = await loadModelFromDir(SMALL);
  const anatomy = analyseLayersModel(JSON.parse(readFileSync(path.join(SMALL, 'model.json'), 'utf8')), 'small');
  const { x, labels, oneHot } = batch(mnist, 8);
  for (const [unfreeze, cutLayer] of [
    [0, anatomy.features],
    [1, anatomy.blocks[0]!.layers.at(-1)!],
  ] as const) {
    const net = await startModelNet(spec(SMALL, { unfreeze }));
    const probe = tf.model({ inputs: original.inputs, outputs: original.getLayer(cutLayer).output as tf.SymbolicTensor });
    const want = probe.predict(x) as tf.Tensor;
    const got = net.frozen(x);
    assert.deepEqual(got.shape, want.shape);
    assert.ok(same(got.dataSync() as Float32Array, want.dataSync() as Float32Array), `unfreeze ${unfreeze}: features differ`);
    tf.dispose([want, got]);
    dispose(net);
  }
  tf.dispose([x, labels, oneHot]);
  original.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('steps leave frozen weights bit-identical, move the classifier, and with unfreeze 1 the last block at the fine-tuning rate', async () => {
  const before = tf.memory().numTensors;
  const anatomy = analyseLayersModel(JSON.parse(readFileSync(path.join(SMALL, 'model.json'), 'utf8')), 'small');
  const net = await startModelNet(spec(SMALL, { unfreeze: 1, fineTuneRateFactor: 0.1 }));
  // Plain SGD (no momentum): a step moves each weight by exactly -rate × factor × gradient.
  const rate = 0.5;
  const optimizer = createNetOptimizer('sgd', rate, 0, net.rateGroups);
  const { x, labels, oneHot } = batch(mnist, 8);
  // The new classifier starts at zero (uniform predictions), so no gradient reaches the backbone
  // through it at the first step: one step first.
  for (const w of net.model.getLayer('classifier_finetuned').getWeights()) assert.ok((w.dataSync() as Float32Array).every((v) => v === 0));
  step(net, optimizer, x, oneHot);
  const grads = new Map<string, Float32Array>();
  tf.tidy(() => {
    const features = net.frozen(x);
    const g = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oneHot, net.trained(features)) as tf.Scalar, net.trainable).grads;
    for (const [k, v] of Object.entries(g)) grads.set(k, v.dataSync() as Float32Array);
  });
  const start = snapshot(net.model);
  step(net, optimizer, x, oneHot);
  const end = snapshot(net.model);
  const lastBlock = weightNames(net.model, anatomy.blocks.at(-1)!.layers);
  const classifier = weightNames(net.model, ['classifier_finetuned']);
  assert.equal(lastBlock.size, 2); // the second convolution's kernel and bias
  for (const [name, w0] of start) {
    const w1 = end.get(name)!;
    const factor = classifier.has(name) ? 1 : lastBlock.has(name) ? 0.1 : 0;
    if (factor === 0) {
      assert.ok(same(w0, w1), `${name} is frozen but changed`);
      continue;
    }
    const g = grads.get(name)!;
    assert.ok(!same(w0, w1), `${name} should have trained`);
    for (let i = 0; i < w0.length; i++) {
      const want = w0[i]! - rate * factor * g[i]!;
      assert.ok(Math.abs(w1[i]! - want) <= 1e-6 + 1e-5 * Math.abs(want), `${name}[${i}]: ${w1[i]} != ${want}`);
    }
  }
  for (let i = 0; i < 3; i++) step(net, optimizer, x, oneHot);
  for (const [name, w] of snapshot(net.model)) if (!classifier.has(name) && !lastBlock.has(name)) assert.ok(same(start.get(name)!, w), `${name} changed`);
  tf.dispose([x, labels, oneHot]);
  optimizer.dispose();
  dispose(net);
  assert.equal(tf.memory().numTensors, before);
});

test('resnet-8: frozen blocks keep their batch-norm statistics, an unfrozen block updates its own; the loaded layer is the app’s', async () => {
  const before = tf.memory().numTensors;
  const anatomy = analyseLayersModel(JSON.parse(readFileSync(path.join(RESNET, 'model.json'), 'utf8')), 'resnet-8');
  const net = await startModelNet(spec(RESNET, { unfreeze: 1, inputShape: [8, 8, 1] }));
  const bnLayers = net.model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  assert.ok(bnLayers.length > 0 && bnLayers.every((l) => l instanceof BatchNormalization));
  const optimizer = createNetOptimizer('adam', 0.01, 0.9, net.rateGroups);
  const { x, labels, oneHot } = batch(mnist8, 8);
  const start = snapshot(net.model);
  for (let i = 0; i < 2; i++) step(net, optimizer, x, oneHot);
  const end = snapshot(net.model);
  const trained = weightNames(net.model, [...anatomy.blocks.at(-1)!.layers, 'classifier_finetuned']);
  const movingOf = (layers: string[]) =>
    layers
      .filter((n) => anatomy.layers.find((l) => l.name === n)!.className === 'BatchNormalization')
      .flatMap((n) => net.model.getLayer(n).nonTrainableWeights.map((w) => varName(w)));
  const frozenMoving = movingOf(anatomy.blocks.slice(0, -1).flatMap((b) => b.layers));
  const trainedMoving = movingOf(anatomy.blocks.at(-1)!.layers);
  assert.equal(frozenMoving.length, 2 * 6); // stem 1 + blocks of stages 1–2: 1 + 2 + 3 batch norms, mean and variance each
  assert.ok(trainedMoving.length > 0);
  for (const name of frozenMoving) assert.ok(same(start.get(name)!, end.get(name)!), `${name} (frozen) moved`);
  for (const name of trainedMoving) assert.ok(!same(start.get(name)!, end.get(name)!), `${name} (trained) did not move`);
  for (const [name, w] of end) if (!trained.has(name)) assert.ok(same(start.get(name)!, w), `${name} is frozen but changed`);
  tf.dispose([x, labels, oneHot]);
  optimizer.dispose();
  dispose(net);
  assert.equal(tf.memory().numTensors, before);
});

test('resnet-8 with unfreeze 1…4 trains exactly the last N blocks (4 = all; 9 is all too)', async () => {
  const before = tf.memory().numTensors;
  const anatomy = analyseLayersModel(JSON.parse(readFileSync(path.join(RESNET, 'model.json'), 'utf8')), 'resnet-8');
  assert.equal(anatomy.blocks.length, 4); // stem + 3 residual blocks
  const { x, labels, oneHot } = batch(mnist8, 4);
  let previous = 0;
  for (const unfreeze of [1, 2, 3, 4, 9]) {
    const net = await startModelNet(spec(RESNET, { unfreeze, inputShape: [8, 8, 1] }));
    const blocks = anatomy.blocks.slice(-unfreeze);
    const expected = new Set(blocks.flatMap((b) => b.layers).flatMap((n) => net.model.getLayer(n).trainableWeights.map((w) => varName(w))));
    assert.deepEqual(new Set(net.rateGroups[1]!.variables.map((v) => v.name)), expected, `unfreeze ${unfreeze}`);
    assert.equal(batchNormTrained(anatomy, unfreeze), true);
    assert.ok(expected.size > previous || unfreeze === 9);
    previous = expected.size;
    if (unfreeze >= 4) assert.equal(net.trainable.length, net.model.trainableWeights.length);
    const optimizer = createNetOptimizer('sgd', 0.1, 0, net.rateGroups);
    step(net, optimizer, x, oneHot); // the zero classifier passes no gradient back at its first step
    const start = snapshot(net.model);
    step(net, optimizer, x, oneHot);
    const trained = weightNames(net.model, [...blocks.flatMap((b) => b.layers), 'classifier_finetuned']);
    for (const [name, w] of snapshot(net.model)) assert.equal(!same(start.get(name)!, w), trained.has(name), `unfreeze ${unfreeze}: ${name}`);
    optimizer.dispose();
    dispose(net);
  }
  tf.dispose([x, labels, oneHot]);
  assert.equal(tf.memory().numTensors, before);
});

test('the fine-tuned model saves and loads back (saveModelToDir, loadModelFromDir, tf.loadLayersModel) as stock tfjs layers, predicting the same', async () => {
  const before = tf.memory().numTensors;
  const net = await startModelNet(spec(SMALL, { inputShape: [32, 32, 3], classes: 5, unfreeze: 1 }));
  const optimizer = createNetOptimizer('adam', 0.01, 0.9, net.rateGroups);
  const { x, labels, oneHot } = batch(rgbDigits, 8);
  for (let i = 0; i < 2; i++) step(net, optimizer, x, oneHot);
  const dir = path.join(tmp, 'finetuned');
  await saveModelToDir(net.model, dir, { classes: rgbDigits.manifest.classes });
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { class_name: string }[] } } };
  assert.deepEqual([...new Set(json.modelTopology.config.layers.map((l) => l.class_name))].sort(), [
    'Conv2D',
    'Dense',
    'Flatten',
    'InputLayer',
    'MaxPooling2D',
    'Permute',
  ]);
  const loaded = await loadModelFromDir(dir);
  const data = readFileSync(path.join(dir, 'weights.bin'));
  const viaTf = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: (json as unknown as { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }).weightsManifest[0]!.weights,
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  );
  const want = tf.tidy(() => (net.model.predict(x) as tf.Tensor).dataSync() as Float32Array);
  for (const m of [loaded, viaTf]) {
    const p = m.predict(x) as tf.Tensor;
    assert.ok(same(p.dataSync() as Float32Array, want));
    p.dispose();
    m.dispose();
  }
  tf.dispose([x, labels, oneHot]);
  optimizer.dispose();
  dispose(net);
  assert.equal(tf.memory().numTensors, before);
});

test('a fine-tuned model fine-tuned again: its adapters belong to the input (no blocks of their own, never trained), its classifier name is reused', async () => {
  // Written by the round-trip test above: 'small' fine-tuned on 32×32 RGB, adapters in front.
  const dir = path.join(tmp, 'finetuned');
  const anatomy = analyseLayersModel(JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')), dir);
  assert.equal(anatomy.blocks.length, 2);
  assert.equal(anatomy.classifier, 'classifier_finetuned');
  assert.deepEqual(
    anatomy.blocks[0]!.layers.slice(0, 6).map((n) => n.replace(/_\d+$/, '')),
    [
      'input_adapter_rgb_to_grey',
      'input_adapter_to_chw',
      'input_adapter_resize_width',
      'input_adapter_swap_hw',
      'input_adapter_resize_height',
      'input_adapter_to_hwc',
    ],
  );
  const before = tf.memory().numTensors;
  const net = await startModelNet(spec(dir, { inputShape: [32, 32, 3], classes: 5, unfreeze: 9 }));
  assert.equal(net.model.name, 'small_classifier_finetuned');
  assert.equal(net.model.layers.at(-1)!.name, 'classifier_finetuned');
  const adapters = net.model.layers.filter((l) => l.name.startsWith('input_adapter_'));
  assert.equal(adapters.length, 6);
  const adapterWeights = new Set(adapters.flatMap((l) => l.weights.map(varName)));
  assert.equal(adapterWeights.size, 3);
  assert.ok(net.trainable.every((v) => !adapterWeights.has(v.name)));
  const optimizer = createNetOptimizer('sgd', 0.1, 0, net.rateGroups);
  const { x, labels, oneHot } = batch(rgbDigits, 4);
  step(net, optimizer, x, oneHot); // the zero classifier passes no gradient back at its first step
  const start = snapshot(net.model);
  step(net, optimizer, x, oneHot);
  for (const [name, w] of snapshot(net.model)) assert.equal(!same(start.get(name)!, w), !adapterWeights.has(name), name);
  tf.dispose([x, labels, oneHot]);
  optimizer.dispose();
  dispose(net);
  assert.equal(tf.memory().numTensors, before);
});

/** Bytes a net's second step (the optimizer's slots exist by then) holds at its peak beyond what was held before it. */
async function stepPeak(net: TrainableNet, x: tf.Tensor, oneHot: tf.Tensor2D): Promise<number> {
  const optimizer = createNetOptimizer('sgd', 0.01, 0.9, net.rateGroups);
  step(net, optimizer, x, oneHot);
  const held = tf.memory().numBytes;
  // tf.profile's peakBytes counts every byte held, not only the step's.
  const info = await tf.profile(() => void step(net, optimizer, x, oneHot));
  optimizer.dispose();
  return info.peakBytes - held;
}

test("a frozen backbone's step peaks lower than the same architecture's step from scratch", async (t) => {
  const before = tf.memory().numTensors;
  const { x, labels, oneHot } = batch(mnist8, 16);
  const frozen = await startModelNet(spec(RESNET, { unfreeze: 0, inputShape: [8, 8, 1] }));
  const scratch = builtInNet({ model: 'resnet-8', inputShape: [8, 8, 1], classes: 10, seed: 3 });
  const frozenPeak = await stepPeak(frozen, x, oneHot);
  const scratchPeak = await stepPeak(scratch, x, oneHot);
  t.diagnostic(`resnet-8, batch 16, 8×8×1: frozen backbone ${(frozenPeak / 2 ** 20).toFixed(1)} MiB, from scratch ${(scratchPeak / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(frozenPeak < scratchPeak / 2, `${frozenPeak} vs ${scratchPeak}`);
  tf.dispose([x, labels, oneHot]);
  dispose(frozen);
  dispose(scratch);
  assert.equal(tf.memory().numTensors, before);
});

test("a Flatten→Dense backbone fixed to 28×28 ('large') fine-tunes 32×32 RGB through the resize adapter, its Dense block trained", async () => {
  const dir = path.join(tmp, 'large');
  await saveUntrained('large', dir, [28, 28, 1]);
  const before = tf.memory().numTensors;
  const net = await startModelNet(spec(dir, { inputShape: [32, 32, 3], classes: 5, unfreeze: 1 }));
  const optimizer = createNetOptimizer('adam', 0.01, 0.9, net.rateGroups);
  const { x, labels, oneHot } = batch(rgbDigits, 4);
  assert.ok(Number.isFinite(step(net, optimizer, x, oneHot)));
  assert.deepEqual(
    net.rateGroups[1]!.variables.map((v) => v.shape),
    [[4 * 4 * 64, 128], [128]],
  );
  tf.dispose([x, labels, oneHot]);
  optimizer.dispose();
  dispose(net);
  assert.equal(tf.memory().numTensors, before);
});

test("a start model trained on 0–255 pixels gets a rescaling adapter: its features are the original's on x × 255", async () => {
  const dir = path.join(tmp, 'small-255');
  cpSync(SMALL, dir, { recursive: true });
  const file = path.join(dir, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as { userDefinedMetadata: Record<string, unknown> };
  json.userDefinedMetadata.normalization = { kind: 'scale', scale: 1 };
  writeFileSync(file, JSON.stringify(json));
  const before = tf.memory().numTensors;
  const net = await startModelNet(spec(dir));
  assert.deepEqual(
    net.model.layers.slice(0, 2).map((l) => l.getClassName()),
    ['InputLayer', 'Rescaling'],
  );
  const original = await loadModelFromDir(SMALL);
  const anatomy = analyseLayersModel(json, dir);
  const probe = tf.model({ inputs: original.inputs, outputs: original.getLayer(anatomy.features).output as tf.SymbolicTensor });
  const { x, labels, oneHot } = batch(mnist, 4);
  const [got, want] = tf.tidy(() => [net.frozen(x), probe.predict(tf.mul(x, 255)) as tf.Tensor]);
  const g = got!.dataSync();
  const w = want!.dataSync();
  for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i]! - w[i]!) <= 1e-4 * (1 + Math.abs(w[i]!)), `feature ${i}: ${g[i]} vs ${w[i]}`);
  tf.dispose([got!, want!, x, labels, oneHot]);
  original.dispose();
  dispose(net);
  assert.equal(tf.memory().numTensors, before);
});

test('runTrainingLoop with a start model’s net (5 RGB classes) completes and its loss falls', async (t) => {
  const before = tf.memory().numTensors;
  const net = await startModelNet(spec(SMALL, { inputShape: [32, 32, 3], classes: 5 }));
  const losses: number[] = [];
  const r = await runTrainingLoop({
    dataset: rgbDigits,
    net,
    config: { ...baseConfig, batchSize: 16, epochs: 4 },
    maxSteps: 30,
    shouldStop: () => false,
    onStep: (s) => losses.push(s.loss),
    onEpoch: () => undefined,
    memoryBytes: () => 0,
    readbackIntervalMs: 0,
  });
  assert.equal(r.status, 'completed');
  assert.equal(losses.length, r.summary.steps);
  assert.ok(losses.length >= 24, `${losses.length} steps`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(losses.slice(0, 6));
  const last = mean(losses.slice(-6));
  t.diagnostic(`${losses.length} steps; mean loss of the first 6 ${first.toFixed(3)}, of the last 6 ${last.toFixed(3)}`);
  assert.ok(last < first * 0.7, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
  assert.equal(r.model, net.model);
  r.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('refusals: clear errors, nothing left on the device', async () => {
  const before = tf.memory().numTensors;
  const rejects = (s: StartModelSpec, pattern: RegExp) => assert.rejects(startModelNet(s), (err: Error) => pattern.test(err.message));
  await rejects(spec(path.join(tmp, 'nowhere')), /could not read the start model .*nowhere.*model\.json/);
  await rejects(spec(SMALL, { inputShape: [784] }), /not images \[height, width, channels\]/);
  await rejects(spec(SMALL, { inputShape: [28, 28, 4] }), /4 channels and the start model's 1; only grey ↔ RGB/);
  await rejects(spec(SMALL, { unfreeze: -1 }), /unfreeze must be a whole number/);
  const graph = path.join(tmp, 'graph');
  cpSync(SMALL, graph, { recursive: true });
  writeFileSync(path.join(graph, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
  await rejects(spec(graph), /TensorFlow graph model \(e\.g\. most TF Hub models\); tfjs cannot train one/);
  writeFileSync(path.join(graph, 'model.json'), '{"modelTopology": ');
  await rejects(spec(graph), /model\.json is not valid JSON/);
  const mlp = path.join(tmp, 'mlp');
  await saveUntrained('mlp', mlp, [28, 28, 1]);
  await rejects(spec(mlp), /no convolutional backbone/);
  const odd = path.join(tmp, 'odd-scale');
  cpSync(SMALL, odd, { recursive: true });
  const json = JSON.parse(readFileSync(path.join(odd, 'model.json'), 'utf8')) as { userDefinedMetadata: Record<string, unknown> };
  json.userDefinedMetadata.normalization = { kind: 'standardize', mean: [0], std: [1] };
  writeFileSync(path.join(odd, 'model.json'), JSON.stringify(json));
  await rejects(spec(odd), /userDefinedMetadata\.normalization is .*standardize/);
  // A weights file that does not match model.json: the load fails, said as such.
  const broken = path.join(tmp, 'broken');
  cpSync(SMALL, broken, { recursive: true });
  writeFileSync(path.join(broken, 'weights.bin'), Buffer.alloc(16));
  await assert.rejects(
    startModelNet(spec(broken)),
    (err: Error) => err instanceof ModelTopologyError && /could not load the start model .* with its weights/.test(err.message),
  );
  assert.equal(tf.memory().numTensors, before);
});
