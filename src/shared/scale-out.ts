// The scale-out plan (issue 21): what K data-parallel workers should train with, from a tuning's
// measurements — per-worker and global batch, learning rate by the search's rule, a gradual
// warm-up, and the speed-up predicted with statistical efficiency counted in (Pollux's goodput:
// K·X(b)·E(K·b) against X(B)·E(B) on one worker). It assumes no communication cost and says so.
// Pure: the service, the CLI, the UI and the recipe export all read the same plan.
import type { OptimizerKind } from './run-types.js';
import type { TuningReport } from './tuning-types.js';

export const SCALE_OUT_WORKERS = [1, 2, 4, 8] as const;

/** One row of the plan: K workers. */
export interface ScaleOutRow {
  workers: number;
  /** Batch each worker computes per optimizer step. */
  perWorkerBatch: number;
  /** The per-worker micro-batch when perWorkerBatch is past the memory ceiling and accumulated; equal to perWorkerBatch otherwise. */
  microBatch: number;
  /** workers × perWorkerBatch. */
  globalBatch: number;
  learningRate: number;
  /** Steps of the gradual (linear) warm-up to learningRate. */
  warmupSteps: number;
  /** Optimizer steps per epoch at the global batch. */
  stepsPerEpoch: number;
  /** Statistical efficiency of the global batch against the one-worker batch (≤ 1). */
  efficiency: number;
  /** Predicted time-to-target speed-up against one worker at the tuned batch, communication not counted. */
  speedup: number;
  /** Why this row's batch, in a sentence (e.g. "K·B = 1024 is past the noise scale's diminishing returns: 128 per worker"). */
  reason: string;
}

export interface ScaleOutPlan {
  /** The one-worker setting the plan scales from (the tuning's recommendation). */
  base: { batchSize: number; learningRate: number; optimizer: OptimizerKind; warmupSteps: number };
  /** The gradient noise scale used; null when none was measured (the rows then scale K·B with no efficiency loss counted, and say so). */
  noiseScale: number | null;
  /** Which noise scale: the late (re-measured) one, the search's forecast, or the early measurement. */
  noiseScaleSource: 'late' | 'forecast' | 'early' | null;
  /** The memory ceiling per worker (the same device assumed on every worker). */
  memoryCeiling: number;
  epochs: number;
  rows: ScaleOutRow[];
  /** The assumptions, in sentences, shown with the plan (no communication cost; the noise scale's source; the same device per worker). */
  assumptions: string[];
}

/** What the plan is made from: a tuning's recommendation and measurements (or a run's own setting, with less known). */
export interface ScaleOutInput {
  base: ScaleOutPlan['base'];
  noiseScale: number | null;
  noiseScaleSource: ScaleOutPlan['noiseScaleSource'];
  /** The tuning's time model, seconds per step t(b) = α + β·b on one worker; null when not measured. */
  timeModel: { alpha: number; beta: number } | null;
  memoryCeiling: number;
  /** The smallest batch the model trains with (batch norm's minimum). */
  minimumBatch: number;
  trainCount: number;
  epochs: number;
}

/** Within this share of the best goodput, the larger per-worker batch is kept (fewer steps, less to communicate). */
const PER_WORKER_TIE = 0.97;

/** Whether the time model says anything: a step that takes time (α or β above zero). */
function isTimed(timeModel: ScaleOutInput['timeModel']): timeModel is { alpha: number; beta: number } {
  return timeModel !== null && (timeModel.alpha > 0 || timeModel.beta > 0);
}

function perWorkerThroughput(timeModel: ScaleOutInput['timeModel'], batch: number): number {
  // Without a time model throughput is taken as flat in the batch (only the tuned batch is then
  // considered: see perWorkerCandidates). A fitted α or β below zero is read as zero: no batch is
  // faster per sample than a larger one, so a speed-up never exceeds K. β = 0 (a step takes as
  // long whatever its batch, as a tiny model on a fast device can) is a time model too.
  if (!isTimed(timeModel)) return 1;
  return batch / Math.max(1e-12, Math.max(0, timeModel.alpha) + Math.max(0, timeModel.beta) * batch);
}

/**
 * Per-worker batches to consider for K workers: the tuned batch halved while it stays at or above
 * the model's minimum and the global batch stays at or above the tuned one (scaling out never
 * trains a smaller global batch than one worker did). One worker keeps the tuned batch, and so
 * does a plan without a time model: without throughput against batch, a smaller per-worker batch
 * would only look better (more efficient, never slower), which is not known.
 */
function perWorkerCandidates(workers: number, base: number, minimum: number, timed: boolean): number[] {
  const out = [base];
  if (workers === 1 || !timed) return out;
  for (let b = Math.floor(base / 2); b >= Math.max(1, minimum) && workers * b >= base; b = Math.floor(b / 2)) out.push(b);
  return out;
}

