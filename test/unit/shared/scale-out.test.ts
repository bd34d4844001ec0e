// The scale-out plan: what 1, 2, 4 and 8 data-parallel workers train with, from a tuning's
// recommendation, noise scale and time model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planScaleOut, scaleOutInputFromReport, SCALE_OUT_WORKERS, type ScaleOutInput, type ScaleOutPlan } from '../../../src/shared/scale-out.js';
import { scaleOutPlanSchema } from '../../../src/shared/scale-out-schemas.js';
import type { TuningReport } from '../../../src/shared/tuning-types.js';

/** A tuned batch of 128 at rate 1e-3 (Adam), 6 000 samples over 10 epochs. */
function input(over: Partial<ScaleOutInput> = {}): ScaleOutInput {
  return {
    base: { batchSize: 128, learningRate: 1e-3, optimizer: 'adam', warmupSteps: 0 },
    noiseScale: null,
    noiseScaleSource: null,
    timeModel: null,
    memoryCeiling: 512,
    minimumBatch: 1,
    trainCount: 6000,
    epochs: 10,
    ...over,
  };
}

/** t(b) = 50 ms + 0.5 ms per sample: X(128) ≈ 1 123/s, X(32) ≈ 485/s. */
const TIME = { alpha: 0.05, beta: 0.0005 };
/** Small next to K·B: past 8 × 128 most of a step's samples are wasted. */
const SMALL_NOISE = { noiseScale: 100, noiseScaleSource: 'late' as const, timeModel: TIME };

function row(plan: ScaleOutPlan, workers: number) {
  const r = plan.rows.find((x) => x.workers === workers);
  assert.ok(r, `a row for ${workers} workers`);
  return r;
}

test('one row each for 1, 2, 4 and 8 workers; the one-worker row is the tuned setting, and the plan is what the API schema says', () => {
  for (const over of [{}, SMALL_NOISE, { timeModel: TIME }]) {
    const plan = planScaleOut(input({ ...over, base: { batchSize: 128, learningRate: 1e-3, optimizer: 'adam', warmupSteps: 30 } }));
    assert.deepEqual(
      plan.rows.map((r) => r.workers),
      [...SCALE_OUT_WORKERS],
    );
    const one = row(plan, 1);
    assert.deepEqual(
      { b: one.perWorkerBatch, m: one.microBatch, g: one.globalBatch, lr: one.learningRate, w: one.warmupSteps, e: one.efficiency, s: one.speedup },
      { b: 128, m: 128, g: 128, lr: 1e-3, w: 30, e: 1, s: 1 },
    );
    assert.equal(one.stepsPerEpoch, Math.ceil(6000 / 128));
    assert.ok(scaleOutPlanSchema.safeParse(plan).success, JSON.stringify(scaleOutPlanSchema.safeParse(plan).error?.issues));
  }
});

test('without a noise scale every row is K·B with no efficiency lost and a speed-up of K, and the assumptions say so', () => {
  for (const timeModel of [null, TIME]) {
    const plan = planScaleOut(input({ timeModel }));
    for (const r of plan.rows) {
      assert.equal(r.perWorkerBatch, 128);
      assert.equal(r.globalBatch, r.workers * 128);
      assert.equal(r.efficiency, 1);
      assert.ok(Math.abs(r.speedup - r.workers) < 1e-9, `${r.workers} workers: ${r.speedup}`);
    }
    assert.equal(plan.noiseScale, null);
    assert.match(row(plan, 4).reason, /no noise scale was measured/);
    assert.ok(plan.assumptions.some((a) => /^No noise scale was measured/.test(a) && /assume none is lost/.test(a)));
    assert.ok(plan.assumptions.some((a) => /No communication cost/.test(a)));
  }
  assert.ok(planScaleOut(input()).assumptions.some((a) => /no throughput was measured/.test(a)));
});

