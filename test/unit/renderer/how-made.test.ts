// "How this model was made" on a run's page: the settings, then only what the run has — the
// augmentation, the start model (its run linked while it exists), the blocks trained and the
// fine-tune rate when some were, the Auto-tune session (linked while it exists).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fineTunedMark, howMadeRows, startFromText, type MadeRow } from '../../../src/renderer/lib/how-made.js';
import type { StartFrom } from '../../../src/shared/fine-tuning.js';
import type { TrainConfig } from '../../../src/shared/run-types.js';
import type { DistributedRun } from '../../../src/shared/api/data.js';
import { backendLabel, deviceName, distributedText } from '../../../src/shared/distributed-run.js';
import { looksUnfinished } from '../../../src/renderer/lib/run-import.js';
import { parseRecipeMetrics } from '../../../src/shared/recipe-metrics-read.js';

const config: TrainConfig = {
  model: 'small',
  batchSize: 32,
  epochs: 2,
  learningRate: 0.001,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 0,
  backend: 'auto',
  seed: 7,
};

const startFrom: StartFrom = {
  source: '3',
  sourceKind: 'run',
  runId: 3,
  digest: 'b'.repeat(64),
  architecture: 'small',
  classes: ['0', '1', '2', '3', '4'],
  inputShape: [28, 28, 1],
  unfreeze: 1,
  blocks: 2,
  batchNormTrained: false,
  fineTuneLearningRate: 1e-4,
};

