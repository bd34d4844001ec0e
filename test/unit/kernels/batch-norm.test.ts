// Batch normalisation: the app's wasm kernels (kernels/batch-norm.ts: the training statistics and
// gradient, FusedBatchNorm) against the cpu backend (tf.moments, tfjs's own gradient of moments +
// batchNorm, its FusedBatchNorm), with and without the SIMD routines; and the app's layer
// (models/batch-norm-layer.ts) against tfjs-layers' stock BatchNormalization on cpu and on wasm:
// outputs, gradients and moving statistics. Seeded random shapes: channels 1–48, multiples of 4
// (the SIMD path) and not, odd sizes, more rows than a SIMD block holds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_STATISTICS, BATCH_NORM_TRAINING_GRAD } from '../../../src/main/engine/kernels/batch-norm.js';
import { BatchNormalization, batchNormInTraining } from '../../../src/main/engine/models/batch-norm-layer.js';
import { setSimdKernelsEnabled } from '../../../src/main/engine/kernels/wasm-simd.js';
import { fmt, relErr, rng, runOn, setUpBackends, type Arr, type Backend } from './helpers.js';

const TOL = 1e-4;
const SEED = Number(process.env.KERNEL_TEST_SEED ?? 20261130);
const EPS = 1e-5;

type Rng = ReturnType<typeof rng>;

/** A random shape [.., C] of rank 2–4 (up to ~900 rows), with its values spread around a per-case offset. */
function randomInput(r: Rng): Arr {
  const rank = r.int(2, 4);
  const C = r.pick([1, 3, 4, 5, 8, 12, 13, 16, 48]);
  const shape = [...Array.from({ length: rank - 1 }, (_, i) => r.int(1, i === 0 ? 6 : 12)), C];
  const offset = (r.next() - 0.5) * 8;
  const spread = 0.2 + r.next() * 3;
  const data = r.normals(shape.reduce((a, b) => a * b, 1)).map((v) => offset + spread * v);
  return { shape, data };
}

function vector(r: Rng, n: number, lo: number, hi: number): Arr {
  return { shape: [n], data: r.normals(n).map((v) => lo + ((v + 1) / 2) * (hi - lo)) };
}

/** Runs f in a tf.tidy scope: every tensor it makes is disposed, what it returns is plain data. */
function scoped<T>(f: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as T;
}

const toTensor = (a: Arr): tf.Tensor => tf.tensor(a.data, a.shape, 'float32');
const toArr = (t: tf.Tensor): Arr => ({ shape: t.shape.slice(), data: t.dataSync() as Float32Array });

/** Runs a multi-output kernel on wasm; checks that nothing is left behind. */
function runWasm(name: string, inputs: Record<string, Arr>, attrs: object): Arr[] {
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, toTensor(v)]));
  const before = tf.backend().numDataIds();
  const outs = tf.engine().runKernel(name, tensors as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor[];
  const result = outs.map(toArr);
  tf.dispose([...outs, ...Object.values(tensors)]);
  assert.equal(tf.backend().numDataIds(), before - Object.keys(inputs).length, `${name} leaked`);
  return result;
}

/** tfjs's own path on cpu: moments, batchNorm, and autodiff through both. */
function stockOnCpu(x: Arr, gamma: Arr, beta: Arr, dy: Arr): { mean: Arr; variance: Arr; y: Arr; dx: Arr; dGamma: Arr; dBeta: Arr } {
  return scoped(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const f = (xt: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(xt, axes);
      return tf.batchNorm(xt, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, EPS);
    };
    const [xt, g, b] = [x, gamma, beta].map(toTensor) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const { mean, variance } = tf.moments(xt, axes);
    const [dx, dGamma, dBeta] = tf.grads(f)([xt, g, b], toTensor(dy));
    return { mean: toArr(mean), variance: toArr(variance), y: toArr(f(xt, g, b)), dx: toArr(dx!), dGamma: toArr(dGamma!), dBeta: toArr(dBeta!) };
  });
}

function assertClose(got: Arr, want: Arr, what: string, tol = TOL): void {
  const err = relErr(got, want);
  assert.ok(err !== null && err <= tol, `${what}: err=${err} got shape ${fmt(got.shape)} want ${fmt(want.shape)}`);
}

/**
 * dx is a difference of terms of size |gamma| * |dy| / sqrt(variance + eps) that cancel (exactly,
 * with two rows a channel): its rounding error scales with them, not with dx. So the tolerance is
 * relative to the largest such term.
 */
function assertDxClose(got: Arr, want: Arr, gamma: Arr, variance: Arr, dy: Arr, what: string): void {
  let scale = 1;
  const C = gamma.data.length;
  const dyMax = dy.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let c = 0; c < C; c++) scale = Math.max(scale, (Math.abs(gamma.data[c]!) * dyMax) / Math.sqrt(variance.data[c]! + EPS));
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const diff = got.data.reduce((m, v, i) => Math.max(m, Math.abs(v - want.data[i]!)), 0);
  assert.ok(diff / scale <= TOL, `${what}: max |diff| ${diff} over scale ${scale}`);
}