test('a small noise scale with a time model: many workers take a smaller per-worker batch, and say it is past diminishing returns', () => {
  const plan = planScaleOut(input(SMALL_NOISE));
  const eight = row(plan, 8);
  assert.ok(eight.perWorkerBatch < 128, `8 workers: ${eight.perWorkerBatch} per worker`);
  assert.equal(eight.globalBatch, 8 * eight.perWorkerBatch);
  assert.ok(eight.globalBatch >= 128, 'never a smaller global batch than one worker trained');
  assert.match(eight.reason, /8 × 128 = 1024 is past the noise scale's diminishing returns/);
  assert.match(eight.reason, new RegExp(`${eight.perWorkerBatch} per worker`));
  assert.ok(eight.efficiency < 1);
  // By hand: 8·X(b)·(φ + 128)/(φ + 8b) is largest at b = 32 (≈ 2 485/s against 2 325 at 64 and 2 207 at 16).
  assert.equal(eight.perWorkerBatch, 32);
  assert.equal(plan.noiseScale, 100);
  assert.ok(plan.assumptions.some((a) => /late noise scale/.test(a)));
});

test('the speed-up never exceeds K and grows with K', () => {
  const cases: Partial<ScaleOutInput>[] = [
    {},
    SMALL_NOISE,
    { noiseScale: 5000, noiseScaleSource: 'forecast', timeModel: TIME },
    { noiseScale: 10, noiseScaleSource: 'early', timeModel: { alpha: 0.2, beta: 1e-5 } },
    { noiseScale: 300, noiseScaleSource: 'early', timeModel: null },
    // A fitted α below zero must not make small batches look faster per sample than large ones.
    { noiseScale: 50, noiseScaleSource: 'late', timeModel: { alpha: -0.01, beta: 0.001 } },
    { noiseScale: 1, noiseScaleSource: 'late', timeModel: { alpha: 1, beta: 1e-6 }, minimumBatch: 16 },
    // A step as long whatever its batch: splitting the batch buys nothing, so each worker keeps it.
    { noiseScale: 99, noiseScaleSource: 'late', timeModel: { alpha: 0.012, beta: 0 } },
  ];
  for (const c of cases) {
    const plan = planScaleOut(input(c));
    for (const r of plan.rows) {
      assert.ok(r.speedup <= r.workers + 1e-9, `${JSON.stringify(c)}: ${r.workers} workers, ${r.speedup}`);
      assert.ok(r.efficiency <= 1 + 1e-12);
      assert.ok(r.perWorkerBatch >= Math.min(128, c.minimumBatch ?? 1));
    }
    for (let i = 1; i < plan.rows.length; i++)
      assert.ok(plan.rows[i]!.speedup >= plan.rows[i - 1]!.speedup, `${JSON.stringify(c)}: ${plan.rows.map((r) => r.speedup).join(', ')}`);
    assert.ok(row(plan, 8).speedup > 1, 'eight workers do better than one');
  }
  const flat = planScaleOut(input({ noiseScale: 99, noiseScaleSource: 'late', timeModel: { alpha: 0.012, beta: 0 } }));
  assert.deepEqual(
    flat.rows.map((r) => r.perWorkerBatch),
    [128, 128, 128, 128],
  );
});

test('the rate follows the global batch: square root for Adam, linear for SGD', () => {
  const adam = planScaleOut(input(SMALL_NOISE));
  for (const r of adam.rows) assert.ok(Math.abs(r.learningRate - 1e-3 * Math.sqrt(r.globalBatch / 128)) < 1e-15);
  const sgd = planScaleOut(input({ ...SMALL_NOISE, base: { batchSize: 128, learningRate: 0.05, optimizer: 'sgd', warmupSteps: 0 } }));
  for (const r of sgd.rows) assert.ok(Math.abs(r.learningRate - 0.05 * (r.globalBatch / 128)) < 1e-12);
  assert.equal(row(sgd, 8).learningRate, 0.05 * (row(sgd, 8).globalBatch / 128));
});

test('a gradual warm-up whenever the rate grows, its length stated in steps and within the run', () => {
  for (const over of [{}, SMALL_NOISE]) {
    const plan = planScaleOut(input(over));
    for (const r of plan.rows) {
      // A global batch of the tuned 128 (two workers of 64 under a small noise scale) keeps the rate and the tuned warm-up (none).
      if (r.globalBatch === 128) assert.deepEqual([r.learningRate, r.warmupSteps], [1e-3, 0]);
      else assert.ok(r.learningRate > 1e-3 && r.warmupSteps > 0, `${r.workers} workers`);
      assert.ok(r.warmupSteps <= r.stepsPerEpoch * 10);
      assert.equal(r.stepsPerEpoch, Math.ceil(6000 / r.globalBatch));
    }
    assert.ok(plan.rows.filter((r) => r.learningRate > 1e-3).length >= 2);
  }
  // The tuned run's own warm-up is carried over in samples: 80 steps of 128 are 10 steps of 1 024.
  const carried = planScaleOut(input({ trainCount: 600_000, base: { batchSize: 128, learningRate: 1e-3, optimizer: 'adam', warmupSteps: 8000 } }));
  assert.ok(row(carried, 8).warmupSteps >= 1000);
});

test('a tuned batch above the memory ceiling is accumulated: a micro-batch under the ceiling that divides the per-worker batch', () => {
  // As a search recommends it: 2 × the ceiling, in two passes (report.recommendation.microBatchSize = 128).
  const report = reportWith({ batchSize: 256, memoryCeiling: 128, microBatchSize: 128 });
  const plan = planScaleOut(scaleOutInputFromReport(report, { trainCount: 6000, epochs: 10, minimumBatch: 1 }));
  assert.equal(row(plan, 1).perWorkerBatch, 256);
  assert.equal(row(plan, 1).microBatch, report.recommendation.microBatchSize);
  assert.match(row(plan, 1).reason, /the tuned batch 256 in passes of 128/);
  for (const r of plan.rows) {
    assert.ok(r.microBatch <= 128, `${r.workers} workers: micro ${r.microBatch}`);
    assert.equal(r.perWorkerBatch % r.microBatch, 0);
    if (r.workers > 1 && r.microBatch < r.perWorkerBatch)
      assert.match(r.reason, new RegExp(`accumulates ${r.perWorkerBatch / r.microBatch} passes of ${r.microBatch}`));
  }
  // A batch that splits only into three equal passes under the ceiling.
  const odd = planScaleOut(input({ base: { batchSize: 96, learningRate: 1e-3, optimizer: 'adam', warmupSteps: 0 }, memoryCeiling: 40 }));
  assert.deepEqual(
    odd.rows.map((r) => [r.perWorkerBatch, r.microBatch]),
    [
      [96, 32],
      [96, 32],
      [96, 32],
      [96, 32],
    ],
  );
  // Per-worker batches under the ceiling need no accumulation.
  const fits = planScaleOut(input({ ...SMALL_NOISE, memoryCeiling: 128 }));
  for (const r of fits.rows) assert.equal(r.microBatch, r.perWorkerBatch);
});

test('scaleOutInputFromReport: the late noise scale first, then the forecast, then the early measurement', () => {
  const forecast = { measured: 80, measuredLoss: 1, atSamples: 30_000, loss: 0.5, noiseScale: 200, lossExponent: 0.5, growthExponent: 1, growthMeasured: true };
  const late = { samples: 20_000, loss: 0.4, noiseScale: 300, pretrainSteps: 100, earlyNoiseScale: 200 };
  const o = { trainCount: 6000, epochs: 10, minimumBatch: 1 };
  const at = (r: TuningReport) => {
    const i = scaleOutInputFromReport(r, o);
    return [i.noiseScale, i.noiseScaleSource];
  };
  assert.deepEqual(at({ ...reportWith({ noiseScale: 80 }), noiseForecast: forecast, lateNoise: late }), [300, 'late']);
  assert.deepEqual(at({ ...reportWith({ noiseScale: 80 }), noiseForecast: forecast }), [200, 'forecast']);
  assert.deepEqual(at({ ...reportWith({ noiseScale: 80 }), noiseForecast: null }), [80, 'early']);
  assert.deepEqual(at(reportWith({})), [null, null]);
  const i = scaleOutInputFromReport({ ...reportWith({}), fits: { memory: null, time: { alpha: 0.01, beta: 0.001, r2: 0.99 } } }, o);
  assert.deepEqual(i.timeModel, { alpha: 0.01, beta: 0.001 });
  // A step time flat in the batch (β fitted at or below zero) is a time model with no per-sample cost; none at all is no model.
  const flat = scaleOutInputFromReport({ ...reportWith({}), fits: { memory: null, time: { alpha: 0.01, beta: -1e-6, r2: 0.03 } } }, o);
  assert.deepEqual(flat.timeModel, { alpha: 0.01, beta: 0 });
  assert.ok(planScaleOut(flat).assumptions.some((a) => /with the throughput this search measured/.test(a)));
  assert.equal(scaleOutInputFromReport({ ...reportWith({}), fits: { memory: null, time: { alpha: -0.01, beta: 0, r2: 0 } } }, o).timeModel, null);
  assert.deepEqual(i.base, { batchSize: 128, learningRate: 1e-3, optimizer: 'adam', warmupSteps: 5 });
  assert.equal(i.memoryCeiling, 512);
  const plan = planScaleOut(scaleOutInputFromReport({ ...reportWith({ noiseScale: 80 }), noiseForecast: forecast, lateNoise: late }, o));
  assert.equal(plan.noiseScaleSource, 'late');
  assert.ok(plan.assumptions.some((a) => /late noise scale, re-measured/.test(a) && /300/.test(a)));
});

/** A stored report with this recommendation (the rest as a Quick search leaves it). */
function reportWith(rec: Partial<TuningReport['recommendation']>): TuningReport {
  return {
    recommendation: {
      batchSize: 128,
      learningRate: 1e-3,
      warmupSteps: 5,
      expectedSamplesPerSecond: 1000,
      memoryCeiling: 512,
      memoryBudgetBytes: 1e9,
      memoryHeadroom: null,
      noiseScale: null,
      optimizer: 'adam',
      ...rec,
    },
    reasons: [],
    curves: [],
    fits: { memory: null, time: null },
    saturationBatch: null,
    scaleOut: null,
    searchSeconds: 1,
  };
}
