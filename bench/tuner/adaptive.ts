// `npm run bench:tuner -- --adaptive --workload small-mnist,mlp-table --grid-from DIR`: does a run
// whose batch adapts (--adaptive, docs/architecture.md §6d) reach the target sooner than the tuned
// fixed batch it starts from? Per workload and fresh seed, one Auto-tune Full search (not timed
// against anything: both arms share it), then three runs from that tuning, each stopped at the
// target the grid of --grid-from fixed before (the honest tuner benchmark's target, not chosen
// here):
//   fixed      the tuning's recommendation, as "Train with this" trains it
//   adaptive   the same start, --adaptive with the app's defaults (a decision every 200 steps,
//              changes ≥ 500 steps apart)
//   scaled     the same start, --adaptive with windows declared before any measurement as a share
//              of the planned run (SCALED_RULE): the defaults are sized for runs of thousands of
//              steps, and these workloads are hundreds; this arm shows what the mechanism does when
//              it gets to decide, without tuning its constants on this benchmark
// The arms run in a rotated order per seed (drift falls on each alike). The search gets a stated
// time budget so that its throughput timings, which an adaptive run needs, are never cut.
import path from 'node:path';
import { z } from 'zod';
import { runToEnd, tuningToEnd } from '../../src/shared/api/index.js';
import type { BackendChoice } from '../../src/shared/run-types.js';
import type { Bench } from '../harness.js';
import { median } from './grid.js';
import { RecordFile as TunerRecordFile, resultsFile } from './records.js';
import type { Workload } from './workloads.js';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';

export const ADAPTIVE_ARMS = ['fixed', 'adaptive', 'scaled'] as const;
export type AdaptiveArm = (typeof ADAPTIVE_ARMS)[number];

/** The search's time budget: a user planning a 10-minute run (far above these workloads' runs, so nothing is cut). */
export const SEARCH_BUDGET_SECONDS = 600;

/**
 * The scaled arm's windows, declared before any measurement: a decision every tenth of the planned
 * run's steps at the tuned batch (at least the settings' minimum of 10), changes two windows apart.
 */
export function scaledRule(plannedSteps: number): { everySteps: number; minStepsBetween: number } {
  const everySteps = Math.max(10, Math.round(plannedSteps / 10));
  return { everySteps, minStepsBetween: 2 * everySteps };
}

const finite = z.number().finite();
const change = z.strictObject({ step: z.number().int(), fromBatch: z.number().int(), toBatch: z.number().int(), gain: finite, noiseScale: finite });
export const adaptiveRecordSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('meta'),
    workload: z.string(),
    backend: z.string(),
    target: finite,
    targetFrom: z.string(),
    timedSeeds: z.array(z.number().int()),
    maxEpochs: z.number().int(),
    commit: z.string().nullable(),
    machine: z.string(),
    date: z.string(),
  }),
  z.strictObject({
    kind: z.literal('tuning'),
    seed: z.number().int(),
    tuningId: z.number().int(),
    batch: z.number().int(),
    rate: z.number().positive(),
    warmupSteps: z.number().int(),
    searchSeconds: finite,
    noiseScale: z.number().nullable(),
    timed: z.array(z.number().int()),
  }),
  z.strictObject({
    kind: z.literal('run'),
    seed: z.number().int(),
    arm: z.enum(ADAPTIVE_ARMS),
    order: z.number().int(),
    everySteps: z.number().int().nullable(),
    minStepsBetween: z.number().int().nullable(),
    status: z.string(),
    error: z.string().nullable(),
    epochs: z.array(z.strictObject({ epoch: z.number().int(), time: finite, valAccuracy: finite })),
    /** Training seconds to the target (first epoch at or above it); null when not reached. */
    reachedAt: z.number().nullable(),
    endTime: finite,
    steps: z.number().int(),
    changes: z.array(change),
  }),
]);
export type AdaptiveRecord = z.infer<typeof adaptiveRecordSchema>;
type RunRecord = Extract<AdaptiveRecord, { kind: 'run' }>;
type TuningRecord = Extract<AdaptiveRecord, { kind: 'tuning' }>;

class AdaptiveFile {
  readonly records: AdaptiveRecord[] = [];
  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    if (existsSync(file))
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!line.trim()) return;
          const r = adaptiveRecordSchema.safeParse(JSON.parse(line));
          if (!r.success) throw new Error(`${file}:${i + 1}: not an adaptive-benchmark record (${r.error.issues[0]?.message})`);
          this.records.push(r.data);
        });
  }
  add(record: AdaptiveRecord): void {
    const checked = adaptiveRecordSchema.parse(record);
    appendFileSync(this.file, JSON.stringify(checked) + '\n');
    this.records.push(checked);
  }
  of<K extends AdaptiveRecord['kind']>(kind: K): Extract<AdaptiveRecord, { kind: K }>[] {
    return this.records.filter((r): r is Extract<AdaptiveRecord, { kind: K }> => r.kind === kind);
  }
}

