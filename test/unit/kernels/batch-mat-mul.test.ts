// The app's wasm BatchMatMul (batch-mat-mul.ts) against the cpu backend, used the way a dense
// layer's gradients use it: the same tensors fed to several products with different transposes,
// a large batch first and then a one-sample batch (the last batch of an epoch), so that the wasm
// heap holds stale data and XNNPACK's operator cache holds operators from the earlier products.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchMatMulConfig } from '../../../src/main/engine/kernels/batch-mat-mul.js';
import { fmt, relErr, rng, setUpBackends, type Arr, type Backend } from './helpers.js';

const TOL = 1e-4;
const SEED = Number(process.env.KERNEL_TEST_SEED ?? 20240611);

before(async () => {
  await setUpBackends();
  assert.equal(tf.getKernel(tf.BatchMatMul, 'wasm')?.kernelFunc, batchMatMulConfig.kernelFunc, "the app's BatchMatMul is not the registered one");
});

/**
 * Runs the products on `backend` with each input made into one tensor, so that a tensor used by
 * several products is the same tensor (as dy is for a dense layer's two gradients).
 */
async function products(
  backend: Backend,
  inputs: Record<string, Arr>,
  calls: Array<{ a: string; b: string; transposeA: boolean; transposeB: boolean }>,
): Promise<Arr[]> {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')]));
  const before = tf.backend().numDataIds();
  const out: Arr[] = [];
  for (const c of calls) {
    const t = tf.engine().runKernel(tf.BatchMatMul, { a: tensors[c.a], b: tensors[c.b] }, { transposeA: c.transposeA, transposeB: c.transposeB }) as tf.Tensor;
    out.push({ shape: t.shape.slice(), data: (await t.data()) as Float32Array });
    t.dispose();
  }
  assert.equal(tf.backend().numDataIds(), before, `BatchMatMul on ${backend} leaked`);
  tf.dispose(Object.values(tensors));
  return out;
}

async function compareProducts(inputs: Record<string, Arr>, calls: Array<{ a: string; b: string; transposeA: boolean; transposeB: boolean }>): Promise<void> {
  const want = await products('cpu', inputs, calls);
  const got = await products('wasm', inputs, calls);
  for (let i = 0; i < calls.length; i++) {
    const err = relErr(got[i], want[i]);
    const shapes = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.shape]));
    assert.ok(err !== null && err <= TOL, `product ${fmt(calls[i])} differs from cpu: err=${err}\n  inputs ${fmt(shapes)}`);
  }
}

function arr(r: ReturnType<typeof rng>, shape: number[]): Arr {
  return { shape, data: r.normals(shape.reduce((a, b) => a * b, 1)) };
}