before(() => setUpBackends(1));

for (const simd of [true, false]) {
  describe(`the batch-norm kernels (wasm, ${simd ? 'SIMD' : 'JavaScript'}) against tfjs on cpu`, () => {
    before(() => setSimdKernelsEnabled(simd));
    after(() => setSimdKernelsEnabled(true));

    it(`BatchNormStatistics gives tf.moments' mean and variance (60 random shapes, seed ${SEED})`, async () => {
      const r = rng(SEED);
      for (let i = 0; i < 60; i++) {
        const x = randomInput(r);
        await tf.setBackend('cpu');
        const want = stockOnCpu(x, vector(r, x.shape.at(-1)!, 1, 1), vector(r, x.shape.at(-1)!, 0, 0), x);
        await tf.setBackend('wasm');
        const [mean, variance] = runWasm(BATCH_NORM_STATISTICS, { x }, {});
        assertClose(mean!, want.mean, `mean of ${fmt(x.shape)}`);
        assertClose(variance!, want.variance, `variance of ${fmt(x.shape)}`);
      }
    });

    it(`BatchNormTrainingGrad gives autodiff's gradients of moments + batchNorm (60 random shapes, seed ${SEED})`, async () => {
      const r = rng(SEED + 1);
      for (let i = 0; i < 60; i++) {
        const x = randomInput(r);
        const C = x.shape.at(-1)!;
        const [gamma, beta] = [vector(r, C, 0.5, 2), vector(r, C, -1, 1)];
        const dy = { shape: x.shape, data: r.normals(x.data.length) };
        await tf.setBackend('cpu');
        const want = stockOnCpu(x, gamma, beta, dy);
        await tf.setBackend('wasm');
        const [dx, dGamma, dBeta] = runWasm(
          BATCH_NORM_TRAINING_GRAD,
          { dy, x, mean: want.mean, variance: want.variance, scale: gamma },
          { varianceEpsilon: EPS },
        );
        assertDxClose(dx!, want.dx, gamma, want.variance, dy, `dx of ${fmt(x.shape)}`);
        assertClose(dGamma!, want.dGamma, `dGamma of ${fmt(x.shape)}`);
        assertClose(dBeta!, want.dBeta, `dBeta of ${fmt(x.shape)}`);
      }
    });

    it(`FusedBatchNorm matches cpu: per-channel and scalar parameters, offset or scale absent (40 random shapes, seed ${SEED})`, async () => {
      const r = rng(SEED + 5);
      for (let i = 0; i < 40; i++) {
        const x = randomInput(r);
        const C = x.shape.at(-1)!;
        const param = (lo: number, hi: number): Arr => vector(r, r.next() < 0.2 ? 1 : C, lo, hi);
        const inputs: Record<string, Arr> = { x, mean: param(-1, 1), variance: param(0.1, 2) };
        if (r.next() < 0.8) inputs.offset = param(-1, 1);
        if (r.next() < 0.8) inputs.scale = param(0.5, 2);
        const attrs = { varianceEpsilon: r.pick([1e-3, 1e-5]) };
        assertClose(
          await runOn('wasm', tf.FusedBatchNorm, inputs, attrs),
          await runOn('cpu', tf.FusedBatchNorm, inputs, attrs),
          `FusedBatchNorm of ${fmt(x.shape)}`,
        );
      }
    });
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`batchNormInTraining on ${backend} against tfjs's moments + batchNorm on cpu`, () => {
    it(`gives the same output, statistics and gradients (40 random shapes, seed ${SEED})`, async () => {
      const r = rng(SEED + 2);
      for (let i = 0; i < 40; i++) {
        const x = randomInput(r);
        const C = x.shape.at(-1)!;
        const [gamma, beta] = [vector(r, C, 0.5, 2), vector(r, C, -1, 1)];
        const dy = { shape: x.shape, data: r.normals(x.data.length) };
        await tf.setBackend('cpu');
        const want = stockOnCpu(x, gamma, beta, dy);
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const got = scoped(() => {
          const [xt, g, b] = [x, gamma, beta].map(toTensor) as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
          const stats: Arr[] = [];
          const f = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor): tf.Tensor => {
            const out = batchNormInTraining(a, c as tf.Tensor1D, d as tf.Tensor1D, EPS);
            stats.push(toArr(out.mean), toArr(out.variance));
            return out.y;
          };
          const [dx, dGamma, dBeta] = tf.grads(f)([xt, g, b], toTensor(dy));
          return { y: toArr(f(xt, g, b)), mean: stats[0]!, variance: stats[1]!, dx: toArr(dx!), dGamma: toArr(dGamma!), dBeta: toArr(dBeta!) };
        });
        assert.equal(tf.memory().numTensors, before, 'tensors leaked');
        for (const k of ['y', 'mean', 'variance', 'dGamma', 'dBeta'] as const) assertClose(got[k], want[k], `${k} of ${fmt(x.shape)}`);
        assertDxClose(got.dx, want.dx, gamma, want.variance, dy, `dx of ${fmt(x.shape)}`);
      }
    });
  });
}

