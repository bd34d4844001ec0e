// The gradients of ReLU and of clipping (and so of tfjs-layers' ReLU6: a ReLU, then a clip to
// [0, 6]) through the app's one-kernel path on wasm (kernels/activation-grads.ts) against tfjs's
// own gradients on cpu: random sizes (not all multiples of 4), values on the boundaries (0, the
// clip limits), NaN; with and without SIMD. On cpu the app's registration must leave tfjs's
// gradient in place.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { CLIP_BY_VALUE_GRAD, RELU_GRAD } from '../../../src/main/engine/kernels/activation-grads.js';
import { setSimdKernelsEnabled } from '../../../src/main/engine/kernels/wasm-simd.js';
import { fmt, rng, setUpBackends } from './helpers.js';

const SEED = Number(process.env.KERNEL_TEST_SEED ?? 20261130);

type Rng = ReturnType<typeof rng>;

/** Values around the interesting points: 0, the clip limits, NaN now and then. */
function values(r: Rng, n: number, limits: number[]): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = r.next();
    if (u < 0.1) return r.pick(limits);
    if (u < 0.12) return NaN;
    return (r.next() * 2 - 1) * 8;
  });
}

/** dy/dx of sum(f(x) * w) on `backend`, with the kernels that ran. */
async function gradient(
  backend: 'cpu' | 'wasm',
  f: (x: tf.Tensor) => tf.Tensor,
  x: Float32Array,
  w: Float32Array,
): Promise<{ dx: Float32Array; kernels: string[] }> {
  await tf.setBackend(backend);
  const kernels: string[] = [];
  const xt = tf.tensor(x);
  const wt = tf.tensor(w);
  const profile = await tf.profile(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), wt)))(xt));
  const dx = (profile.result as tf.Tensor).dataSync() as Float32Array;
  kernels.push(...profile.kernels.map((k) => k.name));
  tf.dispose([xt, wt, profile.result as tf.Tensor]);
  return { dx, kernels };
}

function sameValues(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    const ok = Number.isNaN(want[i]!) ? Number.isNaN(got[i]!) : got[i] === want[i] || Math.abs(got[i]! - want[i]!) <= 1e-6 * Math.max(1, Math.abs(want[i]!));
    assert.ok(ok, `${what}: element ${i} is ${got[i]}, tfjs gives ${want[i]}`);
  }
}

const activations: Array<{ name: string; f: (x: tf.Tensor) => tf.Tensor; limits: number[]; kernel: string }> = [
  { name: 'relu', f: (x) => tf.relu(x), limits: [0], kernel: RELU_GRAD },
  { name: 'clipByValue(-1.5, 2)', f: (x) => tf.clipByValue(x, -1.5, 2), limits: [-1.5, 2], kernel: CLIP_BY_VALUE_GRAD },
  { name: "tfjs-layers' ReLU with maxValue 6", f: (x) => tf.layers.reLU({ maxValue: 6 }).apply(x) as tf.Tensor, limits: [0, 6], kernel: CLIP_BY_VALUE_GRAD },
];

before(() => setUpBackends(1));

for (const simd of [true, false]) {
  describe(`ReLU and clip gradients on wasm ${simd ? 'with' : 'without'} SIMD against tfjs's on cpu`, () => {
    before(() => setSimdKernelsEnabled(simd));
    after(() => setSimdKernelsEnabled(true));
    for (const a of activations) {
      it(`${a.name}: the same gradient, through ${a.kernel} (seed ${SEED})`, async () => {
        const r = rng(SEED);
        for (let i = 0; i < 30; i++) {
          const n = r.int(1, 300);
          const x = values(r, n, a.limits);
          const w = r.normals(n);
          const want = await gradient('cpu', a.f, x, w);
          const got = await gradient('wasm', a.f, x, w);
          sameValues(got.dx, want.dx, `${a.name} of ${n} values ${fmt(Array.from(x.slice(0, 6)))}…`);
          assert.ok(got.kernels.includes(a.kernel), `wasm ran ${got.kernels.join(', ')}`);
          assert.ok(!want.kernels.includes(a.kernel), `cpu ran ${want.kernels.join(', ')}`);
        }
      });
    }
  });
}
