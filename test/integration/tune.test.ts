// The automatic batch-size search end to end, in real probe processes: Quick and Full on the
// MNIST sample, and the ceiling search against the memory-capped test backend, whose true
// largest fitting batch is found here by brute force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRng } from '../../src/shared/random.js';
import { tuningChartSvg } from '../../src/shared/tuning-chart-svg.js';
import { ProbeHost } from '../../src/main/service/probe-host.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { serviceWithMnist, tempHome } from './helpers.js';

/** A planned run of ten minutes: the search's time allowance (30 s Quick, 90 s Full) then cuts no probe on these small datasets, which is what these tests check; its trials take 6 s each (1 % of it). */
const TEN_MINUTES = 600;

test('Quick mode on the MNIST sample: a recommendation that fits, with reasons and stored trials', { timeout: 600_000 }, async () => {
  const { service, datasetId } = await serviceWithMnist(2000);
  try {
    const phases = new Set<string>();
    service.on('tune-progress', (p) => phases.add(p.phase));
    const { sessionId, done } = service.startTuning({ dataset: datasetId, model: 'small', mode: 'quick', backend: 'wasm', budgetSeconds: TEN_MINUTES });
    const t = await done;
    assert.equal(t.status, 'completed', t.error ?? '');
    const r = t.report!;
    const cap = Math.floor(service.getDataset(datasetId).manifest.split.trainCount / 20);
    assert.ok(r.recommendation.batchSize >= 1 && r.recommendation.batchSize <= cap);
    assert.ok(r.recommendation.batchSize <= r.recommendation.memoryCeiling);
    assert.ok(r.recommendation.expectedSamplesPerSecond > 0);
    assert.equal(r.recommendation.noiseScale, null);
    assert.ok(r.reasons.length >= 3, r.reasons.join('\n'));
    assert.ok(r.curves.some((c) => c.samplesPerSecond !== undefined) && r.curves.some((c) => c.memoryBytes !== undefined));
    assert.ok(phases.has('memory') && phases.has('throughput') && phases.has('learning-rate'));
    // Quick also finds the rate (two ramps of as many samples, at 32 and 64) and scales it by √(B/32) for Adam.
    const lrt = r.learningRateTest!;
    assert.ok(lrt.rate !== null && lrt.points.length >= 8, 'a range test with a reading');
    assert.equal(lrt.second?.batchSize, 64);
    assert.ok(lrt.baseRate != null && (lrt.spread === null || lrt.spread! >= 1), JSON.stringify({ ...lrt, points: undefined, second: undefined }));
    assert.ok(Math.abs(r.recommendation.learningRate - lrt.baseRate! * Math.sqrt(r.recommendation.batchSize / 32)) / r.recommendation.learningRate < 1e-9);
    assert.deepEqual(r.allowance!.cuts, [], 'a ten-minute run leaves room for every probe');
    assert.equal(r.allowance!.plannedFrom, 'your budget');
    const trials = service.tuningTrials(sessionId);
    assert.deepEqual(
      trials.filter((x) => x.kind === 'learning-rate').map((x) => x.batchSize),
      [32, 64],
    );
    assert.ok(trials.filter((x) => x.kind === 'memory').length >= 5);
    assert.ok(trials.every((x) => x.status === 'ok'));
    assert.match(tuningChartSvg(r, 'test'), /chosen \d+/);

    // Train with this: the run takes the recommendation.
    const run = service.startTraining({ dataset: '', fromTuning: sessionId, config: { epochs: 1 }, maxSteps: 3 });
    const rec = await run.done;
    assert.equal(rec.status, 'completed', rec.error ?? '');
    assert.equal(rec.config.batchSize, r.recommendation.batchSize);
    assert.equal(rec.config.learningRate, r.recommendation.learningRate);
    assert.equal(rec.tuningSessionId, sessionId);
    // The evaluation batch: the whole validation split fits a forward pass (checked by a real one), and the run validates so.
    const validationCount = service.getDataset(datasetId).manifest.split.validationCount;
    assert.equal(r.recommendation.evalBatchSize, Math.min(1024, validationCount));
    assert.deepEqual(
      trials.filter((x) => x.kind === 'forward-memory').map((x) => x.batchSize),
      [r.recommendation.evalBatchSize],
    );
    assert.equal(rec.config.evalBatchSize, r.recommendation.evalBatchSize);
  } finally {
    await service.close();
  }
});

