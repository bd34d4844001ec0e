// The adaptive batch's rule (shared/adaptive-batch.ts) and the service's controller and plan
// (src/main/service/adaptive-run.ts): goodput predicted from a tuning's time model at the measured
// noise scale, a change only for a gain of 5 % or more, at most one per minStepsBetween steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptiveChange, measureEvery, measurementPasses, type AdaptivePlan } from '../../../src/shared/adaptive-batch.js';
import { AdaptiveController, adaptivePlanFor, DEFAULT_ADAPTIVE_SETTINGS } from '../../../src/main/service/adaptive-run.js';
import type { TuningSessionRecord } from '../../../src/main/store/tuning.js';

// 50 ms + 0.1 ms a sample: throughput 8 → 152 samples/s, 512 → 4 970.
const plan: AdaptivePlan = { alpha: 0.05, beta: 1e-4, candidates: [8, 16, 32, 64, 128, 256, 512], tuningId: 3 };
const config = { batchSize: 32, learningRate: 1e-3, optimizer: 'adam' } as const;

test('a large noise scale favours the fastest batch; a small one keeps a small batch; the rate follows the rule', () => {
  const big = adaptiveChange({ batch: 32, learningRate: 1e-3, optimizer: 'adam', noiseScale: 1e5 }, plan)!;
  assert.equal(big.batchSize, 512);
  assert.ok(Math.abs(big.learningRate - 1e-3 * Math.sqrt(16)) < 1e-12);
  assert.ok(big.gain > 1, `gain ${big.gain}`);
  // φ = 100: goodput peaks near √(αφ/β) ≈ 224, so from 64 to 256 (+37 %), and 256 stays.
  assert.equal(adaptiveChange({ batch: 64, learningRate: 1e-3, optimizer: 'adam', noiseScale: 100 }, plan)?.batchSize, 256);
  assert.equal(adaptiveChange({ batch: 256, learningRate: 1e-3, optimizer: 'adam', noiseScale: 100 }, plan), null, 'at the optimum: no change');
  // φ = 4: the optimum is near 45, and 512 is far past it.
  assert.equal(adaptiveChange({ batch: 512, learningRate: 1e-3, optimizer: 'adam', noiseScale: 4 }, plan)?.batchSize, 32);
  assert.equal(adaptiveChange({ batch: 32, learningRate: 1e-3, optimizer: 'adam', noiseScale: -1 }, plan), null, 'an unmeasurable window changes nothing');
  const sgd = adaptiveChange({ batch: 32, learningRate: 1e-3, optimizer: 'sgd', noiseScale: 1e5 }, plan)!;
  assert.ok(Math.abs(sgd.learningRate - 1e-3 * 16) < 1e-12, 'linear for SGD');
});

test('a gain below the threshold is no change', () => {
  // 256 → 512 at φ = 1e5: throughput 3 390 → 4 970 (+47 %): a change at 5 %, none at 60 %.
  assert.equal(adaptiveChange({ batch: 256, learningRate: 1e-3, optimizer: 'adam', noiseScale: 1e5, minGain: 0.05 }, plan)?.batchSize, 512);
  assert.equal(adaptiveChange({ batch: 256, learningRate: 1e-3, optimizer: 'adam', noiseScale: 1e5, minGain: 0.6 }, plan), null);
});

test('measured steps: about ten a window, as equal passes (micro-batches, or halves)', () => {
  assert.equal(measureEvery(200), 20);
  assert.equal(measureEvery(5), 1);
  assert.deepEqual(measurementPasses(64, 64), { passes: 2, size: 32 });
  assert.deepEqual(measurementPasses(256, 64), { passes: 4, size: 64 });
  assert.equal(measurementPasses(63, 63), undefined, 'an odd batch has no equal halves');
  assert.equal(measurementPasses(250, 64), undefined);
  assert.equal(measurementPasses(1, 1), undefined);
});

test('the controller: no change before minStepsBetween steps from the start or the last change, nor while one is pending', () => {
  const c = new AdaptiveController(plan, { ...DEFAULT_ADAPTIVE_SETTINGS, minStepsBetween: 500 });
  assert.equal(c.decide(400, 1e5, config), null);
  const first = c.decide(500, 1e5, config);
  assert.equal(first?.batchSize, 512);
  assert.equal(c.decide(600, 1e5, config), null, 'pending');
  const decided = c.changed(520);
  assert.deepEqual(decided, { change: first, noiseScale: 1e5 }, 'the decision the change came from: its gain and noise scale');
  assert.equal(c.decide(1000, 20, { ...config, batchSize: 512 }), null, 'within 500 steps of the change');
  assert.ok((c.decide(1020, 20, { ...config, batchSize: 512 })?.batchSize ?? 512) < 512, 'φ fell: a smaller batch');
});

function tuning(o: Partial<TuningSessionRecord> & { id: number }): TuningSessionRecord {
  return {
    datasetId: 1,
    model: 'small',
    status: 'completed',
    report: {
      recommendation: { memoryCeiling: 300 },
      fits: { time: { alpha: 0.05, beta: 1e-4, r2: 1 } },
      curves: [8, 16, 64, 256, 512].map((b) => ({ batchSize: b, samplesPerSecond: b / (0.05 + 1e-4 * b) })).concat([{ batchSize: 1000 } as never]),
    },
    ...o,
  } as unknown as TuningSessionRecord;
}

test('the plan: the run’s own tuning, else the newest of its model and dataset; the timed batches that fit and the model allows', () => {
  const tunings = [tuning({ id: 1 }), tuning({ id: 2 }), tuning({ id: 4, datasetId: 9 }), tuning({ id: 5, status: 'failed' })];
  const run = { datasetId: 1, config: { model: 'small' as const } };
  const p = adaptivePlanFor(run, tunings, undefined);
  assert.ok(!('problem' in p));
  assert.equal(p.tuningId, 2);
  assert.deepEqual(p.candidates, [8, 16, 64, 256], 'within the memory ceiling (300), timed');
  assert.equal((adaptivePlanFor(run, tunings, 1) as AdaptivePlan).tuningId, 1);
  const bn = adaptivePlanFor({ datasetId: 1, config: { model: 'resnet-8' } }, [tuning({ id: 7, model: 'resnet-8' })], undefined) as AdaptivePlan;
  assert.deepEqual(bn.candidates, [16, 64, 256], 'batch norm: from 16');
  const none = adaptivePlanFor({ datasetId: 3, config: { model: 'small' } }, tunings, undefined);
  assert.ok('problem' in none && /needs an Auto-tune of this model and dataset/.test(none.problem));
});
