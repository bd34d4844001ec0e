import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fingerprintChanges,
  freshnessLabel,
  freshnessOf,
  freshnessText,
  NO_FINGERPRINT_REASON,
  tuningFingerprintSchema,
  type TuningFingerprint,
} from '../../../src/shared/tuning-fingerprint.js';
import { retuneCommand, retuneParams } from '../../../src/shared/api/retune.js';
import type { TuningRequest } from '../../../src/shared/tuning-types.js';

const A = 'a1b2c3d4'.repeat(8);
const C = 'c3d4e5f6'.repeat(8);

const base: TuningFingerprint = {
  model: 'small',
  parameters: 25_578,
  startModel: null,
  dataset: { id: 1, name: 'mnist', contentHash: A },
  inputShape: [28, 28, 1],
  augment: 'none',
  engine: 'tfjs',
  backend: 'webgpu',
  device: 'NVIDIA H200 (WebGPU)',
  torchVersion: null,
  appVersion: '0.1.0',
};

test('the same fingerprint has no changes and is fresh', () => {
  assert.deepEqual(fingerprintChanges(base, { ...base }), []);
  const f = freshnessOf(base, { ...base });
  assert.deepEqual(f, { state: 'fresh', changes: [], reason: null });
  assert.equal(freshnessLabel(f), 'up to date');
});

test('each field that differs is one sentence, in the fields’ order', () => {
  const now: TuningFingerprint = {
    ...base,
    dataset: { ...base.dataset, contentHash: C },
    inputShape: [32, 32, 3],
    augment: 'light',
    backend: 'wasm',
    device: 'CPU (wasm, 4 threads)',
    appVersion: '0.2.0',
  };
  assert.deepEqual(
    fingerprintChanges(base, now).map((c) => c.text),
    [
      "the dataset's content changed (hash a1b2c3d4… → c3d4e5f6…)",
      'the input size is now 32×32×3, was 28×28×1',
      'the augmentation is now light, was none',
      'the backend is now wasm, was webgpu',
      'the device is now CPU (wasm, 4 threads), was NVIDIA H200 (WebGPU)',
      'the app is now version 0.2.0, was 0.1.0',
    ],
  );
});

test('another dataset is named, and only when its content differs', () => {
  const other = { id: 2, name: 'digits', contentHash: C };
  assert.deepEqual(fingerprintChanges(base, { ...base, dataset: other }), [
    { field: 'dataset', text: 'the dataset is now "digits" (hash c3d4e5f6…), was "mnist" (hash a1b2c3d4…)' },
  ]);
  // A second import of the same data: the same content, nothing changed.
  assert.deepEqual(fingerprintChanges(base, { ...base, dataset: { ...other, contentHash: A } }), []);
});

test('model, size, start model, engine and torch version', () => {
  assert.deepEqual(
    fingerprintChanges(base, { ...base, model: 'large', parameters: 300_000 }).map((c) => c.field),
    ['model'],
  );
  assert.equal(fingerprintChanges(base, { ...base, parameters: 30_000 })[0]!.text, 'the small model now has 30,000 trainable parameters, had 25,578');
  assert.equal(fingerprintChanges(base, { ...base, startModel: C })[0]!.text, 'the model now starts from model c3d4e5f6…, was trained from scratch');
  const torch = { ...base, engine: 'torch' as const, backend: 'torch-cpu', device: null, torchVersion: '1.13.1' };
  assert.deepEqual(
    fingerprintChanges(base, torch).map((c) => c.text),
    ['the engine is now PyTorch, was tfjs', 'the backend is now torch-cpu, was webgpu'],
  );
  assert.deepEqual(fingerprintChanges(torch, { ...torch, torchVersion: '2.1.0' }), [{ field: 'torchVersion', text: 'torch is now version 2.1.0, was 1.13.1' }]);
  // Detection names the device with torch's version: a new torch is told once, a new Python still is.
  const named = { ...torch, device: 'CPU (PyTorch 1.13.1, Python 3.11.2)' };
  assert.deepEqual(
    fingerprintChanges(named, { ...named, torchVersion: '2.1.0', device: 'CPU (PyTorch 2.1.0, Python 3.11.2)' }).map((c) => c.field),
    ['torchVersion'],
  );
  assert.deepEqual(
    fingerprintChanges(named, { ...named, torchVersion: '2.1.0', device: 'CPU (PyTorch 2.1.0, Python 3.12.1)' }).map((c) => c.text),
    ['the device is now CPU (PyTorch 2.1.0, Python 3.12.1), was CPU (PyTorch 1.13.1, Python 3.11.2)', 'torch is now version 2.1.0, was 1.13.1'],
  );
});

