// Runs one workload of the Auto-tune benchmark on one backend, through the app's API like any
// client: the memory ceiling, the (batch × rate) grid on the picking seeds until its ladder is
// wide enough, the target and the oracle fixed from it, then every setting timed on each fresh
// seed in turn (seed-major, so the machine's drift falls on all alike). Each measurement is
// appended to the results file as it ends; what the file already holds is not measured again.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { runToEnd, tuningToEnd } from '../../src/shared/api/index.js';
import type { BackendChoice } from '../../src/shared/run-types.js';
import type { TuningMode } from '../../src/shared/tuning-types.js';
import { scaleLearningRate } from '../../src/shared/tuner-math.js';
import { packageVersion } from '../../src/main/service/app-version.js';
import type { Bench } from '../harness.js';
import { bestAccuracy, bestOf, gridBatches, ladderExtensions, ladderRate, median, scoreGrid } from './grid.js';
import { largestPowerOfTwo, LR_FIND, lightningRecordedLosses, lightningSuggestion } from './lightning.js';
import { GRID_KINDS, TIMED_SETTINGS, type OracleRecord, type RecordFile, type TimedSetting } from './records.js';
import type { Workload } from './workloads.js';

/** The rate everyone starts from: Adam's default, at batch 32 (baseline (a), the grid's centre). */
export const DEFAULT_RATE = 1e-3;
export const DEFAULT_BATCH = 32;

export interface WorkloadRun {
  bench: Bench;
  workload: Workload;
  backend: BackendChoice;
  dataset: { id: number; trainCount: number; validationCount: number };
  file: RecordFile;
  pickSeeds: number[];
  timedSeeds: number[];
  /** An earlier results file of the same workload and backend whose ceiling, grid and oracle are taken over (--grid-from). */
  gridFrom?: RecordFile;
}

interface RunOutcome {
  status: string;
  error: string | null;
  epochs: { epoch: number; time: number; valAccuracy: number }[];
  endTime: number;
  epochSeconds: number | null;
  rung: string | null;
  device: string | null;
}

/** Trains one setting for the workload's maximum epochs, validating once an epoch (the app's cadence); stopped at `target` if given. */
async function train(ctx: WorkloadRun, o: { batch: number; rate: number; warmupSteps: number; seed: number; target?: number }): Promise<RunOutcome> {
  const { api } = ctx.bench;
  let stopped = false;
  const detail = await runToEnd(
    api,
    () =>
      api.startTraining({
        dataset: ctx.dataset.id,
        config: {
          model: ctx.workload.model,
          batchSize: o.batch,
          learningRate: o.rate,
          warmupSteps: o.warmupSteps,
          epochs: ctx.workload.maxEpochs,
          backend: ctx.backend,
          optimizer: 'adam',
          seed: o.seed,
          validationsPerEpoch: 1,
          augment: 'none',
        },
      }),
    {
      metrics: (e) => {
        if (stopped || o.target === undefined || !e.epochs.some((x) => x.valAccuracy >= o.target! - 1e-12)) return;
        stopped = true;
        api.stopTraining({ runId: e.runId }).catch(() => {}); // it may have ended meanwhile
      },
    },
  );
  const epochs = detail.epochs.map((e) => ({ epoch: e.epoch, time: e.time, valAccuracy: e.valAccuracy }));
  const gaps = epochs.map((e, i) => e.time - (i ? epochs[i - 1]!.time : 0));
  return {
    status: detail.run.status,
    error: detail.run.error,
    epochs,
    endTime: epochs.at(-1)?.time ?? 0,
    epochSeconds: gaps.length ? median(gaps) : null,
    rung: detail.run.rung,
    device: detail.run.device,
  };
}

const outOfMemory = (r: RunOutcome) => r.status === 'failed' && /out of memory|oom|allocat|memory/i.test(r.error ?? '');

function log(ctx: WorkloadRun, text: string): void {
  ctx.bench.log(`[${ctx.workload.name} · ${ctx.backend}] ${text}`);
}