export interface AdaptiveBenchOptions {
  bench: Bench;
  workload: Workload;
  backend: BackendChoice;
  dataset: { id: number; trainCount: number };
  timedSeeds: number[];
  gridFrom: string;
  out: string;
  commit: string | null;
  machine: string;
}

/** The target the honest tuner benchmark fixed for this workload and backend (its oracle record). */
function targetOf(o: AdaptiveBenchOptions): { target: number; file: string } {
  const file = resultsFile(path.resolve(o.gridFrom), o.workload.name, o.backend);
  if (!existsSync(file)) throw new Error(`--grid-from: ${file} does not exist (the target comes from that workload's grid)`);
  const oracle = new TunerRecordFile(file).of('oracle')[0];
  if (!oracle) throw new Error(`${file} has no oracle record: its grid is not finished`);
  return { target: oracle.target, file };
}

async function tune(o: AdaptiveBenchOptions, seed: number): Promise<TuningRecord> {
  const t = await tuningToEnd(o.bench.api, () =>
    o.bench.api.startTuning({
      dataset: o.dataset.id,
      model: o.workload.model,
      mode: 'full',
      backend: o.backend,
      seed,
      augment: 'none',
      plannedEpochs: o.workload.maxEpochs,
      budgetSeconds: SEARCH_BUDGET_SECONDS,
      reuseKnown: false,
    }),
  );
  if (!t.report) throw new Error(`Auto-tune Full failed (seed ${seed}): ${t.error}`);
  const r = t.report.recommendation;
  return {
    kind: 'tuning',
    seed,
    tuningId: t.id,
    batch: r.batchSize,
    rate: r.learningRate,
    warmupSteps: r.warmupSteps,
    searchSeconds: t.report.searchSeconds,
    noiseScale: r.noiseScale,
    timed: t.report.curves.filter((p) => p.samplesPerSecond !== undefined).map((p) => p.batchSize),
  };
}

async function trainArm(o: AdaptiveBenchOptions, tuning: TuningRecord, arm: AdaptiveArm, order: number, target: number): Promise<RunRecord> {
  const { api } = o.bench;
  const planned = Math.ceil(o.dataset.trainCount / tuning.batch) * o.workload.maxEpochs;
  const windows = arm === 'adaptive' ? { everySteps: 200, minStepsBetween: 500 } : arm === 'scaled' ? scaledRule(planned) : null;
  if (windows) await api.updateSettings({ adaptiveEverySteps: windows.everySteps, adaptiveMinSteps: windows.minStepsBetween });
  let stopped = false;
  const detail = await runToEnd(
    api,
    () =>
      api.startTraining({
        fromTuning: tuning.tuningId,
        config: { epochs: o.workload.maxEpochs, seed: tuning.seed, validationsPerEpoch: 1, augment: 'none', ...(windows ? { adaptive: true } : {}) },
      }),
    {
      metrics: (e) => {
        if (stopped || !e.epochs.some((x) => x.valAccuracy >= target - 1e-12)) return;
        stopped = true;
        api.stopTraining({ runId: e.runId }).catch(() => {}); // it may have ended meanwhile
      },
    },
  );
  const epochs = detail.epochs.map((e) => ({ epoch: e.epoch, time: e.time, valAccuracy: e.valAccuracy }));
  const changes = detail.events.flatMap((e) =>
    e.kind === 'batch-adapted' ? [{ step: e.step, fromBatch: e.fromBatch, toBatch: e.toBatch, gain: e.gain, noiseScale: e.noiseScale }] : [],
  );
  return {
    kind: 'run',
    seed: tuning.seed,
    arm,
    order,
    everySteps: windows?.everySteps ?? null,
    minStepsBetween: windows?.minStepsBetween ?? null,
    status: detail.run.status,
    error: detail.run.error,
    epochs,
    reachedAt: epochs.find((e) => e.valAccuracy >= target - 1e-12)?.time ?? null,
    endTime: epochs.at(-1)?.time ?? 0,
    steps: detail.epochs.at(-1)?.step ?? 0,
    changes,
  };
}

