// The learning-rate range test as the app shows it: columns from the stored report, or while
// the search runs from the probe's raw trial (cut at the first non-finite loss, read with the
// tuner's rule); and the CLI's SVG gains its panel only when the report has one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowanceSummary, rangeTestColumns } from '../../../src/renderer/lib/tuning-curves.js';
import { suggestLearningRate } from '../../../src/shared/learning-rate-range.js';
import { tuningChartSvg } from '../../../src/shared/tuning-chart-svg.js';
import type { TuningReport } from '../../../src/shared/tuning-types.js';

const rates = Array.from({ length: 20 }, (_, i) => 1e-4 * 1.5 ** i);
const losses = rates.map((r) => (r < 0.3 ? 2.3 - 1.8 / (1 + Math.exp(-(Math.log(r) - Math.log(1e-2)) / 0.6)) : 50));

test('rangeTestColumns: from the live trial, cut at the first non-finite loss, with the tuner’s suggestion', () => {
  const withNaN = [...losses.slice(0, 15), NaN, ...losses.slice(16)];
  const trial = { kind: 'learning-rate', batchSize: 32, status: 'ok', result: { rates, losses: withNaN } };
  const cols = rangeTestColumns(null, [trial])!;
  assert.equal(cols.x.length, 15);
  assert.deepEqual(cols.loss, losses.slice(0, 15));
  assert.equal(cols.chosen, suggestLearningRate(rates.slice(0, 15), losses.slice(0, 15))!.rate);
  assert.ok(cols.smoothed.every((v) => v !== null));
  // No trial, a failed one, or a malformed result: nothing to draw.
  assert.equal(rangeTestColumns(null, []), null);
  assert.equal(rangeTestColumns(null, [{ ...trial, status: 'crashed' }]), null);
  assert.equal(rangeTestColumns(null, [{ ...trial, result: { rates: 'x' } }]), null);
});

test('rangeTestColumns: the report wins over the trial', () => {
  const points = rates.slice(0, 3).map((rate, i) => ({ rate, loss: losses[i]!, smoothed: losses[i]! }));
  const cols = rangeTestColumns({ learningRateTest: { batchSize: 32, points, steepestRate: 2e-4, minimumRate: 3e-4, rate: 7e-5 } }, [])!;
  assert.deepEqual(cols.x, rates.slice(0, 3));
  assert.equal(cols.chosen, 7e-5);
  assert.equal(rangeTestColumns({ learningRateTest: { batchSize: 32, points: [], steepestRate: null, minimumRate: null, rate: null } }, []), null);
});

test('the SVG chart draws the range test only when the report has one', () => {
  const report: TuningReport = {
    recommendation: {
      batchSize: 64,
      learningRate: 6e-3,
      warmupSteps: 10,
      expectedSamplesPerSecond: 3000,
      memoryCeiling: 400,
      memoryBudgetBytes: 2 ** 30,
      memoryHeadroom: 0.9,
      noiseScale: 500,
      optimizer: 'adam',
    },
    reasons: [],
    curves: [
      { batchSize: 32, samplesPerSecond: 2500 },
      { batchSize: 64, samplesPerSecond: 3000 },
    ],
    fits: { memory: null, time: null },
    saturationBatch: 64,
    scaleOut: null,
    searchSeconds: 3,
  };
  const without = tuningChartSvg(report, 't');
  assert.doesNotMatch(without, /range test/);
  const found = suggestLearningRate(rates, losses)!;
  const points = found.smoothed.map((smoothed, i) => ({ rate: rates[i]!, loss: losses[i]!, smoothed }));
  const svg = tuningChartSvg(
    { ...report, learningRateTest: { batchSize: 32, points, steepestRate: found.steepestRate, minimumRate: found.minimumRate, rate: found.rate } },
    't',
  );
  assert.match(svg, /Learning-rate range test at batch 32/);
  assert.match(svg, new RegExp(`chosen ${found.rate.toExponential(1).replace('+', '\\+')}`));
  assert.ok(Number(/height="(\d+)"/.exec(svg)![1]) > Number(/height="(\d+)"/.exec(without)![1]));
});

test('two ramps: one ascending x, each column null where its ramp has no step; the SVG draws both with their spread', () => {
  const a = rates.slice(0, 6).map((rate, i) => ({ rate, loss: losses[i]!, smoothed: losses[i]! }));
  // The second ramp: every other rate of the first, and one beyond it.
  const bRates = [rates[0]!, rates[2]!, rates[4]!, rates[6]!];
  const b = bRates.map((rate, i) => ({ rate, loss: 3 + i, smoothed: 3 + i }));
  const learningRateTest = {
    batchSize: 32,
    points: a,
    steepestRate: 2e-4,
    minimumRate: 4e-4,
    rate: 1e-4,
    second: { batchSize: 64, points: b, steepestRate: 3e-4, minimumRate: 5e-4, rate: 2e-4 },
    spread: 1.41,
    sure: true,
    baseRate: 1.2e-4,
  };
  const cols = rangeTestColumns({ learningRateTest }, [])!;
  assert.deepEqual(cols.x, rates.slice(0, 7));
  assert.deepEqual(cols.loss, [...losses.slice(0, 6), null]);
  assert.deepEqual(cols.second!.loss, [3, null, 4, null, 5, null, 6]);
  assert.equal(cols.second!.batchSize, 64);
  assert.equal(cols.second!.reading, 2e-4);
  assert.equal(cols.batchSize, 32);
  const svg = tuningChartSvg(
    {
      recommendation: {
        batchSize: 32,
        learningRate: 1.2e-4,
        warmupSteps: 0,
        expectedSamplesPerSecond: 3000,
        memoryCeiling: 400,
        memoryBudgetBytes: 2 ** 30,
        memoryHeadroom: null,
        noiseScale: null,
        optimizer: 'adam',
      },
      reasons: [],
      curves: [{ batchSize: 32, samplesPerSecond: 3000 }],
      fits: { memory: null, time: null },
      saturationBatch: 32,
      scaleOut: null,
      learningRateTest,
      searchSeconds: 1,
    },
    't',
  );
  assert.match(svg, /Learning-rate range test at batch 32 \(solid\) and 64 \(dashed\): readings 1\.41× apart/);
  assert.match(svg, /batch 32 reads 1\.0e-4/);
  assert.match(svg, /batch 64 reads 2\.0e-4/);
});

test('allowanceSummary: spent of allowed, what was cut, or the previous tuning that stood', () => {
  const base = { share: 0.05, plannedSeconds: 12, plannedFrom: 'predicted' as const, allowanceSeconds: 0.6, startupSeconds: 0.3, spentSeconds: 0.5, cuts: [] };
  assert.equal(allowanceSummary(undefined, 1), null);
  assert.equal(allowanceSummary(base, 0.52), '0.5 s of 0.6 s allowed (5 % of a predicted 12 s run)');
  assert.equal(
    allowanceSummary(
      {
        ...base,
        plannedFrom: 'your budget',
        plannedSeconds: 600,
        allowanceSeconds: 30,
        cuts: [{ probe: 'second-ramp', how: 'skipped', wanted: 1, granted: 0 }],
      },
      31,
    ),
    "31 s of 30 s allowed (5 % of your 10 min run); the range test's second ramp skipped",
  );
  assert.match(allowanceSummary({ ...base, reusedFrom: 4 }, 0.01)!, /^none run: .* tuning #4's findings stand$/);
});