export function writeMeta(ctx: WorkloadRun): void {
  const meta = {
    kind: 'meta' as const,
    workload: ctx.workload.name,
    backend: ctx.backend,
    model: ctx.workload.model,
    samples: ctx.workload.samples,
    trainCount: ctx.dataset.trainCount,
    validationCount: ctx.dataset.validationCount,
    maxEpochs: ctx.workload.maxEpochs,
    pickSeeds: ctx.pickSeeds,
    timedSeeds: ctx.timedSeeds,
  };
  const before = ctx.file.of('meta')[0];
  if (before) {
    for (const [k, v] of Object.entries(meta))
      if (JSON.stringify((before as Record<string, unknown>)[k]) !== JSON.stringify(v))
        throw new Error(
          `${ctx.file.file} was measured with ${k} = ${JSON.stringify((before as Record<string, unknown>)[k])}, this run has ${JSON.stringify(v)}: use another --out to start afresh`,
        );
    return;
  }
  const from = ctx.gridFrom;
  if (from) {
    // The same configuration, or the grid would not be this workload's.
    const theirs = from.of('meta')[0];
    if (!theirs) throw new Error(`${from.file} has no meta record to take the grid from`);
    for (const [k, v] of Object.entries(meta))
      if (JSON.stringify((theirs as Record<string, unknown>)[k]) !== JSON.stringify(v))
        throw new Error(
          `${from.file} was measured with ${k} = ${JSON.stringify((theirs as Record<string, unknown>)[k])}, this run has ${JSON.stringify(v)}: its grid cannot be taken over`,
        );
    if (from.of('oracle').length === 0) throw new Error(`${from.file} has no oracle yet: finish its grid first`);
  }
  ctx.file.add({
    ...meta,
    ...(from ? { gridFrom: path.relative(path.dirname(ctx.file.file), from.file).split(path.sep).join('/') } : {}),
    commit: gitCommit(),
    appVersion: packageVersion(),
    machine: machineText(),
    date: new Date().toISOString(),
  });
  if (from) for (const r of from.records) if ((GRID_KINDS as readonly string[]).includes(r.kind)) ctx.file.add(r);
}

/** The machine, in words, for the results' meta line. */
export function machineText(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

/** The checkout's commit, "+changes" when its tracked files differ from it; null outside git. */
export function gitCommit(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return null;
  }
}

/** One Quick search, not timed, for the memory ceiling the grid stops at. */
async function memoryCeiling(ctx: WorkloadRun): Promise<number> {
  const known = ctx.file.of('ceiling')[0];
  if (known) return known.memoryCeiling;
  const t = await tuningToEnd(ctx.bench.api, () =>
    ctx.bench.api.startTuning({ dataset: ctx.dataset.id, model: ctx.workload.model, mode: 'quick', backend: ctx.backend, seed: 0, augment: 'none' }),
  );
  if (!t.report) throw new Error(`the search for the memory ceiling failed: ${t.error}`);
  const c = t.report.recommendation.memoryCeiling;
  ctx.file.add({ kind: 'ceiling', memoryCeiling: c, rung: t.rung ?? null, device: t.device ?? null });
  log(ctx, `memory ceiling ${c} (${t.rung ?? t.backend} on ${t.device})`);
  return c;
}

const centreRate = (batch: number) => scaleLearningRate(DEFAULT_RATE, DEFAULT_BATCH, batch, 'adam');

/** The grid on the picking seeds, widened until every batch's best rate has a worse one on both sides; then the target and the oracle. */
async function grid(ctx: WorkloadRun, ceiling: number): Promise<OracleRecord> {
  const fixed = ctx.file.of('oracle')[0];
  if (fixed) return fixed;
  const batches = gridBatches(ceiling, ctx.dataset.trainCount);
  if (batches.length === 0) throw new Error(`no grid batch fits: ceiling ${ceiling}, ${ctx.dataset.trainCount} training samples`);
  let wanted = batches.flatMap((batch) => [-1, 0, 1].map((k) => ({ batch, k })));
  for (;;) {
    for (const seed of ctx.pickSeeds) {
      for (const { batch, k } of wanted) {
        if (ctx.file.of('grid').some((r) => r.seed === seed && r.batch === batch && r.k === k)) continue;
        const rate = ladderRate(centreRate(batch), k);
        const r = await train(ctx, { batch, rate, warmupSteps: 0, seed });
        if (r.status !== 'completed') throw new Error(`grid run ${batch} @ ${rate} seed ${seed} ended ${r.status}: ${r.error ?? ''}`);
        ctx.file.add({ kind: 'grid', seed, k, batch, rate, warmupSteps: 0, ...r });
        log(ctx, `grid seed ${seed}: ${batch} @ ${rate.toPrecision(3)} → best ${(bestAccuracy(r) * 100).toFixed(1)} % in ${r.endTime.toFixed(1)} s`);
      }
    }
    const { scores } = scoreGrid(ctx.file.of('grid'), ctx.pickSeeds);
    wanted = ladderExtensions(scores);
    if (wanted.length === 0) break;
    log(ctx, `widening the ladder: ${wanted.map((w) => `${w.batch} @ ${ladderRate(centreRate(w.batch), w.k).toPrecision(2)}`).join(', ')}`);
  }
  const { target, best, scores } = scoreGrid(ctx.file.of('grid'), ctx.pickSeeds);
  const o = bestOf(scores);
  const oracle: OracleRecord = { kind: 'oracle', target, bestGridAccuracy: best, batch: o.batch, rate: o.rate, k: o.k, pickSeconds: o.seconds };
  if (!Number.isFinite(o.seconds)) throw new Error(`no grid setting reached the target ${target} on most picking seeds`);
  ctx.file.add(oracle);
  log(
    ctx,
    `target ${(target * 100).toFixed(1)} % (best grid ${(best * 100).toFixed(1)} %); oracle ${o.batch} @ ${o.rate.toPrecision(3)}: ${o.seconds.toFixed(1)} s`,
  );
  return oracle;
}