test('Full mode adds the learning-rate range test, the noise scale, goodput, learning-rate scaling and equal-time trials', { timeout: 600_000 }, async () => {
  const { service, datasetId } = await serviceWithMnist(3000);
  try {
    const phases = new Set<string>();
    service.on('tune-progress', (p) => phases.add(p.phase));
    const { sessionId, done } = service.startTuning({ dataset: datasetId, model: 'small', mode: 'full', backend: 'wasm', budgetSeconds: TEN_MINUTES });
    const t = await done;
    assert.equal(t.status, 'completed', t.error ?? '');
    const r = t.report!;
    assert.ok(r.recommendation.noiseScale !== null && r.recommendation.noiseScale >= 0);
    assert.ok(r.curves.some((c) => c.goodput !== undefined && c.efficiency !== undefined));
    // The range test ran at batch 32 and its curve is kept; the base rate is what it found, and
    // the recommendation is that rate scaled by √(B/32) for Adam.
    const lrt = r.learningRateTest!;
    assert.ok(lrt, 'the report keeps the range test');
    assert.equal(lrt.batchSize, 32);
    assert.ok(lrt.points.length >= 8 && lrt.points.every((p) => Number.isFinite(p.loss) && p.rate > 0));
    assert.ok(lrt.rate !== null && lrt.steepestRate !== null && lrt.rate < lrt.steepestRate, 'the rate is below the steepest point');
    assert.ok(lrt.rate! > 1e-4 && lrt.rate! < 0.1, `a sane rate for Adam on MNIST: ${lrt.rate}`);
    const expectedLr = lrt.baseRate! * Math.sqrt(r.recommendation.batchSize / 32);
    assert.ok(Math.abs(r.recommendation.learningRate - expectedLr) / expectedLr < 1e-9, 'Adam: square-root scaling from the base rate the ramps found at 32');
    const trials = service.tuningTrials(sessionId);
    const kinds = new Set(trials.map((x) => x.kind));
    assert.deepEqual([...kinds].sort(), ['forward-memory', 'learning-rate', 'memory', 'noise', 'throughput', 'trial']);
    assert.ok(phases.has('learning-rate') && phases.has('noise') && phases.has('trials'));
    // The noise probe trained at the found rate.
    assert.equal(trials.find((x) => x.kind === 'noise')!.learningRate, lrt.baseRate);
    assert.ok(r.reasons.some((x) => /learning-rate ramps/.test(x)));
    assert.ok(r.reasons.some((x) => /noise scale/.test(x)));
    assert.ok(r.scaleOut && r.scaleOut.length === 3);

    // Without the range test the given base rate is trusted (and scaled).
    const plain = await service.startTuning({
      dataset: datasetId,
      model: 'small',
      mode: 'full',
      backend: 'wasm',
      baseLearningRate: 2e-3,
      searchLearningRate: false,
      budgetSeconds: TEN_MINUTES,
    }).done;
    assert.equal(plain.status, 'completed', plain.error ?? '');
    assert.equal(plain.report!.learningRateTest, null);
    const b = plain.report!.recommendation.batchSize;
    assert.ok(Math.abs(plain.report!.recommendation.learningRate - 2e-3 * Math.sqrt(b / 32)) < 1e-12);
    assert.ok(!service.tuningTrials(plain.id).some((x) => x.kind === 'learning-rate'));
  } finally {
    await service.close();
  }
});

