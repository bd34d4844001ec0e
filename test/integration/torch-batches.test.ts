// The torch trainer prepares exactly the batches the tfjs trainer does: the same epoch order (the
// app's seeded shuffle, ported), the same normalisation from the dataset cache, the same
// augmentation draws and result — compared bit for bit on the first batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createRng, shuffleInPlace } from '../../src/shared/random.js';
import { loadDataset, toFloatBatch } from '../../src/main/engine/datasets/index.js';
import { augmentBatch } from '../../src/main/engine/training/augment.js';
import { pythonProcessEnv } from '../../src/main/service/python-discovery.js';
import { serviceWithMnist, tempHome } from './helpers.js';
import { missing, torchPython } from '../support/parts.js';
import type { AugmentLevel } from '../../src/shared/fine-tuning.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const FIRST_BATCH = path.join(root, 'test', 'python', 'first_batch.py');
const skip = missing('torch');

const python = torchPython;

async function nodeFirstBatch(dir: string, seed: number, batch: number, level: AugmentLevel): Promise<{ x: Float32Array; y: BigInt64Array }> {
  const ds = loadDataset(dir);
  const order = Uint32Array.from(ds.trainIndex);
  shuffleInPlace(order, createRng(seed));
  const idx = order.subarray(0, batch);
  await tf.setBackend('cpu');
  const x = tf.tensor(toFloatBatch(ds, idx), [batch, ...ds.manifest.inputShape]);
  const augmented = augmentBatch(x, level, seed, 1, ds.manifest.normalization);
  const data = (await augmented.data()) as Float32Array;
  tf.dispose([x, augmented]);
  return { x: data, y: BigInt64Array.from(Array.from(idx, (i) => BigInt(ds.y[i]!))) };
}

function pythonFirstBatch(dir: string, seed: number, batch: number, level: AugmentLevel, n: number): { x: Float32Array; y: BigInt64Array } {
  const out = path.join(tempHome('autobatch-batch-'), 'batch.bin');
  const r = spawnSync(python(), [FIRST_BATCH, dir, String(seed), out, String(batch), level], { encoding: 'utf8', env: pythonProcessEnv(), timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const bytes = readFileSync(out);
  const floats = n * 4;
  return {
    x: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + floats)),
    y: new BigInt64Array(bytes.buffer.slice(bytes.byteOffset + floats, bytes.byteOffset + bytes.length)),
  };
}

test('the first batch (order, features, labels, augmentation) is the same bit for bit on both engines', { skip, timeout: 300_000 }, async () => {
  const { service, datasetId } = await serviceWithMnist(600);
  try {
    const dir = service.getDataset(datasetId).cacheDir;
    for (const [seed, level] of [
      [7, 'none'],
      [3, 'light'],
      [11, 'standard'],
    ] as const) {
      const node = await nodeFirstBatch(dir, seed, 32, level);
      const py = pythonFirstBatch(dir, seed, 32, level, node.x.length);
      assert.deepEqual(py.y, node.y, `labels, seed ${seed}`);
      let differing = 0;
      let worst = 0;
      for (let i = 0; i < node.x.length; i++) {
        if (node.x[i] !== py.x[i]) differing++;
        worst = Math.max(worst, Math.abs(node.x[i]! - py.x[i]!));
      }
      if (level === 'standard') {
        // Brightness and contrast act around each image's mean, a float32 sum whose order differs
        // between the engines' kernels: equal to the last bits, not bit for bit.
        assert.ok(worst <= 1e-6, `largest difference ${worst} (seed ${seed}, augmentation ${level})`);
      } else {
        assert.equal(differing, 0, `${differing} of ${node.x.length} feature values differ (seed ${seed}, augmentation ${level})`);
      }
    }
  } finally {
    await service.close();
  }
});