interface Choice {
  batch: number;
  rate: number;
  warmupSteps: number;
  searchSeconds: number;
  note: string;
}

/** The tuner's pick with this seed, its search timed. */
async function tunerChoice(ctx: WorkloadRun, mode: TuningMode, seed: number): Promise<Choice> {
  const t = await tuningToEnd(ctx.bench.api, () =>
    ctx.bench.api.startTuning({
      dataset: ctx.dataset.id,
      model: ctx.workload.model,
      mode,
      backend: ctx.backend,
      seed,
      augment: 'none',
      plannedEpochs: ctx.workload.maxEpochs,
      // Measured cold: the untimed search for the ceiling and the earlier seeds' searches are
      // tunings of this model and dataset, whose findings would otherwise stand in for probes.
      reuseKnown: false,
    }),
  );
  if (!t.report) throw new Error(`Auto-tune ${mode} failed (seed ${seed}): ${t.error}`);
  const r = t.report.recommendation;
  return {
    batch: r.batchSize,
    rate: r.learningRate,
    warmupSteps: r.warmupSteps,
    searchSeconds: t.report.searchSeconds,
    note: `Auto-tune ${mode} on ${t.rung ?? t.backend}: ${r.batchSize} @ ${r.learningRate.toPrecision(3)}, warm-up ${r.warmupSteps} steps`,
  };
}

interface Ramp {
  rates: number[];
  losses: number[];
  seconds: number;
}
/** One LR-finder ramp per seed serves both readings of it, (c) and (c-log). */
const ramps = new Map<string, Ramp>();

/** Lightning's `lr_find` ramp at batch 32 with its defaults, from the session's initial weights. */
async function lrFinderRamp(ctx: WorkloadRun, seed: number): Promise<Ramp> {
  const key = `${ctx.workload.name}:${ctx.backend}:${seed}`;
  const known = ramps.get(key);
  if (known) return known;
  const prober = await ctx.bench.core.openProber(ctx.dataset.id, { model: ctx.workload.model, backend: ctx.backend, seed });
  try {
    await prober.start();
    // The probe's own stop rule is set out of reach: Lightning's (4× its smoothed best) is applied to the raw losses.
    const a = await prober.rangeTest({ batchSize: DEFAULT_BATCH, minRate: LR_FIND.minRate, maxRate: LR_FIND.maxRate, steps: LR_FIND.steps, stopFactor: 1e9 });
    if (!a.ok || a.result.kind !== 'learning-rate') throw new Error(`the LR finder's ramp failed: ${a.ok ? 'no result' : a.message}`);
    const ramp = { rates: a.result.rates, losses: a.result.losses, seconds: a.seconds };
    ramps.set(key, ramp);
    return ramp;
  } finally {
    await prober.close();
  }
}

