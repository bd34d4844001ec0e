// The PyTorch engine's models are the tfjs models: python/autobatch_trainer/keras_model.py reads
// the model.json + weights.bin that model-files.ts writes, and its logits on 64 seeded samples
// agree with tfjs's; weights changed in PyTorch and saved in the tfjs format give the same logits
// in tfjs; batch norm in training mode normalises and moves its statistics as tfjs's does.
// Tolerance: |torch − tfjs| ≤ 1e-4 × max(1, largest |tfjs logit|), absolute for logits up to 1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, cpSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from '../../src/main/engine/models/batch-norm-layer.js';
import { buildModel } from '../../src/main/engine/models/build-model.js';
import { createNet } from '../../src/main/engine/models/create-net.js';
import { loadModelFromDir, saveModelToDir } from '../../src/main/engine/models/model-files.js';
import type { TrainableNet } from '../../src/main/engine/models/trainable-net.js';
import type { ModelKind } from '../../src/shared/run-types.js';
import { INPUT_ADAPTER_PREFIX } from '../../src/shared/model-topology.js';
import { findPart, missing } from '../support/parts.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CHECK_SCRIPT = path.join(repoRoot, 'test/python/torch_model_check.py');
const SAMPLES = 64;
const TOLERANCE = 1e-4;

const skip = missing('torch');
/** The interpreter probeTorch found: its finding reads "<python> (Python x, torch y)". */
function torchPython(): string {
  const finding = findPart('torch');
  if (!finding.ok) throw new Error(finding.reason);
  return finding.detail.slice(0, finding.detail.lastIndexOf(' ('));
}

