// A run that starts from a previous run's model, end to end in real trainer processes: the small
// CNN trained on the MNIST sample's ten digits, then a run on two of those digits (an image
// folder made from the sample) from that run's model, its backbone's last block unfrozen. The run
// completes; it stores where it started; its saved model says, in metadata that the schema
// accepts, what it is and how it was made; and it can in turn be started from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../../src/main/engine/datasets/index.js';
import { loadModelFromDir } from '../../src/main/engine/models/model-files.js';
import { modelExportMetadataSchema, parameterCounts } from '../../src/shared/model-export.js';
import { serviceWithMnist } from './helpers.js';

/** An image folder of `perClass` sample digits of each of `digits`, as PNG files. */
async function digitsFolder(cacheDir: string, dir: string, digits: string[], perClass: number): Promise<void> {
  const data = loadDataset(cacheDir);
  const [h, w] = data.manifest.inputShape as [number, number, number];
  for (const digit of digits) {
    const cls = data.manifest.classes.indexOf(digit);
    mkdirSync(path.join(dir, digit), { recursive: true });
    const picked = [...data.y.keys()].filter((i) => data.y[i] === cls).slice(0, perClass);
    for (const i of picked) {
      const pixels = Buffer.from(data.x.subarray(i * data.sampleSize, (i + 1) * data.sampleSize) as Uint8Array);
      await sharp(pixels, { raw: { width: w, height: h, channels: 1 } })
        .png()
        .toFile(path.join(dir, digit, `${i}.png`));
    }
  }
}

test(
  'a run on two digits from a previous run of ten: it completes, stores where it started, and its export says how it was made',
  { timeout: 600_000 },
  async () => {
    const { service, datasetId, home } = await serviceWithMnist(300);
    try {
      const first = service.startTraining({
        dataset: datasetId,
        config: { model: 'small', batchSize: 32, epochs: 1, learningRate: 2e-3, seed: 1, backend: 'wasm' },
        maxSteps: 6,
      });
      const pretrained = await first.done;
      assert.equal(pretrained.status, 'completed', pretrained.error ?? '');

      const folder = path.join(home, 'two-digits');
      await digitsFolder(service.getDataset(datasetId).cacheDir, folder, ['3', '7'], 20);
      const two = await service.importDataset(folder, { name: 'three-seven', grayscale: true });
      assert.deepEqual(two.manifest.classes, ['3', '7']);

      const startFrom = await service.loadStartModel({ source: String(first.runId), unfreeze: 1 });
      const { runId, done } = service.startTraining({ dataset: two.id, config: { batchSize: 8, epochs: 2, learningRate: 2e-3, backend: 'wasm' }, startFrom });
      const run = await done;
      assert.equal(run.status, 'completed', run.error ?? '');
      assert.ok(run.steps > 0);
      assert.equal(run.model, 'small');
      const s = run.config.startFrom!;
      assert.equal(s.sourceKind, 'run');
      assert.equal(s.runId, first.runId);
      assert.equal(s.architecture, 'small');
      assert.equal(s.classes.length, 10);
      assert.equal(s.unfreeze, 1);
      assert.ok(Math.abs(s.fineTuneLearningRate - 2e-4) < 1e-12);

      // The saved model: two outputs, and metadata that the format's schema accepts.
      const { model: artifact } = service.runFiles(runId);
      assert.ok(artifact);
      const json = JSON.parse(readFileSync(path.join(artifact.path, 'model.json'), 'utf8')) as { userDefinedMetadata: unknown };
      const parsed = modelExportMetadataSchema.safeParse(json.userDefinedMetadata);
      assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
      const meta = parsed.data;
      assert.equal(meta.model, 'small');
      assert.equal(meta.family, 'cnn');
      assert.deepEqual(meta.classes, ['3', '7']);
      assert.deepEqual(meta.inputShape, two.manifest.inputShape);
      assert.deepEqual(meta.pixelRange, [0, 255]);
      assert.equal(meta.runId, runId);
      assert.equal(meta.datasetName, 'three-seven');
      assert.deepEqual(meta.madeWith, { settings: run.config, tuning: null });
      await tf.setBackend('cpu');
      const loaded = await loadModelFromDir(artifact.path);
      assert.deepEqual(loaded.outputs[0]!.shape, [null, 2]);
      const counts = parameterCounts(loaded.weights.map((w) => ({ name: w.originalName, shape: w.shape.map((d) => d ?? 1) })));
      assert.equal(meta.totalParameters, counts.total);
      assert.equal(meta.trainableParameters, counts.trainable);
      loaded.dispose();

      // A fine-tuned model is a start model in turn: its metadata gives the classes back.
      const again = await service.loadStartModel({ source: artifact.path });
      assert.equal(again.kind, 'small');
      assert.deepEqual(again.metadata?.classes, ['3', '7']);
      assert.equal(again.runId, runId);
    } finally {
      await service.close();
    }
  },
);
