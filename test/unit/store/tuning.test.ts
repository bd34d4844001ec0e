import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openStore } from '../../../src/main/store/index.js';
import type { TuningReport, TuningRequest } from '../../../src/shared/tuning-types.js';
import { manifest, raw, tempHome } from './helpers.js';

const request: TuningRequest = {
  model: 'mlp',
  mode: 'full',
  optimizer: 'adam',
  backend: 'cpu',
  baseBatchSize: 32,
  baseLearningRate: 1e-3,
  plannedEpochs: 10,
  seed: 1,
};

const report: TuningReport = {
  recommendation: {
    batchSize: 64,
    learningRate: 0.0014,
    warmupSteps: 12,
    expectedSamplesPerSecond: 900,
    memoryCeiling: 512,
    memoryBudgetBytes: 1e9,
    memoryHeadroom: 0.9,
    noiseScale: 118,
    optimizer: 'adam',
  },
  reasons: ['64 fits in memory, but past ~120 each extra sample adds little: the gradient noise scale is 118'],
  curves: [
    { batchSize: 32, samplesPerSecond: 700, efficiency: 1, goodput: 700 },
    { batchSize: 64, samplesPerSecond: 900, efficiency: 0.82, goodput: 740 },
  ],
  fits: { memory: { a: 1e6, b: 2e4, r2: 0.99 }, time: null },
  saturationBatch: 64,
  scaleOut: null,
  searchSeconds: 3.2,
};

test('a tuning session keeps its trials and report, and runs can point to it', () => {
  const store = openStore(tempHome());
  try {
    const ds = store.datasets.insert(manifest('iris'), '/c');
    const s = store.tuning.create(ds.id, request);
    assert.equal(s.status, 'running');
    store.tuning.setBackend(s.id, { name: 'cpu', device: 'CPU', skipped: [] }, 1e9);
    store.tuning.addTrial(s.id, {
      seq: 1,
      kind: 'memory',
      batchSize: 1024,
      learningRate: null,
      status: 'oom',
      result: {},
      cause: 'out of memory',
      seconds: 0.1,
    });
    store.tuning.addTrial(s.id, {
      seq: 2,
      kind: 'noise',
      batchSize: 32,
      learningRate: 1e-3,
      status: 'ok',
      result: { noiseScale: Infinity },
      cause: null,
      seconds: 0.5,
    });
    store.tuning.finish(s.id, 'completed', { report, searchSeconds: 3.2 });
    store.tuning.finish(s.id, 'failed', { error: 'late' }); // already ended: no change
    const got = store.tuning.get(s.id)!;
    assert.equal(got.status, 'completed');
    assert.equal(got.device, 'CPU');
    assert.deepEqual(got.report, report);
    assert.equal(got.datasetName, 'iris');
    const trials = store.tuning.trials(s.id);
    assert.deepEqual(
      trials.map((t) => [t.seq, t.kind, t.status]),
      [
        [1, 'memory', 'oom'],
        [2, 'noise', 'ok'],
      ],
    );
    assert.equal(trials[1]!.result.noiseScale, 'Infinity');
    const run = store.runs.create({
      datasetId: ds.id,
      config: { model: 'mlp', batchSize: 64, epochs: 1, learningRate: 0.0014, optimizer: 'adam', momentum: 0.9, warmupSteps: 12, backend: 'cpu', seed: 1 },
      tuningSessionId: s.id,
    });
    assert.equal(run.tuningSessionId, s.id);
    assert.deepEqual(
      store.tuning.list().map((t) => t.id),
      [s.id],
    );
  } finally {
    store.close();
  }
});

test('a session left running by a dead process is interrupted at the next open', () => {
  const home = tempHome();
  let store = openStore(home);
  const ds = store.datasets.insert(manifest('iris'), '/c');
  const s = store.tuning.create(ds.id, request);
  store.close();
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  const db = raw(home);
  db.prepare('UPDATE tuning_sessions SET owner_pid = ? WHERE id = ?').run(dead, s.id);
  db.close();
  store = openStore(home);
  try {
    const got = store.tuning.get(s.id)!;
    assert.equal(got.status, 'interrupted');
    assert.match(got.error!, /ended unexpectedly/);
  } finally {
    store.close();
  }
});