/** Every arm on every timed seed, rotated; what the file holds already is not measured again. */
export async function adaptiveWorkload(o: AdaptiveBenchOptions): Promise<string> {
  const file = new AdaptiveFile(path.join(o.out, `${o.workload.name}-${o.backend}.jsonl`));
  const { target, file: targetFile } = targetOf(o);
  if (!file.of('meta')[0])
    file.add({
      kind: 'meta',
      workload: o.workload.name,
      backend: o.backend,
      target,
      targetFrom: path.relative(o.out, targetFile).split(path.sep).join('/'),
      timedSeeds: o.timedSeeds,
      maxEpochs: o.workload.maxEpochs,
      commit: o.commit,
      machine: o.machine,
      date: new Date().toISOString(),
    });
  const log = (t: string) => o.bench.log(`[adaptive · ${o.workload.name} · ${o.backend}] ${t}`);
  for (const [i, seed] of o.timedSeeds.entries()) {
    let tuning = file.of('tuning').find((t) => t.seed === seed);
    if (!tuning) {
      tuning = await tune(o, seed);
      file.add(tuning);
      log(`seed ${seed}: tuned ${tuning.batch} @ ${tuning.rate.toPrecision(3)} in ${tuning.searchSeconds.toFixed(1)} s (timed ${tuning.timed.join(', ')})`);
    }
    const arms = ADAPTIVE_ARMS.map((_, k) => ADAPTIVE_ARMS[(k + i) % ADAPTIVE_ARMS.length]!);
    for (const [order, arm] of arms.entries()) {
      if (file.of('run').some((r) => r.seed === seed && r.arm === arm)) continue;
      const r = await trainArm(o, tuning, arm, order, target);
      file.add(r);
      const moves = r.changes.map((c) => `${c.fromBatch}→${c.toBatch} @${c.step}`).join(', ') || 'no change';
      log(`seed ${seed} ${arm}: ${r.reachedAt !== null ? `${r.reachedAt.toFixed(1)} s` : `not reached (${r.status})`}, ${r.steps} steps, ${moves}`);
    }
  }
  return adaptiveTable(file.records);
}

/** The result as a markdown table: per arm, each seed's training time and steps to the target, the median, and the ratio to fixed where both reached it. */
export function adaptiveTable(records: readonly AdaptiveRecord[]): string {
  const meta = records.find((r): r is Extract<AdaptiveRecord, { kind: 'meta' }> => r.kind === 'meta');
  const runs = records.filter((r): r is RunRecord => r.kind === 'run');
  const tunings = records.filter((r): r is TuningRecord => r.kind === 'tuning');
  if (!meta) return '';
  const time = (r: RunRecord) => r.reachedAt ?? Number.POSITIVE_INFINITY;
  const fmt = (t: number) => (Number.isFinite(t) ? `${t.toFixed(1)} s` : '✗');
  const phi = (t: TuningRecord) => (t.noiseScale === null ? '—' : String(Math.round(t.noiseScale)));
  const lines = [
    `**${meta.workload} on ${meta.backend}**, target ${(meta.target * 100).toFixed(1)} % (fixed by \`${meta.targetFrom}\`). Tuned (Full): ${tunings.map((t) => `seed ${t.seed}: ${t.batch} @ ${t.rate.toPrecision(3)}, φ ${phi(t)}, search ${t.searchSeconds.toFixed(0)} s`).join('; ')}.`,
    '',
    '| arm | windows (every / between) | reached | training time to target (steps), per seed | median | ÷ fixed, seeds where both reached | batch changes |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const arm of ADAPTIVE_ARMS) {
    const mine = runs.filter((r) => r.arm === arm).sort((a, b) => a.seed - b.seed);
    if (mine.length === 0) continue;
    const ratios = mine.flatMap((r) => {
      const f = runs.find((x) => x.arm === 'fixed' && x.seed === r.seed);
      return f && r.reachedAt !== null && f.reachedAt !== null ? [r.reachedAt / f.reachedAt] : [];
    });
    const reached = mine.filter((r) => r.reachedAt !== null).length;
    const m = median(mine.map(time));
    const windows = mine[0]!.everySteps === null ? '—' : [...new Set(mine.map((r) => `${r.everySteps} / ${r.minStepsBetween}`))].join(', ');
    const changes = mine.map((r) => `s${r.seed}: ${r.changes.map((c) => `${c.fromBatch}→${c.toBatch} @${c.step}`).join(', ') || 'none'}`).join('; ');
    const perSeed = mine.map((r) => `s${r.seed} ${fmt(time(r))} (${r.steps})`).join(', ');
    const ratio = arm === 'fixed' ? '1' : ratios.length ? `${median(ratios).toFixed(2)}× (${ratios.length})` : '—';
    lines.push(
      `| ${arm} | ${windows} | ${reached}/${mine.length} | ${perSeed} | ${reached * 2 > mine.length ? fmt(m) : `— (${fmt(m)})`} | ${ratio} | ${changes} |`,
    );
  }
  return lines.join('\n') + '\n';
}
