// The Auto-tune benchmark's decisions (bench/tuner/): the grid, the target, the oracle, the
// Lightning baselines as Lightning computes them, the raw records and the generated report —
// and that docs/benchmarks.md holds exactly what the committed results give.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixTarget, gridBatches, ladderExtensions, MAX_LADDER_STEPS, scoreGrid, scoreSetting, timeToTarget } from '../../../bench/tuner/grid.js';
import { gradientAt, largestPowerOfTwo, LR_FIND, lightningRecordedLosses, lightningSuggestion } from '../../../bench/tuner/lightning.js';
import { readRecords, RecordFile, type BenchRecord, type TimedRecord } from '../../../bench/tuner/records.js';
import { ratio, summarise, totalSeconds, workloadSection } from '../../../bench/tuner/report.js';
import { allFiles, BEGIN_MARKER, END_MARKER, newestFiles, renderTunerReport, replaceBetweenMarkers } from '../../../bench/tuner/report-doc.js';
import { generateTable, TABLE } from '../../../bench/tuner/workloads.js';
import { writeMeta, type WorkloadRun } from '../../../bench/tuner/runner.js';
import { createRng } from '../../../src/shared/random.js';

/** A run's curve from (time, accuracy) pairs, one an epoch. */
const curve = (...points: [number, number][]): { epochs: { epoch: number; time: number; valAccuracy: number }[]; endTime: number } => ({
  epochs: points.map(([time, valAccuracy], i) => ({ epoch: i + 1, time, valAccuracy })),
  endTime: points.at(-1)?.[0] ?? 0,
});

test('the grid covers powers of two from 16 to the memory ceiling, 1024 and 20 steps an epoch', () => {
  assert.deepEqual(gridBatches(100_000, 3200), [16, 32, 64, 128]);
  assert.deepEqual(gridBatches(40, 3200), [16, 32]);
  assert.deepEqual(gridBatches(100_000, 1_000_000), [16, 32, 64, 128, 256, 512, 1024]);
  assert.deepEqual(gridBatches(100_000, 300), [], 'fewer than 20 steps an epoch even at 16');
});

test('the target is 98 % of the best accuracy, rounded down to 0.5 %, also where 98 % lands on a step', () => {
  assert.equal(fixTarget([0.95, 0.99]), 0.97);
  assert.equal(fixTarget([0.9949]), 0.975);
  assert.equal(fixTarget([0.97 / 0.98]), 0.97, 'exactly on a step: not a whole step lower');
  assert.throws(() => fixTarget([0, NaN]), /target cannot be fixed/);
});

test('time to the target: the first validation at or above it; a run that never gets there counts its whole time, marked', () => {
  const c = curve([2, 0.9], [4, 0.96], [6, 0.95], [8, 0.97]);
  assert.deepEqual(timeToTarget(c, 0.96), { reached: true, seconds: 4, epoch: 2 });
  assert.deepEqual(timeToTarget(c, 0.98), { reached: false, seconds: 8, epoch: null });
});

test('a setting scores its median over the seeds, a seed that never reached the target counting as never', () => {
  const s = scoreSetting(32, 0, 1e-3, [curve([5, 0.97]), curve([9, 0.9]), curve([3, 0.5], [7, 0.97])], 0.96);
  assert.equal(s.seconds, 7);
  assert.equal(s.reached, 2);
  assert.equal(s.accuracy, 0.97);
  const never = scoreSetting(32, 0, 1e-3, [curve([5, 0.9]), curve([1, 0.95]), curve([3, 0.97])], 0.96);
  assert.equal(never.seconds, Infinity, 'one seed of three is not a median');
});

const run = (seed: number, batch: number, k: number, c: ReturnType<typeof curve>) => ({ seed, batch, k, rate: 1e-3 * 2 ** k, ...c });

