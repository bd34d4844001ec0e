// The device-side micro-batch statistics of the gradient noise scale, on least squares where the
// truth is known in closed form (as test/unit/shared/tuner-math.test.ts does in plain JS):
// per-sample gradient g = x(xᵀΔ − ε) with Δ = w − w*, x ~ N(0, I_d), ε ~ N(0, σ²), so
// |G|² = |Δ|² and tr Σ = (d + 1)|Δ|² + dσ².
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../../src/shared/random.js';
import { NoiseScaleEstimator, noiseScaleTerms } from '../../../src/shared/tuner-math.js';
import { microBatchGradientStats } from '../../../src/main/engine/tuner/gradient-noise.js';

function gaussian(seed: number): () => number {
  const rng = createRng(seed);
  return () => Math.sqrt(-2 * Math.log(rng() + 1e-300)) * Math.cos(2 * Math.PI * rng());
}

/** Least squares ½·mean((xw − y)²) on micro-batch i of a batch (x: [k·b, d], y: [k·b, 1]). */
function leastSquares(x: tf.Tensor2D, y: tf.Tensor2D, w: tf.Variable, b: number) {
  return (i: number) => {
    const xi = tf.slice(x, [i * b, 0], [b, -1]);
    const yi = tf.slice(y, [i * b, 0], [b, -1]);
    return tf.mul(0.5, tf.mean(tf.square(tf.sub(tf.matMul(xi, w), yi)))) as tf.Scalar;
  };
}

test('the micro-batch statistics are exact: ḡ is the whole batch gradient, the norms match', async () => {
  await tf.setBackend('cpu');
  const g = gaussian(3);
  const d = 5,
    k = 3,
    b = 4;
  const x = tf.tensor2d(Array.from({ length: k * b * d }, g), [k * b, d]);
  const y = tf.tensor2d(Array.from({ length: k * b }, g), [k * b, 1]);
  const w = tf.tidy(() => tf.variable(tf.tensor2d(Array.from({ length: d }, g), [d, 1])));
  const before = tf.memory().numTensors;
  const { meanGrads, stats } = microBatchGradientStats(k, leastSquares(x, y, w, b), [w]);
  const [meanSq, sqMean, loss] = Array.from(await stats.data());
  // By hand: each micro-batch gradient, and the whole batch's.
  const micro = Array.from({ length: k }, (_, i) => tf.tidy(() => tf.variableGrads(() => leastSquares(x, y, w, b)(i), [w]).grads[w.name]!.dataSync()));
  const whole = tf.tidy(() => tf.variableGrads(() => tf.mul(0.5, tf.mean(tf.square(tf.sub(tf.matMul(x, w), y)))) as tf.Scalar, [w]).grads[w.name]!.dataSync());
  const norm2 = (v: ArrayLike<number>) => Array.from(v).reduce((s, e) => s + e * e, 0);
  const close = (a: number, e: number) => Math.abs(a - e) <= 1e-4 * Math.max(1, Math.abs(e));
  assert.ok(close(meanSq!, micro.reduce((s, m) => s + norm2(m), 0) / k), 'mean‖gᵢ‖²');
  assert.ok(close(sqMean!, norm2(whole)), '‖ḡ‖² is the whole batch gradient’s squared norm');
  const mg = await meanGrads[w.name]!.data();
  whole.forEach((v, j) => assert.ok(close(mg[j]!, v)));
  assert.ok(Number.isFinite(loss!) && loss! > 0);
  tf.dispose([stats, ...Object.values(meanGrads)]);
  assert.equal(tf.memory().numTensors, before, 'only the returned tensors were kept');
  tf.dispose([x, y, w]);
});

test('through tf, the estimators recover |G|² and tr Σ of least squares within 20 %', async () => {
  await tf.setBackend('cpu');
  const gauss = gaussian(11);
  const d = 20,
    sigma = 1.5,
    k = 8,
    b = 16,
    steps = 1200;
  const wStar = Array.from({ length: d }, gauss);
  const delta = Array.from({ length: d }, () => 0.3 * gauss());
  const deltaSq = delta.reduce((s, v) => s + v * v, 0);
  const truth = { gradSq: deltaSq, traceSigma: (d + 1) * deltaSq + d * sigma * sigma };
  const tensors = tf.memory().numTensors;
  const w = tf.tidy(() =>
    tf.variable(
      tf.tensor2d(
        wStar.map((v, j) => v + delta[j]!),
        [d, 1],
      ),
    ),
  );
  const est = new NoiseScaleEstimator(0.995);
  const xs = new Float32Array(k * b * d);
  const ys = new Float32Array(k * b);
  for (let step = 0; step < steps; step++) {
    for (let n = 0; n < k * b; n++) {
      let dot = 0;
      for (let j = 0; j < d; j++) {
        const v = gauss();
        xs[n * d + j] = v;
        dot += v * wStar[j]!;
      }
      ys[n] = dot + sigma * gauss();
    }
    const x = tf.tensor2d(xs, [k * b, d]);
    const y = tf.tensor2d(ys, [k * b, 1]);
    const { meanGrads, stats } = microBatchGradientStats(k, leastSquares(x, y, w, b), [w]);
    const [meanSq, sqMean] = await stats.data();
    tf.dispose([x, y, stats, ...Object.values(meanGrads)]);
    const t = noiseScaleTerms(meanSq!, sqMean!, k, b);
    est.add(t.gradSq, t.traceSigma);
  }
  w.dispose();
  const relErr = (a: number, e: number) => Math.abs(a - e) / e;
  assert.ok(relErr(est.gradSq, truth.gradSq) < 0.2, `|G|² ${est.gradSq} vs ${truth.gradSq}`);
  assert.ok(relErr(est.traceSigma, truth.traceSigma) < 0.2, `tr Σ ${est.traceSigma} vs ${truth.traceSigma}`);
  const phi = truth.traceSigma / truth.gradSq;
  assert.ok(relErr(est.noiseScale, phi) < 0.3, `φ ${est.noiseScale} vs ${phi}`);
  assert.equal(tf.memory().numTensors, tensors, 'nothing leaked');
});
