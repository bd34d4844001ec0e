// The memory-capped test backend: allocations under the cap work, one over it fails like a real
// out-of-memory error (leaving nothing allocated), and the backend goes on working afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { looksLikeOutOfMemory } from '../../../src/shared/failure-text.js';
import { activateCappedBackend, CAPPED_CPU_BACKEND, setMemoryCap } from '../../../src/main/engine/tuner/capped-backend.js';

/** Reads a tensor and disposes it. */
async function read(t: tf.Tensor): Promise<number[]> {
  const values = Array.from(await t.data());
  t.dispose();
  return values;
}

const isOom = (err: unknown) => err instanceof Error && looksLikeOutOfMemory(err.message) && /out of memory: \d+ bytes requested, cap \d+/.test(err.message);

test('cpu-capped: under the cap works, over it fails like an OOM, the backend goes on', async () => {
  const cap = 1 << 20; // 1 MiB
  const report = await activateCappedBackend('cpu', cap);
  assert.equal(tf.getBackend(), CAPPED_CPU_BACKEND);
  assert.equal(report.name, CAPPED_CPU_BACKEND);
  assert.match(report.device, /capped test backend/);
  const base = tf.memory().numBytes;

  const a = tf.ones([1000]); // 4 kB
  const b = tf.add(a, 1);
  assert.equal((await read(b.sum()))[0], 2000);

  // A new tensor over the cap, and a kernel output over it.
  assert.throws(() => tf.zeros([300_000]), isOom);
  const big = tf.ones([200_000]); // 800 kB: fits
  assert.throws(() => tf.add(big, 1), isOom);

  big.dispose();

  // Inside tidy and gradients nothing is left behind, and the engine stays usable.
  const v = tf.tidy(() => tf.variable(tf.ones([150_000]))); // 600 kB: its forward pass does not fit
  const tensors = tf.memory().numTensors;
  assert.throws(() => tf.tidy(() => tf.variableGrads(() => tf.sum(tf.square(tf.mul(v, 3))), [v])), isOom);
  assert.equal(tf.memory().numTensors, tensors, 'nothing left behind');
  assert.equal((await read(tf.sum(a)))[0], 1000);

  // The cap can move.
  setMemoryCap(16 << 20);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(v, 3)) as tf.Scalar, [v]);
  assert.equal((await value.data())[0], 450_000);
  assert.equal((await grads[v.name]!.data())[7], 3);
  tf.dispose([value, grads[v.name]!, v, a, b]);
  assert.equal(tf.memory().numBytes, base);
});

test('any other backend: the instance wrapper caps wasm allocations too', async () => {
  const report = await activateCappedBackend('wasm', 1 << 20);
  assert.equal(tf.getBackend(), 'wasm');
  assert.match(report.device, /WebAssembly.*capped test backend/);
  const a = tf.ones([1000]);
  const tensors = tf.memory().numTensors;
  assert.throws(() => tf.tidy(() => tf.mul(tf.ones([200_000]), tf.ones([200_000]))), isOom);
  assert.equal(tf.memory().numTensors, tensors);
  const b = tf.mul(a, 2);
  assert.equal((await read(b.sum()))[0], 2000);
  tf.dispose([a, b]);
});
