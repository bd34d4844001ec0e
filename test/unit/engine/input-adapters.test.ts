// The fixed input adapters of a fine-tuned model (models/input-adapters.ts) on the cpu backend:
// enlarging equals tfjs' bilinear resize with half-pixel centres, shrinking averages (a
// checkerboard becomes grey instead of aliasing), grey ↔ RGB, rescaling, and the symbolic shapes
// a model is built from.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { adaptInput, adapterProblem, LUMA_WEIGHTS, resizeWeights, type AdapterSpec } from '../../../src/main/engine/models/input-adapters.js';

before(async () => {
  await tf.setBackend('cpu');
});

let counter = 0;
/** The adapters from `from` to `to` as a model of their own. */
function adapterModel(from: number[], to: number[], scale = 1): tf.LayersModel {
  const input = tf.input({ shape: from });
  const spec: AdapterSpec = { from, to, scale, name: (base) => `${base}_t${counter++}` };
  const { output } = adaptInput(input, spec);
  return tf.model({ inputs: input, outputs: output });
}

function random(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, 0, 1, 'float32', seed);
}

function assertClose(got: tf.Tensor, want: tf.Tensor, tol: number): void {
  assert.deepEqual(got.shape, want.shape);
  const g = got.dataSync();
  const w = want.dataSync();
  for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i]! - w[i]!) <= tol, `value ${i}: ${g[i]} vs ${w[i]}`);
}

test('resize weights: rows sum to 1; the same size is the identity; halving is the [1, 3, 3, 1] / 8 triangle', () => {
  for (const [from, to] of [
    [7, 7],
    [5, 9],
    [28, 32],
    [224, 32],
    [9, 4],
  ] as const) {
    for (const row of resizeWeights(from, to)) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6, `${from}→${to}`);
  }
  const identity = resizeWeights(6, 6);
  identity.forEach((row, i) =>
    assert.deepEqual(
      Array.from(row),
      Array.from({ length: 6 }, (_, p) => (p === i ? 1 : 0)),
    ),
  );
  const half = resizeWeights(8, 4);
  assert.deepEqual(Array.from(half[1]!), [0, 1 / 8, 3 / 8, 3 / 8, 1 / 8, 0, 0, 0]);
});

test("enlarging equals tf.image.resizeBilinear with half-pixel centres, on every pixel; the model's shapes are right", () => {
  const model = adapterModel([5, 7, 2], [9, 11, 2]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 9, 11, 2]);
  assert.deepEqual(
    model.layers.map((l) => l.getClassName()),
    ['InputLayer', 'Permute', 'Dense', 'Permute', 'Dense', 'Permute'],
  );
  assert.ok(model.layers.every((l) => l.trainableWeights.length === 0));
  tf.tidy(() => {
    const x = random([3, 5, 7, 2], 1);
    assertClose(model.predict(x) as tf.Tensor, tf.image.resizeBilinear(x as tf.Tensor4D, [9, 11], false, true), 1e-5);
  });
  model.dispose();
});

test('shrinking averages: constant stays constant, a one-pixel checkerboard becomes grey (bilinear sampling would keep it black and white)', () => {
  const model = adapterModel([64, 64, 1], [8, 8, 1]);
  tf.tidy(() => {
    const board = tf.tensor4d(
      Array.from({ length: 64 * 64 }, (_, i) => (Math.floor(i / 64) + (i % 64)) % 2),
      [1, 64, 64, 1],
    );
    const y = (model.predict(board) as tf.Tensor).dataSync();
    assert.ok(
      y.every((v) => Math.abs(v - 0.5) < 0.02),
      `checkerboard → ${Array.from(y.slice(0, 4))}`,
    );
    // tfjs' default bilinear resize samples one pixel in 8 here.
    const sampled = tf.image.resizeBilinear(board as tf.Tensor4D, [8, 8]).dataSync();
    assert.ok(
      sampled.every((v) => v === 0 || v === 1),
      'plain bilinear sampling aliases',
    );
    const flat = (model.predict(tf.fill([1, 64, 64, 1], 0.7)) as tf.Tensor).dataSync();
    assert.ok(flat.every((v) => Math.abs(v - 0.7) < 1e-6));
  });
  model.dispose();
});

test('grey → RGB copies the grey value into each channel; RGB → grey is luma; rescaling multiplies', () => {
  const toRgb = adapterModel([4, 4, 1], [4, 4, 3]);
  const toGrey = adapterModel([4, 4, 3], [4, 4, 1]);
  const rescale = adapterModel([4, 4, 1], [4, 4, 1], 255);
  assert.deepEqual(
    toRgb.layers.map((l) => l.getClassName()),
    ['InputLayer', 'Conv2D'],
  );
  assert.deepEqual(
    rescale.layers.map((l) => l.getClassName()),
    ['InputLayer', 'Rescaling'],
  );
  assert.equal(adaptInput(tf.input({ shape: [4, 4, 1] }), { from: [4, 4, 1], to: [4, 4, 1], scale: 1, name: (b) => b }).layers.length, 0);
  tf.tidy(() => {
    const grey = random([2, 4, 4, 1], 2);
    assertClose(toRgb.predict(grey) as tf.Tensor, tf.concat([grey, grey, grey], 3), 0);
    const rgb = random([2, 4, 4, 3], 3);
    const luma = tf.sum(tf.mul(rgb, tf.tensor1d([...LUMA_WEIGHTS])), 3, true);
    assertClose(toGrey.predict(rgb) as tf.Tensor, luma, 1e-6);
    assertClose(rescale.predict(grey) as tf.Tensor, tf.mul(grey, 255), 1e-4);
  });
  for (const m of [toRgb, toGrey, rescale]) m.dispose();
});

test('channel counts other than grey ↔ RGB are refused with the counts named', () => {
  assert.equal(adapterProblem([8, 8, 3], [8, 8, 3]), null);
  assert.equal(adapterProblem([8, 8, 1], [8, 8, 3]), null);
  assert.match(adapterProblem([8, 8, 4], [8, 8, 3])!, /4 channels and the start model's 3; only grey ↔ RGB/);
  assert.match(adapterProblem([8, 8, 2], [8, 8, 1])!, /2 channels and the start model's 1/);
});