let work: string;
before(async () => {
  await tf.setBackend('cpu');
  work = mkdtempSync(path.join(os.tmpdir(), 'autobatch-torch-model-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

type TaskResult = { ok: true; [key: string]: unknown } | { ok: false; type: string; message: string };

/** Runs the tasks in one Python process. */
function python(tasks: object[]): TaskResult[] {
  const jobFile = path.join(work, `job-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(jobFile, JSON.stringify({ tasks }));
  const r = spawnSync(torchPython(), [CHECK_SCRIPT, jobFile], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, PYTHONPATH: path.join(repoRoot, 'python') },
  });
  assert.equal(r.status, 0, `the Python check failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { results: TaskResult[] }).results;
}

function ok(result: TaskResult | undefined): Record<string, unknown> {
  assert.ok(result, 'no result');
  if (!result.ok) assert.fail(`${result.type}: ${result.message}`);
  return result;
}

function writeFloats(file: string, t: tf.Tensor): void {
  writeFileSync(file, Buffer.from((t.dataSync() as Float32Array).buffer));
}

function readFloats(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The largest |torch − tfjs| over the largest |tfjs| (at least 1), and the latter. */
function compare(torchValues: Float32Array, tfjsValues: Float32Array): { error: number; scale: number } {
  assert.equal(torchValues.length, tfjsValues.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < tfjsValues.length; i++) {
    diff = Math.max(diff, Math.abs(torchValues[i]! - tfjsValues[i]!));
    scale = Math.max(scale, Math.abs(tfjsValues[i]!));
  }
  return { error: diff / scale, scale };
}

function assertClose(what: string, torchValues: Float32Array, tfjsValues: Float32Array): void {
  assert.ok(
    tfjsValues.every((v) => Number.isFinite(v)),
    `${what}: tfjs gave non-finite values`,
  );
  const { error, scale } = compare(torchValues, tfjsValues);
  assert.ok(
    error <= TOLERANCE,
    `${what}: max |torch − tfjs| is ${(error * scale).toExponential(2)} at logit scale ${scale.toFixed(2)} (limit ${TOLERANCE} × scale)`,
  );
}

/**
 * Every weight changed, seeded: kernels and biases get noise, gammas around 1, moving means
 * away from 0 and moving variances away from 1 (so inference really reads them). The input
 * adapters' fixed maps are left as made.
 */
function randomiseWeights(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.name.startsWith(INPUT_ADAPTER_PREFIX) || layer.weights.length === 0) continue;
    const values = tf.tidy(() =>
      layer.weights.map((w) => {
        const v = w.read();
        const noise = tf.randomNormal(v.shape, 0, 1, 'float32', s++);
        if (w.name.endsWith('moving_variance')) return tf.randomUniform(v.shape, 0.5, 2, 'float32', s++);
        if (w.name.endsWith('gamma')) return tf.add(1, tf.mul(noise, 0.2));
        if (w.name.endsWith('moving_mean') || w.name.endsWith('beta') || w.name.endsWith('bias')) return tf.mul(noise, 0.1);
        const std = tf.moments(v).variance.sqrt();
        return tf.add(v, tf.mul(noise, tf.add(tf.mul(std, 0.5), 0.02)));
      }),
    );
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function inputs(shape: number[], seed: number): tf.Tensor {
  return shape.length === 1 ? tf.randomNormal([SAMPLES, ...shape], 0, 1, 'float32', seed) : tf.randomUniform([SAMPLES, ...shape], 0, 1, 'float32', seed);
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

/** Both directions for a model saved in `dir`: tfjs → torch logits, then torch-changed weights → tfjs logits. */
async function checkBothWays(name: string, dir: string, inputShape: number[]): Promise<void> {
  const x = inputs(inputShape, 7);
  const xFile = path.join(work, `${name}-x.bin`);
  writeFloats(xFile, x);
  const shape = [SAMPLES, ...inputShape];
  const model = await loadModelFromDir(dir);
  const tfjsLogits = predict(model, x);
  model.dispose();
  const [forward, reverse] = python([
    { op: 'logits', model: dir, inputs: xFile, shape, out: path.join(work, `${name}-torch.bin`) },
    {
      op: 'perturb',
      model: dir,
      seed: 11,
      inputs: xFile,
      shape,
      out: path.join(work, `${name}-perturbed.bin`),
      save: path.join(work, `${name}-saved`),
      metadata: { test: name },
    },
  ]);
  ok(forward);
  assertClose(`${name}, tfjs weights in torch`, readFloats(path.join(work, `${name}-torch.bin`)), tfjsLogits);

  ok(reverse);
  const savedDir = path.join(work, `${name}-saved`);
  const original = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  const saved = JSON.parse(readFileSync(path.join(savedDir, 'model.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved.format, 'layers-model');
  assert.deepEqual(saved.userDefinedMetadata, { test: name });
  assert.deepEqual(saved.modelTopology, original.modelTopology);
  assert.deepEqual(saved.weightsManifest, original.weightsManifest, 'the same weight names, shapes and order');
  assert.ok(existsSync(path.join(savedDir, 'state_dict.pt')));
  const reloaded = await loadModelFromDir(savedDir);
  const perturbedTorch = readFloats(path.join(work, `${name}-perturbed.bin`));
  const perturbedTfjs = predict(reloaded, x);
  reloaded.dispose();
  assert.ok(compare(perturbedTfjs, tfjsLogits).error > 100 * TOLERANCE, `${name}: the perturbed weights should change the logits`);
  assertClose(`${name}, torch-changed weights in tfjs`, perturbedTorch, perturbedTfjs);
  x.dispose();
}

async function savedBuiltIn(kind: ModelKind, inputShape: number[]): Promise<string> {
  const model = buildModel(kind, { inputShape, classes: 10 }, 3);
  randomiseWeights(model, 100);
  const dir = path.join(work, `model-${kind}`);
  await saveModelToDir(model, dir, { normalization: { kind: 'scale', scale: 1 / 255 } });
  model.dispose();
  return dir;
}

/** A model assembled for fine-tuning (weights randomised, saved): a 32×32 RGB start model adapted to 28×28 grey images at another pixel scale. */
async function fineTuned(start: ModelKind): Promise<{ dir: string; net: TrainableNet }> {
  const startDir = await savedBuiltIn(start, [32, 32, 3]);
  const net = await createNet({
    model: 'imported',
    inputShape: [28, 28, 1],
    classes: 5,
    normalization: { kind: 'scale', scale: 1 / 127.5 },
    seed: 5,
    startModel: { dir: startDir, unfreeze: 1, fineTuneRateFactor: 0.1 },
  });
  const names = net.model.layers.map((l) => l.name);
  for (const adapter of ['to_chw', 'resize_width', 'swap_hw', 'resize_height', 'to_hwc', 'grey_to_rgb', 'rescale']) {
    assert.ok(names.includes(`${INPUT_ADAPTER_PREFIX}${adapter}`), `the assembly has the ${adapter} adapter`);
  }
  randomiseWeights(net.model, 200);
  const dir = path.join(work, `finetuned-${start}`);
  await saveModelToDir(net.model, dir);
  return { dir, net };
}

async function savedFineTuned(start: ModelKind): Promise<string> {
  const { dir, net } = await fineTuned(start);
  net.disposeParts();
  net.model.dispose();
  return dir;
}

describe('torch model: logits agree with tfjs in both directions', { skip }, () => {
  const cases: Array<[ModelKind, number[]]> = [
    ['small', [28, 28, 1]],
    ['large', [20, 20, 3]],
    ['mlp', [20]],
    ['resnet-8', [24, 24, 3]],
    ['mobilenet-0.35', [24, 24, 3]],
  ];
  for (const [kind, shape] of cases) {
    test(`${kind} on [${shape.join(', ')}]`, async () => {
      await checkBothWays(kind, await savedBuiltIn(kind, shape), shape);
    });
  }
  test('the remaining layer options: a 7×7/2 stem and a 3×3/2 max pool padded unevenly, depthwise ×2 with bias, tanh, ReLU caps', async () => {
    // ResNet-18's stem and pool at 20×20 pad (2, 3) and (0, 1): TensorFlow puts the odd pixel after.
    // No ReLU before the pool, so a window of negatives shows whether the padding is -inf.
    const model = tf.sequential({
      layers: [
        tf.layers.rescaling({ scale: 2, offset: -1, inputShape: [20, 20, 3] }),
        tf.layers.conv2d({ filters: 8, kernelSize: 7, strides: 2, padding: 'same', activation: 'relu' }),
        batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 }),
        tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, useBias: true }),
        tf.layers.activation({ activation: 'tanh' }),
        tf.layers.conv2d({ filters: 6, kernelSize: 2, padding: 'valid' }),
        tf.layers.reLU({ maxValue: 0.5 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 12, activation: 'relu' }),
        tf.layers.reLU({ maxValue: 6 }),
        tf.layers.dense({ units: 4 }),
      ],
    });
    randomiseWeights(model, 300);
    const dir = path.join(work, 'layer-options');
    await saveModelToDir(model, dir);
    model.dispose();
    await checkBothWays('layer-options', dir, [20, 20, 3]);
  });

  for (const start of ['small', 'resnet-8'] as const) {
    test(`fine-tuning assembly from ${start}: resize, grey → RGB and rescale adapters`, async () => {
      const dir = await savedFineTuned(start);
      await checkBothWays(`finetuned-${start}`, dir, [28, 28, 1]);
      const x = inputs([28, 28, 1], 9);
      const xFile = path.join(work, `frozen-${start}-x.bin`);
      writeFloats(xFile, x);
      x.dispose();
      const frozen = ok(python([{ op: 'freeze', model: dir, inputs: xFile, shape: [SAMPLES, 28, 28, 1] }])[0]);
      assert.equal(frozen.sameOutputs, true, 'untrained batch norms use the moving statistics under train()');
      assert.equal(frozen.statisticsUnchanged, true);
      assert.deepEqual(frozen.gradsWhenFrozen, []);
      assert.deepEqual(frozen.untrainable, [
        `${INPUT_ADAPTER_PREFIX}grey_to_rgb`,
        `${INPUT_ADAPTER_PREFIX}resize_height`,
        `${INPUT_ADAPTER_PREFIX}resize_width`,
      ]);
      assert.deepEqual(frozen.untrainableGrads, [], 'the input adapters never train');
      assert.deepEqual(frozen.trainedWithoutGrad, []);
    });
  }
});

/**
 * One training-mode forward in torch (training `trained`, or every layer) against tfjs's
 * (`tfjsForward`, on a model holding the weights saved in `dir`): the outputs, and every moving
 * statistic afterwards (torch's as it saves them).
 */
async function checkTrainingForward(name: string, dir: string, x: tf.Tensor, tfjs: { model: tf.LayersModel; forward: () => tf.Tensor }, trained?: string[]) {
  const xFile = path.join(work, `train-${name}-x.bin`);
  writeFloats(xFile, x);
  const out = path.join(work, `train-${name}-torch.bin`);
  const savedDir = path.join(work, `train-${name}-saved`);
  ok(python([{ op: 'logits', model: dir, inputs: xFile, shape: x.shape, out, train: true, trained, save: savedDir }])[0]);
  const tfjsOut = tf.tidy(() => tfjs.forward().dataSync() as Float32Array);
  assertClose(`${name}, training-mode outputs`, readFloats(out), tfjsOut);
  const torchModel = await loadModelFromDir(savedDir);
  const torchStats = new Map(torchModel.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
  let compared = 0;
  for (const w of tfjs.model.weights) {
    if (!/moving_(mean|variance)$/.test(w.originalName)) continue;
    const mine = torchStats.get(w.originalName);
    assert.ok(mine, `torch saved ${w.originalName}`);
    assertClose(`${name}, ${w.originalName}`, mine, w.read().dataSync() as Float32Array);
    compared++;
  }
  assert.ok(compared >= 10, `compared ${compared} moving statistics`);
  torchModel.dispose();
}

describe('torch model: batch norm in training mode', { skip }, () => {
  for (const kind of ['resnet-8', 'mobilenet-0.35'] as const) {
    test(`${kind}: one training-mode forward gives tfjs's outputs and moving statistics`, async () => {
      const dir = await savedBuiltIn(kind, [24, 24, 3]);
      const x = inputs([24, 24, 3], 13);
      const model = await loadModelFromDir(dir);
      await checkTrainingForward(kind, dir, x, { model, forward: () => model.apply(x, { training: true }) as tf.Tensor });
      model.dispose();
      x.dispose();
    });
  }

  test('a fine-tuning assembly with its last block trained: frozen batch norms keep to the moving statistics, as in tfjs', async () => {
    const { dir, net } = await fineTuned('resnet-8');
    // The layers whose variables the tfjs net trains (the last residual block and the classifier).
    const trainedVariables = new Set<tf.Tensor>(net.trainable);
    const trained = net.model.layers.filter((l) => l.trainableWeights.some((w) => trainedVariables.has(w.read()))).map((l) => l.name);
    assert.ok(trained.length >= 5 && trained.length < net.model.layers.length / 2, `trains ${trained.length} of ${net.model.layers.length} layers`);
    const x = inputs([28, 28, 1], 17);
    await checkTrainingForward('finetuned-resnet-8', dir, x, { model: net.model, forward: () => net.trained(net.frozen(x)) }, trained);
    net.disposeParts();
    net.model.dispose();
    x.dispose();
  });
});

describe('torch model: refusals', { skip }, () => {
  test('an unsupported layer is a ModelError naming the layer and its class', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 8, inputShape: [4], name: 'hidden' }),
        tf.layers.leakyReLU({ name: 'leaky' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    const dir = path.join(work, 'unsupported');
    await saveModelToDir(model, dir);
    model.dispose();
    const [result] = python([{ op: 'load', model: dir }]);
    assert.equal(result?.ok, false);
    assert.ok(result && !result.ok && result.type === 'ModelError');
    assert.match(result.message, /'leaky' is a LeakyReLU/);
  });

  test('a weights.bin of the wrong size, and a weight the manifest lacks, are ModelErrors that say so', async () => {
    const dir = await savedBuiltIn('small', [28, 28, 1]);
    const short = path.join(work, 'short');
    cpSync(dir, short, { recursive: true });
    const bin = path.join(short, 'weights.bin');
    truncateSync(bin, readFileSync(bin).length - 4);

    const renamed = path.join(work, 'renamed');
    cpSync(dir, renamed, { recursive: true });
    const json = JSON.parse(readFileSync(path.join(renamed, 'model.json'), 'utf8')) as { weightsManifest: { weights: { name: string }[] }[] };
    const lost = json.weightsManifest[0]!.weights[1]!;
    const lostName = lost.name;
    lost.name = 'something_else/bias';
    writeFileSync(path.join(renamed, 'model.json'), JSON.stringify(json));

    const [wrongSize, missingWeight] = python([
      { op: 'load', model: short },
      { op: 'load', model: renamed },
    ]);
    assert.ok(wrongSize && !wrongSize.ok && wrongSize.type === 'ModelError');
    assert.match(wrongSize.message, /hold \d+ bytes, but the weights model\.json lists take \d+/);
    assert.ok(missingWeight && !missingWeight.ok && missingWeight.type === 'ModelError');
    assert.ok(missingWeight.message.includes(`no weight '${lostName}'`), missingWeight.message);
  });
});