test('the ladder widens at a batch until its best rate has a worse one on both sides, by time, then by accuracy where none gets there', () => {
  const seeds = [1, 2, 3];
  const at = (batch: number, k: number, c: ReturnType<typeof curve>) => seeds.map((s) => run(s, batch, k, c));
  const grid = [
    // 32: fastest at the top rung → try k = 2.
    ...at(32, -1, curve([6, 0.97])),
    ...at(32, 0, curve([5, 0.97])),
    ...at(32, 1, curve([4, 0.97])),
    // 64: best inside → done.
    ...at(64, -1, curve([6, 0.97])),
    ...at(64, 0, curve([3, 0.98])),
    ...at(64, 1, curve([6, 0.97])),
    // 128: never gets there; most accurate at the bottom rung → try k = -2.
    ...at(128, -1, curve([2, 0.9])),
    ...at(128, 0, curve([2, 0.8])),
    ...at(128, 1, curve([2, 0.7])),
  ];
  const { target, scores } = scoreGrid(grid, seeds);
  assert.equal(target, 0.96);
  assert.deepEqual(ladderExtensions(scores), [
    { batch: 32, k: 2 },
    { batch: 128, k: -2 },
  ]);
  // At the ladder's end it stops.
  const edge = scoreGrid([...at(16, MAX_LADDER_STEPS - 1, curve([6, 0.97])), ...at(16, MAX_LADDER_STEPS, curve([5, 0.97]))], seeds);
  assert.deepEqual(ladderExtensions(edge.scores), []);
  // A setting not yet run on every picking seed neither scores nor fixes the target.
  const partial = scoreGrid([...grid, run(1, 256, 0, curve([1, 1]))], seeds);
  assert.equal(partial.scores.length, 9);
  assert.equal(partial.target, 0.96);
});

test("Lightning's recorded losses: its bias correction one power off, and the stop after 4× the best", () => {
  const flat = lightningRecordedLosses([1, 1, 1]);
  assert.ok(Math.abs(flat[0]! - 0.02 / (1 - 0.98 ** 2)) < 1e-12, `first point ${flat[0]} (Lightning divides by 1 − β², not 1 − β)`);
  const blowUp = lightningRecordedLosses([1, 1, 1, 1, 1e4, 1, 1]);
  assert.equal(blowUp.length, 5, 'recorded up to and including the step that stopped it');
  const nan = lightningRecordedLosses([1, 1, NaN, 1]);
  assert.equal(nan.length, 4, 'a NaN neither stops the ramp nor becomes the best');
  assert.ok(Number.isNaN(nan[3]!));
});

test('torch.gradient with uneven spacing: exact for a quadratic inside, one-sided at the ends', () => {
  const x = [0, 1, 3, 4];
  const g = gradientAt(
    x.map((v) => v * v),
    x,
  );
  assert.deepEqual(g, [1, 2, 6, 7]);
});

/** An exponential ramp like lr_find's over a loss that falls fastest (in log rate) at 1e-3, a little noise on it. */
function ramp(noise: number): { rates: number[]; losses: number[] } {
  const rng = createRng(3);
  const rates = Array.from({ length: LR_FIND.steps }, (_, i) => LR_FIND.minRate * (LR_FIND.maxRate / LR_FIND.minRate) ** (i / LR_FIND.steps));
  const losses = rates.map((r) => 2.3 - 2 / (1 + Math.exp(-2 * (Math.log10(r) + 3))) + noise * (rng() - 0.5));
  return { rates, losses };
}

test("the LR finder's two readings: against log(rate) the steepest fall; against the rate itself (Lightning 2.x) noise at tiny rates wins", () => {
  // Batch-to-batch noise of ±0.1 on a loss of ~2, as a batch of 32 gives.
  const { rates, losses } = ramp(0.2);
  const recorded = lightningRecordedLosses(losses);
  const log = lightningSuggestion(rates, recorded, 'log-rate')!;
  const lin = lightningSuggestion(rates, recorded, 'rate')!;
  // Lightning's smoothing (β = 0.98) lags the fall by some steps: the reading is past 1e-3, not at it.
  assert.ok(log > 1e-3 && log < 3e-2, `log-rate reading ${log}`);
  assert.ok(lin < log / 100, `rate reading ${lin}`);
  assert.equal(lightningSuggestion(rates.slice(0, 12), recorded.slice(0, 12), 'rate'), null, 'fewer than 2 points after the skips');
});

test('the power-mode baseline: the largest power of two within the training set', () => {
  assert.equal(largestPowerOfTwo(3200), 2048);
  assert.equal(largestPowerOfTwo(2048), 2048);
  assert.equal(largestPowerOfTwo(1), 1);
});

test('the generated table is the same every time, balanced enough, and shaped as documented', () => {
  const a = generateTable(600);
  assert.equal(a, generateTable(600));
  const lines = a.trim().split('\n');
  assert.equal(lines.length, 601);
  assert.equal(lines[0]!.split(',').length, TABLE.features + 1);
  const counts = new Map<string, number>();
  for (const l of lines.slice(1)) counts.set(l.split(',').at(-1)!, (counts.get(l.split(',').at(-1)!) ?? 0) + 1);
  assert.equal(counts.size, TABLE.classes);
  for (const [c, n] of counts) assert.ok(n >= 600 * 0.08, `class ${c}: ${n} rows`);
});