/** The micro-batch for a per-worker batch past the memory ceiling: the fewest equal passes that fit, never below the minimum. */
function microFor(batch: number, ceiling: number, minimum: number): number {
  if (batch <= ceiling) return batch;
  for (let passes = 2; passes <= batch; passes++) {
    if (batch % passes !== 0) continue;
    const m = batch / passes;
    if (m <= ceiling) return m >= minimum ? m : batch;
  }
  return batch;
}

function efficiencyOf(globalBatch: number, baseBatch: number, phi: number | null): number {
  if (phi === null || !Number.isFinite(phi)) return 1;
  const p = Math.max(phi, 0);
  return (p + baseBatch) / (p + globalBatch);
}

function scaledRate(base: ScaleOutInput['base'], globalBatch: number): number {
  const ratio = globalBatch / base.batchSize;
  return base.optimizer === 'sgd' ? base.learningRate * ratio : base.learningRate * Math.sqrt(ratio);
}

/**
 * Gradual warm-up (Goyal et al.): the tuned run's own warm-up carried over in samples, and at
 * least 2 % + 2 % per doubling of the rate of the run's steps when the rate is scaled up.
 */
function warmupFor(input: ScaleOutInput, globalBatch: number, rate: number, totalSteps: number): number {
  const carried = Math.round((input.base.warmupSteps * input.base.batchSize) / globalBatch);
  const ratio = rate / input.base.learningRate;
  const forRate = ratio > 1 ? Math.max(1, Math.round(totalSteps * Math.min(0.1, 0.02 * Math.log2(ratio) + 0.02))) : 0;
  return Math.min(totalSteps, Math.max(carried, forRate));
}

interface ReasonInput {
  workers: number;
  base: number;
  perWorker: number;
  micro: number;
  phi: number | null;
  efficiency: number;
  timed: boolean;
}

function keptReason(o: ReasonInput): string {
  const head = `${o.workers} × the tuned batch ${o.base} = ${o.workers * o.base}`;
  if (o.phi === null) return `${head}: no noise scale was measured, so no loss of statistical efficiency could be counted`;
  const per = `each sample does ${Math.round(o.efficiency * 100)} % of the progress it does at ${o.base} (φ ≈ ${Math.round(o.phi)})`;
  return o.timed
    ? `${head}: ${per}, yet a smaller batch per worker would not give more progress per second here`
    : `${head}: ${per}; without measured throughput each worker keeps the tuned batch`;
}

function rowReason(o: ReasonInput): string {
  if (o.workers === 1) return `One worker: the tuned batch ${o.base}${o.micro < o.base ? ` in passes of ${o.micro}` : ''}.`;
  const why =
    o.perWorker === o.base
      ? keptReason(o)
      : `${o.workers} × ${o.base} = ${o.workers * o.base} is past the noise scale's diminishing returns (φ ≈ ${Math.round(o.phi ?? 0)}): ${o.perWorker} per worker, ${o.workers * o.perWorker} in all, gives more progress per second`;
  return `${why}${o.micro < o.perWorker ? `; each worker accumulates ${o.perWorker / o.micro} passes of ${o.micro} (its memory ceiling)` : ''}.`;
}

/**
 * What K workers at this per-worker batch train with, by the plan's rules: the micro-batch under
 * the memory ceiling, the rate by the search's rule, the warm-up, the steps of an epoch and the
 * predicted statistical efficiency. The plan's rows are this at the per-worker batch it chose; the
 * DDP benchmark also asks it for K·B, the batch the plan may have declined.
 */
export function scaleOutSettings(input: ScaleOutInput, workers: number, perWorkerBatch: number): Omit<ScaleOutRow, 'speedup' | 'reason'> {
  const { base, noiseScale: phi, memoryCeiling, minimumBatch, trainCount, epochs } = input;
  const globalBatch = workers * perWorkerBatch;
  // Only a tuned batch that was itself accumulated can exceed the ceiling (per-worker batches never grow past it).
  const microBatch = microFor(perWorkerBatch, Math.max(memoryCeiling, 1), minimumBatch);
  const learningRate = scaledRate(base, globalBatch);
  const stepsPerEpoch = Math.max(1, Math.ceil(trainCount / globalBatch));
  return {
    workers,
    perWorkerBatch,
    microBatch,
    globalBatch,
    learningRate,
    warmupSteps: workers === 1 ? base.warmupSteps : warmupFor(input, globalBatch, learningRate, stepsPerEpoch * epochs),
    stepsPerEpoch,
    efficiency: efficiencyOf(globalBatch, base.batchSize, phi),
  };
}