describe('BatchMatMul (the app kernel on wasm vs cpu)', () => {
  it("gives a dense layer's gradients after a large batch and then a one-sample batch", async () => {
    const r = rng(31);
    for (const [inputs, units] of [
      [800, 10],
      [1600, 128],
      [128, 10],
      [7, 1],
      [1, 5],
    ]) {
      for (const batch of [64, 1, 256, 1, 1]) {
        // forward y = x.W; backward dx = dy.W^T, dW = x^T.dy (the same dy in both).
        await compareProducts({ x: arr(r, [batch, inputs]), w: arr(r, [inputs, units]), dy: arr(r, [batch, units]) }, [
          { a: 'x', b: 'w', transposeA: false, transposeB: false },
          { a: 'dy', b: 'w', transposeA: false, transposeB: true },
          { a: 'x', b: 'dy', transposeA: true, transposeB: false },
        ]);
      }
    }
  });

  it(`matches on random shapes (dimensions of 1 included) with every transpose, each tensor reused (seed ${SEED})`, async () => {
    const r = rng(SEED);
    for (let i = 0; i < 60; i++) {
      const dim = (): number => (r.next() < 0.3 ? 1 : r.int(1, 48));
      const [M, R, C] = [dim(), dim(), dim()];
      // t [R,C] is each operand, plain and transposed, against u [M,R], v [M,C] and their transposes.
      const inputs = { t: arr(r, [R, C]), u: arr(r, [M, R]), v: arr(r, [M, C]), ut: arr(r, [R, M]), vt: arr(r, [C, M]) };
      const call = (a: string, b: string, transposeA: boolean, transposeB: boolean): { a: string; b: string; transposeA: boolean; transposeB: boolean } => ({
        a,
        b,
        transposeA,
        transposeB,
      });
      const calls = [
        call('u', 't', false, false),
        call('v', 't', false, true),
        call('ut', 't', true, false),
        call('vt', 't', true, true),
        call('t', 'vt', false, false),
        call('t', 'ut', true, false),
        call('t', 'v', false, true),
        call('t', 'u', true, true),
      ];
      for (let j = calls.length - 1; j > 0; j--) {
        const k = r.int(0, j);
        [calls[j], calls[k]] = [calls[k], calls[j]];
      }
      await compareProducts(inputs, calls);
    }
  });

  it('matches with batch dimensions (the stock path) and a rank-3 single batch', async () => {
    const r = rng(5);
    for (let i = 0; i < 30; i++) {
      const [M, K, N] = [r.int(1, 20), r.int(1, 20), r.int(1, 20)];
      const transposeA = r.next() < 0.5;
      const transposeB = r.next() < 0.5;
      const batch = r.pick([[1], [2], [3, 2]]);
      const a = arr(r, [...batch, ...(transposeA ? [K, M] : [M, K])]);
      const b = arr(r, [...batch, ...(transposeB ? [N, K] : [K, N])]);
      await compareProducts({ a, b }, [{ a: 'a', b: 'b', transposeA, transposeB }]);
    }
  });

  it('trains a dense net on wasm as on cpu through a one-sample last batch, without NaN', async () => {
    const r = rng(11);
    const w1 = r.normals(20 * 16).map((v) => v * 0.3);
    const w2 = r.normals(16 * 3).map((v) => v * 0.3);
    const x = r.normals(33 * 20);
    const labels = Array.from({ length: 33 }, (_, i) => i % 3);
    const run = async (backend: Backend): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      const v1 = tf.variable(tf.tensor2d(w1, [20, 16]), true, `bmm_w1_${backend}_${Math.random()}`);
      const v2 = tf.variable(tf.tensor2d(w2, [16, 3]), true, `bmm_w2_${backend}_${Math.random()}`);
      const optimizer = tf.train.adam(0.01);
      for (let epoch = 0; epoch < 3; epoch++) {
        for (const [start, size] of [
          [0, 32],
          [32, 1],
        ]) {
          const loss = optimizer.minimize(
            () =>
              tf.tidy(() => {
                const xs = tf.tensor2d(x.subarray(start * 20, (start + size) * 20), [size, 20]);
                const ys = tf.oneHot(tf.tensor1d(labels.slice(start, start + size), 'int32'), 3).toFloat();
                return tf.losses.softmaxCrossEntropy(ys, tf.matMul(tf.relu(tf.matMul(xs, v1)), v2)) as tf.Scalar;
              }),
            true,
          ) as tf.Scalar;
          assert.ok(Number.isFinite(loss.dataSync()[0]), `${backend}: loss is not finite at epoch ${epoch}, batch of ${size}`);
          loss.dispose();
        }
      }
      const weights = [v1.dataSync() as Float32Array, v2.dataSync() as Float32Array];
      optimizer.dispose();
      tf.dispose([v1, v2]);
      return weights;
    };
    const want = await run('cpu');
    const got = await run('wasm');
    for (let i = 0; i < want.length; i++) {
      const err = relErr({ shape: [want[i].length], data: got[i] }, { shape: [want[i].length], data: want[i] });
      assert.ok(err !== null && err < 1e-3, `weights ${i} differ from cpu after training: err=${err}`);
    }
  });
});
