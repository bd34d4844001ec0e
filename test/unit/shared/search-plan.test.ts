// How much each probe of the search measures and which sizes it tries (docs/architecture.md §5.4–5.9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noiseProbePlan, saturationBatch, throughputCandidates, timingSteps, timingWarmupSteps, trialPlan } from '../../../src/shared/search-plan.js';

test('throughput candidates: powers of two from 8 (from 1 below 8)', () => {
  assert.deepEqual(throughputCandidates(300), [8, 16, 32, 64, 128, 256]);
  assert.deepEqual(throughputCandidates(8), [8]);
  assert.deepEqual(throughputCandidates(5), [1, 2, 4]);
});

test('timing steps: ~60 ms from the nearest memory probe with a step time, 3 to 24; warm-up only on GPUs', () => {
  const probes = [{ batchSize: 1 }, { batchSize: 8, stepMs: 4 }, { batchSize: 64, stepMs: 20 }];
  assert.equal(timingSteps(probes, 8), 15);
  assert.equal(timingSteps(probes, 16), 8, 'scaled from batch 8: 8 ms a step');
  assert.equal(timingSteps(probes, 512), 3);
  assert.equal(timingSteps(probes, 2), 24);
  assert.equal(timingSteps([{ batchSize: 8 }], 8), 3, '50 ms assumed without a step time');
  assert.deepEqual(['wasm', 'cpu', 'webgpu', 'tensorflow'].map(timingWarmupSteps), [0, 0, 2, 2]);
});

test('saturation: the smallest batch within 10 % of the best throughput', () => {
  const timed = [8, 16, 32, 64].map((b) => ({ batchSize: b, samplesPerSecond: [100, 190, 205, 210][Math.log2(b) - 3]! }));
  assert.deepEqual(saturationBatch(timed), { batchSize: 16, bestSamplesPerSecond: 210 });
});

test('noise probe: four micro-batches of B₀/4, 10–40 steps, an eighth of an epoch of pre-training at most ~0.6 s', () => {
  assert.deepEqual(noiseProbePlan(32, 0.01, 40_000), { microBatch: 8, k: 4, steps: 30, pretrainSteps: 60, windows: 3 });
  assert.deepEqual(noiseProbePlan(32, 0.001, 4000), { microBatch: 8, k: 4, steps: 40, pretrainSteps: 16, windows: 3 });
  assert.equal(noiseProbePlan(2, 1, 100).microBatch, 1);
  assert.equal(noiseProbePlan(32, 1, 100).steps, 10);
});

test('trials: B*, half and twice it (capped), each 1 % of the planned run, 0.2–20 s', () => {
  assert.deepEqual(trialPlan(64, 1000, 500), { sizes: [64, 32, 128], seconds: 5 });
  assert.deepEqual(trialPlan(64, 64, 5), { sizes: [64, 32], seconds: 0.2 });
  assert.deepEqual(trialPlan(1, 1, 1e6), { sizes: [1], seconds: 20 });
});

test('a batch-norm floor: candidates, the noise probe’s micro-batches and the trials stay at or above it', () => {
  assert.deepEqual(throughputCandidates(300, 16), [16, 32, 64, 128, 256]);
  assert.deepEqual(throughputCandidates(20, 16), [16]);
  assert.deepEqual(throughputCandidates(15, 16), [], 'nothing to time when the floor does not fit (the memory phase ends the search first)');
  assert.deepEqual(throughputCandidates(300, 1), [8, 16, 32, 64, 128, 256], 'a floor below 8 changes nothing');
  // B₀ = 32 holds two micro-batches of 16; B₀ = 8 holds none, and two are the estimator's least.
  assert.deepEqual(noiseProbePlan(32, 0.01, 40_000, 16), { microBatch: 16, k: 2, steps: 30, pretrainSteps: 60, windows: 3 });
  assert.deepEqual([noiseProbePlan(8, 0.01, 40_000, 16).microBatch, noiseProbePlan(8, 0.01, 40_000, 16).k], [16, 2]);
  assert.deepEqual(noiseProbePlan(128, 0.01, 40_000, 16), noiseProbePlan(128, 0.01, 40_000), 'B₀/4 already above the floor: unchanged');
  assert.deepEqual(trialPlan(16, 1000, 500, 16), { sizes: [16, 32], seconds: 5 });
  assert.deepEqual(trialPlan(24, 1000, 500, 16), { sizes: [24, 16, 48], seconds: 5 });
  assert.deepEqual(trialPlan(64, 1000, 500, 16), trialPlan(64, 1000, 500));
});
