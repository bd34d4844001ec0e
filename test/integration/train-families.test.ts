// The ResNet and MobileNetV2 families train end to end in a real trainer process: batch norm,
// residual adds, depthwise convolutions and global pooling through the wasm backend's kernels.
// The saved model keeps the batch-norm running statistics: loaded back, it predicts as the
// trainer's own evaluation did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelFromDir } from '../../src/main/engine/models/model-files.js';
import { loadDataset, toFloatBatch } from '../../src/main/engine/datasets/index.js';
import { trainableParameters } from '../../src/shared/model-families.js';
import { serviceWithMnist } from './helpers.js';

for (const model of ['resnet-8', 'mobilenet-0.35'] as const) {
  test(`${model} trains on MNIST digits on wasm, and its saved model predicts as the run evaluated`, { timeout: 300_000 }, async () => {
    const { service, datasetId } = await serviceWithMnist(200);
    try {
      const { runId, done } = service.startTraining({
        dataset: datasetId,
        config: { model, batchSize: 16, epochs: 1, learningRate: 2e-3, optimizer: 'adam', seed: 3, backend: 'wasm' },
        maxSteps: 4,
      });
      const run = await done;
      assert.equal(run.status, 'completed', run.error ?? '');
      const steps = service.runSteps(runId);
      assert.equal(steps.length, 4);
      for (const s of steps) assert.ok(Number.isFinite(s.loss) && s.loss > 0, JSON.stringify(s));

      const { model: artifact } = service.runFiles(runId);
      assert.ok(artifact);
      await tf.setBackend('cpu');
      const loaded = await loadModelFromDir(artifact.path);
      const dataset = service.getDataset(datasetId);
      const trainable = loaded.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
      assert.equal(trainable, trainableParameters(model, dataset.manifest.inputShape, dataset.manifest.classes.length));
      // Batch norm's running statistics are saved (non-trainable weights), not left at 0 and 1.
      const moving = loaded.weights.filter((w) => w.name.includes('moving_mean'));
      assert.ok(moving.length > 0, 'the model has batch-norm layers');
      assert.ok(
        moving.some((w) => (w.read().abs().max().dataSync()[0] ?? 0) > 0),
        'running means were updated by training',
      );

      // The loaded model predicts the validation split exactly as the trainer's evaluation counted it.
      const evaluation = JSON.parse(readFileSync(path.join(path.dirname(artifact.path), 'evaluation.json'), 'utf8')) as { confusion: number[][] };
      const data = loadDataset(dataset.cacheDir);
      const x = tf.tensor(toFloatBatch(data, data.validationIndex), [data.validationIndex.length, ...data.manifest.inputShape]);
      const predicted = (loaded.predict(x) as tf.Tensor).argMax(-1).dataSync();
      const confusion = evaluation.confusion.map((row) => row.map(() => 0));
      data.validationIndex.forEach((i, j) => confusion[data.y[i]!]![predicted[j]!]!++);
      assert.deepEqual(confusion, evaluation.confusion);
      loaded.dispose();
    } finally {
      await service.close();
    }
  });
}
