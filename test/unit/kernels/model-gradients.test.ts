// Every backend trains the batch-norm models with the cpu backend's gradients: ResNet-8 and
// MobileNetV2 x0.35 (their convolutions, depthwise convolutions, batch norms, ReLU/ReLU6, residual
// additions, global average pooling) from the same weights and data (batch 8) on cpu, wasm and
// webgpu (a Vulkan driver: lavapipe without a GPU). The gradients of every trainable variable and
// the losses of 3 Adam steps (the app's optimizer) must agree with cpu's within stated tolerances.
//
// Tolerances, per variable: max |a - b| over its max |b| (see gradientErrors), float32 throughout,
// with different summation orders (XNNPACK's blocked sums, the GPU's parallel reductions, cpu's
// sequential ones) over up to 8·16·16 = 2048 terms a reduction, through 8 to 50 layers.
// - ResNet-8 at 16x16, whose batch norms see 128 rows or more: measured 2e-6 (wasm) and 1e-6
//   (webgpu); the tolerance is 1e-3, and 1e-4 on the losses (measured 3e-7).
// - MobileNet at 32x32 normalises its last stages over 8 rows (one pixel of 8 images), and a batch
//   norm's gradient is a difference of nearly cancelling terms scaled by 1/sqrt(variance + eps):
//   float32 differences grow through those layers. Measured 3e-4 (wasm) and 2.5e-4 (webgpu), as
//   with tfjs-backend-wasm's own kernels; the tolerance is 3e-3. Its losses: Adam's first steps
//   move every weight by about the learning rate whatever its gradient's size, so weights whose
//   gradient is rounding noise move by a backend's noise: measured 2e-3 apart after 3 steps on
//   webgpu; the tolerance is 1e-2.
// Either tolerance still fails a wrong kernel (a wrong stride, padding or channel order shows as
// errors of order 1), and every backend's loss must fall.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../../src/main/engine/models/build-model.js';
import { createOptimizer } from '../../../src/main/engine/models/optimizer.js';
import { activateWebgpu } from '../../../src/main/engine/backends/webgpu.js';
import type { ModelKind } from '../../../src/shared/run-types.js';
import { missing } from '../../support/parts.js';
import { rng, setUpBackends } from './helpers.js';

const STEPS = 3;
const CLASSES = 4;
const BATCH = 8;

interface Case {
  kind: ModelKind;
  side: number;
  gradientTol: number;
  lossTol: number;
  /**
   * Batch norms' gamma and beta at the start (else the model's own, 1 and 0). MobileNet at 32x32
   * normalises its last stages over one pixel of 8 images: forward differences of float32
   * rounding grow there to ~5e-4 of the activations, and with beta 0 some of ReLU6's inputs fall
   * within that of 0 (or 6), so that a backend's mask differs in a few elements, each an eighth of
   * a sum (measured: up to 3e-2 in one variable, with tfjs-backend-wasm's own kernels as with the
   * app's), and Adam's steps from there diverge (losses 35 % apart after two steps for both). With
   * gamma 0.5 and beta 3 the ReLU6 inputs sit far from 0 and 6 and nothing flips.
   */
  batchNorm?: { gamma: number; beta: number };
}
const CASES: Case[] = [
  { kind: 'resnet-8', side: 16, gradientTol: 1e-3, lossTol: 1e-4 },
  { kind: 'mobilenet-0.35', side: 32, gradientTol: 3e-3, lossTol: 1e-2, batchNorm: { gamma: 0.5, beta: 3 } },
];

interface Result {
  grads: Float32Array[];
  losses: number[];
}

interface Start {
  weights: Array<{ shape: number[]; data: Float32Array }>;
  x: Float32Array;
  labels: number[];
}

async function start(c: Case, seed: number): Promise<Start> {
  const model = buildModel(c.kind, { inputShape: [c.side, c.side, 3], classes: CLASSES }, seed);
  if (c.batchNorm) {
    for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
      const [gamma, beta, ...moving] = layer.getWeights();
      const set = [tf.fill(gamma!.shape, c.batchNorm.gamma), tf.fill(beta!.shape, c.batchNorm.beta)];
      layer.setWeights([...set, ...moving]);
      tf.dispose(set);
    }
  }
  const weights = await Promise.all(model.getWeights().map(async (w) => ({ shape: w.shape.slice(), data: (await w.data()) as Float32Array })));
  model.dispose();
  const r = rng(seed);
  return { weights, x: r.normals(BATCH * c.side * c.side * 3), labels: Array.from({ length: BATCH }, () => r.int(0, CLASSES - 1)) };
}