/** Each row as one line: "Label: text [href] (note)". */
function lines(rows: MadeRow[]): string[] {
  return rows.map((r) => `${r.label}: ${r.parts.map((p) => (p.href ? `[${p.text}](${p.href})` : p.code ? `\`${p.text}\`` : p.text)).join(' ')}`);
}

test('a run from scratch, augmentation not recorded, no Auto-tune: the settings only', () => {
  assert.deepEqual(lines(howMadeRows({ config, backend: 'cpu', tuningSessionId: null }, { tuningExists: false, startRunExists: false })), [
    'Batch size: 32',
    'Evaluation batch: 32 (the batch size)',
    'Epochs: 2',
    'Learning rate: 1.00e-3',
    'Optimizer: adam',
    'Warm-up: 0 steps',
    'Backend: cpu (chosen by auto)',
    'Seed: 7',
    'Auto-tune: not used',
  ]);
});

test('a fine-tuned run: augmentation with what it does, the start run linked, blocks of total, the fine-tune rate, the session linked', () => {
  const rows = howMadeRows(
    { config: { ...config, optimizer: 'sgd', backend: 'wasm', augment: 'light', startFrom }, backend: null, tuningSessionId: 4 },
    { tuningExists: true, startRunExists: true },
  );
  assert.deepEqual(lines(rows).slice(4), [
    'Optimizer: sgd (momentum 0.9)',
    'Warm-up: 0 steps',
    'Backend: wasm',
    'Seed: 7',
    'Augmentation: light (random shifts of up to 1/8 of the side (pad and crop))',
    'Started from: [run 3](#/runs/3) (small, 5 classes, 28×28×1)',
    'Blocks trained: the last 1 of 2 (with the new classifier)',
    'Fine-tune learning rate: 1.00e-4 (the unfrozen blocks)',
    'Auto-tune: [session 4](#/tune/4)',
  ]);
  assert.ok(rows.find((r) => r.label === 'Started from')!.parts[1]!.note, 'the architecture is a quieter note');
});

test('a frozen backbone from a file: no fine-tune rate; the run that made it linked; deleted runs and sessions named, not linked', () => {
  const fromFile: StartFrom = { ...startFrom, source: '/models/digits', sourceKind: 'folder', unfreeze: 0 };
  const rows = lines(
    howMadeRows(
      { config: { ...config, augment: 'none', startFrom: fromFile }, backend: 'cpu', tuningSessionId: 9 },
      { tuningExists: false, startRunExists: true },
    ),
  );
  assert.deepEqual(rows.slice(8), [
    'Augmentation: none',
    'Started from: `/models/digits` (small, 5 classes, 28×28×1) made by [run 3](#/runs/3)',
    'Blocks trained: none of 2 (the backbone frozen; only the new classifier trained)',
    'Auto-tune: session 9 (deleted)',
  ]);
  const gone = lines(howMadeRows({ config: { ...config, startFrom }, backend: 'cpu', tuningSessionId: null }, { tuningExists: false, startRunExists: false }));
  assert.ok(gone.includes('Started from: run 3 (deleted) (small, 5 classes, 28×28×1)'), gone.join('\n'));
});

test('the marks of a fine-tuned run in lists and sentences', () => {
  assert.equal(fineTunedMark(config), null);
  assert.equal(fineTunedMark({ startFrom }), 'fine-tuned from run 3');
  assert.equal(fineTunedMark({ startFrom: { ...startFrom, sourceKind: 'url', source: 'https://e.org/model.json', runId: undefined } }), 'fine-tuned');
  assert.equal(startFromText(startFrom), "run 3's model");
  assert.equal(startFromText({ ...startFrom, sourceKind: 'url', source: 'https://e.org/model.json' }), 'the model at https://e.org/model.json');
  assert.equal(startFromText({ ...startFrom, sourceKind: 'file', source: '/m/model.json' }), 'the model in /m/model.json');
});

test('an imported distributed run says where it trained, the plan it came from (linked while stored) and the file read', () => {
  const distributed: DistributedRun = {
    engine: 'pytorch-ddp',
    workers: 2,
    worldBackend: 'gloo',
    device: 'cpu',
    torchVersion: '2.1.0',
    origin: { kind: 'tuning', id: 3, appVersion: '0.21.0', exportedAt: '2026-03-01T10:00:00.000Z' },
    plan: {
      model: 'small',
      parameters: 1000,
      optimizer: 'adam',
      workers: 2,
      perWorkerBatch: 16,
      microBatch: 8,
      globalBatch: 32,
      learningRate: 0.001,
      warmupSteps: 0,
      epochs: 2,
      seed: 7,
    },
    fromWeights: true,
    importedFrom: '/runs/ddp/metrics.jsonl',
    importedAt: '2026-03-02T00:00:00.000Z',
    sha256: 'c'.repeat(64),
    partial: true,
  };
  const run = { config: { ...config, backend: 'torch-cpu' as const }, backend: 'pytorch-ddp', tuningSessionId: 3, distributed };
  const shown = lines(howMadeRows(run, { tuningExists: true, startRunExists: false, originExists: true }));
  assert.ok(shown.includes('Backend: pytorch-ddp ×2 (trained elsewhere: see below)'), shown.join('\n'));
  assert.ok(shown.includes('Trained elsewhere: PyTorch DDP, 2 workers, gloo on CPU, PyTorch 2.1.0'));
  assert.ok(shown.includes('Plan: from the plan of [tuning 3](#/tune/3)'));
  assert.ok(shown.includes("Per-worker batch: 16 per worker × 2 = 32 (micro-batch 8, accumulated) (continued from this app's trained weights)"));
  assert.ok(shown.includes('Imported from: `/runs/ddp/metrics.jsonl` (without its end line: still running or cut off then)'));
  const gone = lines(
    howMadeRows(
      { ...run, distributed: { ...distributed, origin: { ...distributed.origin, kind: 'run', id: 9 } } },
      { tuningExists: false, startRunExists: false },
    ),
  );
  assert.ok(gone.includes('Plan: from the plan of run 9 (not stored here)'), gone.join('\n'));
  assert.equal(distributedText(distributed), 'PyTorch DDP, 2 workers, gloo on CPU, PyTorch 2.1.0 — from the plan of tuning 3');
  assert.equal(backendLabel(run), 'pytorch-ddp ×2');
  assert.equal(backendLabel({ backend: 'wasm' }), 'wasm');
  assert.equal(deviceName('cuda:1'), 'CUDA');
});

test('an unfinished file is told apart from other refusals, for the "store what it has" button', () => {
  const start =
    '{"kind":"start","format":"autobatch-recipe-metrics/1","origin":{"kind":"run","id":1,"appVersion":"1","exportedAt":"x"},"settings":{"model":"mlp","parameters":1,"optimizer":"adam","workers":1,"perWorkerBatch":4,"microBatch":4,"globalBatch":4,"learningRate":0.1,"warmupSteps":0,"epochs":1,"seed":1},"dataset":{"name":"d","contentHash":null,"trainCount":4,"validationCount":1,"classes":["a"]},"world":{"size":1,"backend":"gloo","device":"cpu","torchVersion":"2"},"fromWeights":false,"startedAt":"x"}';
  const step = '{"kind":"step","step":1,"epoch":1,"time":0,"loss":1,"accuracy":0.5,"learningRate":0.1,"samplesPerSecond":1,"stepMs":1}';
  const unfinished = (() => {
    try {
      parseRecipeMetrics(`${start}\n${step}\n`, 'm.jsonl');
    } catch (err) {
      return `path: ${(err as Error).message}`;
    }
    return assert.fail('should be refused');
  })();
  assert.equal(looksUnfinished(unfinished), true);
  assert.equal(looksUnfinished('path: m.jsonl, line 3: accuracy: Invalid input'), false);
});
