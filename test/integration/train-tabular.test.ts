// Tabular data end to end: a CSV with three separable classes is imported, standardised and
// learned by the MLP; a CNN is refused for it with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRng } from '../../src/shared/random.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { tempHome } from './helpers.js';

function blobsCsv(file: string, perClass: number): void {
  const rng = createRng(7);
  const gauss = () => Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
  const centres: Record<string, [number, number, number]> = { setosa: [0, 0, 50], versicolor: [4, 1, 60], virginica: [1, 5, 40] };
  const lines = ['sepal,petal,height,species'];
  for (const [name, [a, b, c]] of Object.entries(centres)) {
    for (let i = 0; i < perClass; i++) lines.push(`${(a + gauss()).toFixed(3)},${(b + gauss()).toFixed(3)},${(c + 5 * gauss()).toFixed(2)},${name}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

test('CSV → MLP learns three separable classes; CNNs are refused for tabular data', { timeout: 300_000 }, async () => {
  const home = tempHome();
  const csv = path.join(home, 'flowers.csv');
  blobsCsv(csv, 200);
  const service = new AutoBatchService({ home });
  try {
    const ds = await service.importDataset(csv, { labelColumn: 'species' });
    assert.deepEqual(ds.manifest.classes, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual(ds.manifest.inputShape, [3]);
    assert.throws(() => service.startTraining({ dataset: ds.id, config: { model: 'small', backend: 'wasm' } }), /tabular features; use --model mlp/);
    const { done } = service.startTraining({ dataset: ds.name, config: { model: 'mlp', batchSize: 32, epochs: 10, learningRate: 5e-3, backend: 'wasm' } });
    const run = await done;
    assert.equal(run.status, 'completed', run.error ?? '');
    assert.ok(run.bestValAccuracy! >= 0.9, `best validation accuracy ${run.bestValAccuracy}`);
  } finally {
    await service.close();
  }
});

test('SGD with momentum and warm-up trains too, and the warm-up shows in the stored learning rate', { timeout: 300_000 }, async () => {
  const home = tempHome();
  const csv = path.join(home, 'flowers.csv');
  blobsCsv(csv, 100);
  const service = new AutoBatchService({ home });
  try {
    const ds = await service.importDataset(csv, {});
    const { runId, done } = service.startTraining({
      dataset: ds.id,
      config: {
        model: 'mlp',
        batchSize: 16,
        epochs: 8,
        learningRate: 0.05,
        optimizer: 'sgd',
        momentum: 0.9,
        warmupSteps: 10,
        backend: 'cpu',
        validationsPerEpoch: 2,
      },
    });
    const run = await done;
    assert.equal(run.status, 'completed', run.error ?? '');
    assert.ok(run.bestValAccuracy! >= 0.85, `best validation accuracy ${run.bestValAccuracy}`);
    const validations = service.runEpochs(runId);
    assert.equal(validations.length, 16, 'two validations per epoch');
    assert.deepEqual([...new Set(validations.map((v) => v.epoch))], [1, 2, 3, 4, 5, 6, 7, 8]);
    const lrs = service.runSteps(runId).map((s) => s.learningRate);
    assert.ok(Math.abs(lrs[0]! - 0.005) < 1e-9, `first step lr ${lrs[0]}`);
    assert.ok(Math.abs(lrs[9]! - 0.05) < 1e-9);
    assert.ok(lrs.slice(10).every((x) => Math.abs(x - 0.05) < 1e-9));
    for (let i = 1; i < 10; i++) assert.ok(lrs[i]! > lrs[i - 1]!);
  } finally {
    await service.close();
  }
});
