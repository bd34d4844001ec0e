// Out of memory on the wasm backend, for real: no cap, the backend's own 4 GiB address space. A
// validation pass over 2 160 images of 128×128 at one evaluation batch needs one 2.2 GB tensor
// (the small CNN's first conv output, 126×126×16 floats a sample); the wasm heap cannot give 2 GiB
// at once (probe-failure.ts, guardWasmAllocations, also around training runs). The run must be
// recovered from as any out-of-memory is: a fresh trainer, the evaluation batch halved, the
// epoch validated for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { AutoBatchService } from '../../src/main/service/service.js';
import { tempHome, writeSquaresIdx } from './helpers.js';

/** Bytes of the small CNN's first conv output for one 128×128 grey image. */
const CONV1_BYTES = 126 * 126 * 16 * 4;

test(
  'a wasm run whose validation pass needs more than the wasm heap gives: out of memory in validation, the evaluation batch halved, completed',
  { timeout: 300_000 },
  async () => {
    const home = tempHome();
    const src = path.join(home, 'idx');
    writeSquaresIdx(src, 2400, 128);
    const service = new AutoBatchService({ home });
    try {
      // 2 160 to validate, 240 to train on (15 steps of 16).
      const ds = await service.importDataset(src, { name: 'squares-128', validationFraction: 0.9 });
      const validation = ds.manifest.split.validationCount;
      assert.ok(validation * CONV1_BYTES >= 2 ** 31, `${validation} samples at one batch need a 2 GiB tensor`);
      const config = {
        model: 'small',
        epochs: 1,
        learningRate: 2e-3,
        optimizer: 'adam',
        backend: 'wasm',
        seed: 3,
        batchSize: 16,
        evalBatchSize: validation,
      } as const;
      const { done, runId } = service.startTraining({ dataset: ds.id, config });
      const run = await done;
      assert.equal(run.status, 'completed', run.error ?? '');
      assert.equal(run.backend, 'wasm');
      const [e, ...more] = service.runEvents(runId);
      assert.deepEqual(more, []);
      assert.ok(e?.kind === 'batch-reduced', JSON.stringify(e));
      assert.deepEqual([e.batch, e.fromBatch, e.toBatch], ['evaluation', validation, Math.floor(validation / 2)]);
      assert.match(e.cause, new RegExp(`^validation: out of memory: ${validation * CONV1_BYTES} bytes requested from a wasm heap`));
      assert.equal(run.config.batchSize, 16);
      const epochs = service.runEpochs(runId);
      assert.equal(epochs.length, 1);
      assert.ok(Number.isFinite(epochs[0]!.valLoss) && epochs[0]!.valAccuracy > 0, JSON.stringify(epochs[0]));
    } finally {
      await service.close();
      rmSync(home, { recursive: true, force: true });
    }
  },
);