/** (c), (c-log): the run at batch 32 with the LR finder's suggestion; the ramp's steps up to Lightning's stop counted as its search. */
async function lrFinderChoice(ctx: WorkloadRun, seed: number, against: 'rate' | 'log-rate'): Promise<Choice> {
  const { rates, losses, seconds } = await lrFinderRamp(ctx, seed);
  const recorded = lightningRecordedLosses(losses);
  const suggested = lightningSuggestion(rates, recorded, against);
  const other = lightningSuggestion(rates, recorded, against === 'rate' ? 'log-rate' : 'rate');
  const how = against === 'rate' ? "Lightning 2.x's reading (slope against the rate)" : 'the steepest point against log(rate) (Lightning 1.x, fastai)';
  return {
    batch: DEFAULT_BATCH,
    rate: suggested ?? DEFAULT_RATE,
    warmupSteps: 0,
    // Lightning runs the steps up to its early stop; the probe ran on to its end or its first NaN.
    searchSeconds: (seconds * recorded.length) / Math.max(1, losses.length),
    note:
      suggested === null
        ? `lr_find gave no suggestion (${recorded.length} steps recorded); the rate stays ${DEFAULT_RATE}`
        : `lr_find at batch ${DEFAULT_BATCH}, ${recorded.length} of ${LR_FIND.steps} steps, ${how}: ${suggested.toPrecision(3)} (the other reading: ${other?.toPrecision(3) ?? 'none'})`,
  };
}

/** (b), (b-linear): the largest power of two within the training set, halved while it runs out of memory. */
async function powerModeRun(ctx: WorkloadRun, seed: number, linear: boolean, target: number): Promise<{ choice: Choice; run: RunOutcome }> {
  const tried: number[] = [];
  const known = ctx.file.of('timed').find((r) => r.setting === 'b' || r.setting === 'b-linear');
  for (let batch = known?.batch ?? largestPowerOfTwo(ctx.dataset.trainCount); batch >= 1; batch /= 2) {
    const rate = linear ? (DEFAULT_RATE * batch) / DEFAULT_BATCH : DEFAULT_RATE;
    const run = await train(ctx, { batch, rate, warmupSteps: 0, seed, target });
    if (!outOfMemory(run)) {
      const finder = `power-mode finder: ${batch}${tried.length ? ` (${tried.join(', ')} ran out of memory)` : ''}`;
      return {
        choice: { batch, rate, warmupSteps: 0, searchSeconds: 0, note: `${finder}, rate ${linear ? 'scaled linearly' : 'unchanged'}: ${rate.toPrecision(3)}` },
        run,
      };
    }
    tried.push(batch);
    log(ctx, `batch ${batch} ran out of memory; halving`);
  }
  throw new Error('no batch fits');
}

/** Every setting on each fresh seed, seed-major. */
async function timed(ctx: WorkloadRun, oracle: OracleRecord): Promise<void> {
  const { target } = oracle;
  for (const seed of ctx.timedSeeds) {
    for (const setting of TIMED_SETTINGS) {
      if (ctx.file.of('timed').some((r) => r.seed === seed && r.setting === setting)) continue;
      let choice: Choice;
      let run: RunOutcome;
      if (setting === 'b' || setting === 'b-linear') {
        ({ choice, run } = await powerModeRun(ctx, seed, setting === 'b-linear', target));
      } else {
        choice = await settingChoice(ctx, setting, seed, oracle);
        run = await train(ctx, { batch: choice.batch, rate: choice.rate, warmupSteps: choice.warmupSteps, seed, target });
      }
      ctx.file.add({ kind: 'timed', seed, setting, target, ...choice, ...run });
      const reached = run.epochs.find((e) => e.valAccuracy >= target - 1e-12);
      log(
        ctx,
        `seed ${seed} ${setting}: ${choice.note || `${choice.batch} @ ${choice.rate.toPrecision(3)}`} → ${reached ? `${(choice.searchSeconds + reached.time).toFixed(1)} s` : `not reached (${run.status})`}`,
      );
    }
  }
}

function settingChoice(ctx: WorkloadRun, setting: Exclude<TimedSetting, 'b' | 'b-linear'>, seed: number, oracle: OracleRecord): Promise<Choice> | Choice {
  switch (setting) {
    case 'quick':
    case 'full':
      return tunerChoice(ctx, setting, seed);
    case 'a':
      return { batch: DEFAULT_BATCH, rate: DEFAULT_RATE, warmupSteps: 0, searchSeconds: 0, note: 'the usual defaults' };
    case 'c':
      return lrFinderChoice(ctx, seed, 'rate');
    case 'c-log':
      return lrFinderChoice(ctx, seed, 'log-rate');
    case 'oracle':
      return { batch: oracle.batch, rate: oracle.rate, warmupSteps: 0, searchSeconds: 0, note: 'the best grid setting on the picking seeds' };
  }
}

/** The whole workload: meta, ceiling, grid, oracle, timed settings (each skipped where the file has it). */
export async function runWorkload(ctx: WorkloadRun): Promise<void> {
  writeMeta(ctx);
  const ceiling = await memoryCeiling(ctx);
  const oracle = await grid(ctx, ceiling);
  await timed(ctx, oracle);
}
