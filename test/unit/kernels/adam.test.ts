// The app's Adam (models/optimizer.ts) steps each variable with one AdamUpdate kernel on wasm
// (models/fused-adam.ts, kernels/adam.ts): against tfjs's AdamOptimizer on cpu, the weights, the
// moment slots (names and values, through getWeights) after steps with a changing learning rate
// and gradients of sizes that leave SIMD remainders; with and without SIMD.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createOptimizer } from '../../../src/main/engine/models/optimizer.js';
import { ADAM_UPDATE } from '../../../src/main/engine/kernels/adam.js';
import { setSimdKernelsEnabled } from '../../../src/main/engine/kernels/wasm-simd.js';
import { rng, setUpBackends } from './helpers.js';

const SEED = Number(process.env.KERNEL_TEST_SEED ?? 20261130);
const SIZES = [[1], [7], [3, 3, 4, 8], [130]];
const STEPS = 5;

interface Run {
  weights: Float32Array[];
  slots: Array<{ name: string; values: Float32Array }>;
  kernels: string[];
}

async function train(backend: 'cpu' | 'wasm', init: Float32Array[], grads: Float32Array[][]): Promise<Run> {
  await tf.setBackend(backend);
  const vars = init.map((v, i) => tf.variable(tf.tensor(v, SIZES[i]), true, `adam_test_${backend}_${i}_${Math.random()}`));
  const { optimizer, setLearningRate } = createOptimizer('adam', 1e-2, 0);
  const kernels: string[] = [];
  for (let s = 0; s < STEPS; s++) {
    setLearningRate(1e-2 * (1 + s));
    const named = vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[s]![i]!, SIZES[i]) }));
    const profile = await tf.profile(() => optimizer.applyGradients(named));
    kernels.push(...profile.kernels.map((k) => k.name));
    tf.dispose(named.map((n) => n.tensor));
  }
  const weights = vars.map((v) => v.dataSync() as Float32Array);
  const saved = await optimizer.getWeights();
  const slots = saved.map((w) => ({ name: w.name.replace(/adam_test_\w+?_(\d+)_[\d.e-]+/, 'v$1'), values: w.tensor.dataSync() as Float32Array }));
  tf.dispose([...vars, ...saved.map((w) => w.tensor)]);
  optimizer.dispose();
  return { weights, slots, kernels };
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!) / Math.max(1e-6, Math.abs(b[i]!)));
  return d;
}

before(() => setUpBackends(1));

for (const simd of [true, false]) {
  describe(`Adam through AdamUpdate on wasm ${simd ? 'with' : 'without'} SIMD, against tfjs's Adam on cpu`, () => {
    before(() => setSimdKernelsEnabled(simd));
    after(() => setSimdKernelsEnabled(true));
    it(`gives tfjs's weights and moments after ${STEPS} steps with a changing learning rate (seed ${SEED})`, async () => {
      const r = rng(SEED);
      const count = (s: number[]): number => s.reduce((a, b) => a * b, 1);
      const init = SIZES.map((s) => r.normals(count(s)));
      const grads = Array.from({ length: STEPS }, () => SIZES.map((s) => r.normals(count(s)).map((v) => v * 3)));
      const cpu = await train('cpu', init, grads);
      const wasm = await train('wasm', init, grads);
      assert.equal(wasm.kernels.filter((k) => k === ADAM_UPDATE).length, STEPS * SIZES.length, `wasm ran ${[...new Set(wasm.kernels)].join(', ')}`);
      assert.ok(!cpu.kernels.includes(ADAM_UPDATE));
      wasm.weights.forEach((w, i) => assert.ok(maxRelDiff(w, cpu.weights[i]!) < 1e-6, `variable ${i}: rel diff ${maxRelDiff(w, cpu.weights[i]!)}`));
      assert.deepEqual(
        wasm.slots.map((s) => s.name),
        cpu.slots.map((s) => s.name),
      );
      wasm.slots.forEach((s, i) =>
        assert.ok(maxRelDiff(s.values, cpu.slots[i]!.values) < 1e-6, `${s.name}: rel diff ${maxRelDiff(s.values, cpu.slots[i]!.values)}`),
      );
    });
  });
}
