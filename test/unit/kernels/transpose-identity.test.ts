// The app's Transpose (4x4 SIMD blocks, kernels/transpose.ts) against the cpu backend on random
// shapes and permutations (float32 and int32 bit patterns, sizes that leave edges), with and
// without SIMD; and its Identity, which shares the data instead of copying it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { reducePermutation } from '../../../src/main/engine/kernels/transpose.js';
import { setSimdKernelsEnabled } from '../../../src/main/engine/kernels/wasm-simd.js';
import { fmt, rng, setUpBackends } from './helpers.js';

const SEED = Number(process.env.KERNEL_TEST_SEED ?? 20261130);

before(() => setUpBackends(1));

function randomPerm(r: ReturnType<typeof rng>, rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  for (let k = rank - 1; k > 0; k--) {
    const j = r.int(0, k);
    [perm[k], perm[j]] = [perm[j]!, perm[k]!];
  }
  return perm;
}

async function transposed(
  backend: 'cpu' | 'wasm',
  data: Float32Array | Int32Array,
  shape: number[],
  dtype: 'float32' | 'int32',
  perm: number[],
): Promise<{ shape: number[]; data: Int32Array }> {
  await tf.setBackend(backend);
  const x = tf.tensor(data, shape, dtype);
  const y = tf.transpose(x, perm);
  const out = { shape: y.shape.slice(), data: new Int32Array((await y.data()).buffer.slice(0)) };
  tf.dispose([x, y]);
  return out;
}

describe('reducePermutation', () => {
  it('drops size-1 axes and merges axes that stay neighbours', () => {
    assert.deepEqual(reducePermutation([64, 32, 32, 16], [3, 1, 2, 0]), { shape: [64, 1024, 16], perm: [2, 1, 0] });
    assert.deepEqual(reducePermutation([2, 1, 3], [2, 1, 0]), { shape: [2, 3], perm: [1, 0] });
    assert.deepEqual(reducePermutation([4, 5, 6], [0, 1, 2]), { shape: [120], perm: [0] });
    assert.deepEqual(reducePermutation([1, 1], [1, 0]), { shape: [], perm: [] });
  });
});

for (const simd of [true, false]) {
  describe(`Transpose (wasm ${simd ? 'with' : 'without'} SIMD vs cpu)`, () => {
    before(() => setSimdKernelsEnabled(simd));
    after(() => setSimdKernelsEnabled(true));
    it(`gives the same elements, bit for bit, on 150 random shapes and permutations (seed ${SEED})`, async () => {
      const r = rng(SEED + (simd ? 0 : 1));
      for (let i = 0; i < 150; i++) {
        const rank = r.int(1, 6);
        const shape = Array.from({ length: rank }, () => (r.next() < 0.15 ? 1 : r.int(1, rank <= 3 ? 40 : 9)));
        const perm = randomPerm(r, rank);
        const n = shape.reduce((a, b) => a * b, 1);
        const dtype = r.next() < 0.3 ? 'int32' : 'float32';
        const data = dtype === 'int32' ? Int32Array.from({ length: n }, () => r.int(-2e9, 2e9)) : r.normals(n);
        const want = await transposed('cpu', data, shape, dtype, perm);
        const got = await transposed('wasm', data, shape, dtype, perm);
        assert.deepEqual(got.shape, want.shape);
        assert.ok(
          got.data.every((v, k) => v === want.data[k]),
          `${dtype} ${fmt(shape)} by ${fmt(perm)} differs`,
        );
      }
    });

    it('transposes the large shapes of the convolution gradients', async () => {
      const r = rng(SEED + 2);
      for (const [shape, perm] of [
        [
          [16, 32, 32, 16],
          [3, 1, 2, 0],
        ],
        [
          [4096, 48],
          [1, 0],
        ],
        [
          [16, 8, 8, 96],
          [1, 2, 0, 3],
        ],
      ] as Array<[number[], number[]]>) {
        const data = r.normals(shape.reduce((a, b) => a * b, 1));
        const want = await transposed('cpu', data, shape, 'float32', perm);
        const got = await transposed('wasm', data, shape, 'float32', perm);
        assert.ok(
          got.data.every((v, k) => v === want.data[k]),
          `${fmt(shape)} by ${fmt(perm)} differs`,
        );
      }
    });
  });
}

describe("Identity (wasm): shares the tensor's data", () => {
  it('a clone reads the same values, outlives its source, and frees the data with the last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.backend().numDataIds();
    const x = tf.tensor([1, 2, 3, 4, 5], [5]);
    const y = tf.clone(x);
    assert.equal(tf.backend().numDataIds(), before + 1, 'no copy');
    x.dispose();
    assert.deepEqual(Array.from(await y.data()), [1, 2, 3, 4, 5]);
    y.dispose();
    assert.equal(tf.backend().numDataIds(), before);
  });

  it('a variable assigned from a clone keeps its value when the clone goes', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.zeros([3]));
    const src = tf.tensor([7, 8, 9]);
    tf.tidy(() => v.assign(tf.clone(src)));
    src.dispose();
    assert.deepEqual(Array.from(await v.data()), [7, 8, 9]);
    v.dispose();
  });
});