/** The plan for 1, 2, 4 and 8 workers. */
export function planScaleOut(input: ScaleOutInput): ScaleOutPlan {
  const { base, noiseScale: phi, timeModel, memoryCeiling, minimumBatch, epochs } = input;
  const baseGoodput = perWorkerThroughput(timeModel, base.batchSize);
  const timed = isTimed(timeModel);
  // The previous row's goodput: a row's tie never picks below it, so the speed-up grows with K.
  let floor = 0;
  const rows = SCALE_OUT_WORKERS.map((workers): ScaleOutRow => {
    const scored = perWorkerCandidates(workers, base.batchSize, minimumBatch, timed).map((b) => ({
      batch: b,
      goodput: workers * perWorkerThroughput(timeModel, b) * efficiencyOf(workers * b, base.batchSize, phi),
    }));
    const best = Math.max(...scored.map((s) => s.goodput));
    // The largest per-worker batch within the tie of the best (and not below the previous row).
    const bar = Math.min(best, Math.max(PER_WORKER_TIE * best, floor));
    const chosen = scored.filter((s) => s.goodput >= bar).sort((a, b) => b.batch - a.batch)[0]!;
    floor = chosen.goodput;
    const perWorkerBatch = chosen.batch;
    const settings = scaleOutSettings(input, workers, perWorkerBatch);
    const { microBatch, efficiency } = settings;
    return {
      ...settings,
      speedup: chosen.goodput / baseGoodput,
      reason: rowReason({ workers, base: base.batchSize, perWorker: perWorkerBatch, micro: microBatch, phi, efficiency, timed }),
    };
  });
  return {
    base: { batchSize: base.batchSize, learningRate: base.learningRate, optimizer: base.optimizer, warmupSteps: base.warmupSteps },
    noiseScale: phi,
    noiseScaleSource: input.noiseScaleSource,
    memoryCeiling,
    epochs,
    rows,
    assumptions: assumptionsOf(input),
  };
}

function assumptionsOf(input: ScaleOutInput): string[] {
  const phi = input.noiseScale;
  const source =
    input.noiseScaleSource === 'late'
      ? `the late noise scale, re-measured after some training (φ ≈ ${Math.round(phi ?? 0)})`
      : input.noiseScaleSource === 'forecast'
        ? `the noise scale forecast for halfway through the run (φ ≈ ${Math.round(phi ?? 0)}); no late re-measurement was made`
        : input.noiseScaleSource === 'early'
          ? `the noise scale measured early in training (φ ≈ ${Math.round(phi ?? 0)}); it usually grows later, so larger batches may do better than predicted`
          : 'the noise scale measured';
  return [
    'No communication cost is counted: gradients are assumed to be exchanged for free, so real speed-ups are lower, most of all for small per-worker batches and slow networks.',
    phi === null
      ? 'No noise scale was measured, so no loss of statistical efficiency is counted: the speed-ups below assume none is lost (a Full search measures it).'
      : `Statistical efficiency is from ${source}.`,
    `Every worker is assumed to be a device like this one (memory ceiling ${input.memoryCeiling} per worker)${isTimed(input.timeModel) ? ', with the throughput this search measured' : '; no throughput was measured, so per-worker speed is taken as flat in the batch'}.`,
  ];
}

/**
 * The plan's input from a finished tuning's report: its recommendation, the late noise scale
 * where it was re-measured (else the forecast, else the early measurement) and its time model.
 */
export function scaleOutInputFromReport(report: TuningReport, o: { trainCount: number; epochs: number; minimumBatch: number }): ScaleOutInput {
  const r = report.recommendation;
  const [noiseScale, noiseScaleSource]: [number | null, ScaleOutPlan['noiseScaleSource']] = report.lateNoise
    ? [report.lateNoise.noiseScale, 'late']
    : report.noiseForecast
      ? [report.noiseForecast.noiseScale, 'forecast']
      : r.noiseScale !== null
        ? [r.noiseScale, 'early']
        : [null, null];
  const time = report.fits.time;
  return {
    base: { batchSize: r.batchSize, learningRate: r.learningRate, optimizer: r.optimizer, warmupSteps: r.warmupSteps },
    noiseScale,
    noiseScaleSource,
    // A fitted per-sample cost below zero (step time flat in the batch, within noise) is none.
    timeModel: time && (time.alpha > 0 || time.beta > 0) ? { alpha: Math.max(0, time.alpha), beta: Math.max(0, time.beta) } : null,
    memoryCeiling: r.memoryCeiling,
    minimumBatch: o.minimumBatch,
    trainCount: o.trainCount,
    epochs: o.epochs,
  };
}
