// The renderer's pure helpers: routes, number formatting, run-table sorting and filtering, and
// the Auto-tune curves built from trials while a search runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hrefOf, parseHash } from '../../../src/renderer/lib/route.js';
import { formatDuration, formatPercent, formatSmall, plural } from '../../../src/renderer/lib/format.js';
import { filterRuns, sortRuns, type RunRow } from '../../../src/renderer/lib/runs-table.js';
import { curveColumns, curvesFromTrials } from '../../../src/renderer/lib/tuning-curves.js';
import { usableLanguage } from '../../../src/renderer/lib/locale-guard.js';

test('routes: a hash names a screen and maybe an id; anything else is Datasets', () => {
  assert.deepEqual(parseHash('#/runs/12'), { screen: 'runs', id: 12 });
  assert.deepEqual(parseHash('#/tune'), { screen: 'tune', id: null });
  assert.deepEqual(parseHash(''), { screen: 'datasets', id: null });
  assert.deepEqual(parseHash('#/nowhere/3'), { screen: 'datasets', id: 3 });
  assert.deepEqual(parseHash('#/train/abc'), { screen: 'train', id: null });
  assert.deepEqual(parseHash('#/train/-4'), { screen: 'train', id: null });
  assert.equal(hrefOf('runs', 5), '#/runs/5');
  assert.equal(hrefOf('settings'), '#/settings');
  assert.deepEqual(parseHash(hrefOf('train', 7)), { screen: 'train', id: 7 });
});

test('formatting: durations, percentages, small numbers, plurals (bytes: test/unit/shared/format.test.ts)', () => {
  assert.equal(formatDuration(8.4), '8.4 s');
  assert.equal(formatDuration(0.62), '0.6 s');
  assert.equal(formatDuration(0.042), '0.04 s');
  assert.equal(formatDuration(9.96), '10 s');
  assert.equal(formatDuration(12.4), '12 s');
  assert.equal(formatDuration(75), '1 min 15 s');
  assert.equal(formatDuration(3725), '1 h 2 min');
  assert.equal(formatDuration(-1), '—');
  assert.equal(formatPercent(0.6723), '67.2 %');
  assert.equal(formatPercent(null), '—');
  assert.equal(formatSmall(0.0005), '5.00e-4');
  assert.equal(formatSmall(0.25), '0.25');
  assert.equal(formatSmall(Number.NaN), 'NaN');
  assert.equal(plural(1, 'file'), '1 file');
  assert.equal(plural(3, 'class', 'classes'), '3 classes');
});

function run(id: number, over: Partial<RunRow> = {}): RunRow {
  return {
    id,
    datasetName: 'mnist',
    model: 'small',
    status: 'completed',
    createdAt: `2026-01-0${id}T00:00:00Z`,
    trainSeconds: 10 * id,
    bestValAccuracy: 0.5,
    samplesPerSecond: 100,
    config: { batchSize: 32, epochs: 1, learningRate: 1e-3 },
    ...over,
  };
}

test('sorting runs: by best validation accuracy both ways, runs without one last', () => {
  const runs = [run(1, { bestValAccuracy: 0.7 }), run(2, { bestValAccuracy: null }), run(3, { bestValAccuracy: 0.9 }), run(4, { bestValAccuracy: 0.8 })];
  assert.deepEqual(
    sortRuns(runs, 'bestValAccuracy', 'descending').map((r) => r.id),
    [3, 4, 1, 2],
  );
  assert.deepEqual(
    sortRuns(runs, 'bestValAccuracy', 'ascending').map((r) => r.id),
    [1, 4, 3, 2],
  );
  assert.deepEqual(
    sortRuns(runs, 'batchSize', 'ascending').map((r) => r.id),
    [4, 3, 2, 1],
    'ties: newest first',
  );
  assert.deepEqual(
    runs.map((r) => r.id),
    [1, 2, 3, 4],
    'the input is not reordered',
  );
});

test('filtering runs by dataset, model and status; empty means any', () => {
  const runs = [run(1), run(2, { model: 'large' }), run(3, { status: 'failed' }), run(4, { datasetName: 'pets' })];
  assert.deepEqual(
    filterRuns(runs, { dataset: '', model: '', status: '' }).map((r) => r.id),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    filterRuns(runs, { dataset: 'mnist', model: 'small', status: '' }).map((r) => r.id),
    [1, 3],
  );
  assert.deepEqual(
    filterRuns(runs, { dataset: '', model: '', status: 'failed' }).map((r) => r.id),
    [3],
  );
});

test('curves from trials: ok memory and throughput probes only, sorted by batch size', () => {
  const points = curvesFromTrials([
    { kind: 'memory', batchSize: 4, status: 'ok', result: { peakBytes: 400 } },
    { kind: 'memory', batchSize: 1, status: 'ok', result: { peakBytes: 100 } },
    { kind: 'memory', batchSize: 64, status: 'oom', result: {} },
    { kind: 'throughput', batchSize: 4, status: 'ok', result: { samplesPerSecond: 900 } },
    { kind: 'noise', batchSize: 4, status: 'ok', result: { noiseScale: 12 } },
  ]);
  const cols = curveColumns(points);
  assert.deepEqual(cols.x, [1, 4]);
  assert.deepEqual(cols.memory, [100, 400]);
  assert.deepEqual(cols.throughput, [null, 900]);
  assert.deepEqual(cols.goodput, [null, null]);
});

test('locale guard: a language tag Intl rejects becomes en-US; a valid one stays', () => {
  assert.equal(usableLanguage('en-US@posix'), 'en-US');
  assert.equal(usableLanguage(undefined), 'en-US');
  assert.equal(usableLanguage('de-DE'), 'de-DE');
  assert.equal(usableLanguage('en-US'), 'en-US');
});
