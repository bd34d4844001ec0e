// Out of memory during a run, on the memory-capped test backend (its allocations above a cap fail
// as a GPU's or WebAssembly's do): the trainer is replaced, the run goes on from its newest
// checkpoint (or its start) with the batch that failed stepped down — the training batch with the
// rate scaled by the search's rule, or the evaluation batch after a validation pass — each change
// an event; it runs out twice in a row and still completes. Each cap lies between peaks that
// memory probes measure first on the same backend, model and data (`openProber(...).memory`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AutoBatchService } from '../../src/main/service/service.js';
import type { RunEvent } from '../../src/shared/run-events.js';
import type { ModelKind } from '../../src/shared/run-types.js';
import { removeDir, tempDir, within } from './helpers.js';
import { missing } from '../support/parts.js';

async function capped(limit: number, checkpointSeconds = 300): Promise<{ service: AutoBatchService; datasetId: number; home: string }> {
  const home = tempDir();
  const service = new AutoBatchService({ home, checkpointSeconds });
  const ds = await service.importDataset('sample:mnist', { name: 'mnist', limit });
  return { service, datasetId: ds.id, home };
}

/**
 * Peak bytes of a training step (or a forward-only pass) at each batch, measured by memory probes
 * on wasm — or on torch's capped test device, whose peaks are the live tensor bytes its cap compares
 * (a cap no probe reaches).
 */
async function peaks(
  service: AutoBatchService,
  datasetId: number,
  model: ModelKind,
  asks: { batchSize: number; forwardOnly?: boolean }[],
  backend: 'wasm' | 'torch-cpu' = 'wasm',
): Promise<number[]> {
  const prober = await service.openProber(datasetId, { model, backend, seed: 3, ...(backend === 'torch-cpu' ? { memoryCapBytes: 2 ** 40 } : {}) });
  try {
    await prober.start();
    const out: number[] = [];
    for (const ask of asks) {
      const a = await prober.memory(ask);
      const peak = a.ok ? (a.result as { peakBytes?: number }).peakBytes : undefined;
      assert.ok(typeof peak === 'number' && peak > 0, `a peak at ${JSON.stringify(ask)}: ${JSON.stringify(a)}`);
      out.push(peak);
    }
    return out;
  } finally {
    await prober.close();
  }
}

// The small CNN on the capped wasm backend (tfjs's cpu backend convolves ~10× slower): its training
// step's peak grows ~0.46 MB a sample, so the caps lie far from both sides.
const base = { model: 'small', epochs: 1, learningRate: 2e-3, optimizer: 'adam', backend: 'wasm', seed: 3 } as const;

function reductions(events: RunEvent[]) {
  return events.flatMap((e) => (e.kind === 'batch-reduced' ? [e] : []));
}

test(
  'out of memory in a training step: a fresh trainer, batch 64 → 48 with the rate × √(48/64), completed; the event says so',
  { timeout: 300_000 },
  async () => {
    const { service, datasetId, home } = await capped(1000);
    try {
      const [p48, p64] = await peaks(service, datasetId, 'small', [{ batchSize: 48 }, { batchSize: 64 }]);
      assert.ok(p48! < p64!);
      const cap = Math.round((p48! + p64!) / 2);
      const { done, runId } = service.startTraining({ dataset: datasetId, config: { ...base, batchSize: 64 }, memoryCapBytes: cap, maxSteps: 3 });
      const run = await within(done, 240_000, 'the capped run');
      assert.equal(run.status, 'completed', run.error ?? '');
      assert.equal(run.config.batchSize, 48);
      assert.ok(Math.abs(run.config.learningRate - 2e-3 * Math.sqrt(48 / 64)) < 1e-12);
      const [e, ...more] = reductions(service.runEvents(runId));
      assert.deepEqual(more, []);
      assert.equal(e!.batch, 'training');
      assert.equal(e!.fromBatch, 64);
      assert.equal(e!.toBatch, 48);
      assert.equal(e!.attempt, 2);
      assert.match(e!.cause, new RegExp(`^a training step: out of memory: \\d+ bytes requested, cap ${cap} bytes`));
      // It struck at the first step: no checkpoint yet, so attempt 2 started again from step 0.
      assert.equal(e!.checkpoint, null);
      assert.equal(e!.step, 0);
      const steps = service.runSteps(runId).map((s) => s.step);
      assert.deepEqual(
        steps,
        Array.from({ length: run.steps }, (_, i) => i + 1),
        'each step once',
      );
      assert.equal(run.steps, 3);
    } finally {
      await service.close();
      removeDir(home);
    }
  },
);

