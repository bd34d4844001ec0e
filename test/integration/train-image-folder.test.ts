// An image folder end to end: RGB images of two kinds are imported, resized and learned by the
// small CNN; a corrupt file is reported by name and, with skipBad, left out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createRng } from '../../src/shared/random.js';
import { DatasetImportError } from '../../src/main/engine/datasets/index.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { tempHome } from './helpers.js';

async function makeFolder(root: string): Promise<void> {
  const rng = createRng(3);
  for (const [cls, hot] of [
    ['reds', 0],
    ['blues', 2],
  ] as const) {
    mkdirSync(path.join(root, cls), { recursive: true });
    for (let i = 0; i < 30; i++) {
      const px = Buffer.alloc(20 * 20 * 3);
      for (let p = 0; p < 400; p++) {
        for (let c = 0; c < 3; c++) px[p * 3 + c] = Math.floor((c === hot ? 150 : 40) + rng() * 100);
      }
      const img = sharp(px, { raw: { width: 20, height: 20, channels: 3 } });
      await (i % 2 ? img.png() : img.jpeg()).toFile(path.join(root, cls, `${i}.${i % 2 ? 'png' : 'jpg'}`));
    }
  }
  writeFileSync(path.join(root, 'reds', 'broken.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
}

test('image folder → small CNN; a corrupt file is named, and skipped with skipBad', { timeout: 300_000 }, async () => {
  const home = tempHome();
  const folder = path.join(home, 'colours');
  await makeFolder(folder);
  const service = new AutoBatchService({ home });
  try {
    await assert.rejects(service.importDataset(folder, { imageSize: [16, 16], grayscale: false }), (err: unknown) => {
      assert.ok(err instanceof DatasetImportError);
      assert.ok(
        err.problems.some((p) => p.file.endsWith('broken.png')),
        JSON.stringify(err.problems),
      );
      return true;
    });
    assert.equal(service.listDatasets().length, 0);
    const ds = await service.importDataset(folder, { imageSize: [16, 16], grayscale: false, skipBad: true });
    assert.deepEqual(ds.manifest.inputShape, [16, 16, 3]);
    assert.deepEqual(ds.manifest.classes, ['blues', 'reds']);
    assert.equal(ds.manifest.skipped, 1);
    assert.equal(ds.manifest.count, 60);
    const { done } = service.startTraining({ dataset: ds.id, config: { model: 'small', batchSize: 8, epochs: 4, learningRate: 3e-3, backend: 'wasm' } });
    const run = await done;
    assert.equal(run.status, 'completed', run.error ?? '');
    assert.ok(run.bestValAccuracy! >= 0.9, `best validation accuracy ${run.bestValAccuracy}`);
  } finally {
    await service.close();
  }
});