test('a side that does not know (null) is not compared, never guessed', () => {
  assert.deepEqual(fingerprintChanges(base, { ...base, device: null, parameters: null }), []);
  assert.deepEqual(fingerprintChanges({ ...base, device: null }, base), []);
});

test('without a stored fingerprint the answer is unknown, whatever the current one is', () => {
  const f = freshnessOf(null, { ...base, backend: 'wasm' });
  assert.deepEqual(f, { state: 'unknown', changes: [], reason: NO_FINGERPRINT_REASON });
  assert.equal(freshnessLabel(f), 'fingerprint unknown');
  assert.equal(freshnessText(f), NO_FINGERPRINT_REASON);
  // No current one either (the cache unreadable): unknown, with the reason given.
  assert.deepEqual(freshnessOf(base, null, [], 'why'), { state: 'unknown', changes: [], reason: 'why' });
});

test('a change the current fingerprint cannot hold (no backend now) makes it stale', () => {
  const gone = { field: 'backend' as const, text: 'the backend webgpu is not available now (no adapter)' };
  const f = freshnessOf(base, { ...base }, [gone]);
  assert.equal(f.state, 'stale');
  assert.equal(freshnessText(f), 'stale: the backend webgpu is not available now (no adapter)');
});

test('the schema refuses a hash that is not sha256 hex, naming the field', () => {
  const r = tuningFingerprintSchema.safeParse({ ...base, dataset: { ...base.dataset, contentHash: 'abc' } });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues[0]!.path, ['dataset', 'contentHash']);
});

const request: TuningRequest = {
  model: 'small',
  mode: 'full',
  optimizer: 'sgd',
  backend: 'auto',
  baseBatchSize: 32,
  baseLearningRate: 0.01,
  plannedEpochs: 5,
  budgetSeconds: 600,
  seed: 3,
  searchLearningRate: false,
  augment: 'light',
};

test('tune again: the same search, no earlier findings reused, as params and as a command line', () => {
  const p = retuneParams(4, request);
  assert.deepEqual(p, {
    dataset: 4,
    model: 'small',
    mode: 'full',
    backend: 'auto',
    optimizer: 'sgd',
    plannedEpochs: 5,
    budgetSeconds: 600,
    reuseKnown: false,
    baseBatchSize: 32,
    baseLearningRate: 0.01,
    searchLearningRate: false,
    augment: 'light',
    seed: 3,
  });
  assert.equal(
    retuneCommand(p),
    'autobatch tune --dataset 4 --model small --mode full --backend auto --optimizer sgd --epochs 5 --budget 600s --base-batch 32 --base-lr 0.01 --augment light --no-lr-search --no-reuse',
  );
  // The run's changes, and a name that needs quoting.
  assert.match(retuneCommand(retuneParams(4, request, { dataset: "bob's data", backend: 'wasm' })), /--dataset 'bob'\\''s data' .*--backend wasm /);
});

test('tune again from a start model names it with --from-model', () => {
  const startFrom = {
    source: '12',
    sourceKind: 'run' as const,
    runId: 12,
    digest: A.repeat(1),
    architecture: 'small',
    classes: ['0', '1'],
    inputShape: [28, 28, 1],
    unfreeze: 1,
    blocks: 2,
    batchNormTrained: false,
    fineTuneLearningRate: 0.001,
  };
  const p = retuneParams(4, { ...request, startFrom });
  assert.equal(p.model, undefined);
  assert.deepEqual(p.startFrom, { source: '12', unfreeze: 1, fineTuneLearningRate: 0.001 });
  assert.match(retuneCommand(p), /--from-model 12 --unfreeze 1 --fine-tune-lr 0\.001/);
});
