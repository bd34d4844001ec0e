// The memory probe on webgpu (skipped where no WebGPU adapter starts; Mesa's llvmpipe will do):
// the buffer pool's own count is reported, the pool is emptied before each probe so the same
// probe gives the same figure, and the probe leaves weights and tensors as they were.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src/main/engine/backends/select-backend.js';
import { importDataset, loadDataset, type LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { ProbeRunner } from '../../../src/main/engine/tuner/probe-runner.js';
import { missing } from '../../support/parts.js';

let tmp = '';
let ds: LoadedDataset;
const skip = missing('webgpu');

before(async () => {
  if (skip) return;
  await selectBackend('webgpu');
  tmp = mkdtempSync(path.join(os.tmpdir(), 'probe-webgpu-'));
  await importDataset('sample:mnist', { limit: 200 }, path.join(tmp, 'mnist'));
  ds = loadDataset(path.join(tmp, 'mnist'));
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('webgpu memory probe: buffer-pool high-water mark, repeatable, nothing left behind', { timeout: 120_000, skip }, async () => {
  const runner = new ProbeRunner({ dataset: ds, model: 'mlp', optimizer: 'adam', seed: 5 });
  try {
    const weights = await runner.weightValues();
    const tensors = tf.memory().numTensors;
    const first = await runner.memory(8);
    const again = await runner.memory(8);
    const bigger = await runner.memory(32);
    for (const m of [first, again, bigger]) {
      // Engine bytes count a reshaped tensor twice, the pool its one buffer: the two differ a little.
      assert.ok(m.backendBytes !== undefined && Math.abs(m.backendBytes / m.engineBytes - 1) < 0.5, JSON.stringify(m));
      assert.equal(m.peakBytes, m.backendBytes);
    }
    assert.equal(again.backendBytes, first.backendBytes, 'the pool was emptied before each probe');
    assert.ok(bigger.peakBytes > first.peakBytes);
    assert.equal(tf.memory().numTensors, tensors);
    (await runner.weightValues()).forEach((w, i) => assert.deepEqual(w, weights[i]));
    const tp = await runner.throughput(8, 1, 2);
    assert.ok(tp.samplesPerSecond > 0);
  } finally {
    runner.dispose();
  }
});