interface LayerRun {
  y: Arr;
  grads: Arr[];
  moving: Arr[];
}

/** Applies `layer` in training under tf.variableGrads of sum(y * w); returns y, the gradients of x and the trainable weights, and the moving statistics after. */
function trainOnce(layer: tf.layers.Layer, x: Arr, w: Arr, weights: Arr[]): LayerRun {
  return scoped(() => {
    const xv = tf.variable(toTensor(x), true);
    layer.apply(toTensor(x), { training: false }); // builds it
    layer.setWeights(weights.map(toTensor));
    let y: Arr | undefined;
    const vars = [xv, ...layer.trainableWeights.map((v) => v.read() as tf.Variable)];
    const { grads } = tf.variableGrads(() => {
      const out = layer.apply(xv, { training: true }) as tf.Tensor;
      y = toArr(out);
      return tf.sum(tf.mul(out, toTensor(w))) as tf.Scalar;
    }, vars);
    const result = {
      y: y!,
      grads: vars.map((v) => toArr(grads[v.name]!)),
      moving: layer
        .getWeights()
        .slice(vars.length - 1)
        .map(toArr),
    };
    xv.dispose();
    return result;
  });
}

describe("the app's BatchNormalization layer against tfjs-layers' own", () => {
  for (const backend of ['cpu', 'wasm'] as Backend[]) {
    it(`on ${backend}: same output, gradients and moving statistics in training, and inference (rank 2 and 4, seed ${SEED})`, async () => {
      const r = rng(SEED + 3);
      for (let i = 0; i < 12; i++) {
        const x = randomInput(r);
        const C = x.shape.at(-1)!;
        const weights = [vector(r, C, 0.5, 2), vector(r, C, -1, 1), vector(r, C, -1, 1), vector(r, C, 0.5, 2)];
        const w = { shape: x.shape, data: r.normals(x.data.length) };
        const args = { axis: -1, momentum: 0.9, epsilon: EPS };
        await tf.setBackend('cpu');
        const stockLayer = tf.layers.batchNormalization(args);
        const want = trainOnce(stockLayer, x, w, weights);
        await tf.setBackend(backend);
        const appLayer = new BatchNormalization(args);
        const got = trainOnce(appLayer, x, w, weights);
        assertClose(got.y, want.y, `y of ${fmt(x.shape)}`);
        got.grads.forEach((g, k) => assertClose(g, want.grads[k]!, `gradient ${['x', 'gamma', 'beta'][k]} of ${fmt(x.shape)}`));
        got.moving.forEach((m, k) => assertClose(m, want.moving[k]!, `moving ${['mean', 'variance'][k]} of ${fmt(x.shape)}`));
        // Inference reads the moving statistics, as the stock layer does.
        const inferred = scoped(() => toArr(appLayer.apply(toTensor(x), { training: false }) as tf.Tensor));
        await tf.setBackend('cpu');
        const stockInferred = scoped(() => toArr(stockLayer.apply(toTensor(x), { training: false }) as tf.Tensor));
        assertClose(inferred, stockInferred, `inference of ${fmt(x.shape)}`);
        appLayer.dispose();
        stockLayer.dispose();
      }
    });
  }

  it('saves as the stock layer (same class name and config) and loads back as the app’s, registered under the stock name', () => {
    const make = (bn: tf.layers.Layer): tf.LayersModel => {
      const input = tf.input({ shape: [4, 4, 3], name: 'image' });
      return tf.model({ inputs: input, outputs: bn.apply(input) as tf.SymbolicTensor, name: 'm' });
    };
    const args = { axis: -1, momentum: 0.9, epsilon: EPS, name: 'bn' };
    const app = make(new BatchNormalization(args));
    const stock = make(tf.layers.batchNormalization(args));
    assert.deepEqual(app.toJSON(null, false), stock.toJSON(null, false));
    const loaded = tf.models.modelFromJSON(app.toJSON(null, false) as unknown as tf.io.ModelJSON);
    return loaded.then((m) => {
      assert.equal(m.layers[1]!.getClassName(), 'BatchNormalization');
      // A model read from a model.json (a start model to fine-tune) trains through the shorter path too.
      assert.ok(m.layers[1] instanceof BatchNormalization);
      tf.dispose([app, stock, m].flatMap((x) => x.weights.map((v) => v.read())));
    });
  });
});