const timed = (setting: TimedRecord['setting'], seed: number, c: ReturnType<typeof curve>, searchSeconds = 0, target = 0.96): TimedRecord => ({
  kind: 'timed',
  seed,
  setting,
  target,
  searchSeconds,
  note: '',
  batch: 32,
  rate: 1e-3,
  warmupSteps: 0,
  status: 'completed',
  error: null,
  epochSeconds: 2,
  rung: 'wasm',
  device: 'cpu',
  ...c,
});

test('scores: search plus time to the target; medians that hold a never-reached seed make ratios bounds', () => {
  assert.deepEqual(totalSeconds(timed('quick', 4, curve([2, 0.9], [4, 0.97]), 1.5)), { seconds: 5.5, reached: true });
  assert.deepEqual(totalSeconds(timed('a', 4, curve([2, 0.9], [4, 0.95]))), { seconds: 4, reached: false });
  const records: BenchRecord[] = [
    ...[4, 5, 6].map((s) => timed('quick', s, curve([3, 0.97]), 1)),
    ...[4, 5, 6].map((s) => timed('oracle', s, curve([2, 0.97]))),
    ...[4, 5, 6].map((s) => timed('a', s, curve([2, s === 4 ? 0.9 : 0.97]))),
  ];
  const sum = summarise(records);
  assert.equal(sum.get('quick')!.median, 4);
  assert.equal(ratio(sum.get('quick'), sum.get('oracle')), '2.00×');
  assert.equal(ratio(sum.get('quick'), sum.get('a')), '≤ 2.00×', "(a)'s median is a lower bound");
  assert.equal(ratio(sum.get('a'), sum.get('quick')), '≥ 0.50×');
  assert.equal(ratio(sum.get('a'), sum.get('a')), '—');
});

