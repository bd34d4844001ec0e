// A tiny conv net (conv2d stride 2 + depthwiseConv2d + dense) trained for a few Adam steps on
// wasm and on cpu from the same start: the gradients of tf.variableGrads and the weights after
// the steps must agree, and no tensor may leak on wasm.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../../../src/main/engine/backends/wasm.js';
import { registerWasmGradientKernels, wasmGradientKernels } from '../../../src/main/engine/kernels/register-wasm-kernels.js';
import { rng, setUpBackends, type Backend } from './helpers.js';

const SHAPES = { w1: [3, 3, 2, 4], b1: [4], w2: [3, 3, 4, 2], b2: [8], w3: [72, 3], b3: [3] } as const;
type Name = keyof typeof SHAPES;

interface Run {
  losses: number[];
  grads: Record<string, Float32Array>;
  weights: Record<string, Float32Array>;
}

async function train(backend: Backend, init: Record<Name, Float32Array>, x: Float32Array, labels: number[], steps: number): Promise<Run> {
  await tf.setBackend(backend);
  const vars = {} as Record<Name, tf.Variable>;
  for (const k of Object.keys(SHAPES) as Name[]) {
    vars[k] = tf.tidy(() => tf.variable(tf.tensor(init[k], [...SHAPES[k]]), true, `${backend}_${k}_${Math.random()}`));
  }
  const xs = tf.tensor4d(x, [4, 9, 9, 2]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat());
  const lossFn = (): tf.Scalar =>
    tf.tidy(() => {
      let h = tf.relu(tf.add(tf.conv2d(xs, vars.w1 as tf.Tensor4D, 2, 'same'), vars.b1)) as tf.Tensor4D; // [4,5,5,4]
      h = tf.relu(tf.add(tf.depthwiseConv2d(h, vars.w2 as tf.Tensor4D, 1, 'valid'), vars.b2)) as tf.Tensor4D; // [4,3,3,8]
      const logits = tf.add(tf.matMul(tf.reshape(h, [4, 72]), vars.w3 as tf.Tensor2D), vars.b3);
      return tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
    });
  const first = tf.variableGrads(lossFn);
  const grads: Record<string, Float32Array> = {};
  for (const k of Object.keys(SHAPES) as Name[]) grads[k] = first.grads[vars[k].name].dataSync() as Float32Array;
  tf.dispose(first.grads);
  first.value.dispose();
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  const dataIds: number[] = [];
  for (let i = 0; i < steps; i++) {
    const loss = optimizer.minimize(lossFn, true) as tf.Scalar;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    dataIds.push(tf.backend().numDataIds());
  }
  // After the optimizer's slots exist, each step must leave the backend exactly as it found it.
  assert.equal(dataIds[steps - 1], dataIds[1], `${backend}: data ids grow during training: ${dataIds.join(',')}`);
  const weights: Record<string, Float32Array> = {};
  for (const k of Object.keys(SHAPES) as Name[]) weights[k] = vars[k].dataSync() as Float32Array;
  optimizer.dispose();
  tf.dispose([xs, ys, ...Object.values(vars)]);
  return { losses, grads, weights };
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let mag = 1e-3;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    mag = Math.max(mag, Math.abs(b[i]));
  }
  return diff / mag;
}

// The threaded build (2 threads; see src/main/engine/backends/wasm.ts): the kernels' own tests use one.
before(() => setUpBackends(2));

describe('training a tiny conv net on wasm', () => {
  it("gives the cpu backend's gradients and weights after 5 Adam steps", async () => {
    const r = rng(7);
    const init = {} as Record<Name, Float32Array>;
    for (const k of Object.keys(SHAPES) as Name[]) {
      const n = SHAPES[k].reduce((a: number, b: number) => a * b, 1);
      init[k] = r.normals(n).map((v) => v * 0.5);
    }
    const x = r.normals(4 * 9 * 9 * 2);
    const labels = [0, 1, 2, 1];
    const tensorsBefore = tf.memory().numTensors;
    const cpu = await train('cpu', init, x, labels, 5);
    const wasm = await train('wasm', init, x, labels, 5);
    assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors leaked');
    for (const k of Object.keys(SHAPES) as Name[]) {
      const e = maxRel(wasm.grads[k], cpu.grads[k]);
      assert.ok(e < 1e-4, `gradient of ${k} differs: rel err ${e}`);
      const w = maxRel(wasm.weights[k], cpu.weights[k]);
      assert.ok(w < 1e-3, `${k} after training differs: rel err ${w}`);
    }
    for (let i = 0; i < cpu.losses.length; i++) assert.ok(Math.abs(cpu.losses[i] - wasm.losses[i]) < 1e-4, `loss ${i}: ${wasm.losses[i]} vs ${cpu.losses[i]}`);
    assert.ok(wasm.losses[4] < wasm.losses[0], `loss does not fall: ${wasm.losses.join(', ')}`);
  });
});

describe('registration and activation', () => {
  it('registers the missing kernels idempotently', async () => {
    registerWasmGradientKernels();
    const first = wasmGradientKernels.map((k) => tf.getKernel(k.kernelName, 'wasm')?.kernelFunc);
    registerWasmGradientKernels();
    const second = wasmGradientKernels.map((k) => tf.getKernel(k.kernelName, 'wasm')?.kernelFunc);
    assert.deepEqual(second, first);
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']) {
      assert.ok(
        tf.getKernelsForBackend('wasm').some((k) => k.kernelName === name),
        `${name} missing`,
      );
    }
  });

  it('activateWasm returns the device it got (the threaded build, started once per process)', async () => {
    const got = await activateWasm({ threads: 1 });
    assert.equal(tf.getBackend(), 'wasm');
    assert.match(got.device, /^CPU \(WebAssembly(, SIMD)?, \d+ threads?\)$/);
    assert.equal(got.threads, 2);
  });

  it('refuses a bad thread count', async () => {
    await assert.rejects(activateWasm({ threads: 0 }), /threads must be a positive integer/);
  });
});
