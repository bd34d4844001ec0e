// Which previous tuning stands in for probes a search has no time for: the latest completed one of
// the same model, dataset, optimizer, augmentation and start model, on the same rung.
import { test } from 'node:test';
import type { TuningFingerprint } from '../../../src/shared/tuning-fingerprint.js';
import assert from 'node:assert/strict';
import { knownTuning } from '../../../src/main/service/tuner.js';
import type { TuningSessionRecord } from '../../../src/main/store/index.js';
import type { TuningReport, TuningRequest } from '../../../src/shared/tuning-types.js';

const REQUEST: TuningRequest = {
  model: 'small',
  mode: 'quick',
  optimizer: 'adam',
  backend: 'auto',
  baseBatchSize: 32,
  baseLearningRate: 1e-3,
  plannedEpochs: 10,
  seed: 1,
  augment: 'none',
};

function report(batchSize: number, learningRate: number, baseRate?: number): TuningReport {
  return {
    recommendation: {
      batchSize,
      learningRate,
      warmupSteps: 0,
      expectedSamplesPerSecond: 1000,
      memoryCeiling: 512,
      memoryBudgetBytes: 1e9,
      memoryHeadroom: null,
      noiseScale: null,
      optimizer: 'adam',
    },
    reasons: [],
    curves: [],
    fits: { memory: null, time: null },
    saturationBatch: batchSize,
    scaleOut: null,
    ...(baseRate !== undefined ? { learningRateTest: { batchSize: 32, points: [], steepestRate: null, minimumRate: null, rate: null, baseRate } } : {}),
    searchSeconds: 1,
  };
}

function session(id: number, over: Partial<Omit<TuningSessionRecord, 'request'>> & { request?: Partial<TuningRequest> } = {}): TuningSessionRecord {
  const { request, ...rest } = over;
  return {
    id,
    datasetId: 1,
    datasetName: 'digits',
    model: 'small',
    mode: 'quick',
    request: { ...REQUEST, ...request },
    status: 'completed',
    backend: 'wasm',
    rung: 'wasm',
    device: 'CPU',
    budgetBytes: 1e9,
    report: report(64, 2e-3, 1.5e-3),
    error: null,
    createdAt: '2026-12-01T00:00:00Z',
    endedAt: '2026-12-01T00:00:05Z',
    searchSeconds: 1,
    fingerprint: null,
    ...rest,
  };
}

test('the latest completed tuning of the same model, dataset, optimizer and augmentation on the same rung', () => {
  const sessions = [
    session(1),
    session(2, { report: report(128, 4e-3, 2e-3) }),
    session(3, { status: 'failed', report: null }),
    session(4, { rung: 'torch-cpu' }),
    session(5, { datasetId: 2 }),
    session(6, { request: { model: 'large' } }),
    session(7, { request: { augment: 'light' } }),
    session(8, { request: { optimizer: 'sgd' } }),
    session(9),
  ];
  const k = knownTuning(sessions, { sessionId: 9, datasetId: 1, request: REQUEST, rung: 'wasm' })!;
  assert.equal(k.sessionId, 2, 'the session running now (9) and every other mismatch are passed over');
  assert.equal(k.baseRate, 2e-3);
  assert.equal(k.report.recommendation.batchSize, 128);
  assert.equal(k.backend.rung, 'wasm');
  assert.equal(knownTuning(sessions, { sessionId: 10, datasetId: 3, request: REQUEST, rung: 'wasm' }), undefined);
});

test('its base rate is scaled to this base batch; without a range-test reading, from its recommended rate', () => {
  const withTest = knownTuning([session(1)], { sessionId: 2, datasetId: 1, request: { ...REQUEST, baseBatchSize: 128 }, rung: 'wasm' })!;
  assert.ok(Math.abs(withTest.baseRate! - 1.5e-3 * 2) < 1e-15, 'Adam: √(128/32) = 2');
  const without = knownTuning([session(1, { report: report(64, 2e-3) })], { sessionId: 2, datasetId: 1, request: REQUEST, rung: 'wasm' })!;
  assert.ok(Math.abs(without.baseRate! - 2e-3 / Math.SQRT2) < 1e-15);
});

test('a tuning measured on other content of the dataset (its fingerprint’s hash differs from the dataset’s now) does not stand in', () => {
  const print = (hash: string): TuningFingerprint => ({
    model: 'small',
    parameters: 1,
    startModel: null,
    dataset: { id: 1, name: 'mnist', contentHash: hash.repeat(64) },
    inputShape: [28, 28, 1],
    augment: 'none',
    engine: 'tfjs',
    backend: 'wasm',
    device: null,
    torchVersion: null,
    appVersion: '0.1.0',
  });
  const sessions = [session(1, { fingerprint: print('a') }), session(2, { fingerprint: print('b') }), session(3)];
  const at = (contentHash: string | null) => knownTuning(sessions, { sessionId: 9, datasetId: 1, request: REQUEST, rung: 'wasm', contentHash })?.sessionId;
  assert.equal(at('a'.repeat(64)), 3, 'the newest without a fingerprint is not judged');
  assert.equal(knownTuning(sessions.slice(0, 2), { sessionId: 9, datasetId: 1, request: REQUEST, rung: 'wasm', contentHash: 'a'.repeat(64) })?.sessionId, 1);
  assert.equal(knownTuning(sessions.slice(0, 2), { sessionId: 9, datasetId: 1, request: REQUEST, rung: 'wasm', contentHash: 'c'.repeat(64) }), undefined);
  assert.equal(
    knownTuning(sessions.slice(0, 2), { sessionId: 9, datasetId: 1, request: REQUEST, rung: 'wasm', contentHash: null })?.sessionId,
    2,
    'a dataset without a hash: not judged',
  );
});
