// The learning-rate range test as the app shows it: columns from the stored report, or while
// the search runs from the probe's raw trial (cut at the first non-finite loss, read with the
// tuner's rule); and the CLI's SVG gains its panel only when the report has one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rangeTestColumns } from '../../../src/renderer/lib/tuning-curves.js';
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
