// The probe runner with a batch-norm model (ResNet-8 on 16×16 colour images, on wasm: the pure-JS
// cpu backend takes ~20 s for one of its training steps, wasm ~0.3 s): its
// running mean and variance are weights that training updates but gradients do not reach, and
// every probe must hand them back as it found them, or one trial's statistics would carry into
// the next (and into its validation, which normalises with them).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { DatasetManifest } from '../../../src/shared/dataset-types.js';
import type { LoadedDataset } from '../../../src/main/engine/datasets/index.js';
import { activateWasm } from '../../../src/main/engine/backends/wasm.js';
import { ProbeRunner } from '../../../src/main/engine/tuner/probe-runner.js';
import { makeBatch } from '../../../src/main/engine/training/train-loop.js';

before(async () => {
  await activateWasm({ threads: 1 });
});

/** 96 images of 16×16×3 in 4 classes (a brighter channel and a stripe per class, plus texture): 80 to train, 16 to validate. */
function images(): LoadedDataset {
  const n = 96;
  const side = 16;
  const size = side * side * 3;
  const x = new Uint8Array(n * size);
  const y = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = c;
    for (let r = 0; r < side; r++)
      for (let col = 0; col < side; col++)
        for (let ch = 0; ch < 3; ch++) {
          const stripe = (c === 3 ? col : r) % 4 === c % 4 ? 60 : 0;
          const texture = (i * 31 + r * 17 + col * 7 + ch * 13) % 50;
          x[i * size + (r * side + col) * 3 + ch] = Math.min(255, 60 + (ch === c % 3 ? 80 : 0) + stripe + texture);
        }
  }
  const manifest = {
    inputShape: [side, side, 3],
    classes: ['a', 'b', 'c', 'd'],
    normalization: { kind: 'scale', scale: 1 / 255 },
  } as unknown as DatasetManifest;
  const index = (from: number, to: number) => Uint32Array.from({ length: to - from }, (_, i) => from + i);
  return { manifest, x, y, trainIndex: index(0, 80), validationIndex: index(80, n), sampleSize: size };
}

test('batch norm: every probe restores the running statistics with the weights; trials repeat exactly', { timeout: 120_000 }, async () => {
  const ds = images();
  const runner = new ProbeRunner({ dataset: ds, model: 'resnet-8', optimizer: 'adam', seed: 7 });
  try {
    const stats = runner.model.weights.filter((w) => !w.trainable);
    assert.ok(stats.length > 0 && stats.every((w) => /moving_(mean|variance)/.test(w.name)), stats.map((w) => w.name).join(', '));
    const values = async () => (await runner.weightValues()).map((v) => Array.from(v));
    assert.equal((await runner.weightValues()).length, runner.model.weights.length, 'the runner keeps every weight, not only the trainable ones');
    const start = await values();

    const first = await runner.trial(16, 1e-3, 0, 0);
    assert.deepEqual(await values(), start, 'the trial left the weights and running statistics as they were');
    assert.ok(first.steps >= 5 && Number.isFinite(first.valLoss), JSON.stringify(first));
    await runner.noise(16, 2, 2, 1e-3);
    await runner.memory(16);
    assert.deepEqual(await values(), start, 'the noise and memory probes too');
    // Validation normalises with the running statistics: a trial after other probes ends exactly as the first.
    const again = await runner.trial(16, 1e-3, 0, 0);
    assert.deepEqual(again.losses.slice(0, 5), first.losses.slice(0, 5));
    assert.equal(again.valLoss, first.valLoss);

    // What the restore undoes: one forward pass in training mode moves the running statistics.
    const batch = makeBatch(ds, ds.trainIndex.slice(0, 16));
    tf.tidy(() => {
      runner.model.apply(batch.x, { training: true });
    });
    tf.dispose([batch.x, batch.labels, batch.oneHot]);
    const moved = await values();
    const statIndex = runner.model.weights.indexOf(stats[0]!);
    assert.notDeepEqual(moved[statIndex], start[statIndex], 'training mode updates the running mean');
  } finally {
    runner.dispose();
  }
});