/** The gradients at the start, then the loss of each of STEPS Adam steps and after the last. */
async function train(backend: string, c: Case, s: Start): Promise<Result> {
  await tf.setBackend(backend);
  const model = buildModel(c.kind, { inputShape: [c.side, c.side, 3], classes: CLASSES }, 1);
  const initial = s.weights.map((w) => tf.tensor(w.data, w.shape));
  model.setWeights(initial);
  tf.dispose(initial);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xs = tf.tensor4d(s.x, [BATCH, c.side, c.side, 3]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(s.labels, 'int32'), CLASSES).toFloat());
  const loss = (): tf.Scalar => tf.tidy(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
  const first = tf.variableGrads(loss, vars);
  // data(), not dataSync(): webgpu reads back asynchronously.
  const grads = await Promise.all(vars.map(async (v) => (await first.grads[v.name]!.data()) as Float32Array));
  tf.dispose([first.value, ...Object.values(first.grads)]);
  const { optimizer } = createOptimizer('adam', 1e-3, 0);
  const losses: number[] = [];
  for (let i = 0; i <= STEPS; i++) {
    const value = i < STEPS ? (optimizer.minimize(loss, true, vars) as tf.Scalar) : loss();
    losses.push((await value.data())[0]!);
    value.dispose();
  }
  optimizer.dispose();
  model.dispose();
  tf.dispose([xs, ys]);
  return { grads, losses };
}

/**
 * Per variable: max |a - b| over the larger of the variable's own max |b| and 1 % of the model's
 * largest gradient. The floor serves variables whose gradient is zero in exact arithmetic (the
 * shift of a batch norm that another batch norm follows): theirs is rounding noise.
 */
function gradientErrors(got: Float32Array[], want: Float32Array[]): number[] {
  const largest = want.reduce((m, g) => g.reduce((n, v) => Math.max(n, Math.abs(v)), m), 0);
  return got.map((a, i) => {
    const b = want[i]!;
    let diff = 0;
    let mag = 1e-2 * largest;
    for (let k = 0; k < b.length; k++) {
      if (Number.isNaN(a[k]!) !== Number.isNaN(b[k]!)) return Infinity;
      diff = Math.max(diff, Math.abs(a[k]! - b[k]!));
      mag = Math.max(mag, Math.abs(b[k]!));
    }
    return diff / mag;
  });
}

function compare(backend: string, c: Case, got: Result, want: Result): void {
  assert.equal(got.grads.length, want.grads.length);
  const errors = gradientErrors(got.grads, want.grads);
  const worst = errors.reduce((m, e, i) => (e > errors[m]! ? i : m), 0);
  if (process.env.SHOW_GRADIENT_ERRORS) {
    console.log(
      `${c.kind} on ${backend}: worst gradient error ${errors[worst]} (variable ${worst} of ${errors.length}); losses ${got.losses.join(', ')} vs cpu ${want.losses.join(', ')}`,
    );
  }
  assert.ok(errors[worst]! <= c.gradientTol, `${c.kind} on ${backend}: gradient of variable ${worst} differs from cpu's by ${errors[worst]}`);
  got.losses.forEach((l, i) =>
    assert.ok(
      Math.abs(l - want.losses[i]!) <= c.lossTol * Math.max(1, Math.abs(want.losses[i]!)),
      `${c.kind} on ${backend}: loss ${i} ${l} vs cpu ${want.losses[i]}`,
    ),
  );
  assert.ok(got.losses[STEPS]! < got.losses[0]!, `${c.kind} on ${backend}: the loss does not fall (${got.losses.join(', ')})`);
}

const reference = new Map<string, { start: Start; result: Result }>();
async function cpuReference(c: Case): Promise<{ start: Start; result: Result }> {
  const known = reference.get(c.kind);
  if (known) return known;
  await tf.setBackend('cpu');
  const s = await start(c, 3);
  const entry = { start: s, result: await train('cpu', c, s) };
  reference.set(c.kind, entry);
  return entry;
}

before(() => setUpBackends(1));

for (const c of CASES) {
  describe(`${c.kind} at ${c.side}x${c.side}x3, batch ${BATCH}: the cpu backend's gradients and losses`, () => {
    it('on wasm', async () => {
      const { start: s, result: want } = await cpuReference(c);
      const before = tf.memory().numTensors;
      compare('wasm', c, await train('wasm', c, s), want);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    });

    it('on webgpu', { skip: missing('webgpu'), timeout: 600_000 }, async () => {
      const { start: s, result: want } = await cpuReference(c);
      await activateWebgpu({ allowSoftware: true });
      compare('webgpu', c, await train('webgpu', c, s), want);
    });
  });
}
