// What a failed probe means: out of memory or another error, and whether the backend is dead;
// and the wasm allocation guard that turns tfjs-backend-wasm's silent failures into OOM errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../../../src/main/engine/backends/wasm.js';
import {
  classifyProbeFailure,
  currentWasmHeapBytes,
  guardWasmAllocations,
  WASM_HEAP_ERROR,
  WASM_OOM_HEAP_BYTES,
} from '../../../src/main/engine/tuner/probe-failure.js';

test('classifyProbeFailure: oom or error, fatal when the backend is dead', () => {
  const capped = classifyProbeFailure(new Error('out of memory: 400 bytes requested, cap 100 bytes'), 'cpu-capped');
  assert.deepEqual([capped.cause, capped.fatal], ['oom', false]);
  assert.equal(classifyProbeFailure(new RangeError('Array buffer allocation failed'), 'cpu').cause, 'oom');
  assert.deepEqual(classifyProbeFailure(new Error('shapes do not match'), 'cpu'), { cause: 'error', fatal: false, message: 'shapes do not match' });

  const abort = new Error('Aborted(). Build with -sASSERTIONS for more info.');
  abort.name = 'RuntimeError';
  const small = classifyProbeFailure(abort, 'wasm', 64 << 20);
  assert.deepEqual([small.cause, small.fatal], ['error', true]);
  assert.match(small.message, /exits/);
  const big = classifyProbeFailure(abort, 'wasm', WASM_OOM_HEAP_BYTES + 1);
  assert.deepEqual([big.cause, big.fatal], ['oom', true]);
  assert.deepEqual(
    [
      classifyProbeFailure(new Error('memory access out of bounds'), 'wasm').cause,
      classifyProbeFailure(new Error('memory access out of bounds'), 'wasm').fatal,
    ],
    ['oom', false],
    'a plain Error (not a RuntimeError) is not an abort',
  );
  const heapError = new Error('out of memory: wasm malloc returned a block past the end of its heap');
  heapError.name = WASM_HEAP_ERROR;
  assert.deepEqual(Object.values(classifyProbeFailure(heapError, 'wasm')).slice(0, 2), ['oom', true]);
  const lost = classifyProbeFailure(new Error('GPU device was lost: out of memory'), 'webgpu');
  assert.deepEqual([lost.cause, lost.fatal], ['oom', true]);
  assert.equal(classifyProbeFailure(abort, 'cpu').fatal, false, 'only wasm aborts kill the backend');
});

test('the wasm guard: an allocation wasm cannot hold fails as out of memory and the module lives on', { timeout: 60_000 }, async () => {
  await activateWasm({ threads: 1 });
  assert.equal(guardWasmAllocations(), true);
  assert.equal(guardWasmAllocations(), true, 'idempotent');
  const tensors = tf.memory().numTensors;
  // 4.4 GB: tfjs would pass malloc a size truncated to 32 bits.
  assert.throws(() => tf.fill([1.1e9], 1), /out of memory: 4400000000 bytes requested from a wasm heap/);
  // With 3 GB taken, 2 GB more cannot fit under 4 GiB (this malloc would hand out a block past the heap).
  const mod = (tf.backend() as unknown as { wasm: { _malloc(n: number): number; _free(p: number): void } }).wasm;
  const hogs = [mod._malloc(1.5e9), mod._malloc(1.5e9)];
  try {
    assert.throws(() => tf.fill([5e8], 1), /out of memory: 2000000000 bytes requested from a wasm heap of \d+ bytes/);
  } finally {
    hogs.forEach((p) => mod._free(p));
  }
  assert.ok(currentWasmHeapBytes()! >= 3e9);
  assert.equal(tf.memory().numTensors, tensors);
  const sum = tf.sum(tf.ones([1000]));
  assert.equal((await sum.data())[0], 1000);
});
