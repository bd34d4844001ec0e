// Real training in real trainer processes: the small CNN on 2 000 MNIST digits reaches ≥ 90 %
// validation accuracy within 3 epochs, on wasm and on webgpu (lavapipe on machines without a GPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadModelFromDir } from '../../src/main/engine/models/model-files.js';
import { serviceWithMnist } from './helpers.js';
import { missing } from '../support/parts.js';

const CONFIG = { model: 'small', batchSize: 16, epochs: 3, learningRate: 2e-3, optimizer: 'adam', seed: 1 } as const;

for (const backend of ['wasm', 'webgpu'] as const) {
  // On webgpu: a system driver (lavapipe without a GPU); over SwiftShader these 3 epochs take ~6 min.
  const skip = backend === 'webgpu' ? missing('system-vulkan') : false;
  test(`small CNN on 2 000 MNIST samples reaches 90 % in 3 epochs on ${backend}`, { timeout: 600_000, skip }, async () => {
    const { service, datasetId, home } = await serviceWithMnist(2000);
    try {
      const { runId, done } = service.startTraining({ dataset: datasetId, config: { ...CONFIG, backend } });
      const run = await done;
      assert.equal(run.status, 'completed', run.error ?? '');
      assert.equal(run.backend, backend);
      assert.ok(run.device && run.device.length > 0);
      assert.ok(run.bestValAccuracy! >= 0.9, `best validation accuracy ${run.bestValAccuracy}`);
      const steps = service.runSteps(runId);
      const trainCount = service.getDataset(datasetId).manifest.split.trainCount;
      assert.equal(steps.length, 3 * Math.ceil(trainCount / CONFIG.batchSize), 'every step is stored');
      assert.deepEqual(
        steps.map((s) => s.step),
        steps.map((_, i) => i + 1),
      );
      for (const s of steps) {
        assert.ok(Number.isFinite(s.loss) && s.samplesPerSecond > 0 && s.stepMs > 0 && s.memoryBytes > 0, JSON.stringify(s));
      }
      assert.equal(service.runEpochs(runId).length, 3);
      // The saved model loads back and predicts as well as the run said.
      const { model: artifact } = service.runFiles(runId);
      assert.ok(artifact && existsSync(path.join(artifact.path, 'model.json')));
      assert.ok(existsSync(path.join(home, 'artifacts', `run-${runId}`, 'evaluation.json')));
      if (backend === 'wasm') {
        await tf.setBackend('cpu');
        const model = await loadModelFromDir(artifact.path);
        assert.deepEqual(model.inputs[0]!.shape, [null, 28, 28, 1]);
        model.dispose();
      }
    } finally {
      await service.close();
    }
  });
}