test('out of memory twice in a row: 64 → 48 → 36, each in a fresh trainer, then completed', { timeout: 300_000 }, async () => {
  const { service, datasetId, home } = await capped(1000);
  try {
    const [p36, p48] = await peaks(service, datasetId, 'small', [{ batchSize: 36 }, { batchSize: 48 }]);
    assert.ok(p36! < p48!);
    const cap = Math.round((p36! + p48!) / 2);
    const { done, runId } = service.startTraining({ dataset: datasetId, config: { ...base, batchSize: 64 }, memoryCapBytes: cap, maxSteps: 3 });
    const run = await within(done, 240_000, 'the capped run');
    assert.equal(run.status, 'completed', run.error ?? '');
    assert.deepEqual(
      reductions(service.runEvents(runId)).map((e) => [e.attempt, e.fromBatch, e.toBatch]),
      [
        [2, 64, 48],
        [3, 48, 36],
      ],
    );
    assert.equal(run.config.batchSize, 36);
    assert.ok(Math.abs(run.config.learningRate - 2e-3 * Math.sqrt(36 / 64)) < 1e-12, 'the rule applied at each step down');
  } finally {
    await service.close();
    removeDir(home);
  }
});

test(
  'out of memory in a validation pass: the evaluation batch 100 → 50, from the newest checkpoint; the training batch kept',
  { timeout: 300_000 },
  async () => {
    // The small CNN, whose forward pass at 100 samples needs more than its training step at 4; a
    // checkpoint every 0.2 s, so that one is written during the epoch's steps (the setting is minutes).
    const { service, datasetId, home } = await capped(500, 0.2);
    try {
      const [train4, forward50, forward100] = await peaks(service, datasetId, 'small', [
        { batchSize: 4 },
        { batchSize: 50, forwardOnly: true },
        { batchSize: 100, forwardOnly: true },
      ]);
      const fits = Math.max(train4!, forward50!);
      assert.ok(fits < forward100!, `training at 4 (${train4}) and validating at 50 (${forward50}) need less than validating at 100 (${forward100})`);
      const config = { ...base, batchSize: 4, evalBatchSize: 100 };
      const { done, runId } = service.startTraining({ dataset: datasetId, config, memoryCapBytes: Math.round((fits + forward100!) / 2) });
      const run = await within(done, 240_000, 'the capped run');
      assert.equal(run.status, 'completed', run.error ?? '');
      const [e, ...more] = reductions(service.runEvents(runId));
      assert.deepEqual(more, []);
      assert.equal(e!.batch, 'evaluation');
      assert.deepEqual([e!.fromBatch, e!.toBatch], [100, 50]);
      assert.equal(e!.fromRate, e!.toRate);
      assert.match(e!.cause, /^validation: out of memory/);
      // The epoch's steps ran before its validation: it went on from a checkpoint written during them.
      assert.ok(e!.checkpoint !== null && e!.step > 0, `resumed from ${e!.checkpoint} at step ${e!.step}`);
      assert.equal(run.config.batchSize, 4);
      assert.equal(run.config.evalBatchSize, 50);
      assert.deepEqual(
        service.runSteps(runId).map((s) => s.step),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      assert.equal(service.runEpochs(runId).length, 1);
    } finally {
      await service.close();
      removeDir(home);
    }
  },
);

// The torch engine: the same recovery, its trainer's capped test device (live_memory.py: tensor
// allocations above the cap fail with an error that reads like PyTorch's CUDA out-of-memory).
test(
  'torch: out of memory in a training step, then in a validation pass, on the capped device: batch 64 → 48, evaluation batch 100 → 50, completed',
  { timeout: 300_000, skip: missing('torch') },
  async () => {
    // 800 samples to train on, 200 to validate (the default split).
    const { service, datasetId, home } = await capped(1000);
    try {
      const [p48, p64, f50, f100] = await peaks(
        service,
        datasetId,
        'small',
        [{ batchSize: 48 }, { batchSize: 64 }, { batchSize: 50, forwardOnly: true }, { batchSize: 100, forwardOnly: true }],
        'torch-cpu',
      );
      assert.ok(p48! < p64! && f50! < f100!, JSON.stringify({ p48, p64, f50, f100 }));
      const cap = Math.round((Math.max(p48!, f50!) + Math.min(p64!, f100!)) / 2);
      assert.ok(cap > Math.max(p48!, f50!) && cap < Math.min(p64!, f100!), `a cap between what fits (${p48}, ${f50}) and what does not (${p64}, ${f100})`);
      const config = { ...base, backend: 'torch-cpu', batchSize: 64, evalBatchSize: 100 } as const;
      const { done, runId } = service.startTraining({ dataset: datasetId, config, memoryCapBytes: cap });
      const run = await within(done, 240_000, 'the capped torch run');
      assert.equal(run.status, 'completed', run.error ?? '');
      assert.equal(run.rung, 'torch-cpu');
      assert.deepEqual(
        reductions(service.runEvents(runId)).map((e) => [e.batch, e.fromBatch, e.toBatch, e.cause.slice(0, 30)]),
        [
          ['training', 64, 48, 'a training step: CPU out of me'],
          ['evaluation', 100, 50, 'validation: CPU out of memory:'],
        ],
      );
      assert.deepEqual([run.config.batchSize, run.config.evalBatchSize], [48, 50]);
      assert.ok(Math.abs(run.config.learningRate - 2e-3 * Math.sqrt(48 / 64)) < 1e-12);
      assert.deepEqual(
        service.runSteps(runId).map((s) => s.step),
        Array.from({ length: run.steps }, (_, i) => i + 1),
      );
      assert.equal(service.runEpochs(runId).length, 1);
    } finally {
      await service.close();
      removeDir(home);
    }
  },
);
