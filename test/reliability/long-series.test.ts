// A long run's chart: series of 120 000 steps are down-sampled inside SQLite (the path that
// makes a 1M-point chart open in well under a second: bench/metrics-load.ts). Same promises as
// the small-series path: at most maxPoints points, in step order, every bucket's minimum and
// maximum kept (spikes survive), NaN kept where a whole stretch is NaN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, downsampleMinMax } from '../../src/main/store/index.js';
import type { StepMetrics } from '../../src/shared/run-types.js';
import { removeDir, tempDir } from './helpers.js';

test('long series are down-sampled in SQLite with the min/max promises of the small path', () => {
  const home = tempDir();
  const store = openStore(home);
  try {
    const ds = store.datasets.insert(
      {
        formatVersion: 1,
        name: 'd',
        kind: 'csv',
        source: '/x.csv',
        inputShape: [2],
        featureDtype: 'float32',
        count: 4,
        classes: ['a', 'b'],
        classCounts: [2, 2],
        split: { seed: 1, validationFraction: 0.5, trainCount: 2, validationCount: 2 },
        normalization: { kind: 'standardize', mean: [0, 0], std: [1, 1] },
        problems: [],
        skipped: 0,
        previews: [],
        createdAt: new Date().toISOString(),
      } as never,
      home,
    );
    const run = store.runs.create({
      datasetId: ds.id,
      config: { model: 'mlp', batchSize: 8, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'cpu', seed: 1 },
    }).id;
    const n = 120_000;
    const loss = (i: number) => (i === 77_777 ? 1e6 : i === 33_333 ? -1e6 : i >= 90_000 && i < 91_000 ? Number.NaN : 1 + Math.sin(i / 1000));
    const steps: StepMetrics[] = [];
    for (let i = 1; i <= n; i++)
      steps.push({ step: i, epoch: 1, time: i / 100, loss: loss(i), accuracy: 0.5, samplesPerSecond: 1, stepMs: 1, memoryBytes: 1, learningRate: 1e-3 });
    for (let i = 0; i < n; i += 20_000) store.metrics.appendSteps(run, steps.slice(i, i + 20_000));

    for (const maxPoints of [1000, 240, 3]) {
      const t0 = performance.now();
      const points = store.metrics.series(run, 'loss', maxPoints);
      const ms = performance.now() - t0;
      assert.ok(points.length <= maxPoints && points.length >= Math.min(maxPoints, 2) / 2, `${points.length} points for ${maxPoints}`);
      for (let i = 1; i < points.length; i++) assert.ok(points[i]!.step > points[i - 1]!.step, 'in step order');
      const values = points.map((p) => p.value).filter((v) => !Number.isNaN(v));
      assert.equal(Math.max(...values), 1e6, 'the spike survives');
      assert.equal(Math.min(...values), -1e6, 'the dip survives');
      for (const p of points)
        assert.ok(Number.isNaN(p.value) ? p.step >= 90_000 && p.step < 91_000 : p.value === loss(p.step), `point ${p.step} is a stored one`);
      if (maxPoints === 1000) {
        assert.ok(
          points.some((p) => Number.isNaN(p.value)),
          'the all-NaN stretch shows as NaN',
        );
        // The same envelope as the small-series path over the full series.
        const reference = downsampleMinMax(store.metrics.series(run, 'loss'), maxPoints);
        assert.ok(Math.abs(points.length - reference.length) <= 4, `${points.length} vs ${reference.length} points`);
      }
      console.log(`# ${n} points → ${points.length} (max ${maxPoints}) in ${ms.toFixed(0)} ms`);
    }
  } finally {
    store.close();
    removeDir(home);
  }
});
