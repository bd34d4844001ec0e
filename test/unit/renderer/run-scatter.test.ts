// The Runs screen's settings-against-results chart, its data side (src/renderer/lib/run-scatter.ts):
// which runs are plotted and why the others are not, one series and marker per model, uPlot's
// aligned columns, the models' columns, and the words a screen reader gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunRow } from '../../../src/renderer/lib/runs-table.js';
import { leftOutText, MARKERS, pointText, runScatter, scatterSummary, settingText } from '../../../src/renderer/lib/run-scatter.js';

function run(id: number, over: Partial<Omit<RunRow, 'config'>> & { batchSize?: number; learningRate?: number } = {}): RunRow {
  const { batchSize = 32, learningRate = 1e-3, ...rest } = over;
  return {
    id,
    datasetName: 'mnist',
    model: 'small',
    status: 'completed',
    createdAt: '2026-01-01T00:00:00Z',
    trainSeconds: 60,
    bestValAccuracy: 0.9,
    samplesPerSecond: 100,
    config: { batchSize, epochs: 1, learningRate },
    ...rest,
  };
}

const RUNS: RunRow[] = [
  run(1, { batchSize: 64, bestValAccuracy: 0.95, trainSeconds: 30 }),
  run(2, { batchSize: 16, model: 'mlp', bestValAccuracy: 0.85, trainSeconds: 90, learningRate: 3e-4 }),
  run(3, { batchSize: 256, model: 'resnet-8', status: 'stopped', bestValAccuracy: 0.7, trainSeconds: null }),
  run(4, { status: 'failed', bestValAccuracy: null }),
  run(5, { status: 'running', bestValAccuracy: 0.5 }),
  run(6, { status: 'failed', bestValAccuracy: 0.4 }),
  run(7, { bestValAccuracy: null }),
  run(8, { batchSize: 16, bestValAccuracy: 0.91, trainSeconds: 120 }),
];

test('only completed and stopped runs with a best accuracy are plotted; the rest are counted by why', () => {
  const s = runScatter(RUNS, 'batchSize', 'accuracy');
  assert.deepEqual(s.points.map((p) => p.runId).sort(), [1, 2, 3, 8]);
  assert.deepEqual(s.leftOut, [
    { why: 'failed', count: 2 },
    { why: 'running', count: 1 },
    { why: 'without a best validation accuracy', count: 1 },
  ]);
  assert.equal(
    leftOutText(s),
    '4 runs left out: 2 failed, 1 running, 1 without a best validation accuracy (only completed and stopped runs with a best accuracy are plotted).',
  );
  // Training time up: a run without one is left out too, and said so.
  const t = runScatter(RUNS, 'batchSize', 'time');
  assert.deepEqual(t.points.map((p) => p.runId).sort(), [1, 2, 8]);
  assert.ok(t.leftOut.some((w) => w.why === 'without a training time' && w.count === 1));
  assert.match(leftOutText(t), /with a best accuracy and a training time are plotted/);
  assert.equal(leftOutText(runScatter([run(1)], 'batchSize', 'accuracy')), '');
});

test('one series per model in name order, each with a marker of its own shape', () => {
  const s = runScatter(RUNS, 'batchSize', 'accuracy');
  assert.deepEqual(
    s.models.map((m) => [m.model, m.shape]),
    [
      ['mlp', 'circle'],
      ['resnet-8', 'square'],
      ['small', 'triangle'],
    ],
  );
  assert.equal(new Set(MARKERS.map((m) => m.shape)).size, MARKERS.length, 'no two markers alike');
  assert.equal(new Set(MARKERS.map((m) => m.glyph)).size, MARKERS.length);
  // More models than shapes: the shapes come round again (the colours differ then).
  const many = runScatter(
    Array.from({ length: 10 }, (_, i) => run(i + 1, { model: `m${i}` })),
    'batchSize',
    'accuracy',
  );
  assert.equal(many.models[8]!.shape, MARKERS[0].shape);
});

test("uPlot's columns: x sorted, each model's y at its own runs only", () => {
  const s = runScatter(RUNS, 'batchSize', 'accuracy');
  const [xs, ...ys] = s.data;
  assert.deepEqual(xs, [16, 16, 64, 256]);
  assert.deepEqual(
    s.points.map((p) => p.runId),
    [2, 8, 1, 3],
    'equal x: by run id',
  );
  assert.deepEqual(ys, [
    [0.85, null, null, null],
    [null, null, null, 0.7],
    [null, 0.91, 0.95, null],
  ]);
  const lr = runScatter(RUNS, 'learningRate', 'time');
  assert.deepEqual(lr.data[0], [3e-4, 1e-3, 1e-3]);
  assert.deepEqual(lr.data.slice(1), [
    [90, null, null],
    [null, 30, 120],
  ]);
});

test('by model: a column per model, its runs spread within ±0.3 of it so none hides another', () => {
  const runs = [run(1), run(2), run(3), run(4, { model: 'mlp' })];
  const s = runScatter(runs, 'model', 'accuracy');
  const at = new Map(s.points.map((p) => [p.runId, p.x]));
  assert.equal(at.get(4), 1, 'mlp alone: on its column');
  assert.deepEqual(
    [at.get(1), at.get(2), at.get(3)].map((x) => Number(x!.toFixed(6))),
    [1.7, 2, 2.3],
  );
  assert.deepEqual(
    s.data[0],
    [...s.data[0]].sort((a, b) => a - b),
  );
});

test('words: the setting, a point, and a summary naming the shapes, the best run and what was left out', () => {
  const s = runScatter(RUNS, 'batchSize', 'accuracy');
  const best = s.points.find((p) => p.runId === 1)!;
  assert.equal(settingText(best, 'batchSize'), '64');
  assert.equal(settingText(best, 'learningRate'), '1.00e-3');
  assert.equal(settingText(best, 'model'), 'small');
  assert.equal(pointText(best), 'run 1 (small, mnist, batch 64, lr 1.00e-3): 95.0 % best in 30 s');
  const summary = scatterSummary(s);
  assert.match(summary, /^Best validation accuracy of 4 runs against batch size; mlp as circles, resnet-8 as squares, small as triangles\./);
  assert.match(summary, /Highest accuracy: run 1 \(small/);
  assert.match(summary, /4 runs left out/);
  assert.match(scatterSummary(runScatter(RUNS, 'batchSize', 'time')), /Shortest training: run 1 /);
  assert.equal(scatterSummary(runScatter([], 'model', 'accuracy')), 'No run to plot.');
  assert.match(scatterSummary(runScatter([run(1, { status: 'failed' })], 'model', 'accuracy')), /^No run to plot\. 1 run left out: 1 failed/);
});

test('hundreds of runs: prepared in well under a frame budget per change', () => {
  const models = ['small', 'mlp', 'resnet-8', 'resnet-20', 'mobilenet-0.5'];
  const runs = Array.from({ length: 2000 }, (_, i) =>
    run(i + 1, {
      model: models[i % models.length]!,
      batchSize: 2 ** (i % 9),
      learningRate: 10 ** -(2 + (i % 3)),
      bestValAccuracy: (i % 100) / 100,
      status: i % 10 === 0 ? 'failed' : 'completed',
    }),
  );
  const started = performance.now();
  for (const by of ['batchSize', 'learningRate', 'model'] as const) {
    const s = runScatter(runs, by, 'accuracy');
    assert.equal(s.points.length, 1800);
    assert.equal(s.data.length, 1 + models.length);
    assert.ok(s.data.every((c) => c.length === 1800));
  }
  assert.ok(performance.now() - started < 1000, `took ${Math.round(performance.now() - started)} ms`);
});