test('the records file: appended lines read back; a bad line names the file and the line', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-bench-'));
  try {
    const file = path.join(dir, 'x', 'w-wasm.jsonl');
    const f = new RecordFile(file);
    f.add({ kind: 'ceiling', memoryCeiling: 512, rung: 'wasm', device: 'cpu' });
    f.add(timed('a', 4, curve([2, 0.97])));
    assert.equal(new RecordFile(file).records.length, 2, 'a resumed run sees what is there');
    assert.throws(() => f.add({ kind: 'ceiling', memoryCeiling: 0, rung: null, device: null }), /memoryCeiling|Too small|>=/);
    writeFileSync(file, readFileSync(file, 'utf8') + '{"kind":"grid"}\n');
    assert.throws(() => readRecords(file), new RegExp(`w-wasm\\.jsonl:3: not a benchmark record`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a workload section names the target and the oracle (bold in the grid), and says when the grid is unfinished', () => {
  const meta: BenchRecord = {
    kind: 'meta',
    workload: 'small-mnist',
    backend: 'wasm',
    model: 'small',
    samples: 4000,
    trainCount: 3200,
    validationCount: 800,
    maxEpochs: 6,
    pickSeeds: [1, 2, 3],
    timedSeeds: [4, 5, 6],
    appVersion: '0.1.0',
    machine: 'test',
    date: '2026-11-30T22:00:00.000Z',
  };
  assert.match(workloadSection([meta]), /The grid is not finished \(0 runs so far\)/);
  const grid: BenchRecord[] = [1, 2, 3].flatMap((seed) => [
    {
      kind: 'grid' as const,
      ...run(seed, 16, 0, curve([4, 0.97])),
      warmupSteps: 0,
      status: 'completed',
      error: null,
      epochSeconds: 4,
      rung: 'wasm',
      device: 'cpu',
    },
    {
      kind: 'grid' as const,
      ...run(seed, 16, 1, curve([3, 0.98])),
      warmupSteps: 0,
      status: 'completed',
      error: null,
      epochSeconds: 3,
      rung: 'wasm',
      device: 'cpu',
    },
  ]);
  const oracle: BenchRecord = { kind: 'oracle', target: 0.96, bestGridAccuracy: 0.98, batch: 16, rate: 2e-3, k: 1, pickSeconds: 3 };
  const text = workloadSection([meta, ...grid, oracle, ...[4, 5, 6].map((s) => timed('quick', s, curve([3, 0.97]), 1))], 'the small CNN');
  assert.match(text, /\*\*Target 96\.0 %\*\*: 98 % of 98\.0 %/);
  assert.match(text, /\| 16 \| 0\.0010: 4\.0 s \| \*\*0\.0020: 3\.0 s\*\* \|/);
  assert.match(text, /\| Auto-tune Quick \| 32 @ 0\.0010; 32 @ 0\.0010; 32 @ 0\.0010 \| 1\.0 \| 3\.0 \| 4\.0 \|/);
});

test('the report goes between its markers; a document without them is refused by name', () => {
  const doc = `# B\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\nafter\n`;
  assert.equal(replaceBetweenMarkers(doc, 'new', 'b.md'), `# B\n\n${BEGIN_MARKER}\n\nnew\n\n${END_MARKER}\n\nafter\n`);
  assert.throws(() => replaceBetweenMarkers('# B\n', 'new', 'b.md'), /b\.md: the markers/);
  assert.match(renderTunerReport([]), /No results yet/);
});

test('docs/benchmarks.md holds exactly the tables the committed results give (npm run bench:report)', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
  const docPath = path.join(root, 'docs', 'benchmarks.md');
  const doc = readFileSync(docPath, 'utf8');
  const results = path.join(root, 'docs', 'bench-results');
  const files = newestFiles(results, path.dirname(docPath));
  const history = allFiles(results, path.dirname(docPath));
  assert.ok(history.length >= files.length);
  assert.equal(replaceBetweenMarkers(doc, renderTunerReport(files, history), 'docs/benchmarks.md'), doc, 'run npm run bench:report');
});

test('--grid-from: a new file takes over the ceiling, grid and oracle of an earlier one with the same settings, never its timed runs', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tuner-bench-'));
  try {
    const settings = { samples: 4000, maxEpochs: 6 };
    const ctxFor = (file: RecordFile, gridFrom?: RecordFile, maxEpochs = settings.maxEpochs): WorkloadRun =>
      ({
        workload: { name: 'small-mnist', model: 'small', samples: settings.samples, maxEpochs },
        backend: 'wasm',
        dataset: { id: 1, trainCount: 3200, validationCount: 800 },
        file,
        pickSeeds: [1, 2, 3],
        timedSeeds: [4, 5, 6],
        ...(gridFrom ? { gridFrom } : {}),
      }) as unknown as WorkloadRun;
    const old = new RecordFile(path.join(dir, '2026-11-30', 'tuner', 'small-mnist-wasm.jsonl'));
    writeMeta(ctxFor(old));
    old.add({ kind: 'ceiling', memoryCeiling: 160, rung: 'wasm', device: 'cpu' });
    for (const seed of [1, 2, 3])
      old.add({
        kind: 'grid',
        ...run(seed, 16, 0, curve([4, 0.97])),
        warmupSteps: 0,
        status: 'completed',
        error: null,
        epochSeconds: 4,
        rung: 'wasm',
        device: 'cpu',
      });
    old.add({ kind: 'oracle', target: 0.96, bestGridAccuracy: 0.98, batch: 16, rate: 2e-3, k: 1, pickSeconds: 3 });
    old.add(timed('quick', 4, curve([3, 0.97]), 1));

    const fresh = new RecordFile(path.join(dir, '2026-12-01', 'tuner', 'small-mnist-wasm.jsonl'));
    writeMeta(ctxFor(fresh, old));
    assert.deepEqual(
      fresh.records.map((r) => r.kind),
      ['meta', 'ceiling', 'grid', 'grid', 'grid', 'oracle'],
    );
    const meta = fresh.of('meta')[0]!;
    assert.equal(meta.gridFrom, '../../2026-11-30/tuner/small-mnist-wasm.jsonl');
    assert.ok(meta.commit === null || /^[0-9a-f]{7,}(\+changes)?$/.test(meta.commit!), String(meta.commit));
    assert.match(
      workloadSection(fresh.records),
      /The ceiling, grid, target and oracle are those of \[2026-11-30\/tuner\/small-mnist-wasm\.jsonl\]\(bench-results\/2026-11-30\/tuner\/small-mnist-wasm\.jsonl\)/,
    );
    // Another configuration's grid is not this workload's.
    const other = new RecordFile(path.join(dir, 'other', 'small-mnist-wasm.jsonl'));
    assert.throws(() => writeMeta(ctxFor(other, old, 12)), /was measured with maxEpochs = 6, this run has 12: its grid cannot be taken over/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