function tabularCsv(file: string, rows: number): void {
  const rng = createRng(5);
  const lines = ['a,b,c,d,label'];
  for (let i = 0; i < rows; i++) {
    const k = i % 3;
    lines.push(`${(k + rng()).toFixed(3)},${(rng() * 2).toFixed(3)},${(k * 2 + rng()).toFixed(3)},${rng().toFixed(3)},c${k}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

test('memory-capped backend: the ceiling found is ≥ 90 % of the true largest batch, within 8 steps after the fit', { timeout: 600_000 }, async () => {
  const home = tempHome();
  const csv = path.join(home, 'rows.csv');
  tabularCsv(csv, 30_000);
  const service = new AutoBatchService({ home });
  try {
    const ds = await service.importDataset(csv, {});
    const cap = 1024 * 1024; // the MLP needs ~1.6 KB per sample: the ceiling is near 600, below the dataset's 1 200
    const { sessionId, done } = service.startTuning({
      dataset: ds.id,
      model: 'mlp',
      mode: 'quick',
      backend: 'cpu',
      memoryCapBytes: cap,
      budgetSeconds: TEN_MINUTES,
    });
    const t = await done;
    assert.equal(t.status, 'completed', t.error ?? '');
    const memoryTrials = service.tuningTrials(sessionId).filter((x) => x.kind === 'memory');
    const afterFit = memoryTrials.filter((x) => x.batchSize > 16);
    assert.ok(afterFit.length <= 8, `${afterFit.length} verification steps`);
    assert.ok(
      memoryTrials.some((x) => x.status === 'oom'),
      'the cap was hit at least once',
    );

    // The truth, by brute force: bisect with real one-step probes in the same capped session.
    const host = new ProbeHost({
      kind: 'probe-session',
      datasetDir: ds.cacheDir,
      model: 'mlp',
      optimizer: 'adam',
      backend: 'cpu',
      seed: 1,
      memoryCapBytes: cap,
    });
    await host.start();
    let id = 0;
    const fits = async (b: number) => {
      if (!host.running) await host.start();
      const o = await host.run({ kind: 'memory', id: ++id, batchSize: b });
      return o.ok && o.result.kind === 'memory' && o.result.peakBytes <= cap;
    };
    let lo = 16;
    let hi = 1 << 15;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (await fits(mid)) lo = mid;
      else hi = mid;
    }
    await host.close();
    const found = t.report!.recommendation.memoryCeiling;
    assert.ok(found >= 0.9 * lo, `ceiling ${found}, true largest ${lo}`);
    assert.ok(found <= lo, `ceiling ${found} does not fit (true largest ${lo})`);
  } finally {
    await service.close();
  }
});

test(
  'the time allowance, in real processes: a short run cuts probes and says so; a budget shorter than any search lets the previous tuning stand',
  { timeout: 600_000 },
  async () => {
    const { service, datasetId } = await serviceWithMnist(1000);
    try {
      // One epoch of 800 samples is well under a second on wasm: 5 % of it is less than starting the trainer.
      const short = await service.startTuning({ dataset: datasetId, model: 'small', mode: 'quick', backend: 'wasm', plannedEpochs: 1 }).done;
      assert.equal(short.status, 'completed', short.error ?? '');
      const a = short.report!.allowance!;
      assert.equal(a.plannedFrom, 'predicted');
      assert.ok(a.allowanceSeconds! < a.shortestSeconds!, JSON.stringify(a));
      assert.deepEqual(
        a.cuts.map((c) => `${c.probe} ${c.how}`),
        ['throughput skipped', 'range-test skipped', 'eval-batch skipped'],
      );
      assert.equal(short.report!.recommendation.batchSize, 32, 'the base batch: nothing was timed');
      assert.ok(
        short.report!.reasons.some((x) => /^The search may spend 5 % of the predicted .* run: .*; to keep to it, the throughput timings skipped/.test(x)),
      );
      const stored = service.tuningTrials(short.id);
      assert.ok(stored.length > 0 && stored.every((x) => x.kind === 'memory'), 'only the memory probes ran');

      // A full search with room, then a 10 s budget: 5 % of it (0.5 s) is less than the shortest
      // search took, so that search's findings stand and no trainer starts.
      const full = await service.startTuning({ dataset: datasetId, model: 'small', mode: 'quick', backend: 'wasm', budgetSeconds: TEN_MINUTES }).done;
      assert.equal(full.status, 'completed', full.error ?? '');
      const reused = await service.startTuning({ dataset: datasetId, model: 'small', mode: 'quick', backend: 'wasm', budgetSeconds: 10 }).done;
      assert.equal(reused.status, 'completed', reused.error ?? '');
      assert.equal(reused.report!.allowance!.reusedFrom, full.id);
      assert.equal(reused.report!.recommendation.batchSize, full.report!.recommendation.batchSize);
      assert.equal(reused.report!.recommendation.learningRate, full.report!.recommendation.learningRate);
      assert.deepEqual(service.tuningTrials(reused.id), []);
      assert.match(reused.report!.reasons[0]!, new RegExp(`^No search was run: .* so tuning #${full.id}'s findings for this model and dataset stand`));
      assert.ok(reused.searchSeconds! < 0.5, `${reused.searchSeconds} s`);
      // "Train with this" trains on the rung the findings were measured on.
      assert.equal(reused.rung, 'wasm');
      // Asked to search afresh, it searches.
      const fresh = await service.startTuning({ dataset: datasetId, model: 'small', mode: 'quick', backend: 'wasm', budgetSeconds: 10, reuseKnown: false })
        .done;
      assert.equal(fresh.report!.allowance!.reusedFrom, undefined);
      assert.ok(service.tuningTrials(fresh.id).length > 0);
    } finally {
      await service.close();
    }
  },
);
