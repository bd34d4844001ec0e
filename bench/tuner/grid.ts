// The oracle of the Auto-tune benchmark (docs/benchmarks.md, "An honest benchmark"): the best
// (batch, learning rate) pair of a grid that covers what the tuner searches. Pure functions: the
// grid's batches, its rate ladder, the target, each setting's time to it, and where the ladder
// must widen. The runner (./runner.ts) trains; this decides.

/** One validation of a run: when (seconds of training since its start) and how accurate. */
export interface EpochPoint {
  epoch: number;
  time: number;
  valAccuracy: number;
}

/** A run's validations in order; `endTime` is its training time when it ended. */
export interface Curve {
  epochs: readonly EpochPoint[];
  endTime: number;
}

/** Smallest and largest batch of the grid (issue 17: 16…1024). */
export const GRID_MIN_BATCH = 16;
export const GRID_MAX_BATCH = 1024;
/**
 * At least this many steps an epoch, as the tuner caps its batches (src/main/service/tuning/
 * context.ts: trainCount / 20): the grid covers what the tuner may pick, no more.
 */
export const MIN_STEPS_PER_EPOCH = 20;
/** The ladder's rungs: ×2 apart, at most this many either side of its centre. */
export const MAX_LADDER_STEPS = 8;
/** The target: this share of the best validation accuracy any grid setting reaches… */
export const TARGET_SHARE = 0.98;
/** …rounded down to this step (0.5 %). */
export const TARGET_STEP = 0.005;

/** The grid's batches: powers of two from 16 up to 1024, the memory ceiling and the steps-per-epoch cap. */
export function gridBatches(memoryCeiling: number, trainCount: number): number[] {
  const limit = Math.min(GRID_MAX_BATCH, memoryCeiling, Math.floor(trainCount / MIN_STEPS_PER_EPOCH));
  const out: number[] = [];
  for (let b = GRID_MIN_BATCH; b <= limit; b *= 2) out.push(b);
  return out;
}

/** The rate of ladder rung k at a batch: the centre (1e-3 at 32, scaled to the batch by the caller's rule) × 2^k. */
export function ladderRate(centre: number, k: number): number {
  return centre * 2 ** k;
}

/** The target fixed from the grid: 98 % of the best accuracy reached, rounded down to 0.5 %. */
export function fixTarget(bestAccuracies: readonly number[]): number {
  const best = Math.max(...bestAccuracies.filter(Number.isFinite));
  if (!Number.isFinite(best) || best <= 0) throw new Error('no grid setting reached any accuracy: the target cannot be fixed');
  // The small epsilon keeps 0.97 × 200 = 193.99999… from rounding down a whole step.
  return Math.floor((TARGET_SHARE * best) / TARGET_STEP + 1e-9) * TARGET_STEP;
}

export interface TargetTime {
  reached: boolean;
  /** Seconds to the first validation at or above the target; the run's whole time when never reached. */
  seconds: number;
  /** That validation's epoch; null when never reached. */
  epoch: number | null;
}

/** When a run first validated at or above the target; a run that never did counts its whole time, marked. */
export function timeToTarget(curve: Curve, target: number): TargetTime {
  const hit = curve.epochs.find((e) => e.valAccuracy >= target - 1e-12);
  return hit ? { reached: true, seconds: hit.time, epoch: hit.epoch } : { reached: false, seconds: curve.endTime, epoch: null };
}

/** The best validation accuracy of a run (0 when it never validated). */
export function bestAccuracy(curve: Curve): number {
  return curve.epochs.reduce((m, e) => Math.max(m, e.valAccuracy), 0);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A grid setting over the picking seeds. */
export interface SettingScore {
  batch: number;
  k: number;
  rate: number;
  /** Median seconds to the target over the seeds, a seed that never reached it counting as Infinity. */
  seconds: number;
  /** Seeds that reached the target. */
  reached: number;
  seeds: number;
  /** Median best validation accuracy over the seeds (breaks ties among settings that never reach). */
  accuracy: number;
}

/** Scores one setting from its runs on the picking seeds. */
export function scoreSetting(batch: number, k: number, rate: number, curves: readonly Curve[], target: number): SettingScore {
  const times = curves.map((c) => timeToTarget(c, target));
  return {
    batch,
    k,
    rate,
    seconds: median(times.map((t) => (t.reached ? t.seconds : Infinity))),
    reached: times.filter((t) => t.reached).length,
    seeds: curves.length,
    accuracy: median(curves.map(bestAccuracy)),
  };
}

/** Whether a beats b: sooner to the target; among settings that do not get there, the more accurate. */
export function better(a: SettingScore, b: SettingScore): boolean {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds;
  return a.accuracy > b.accuracy;
}

export function bestOf(scores: readonly SettingScore[]): SettingScore {
  if (scores.length === 0) throw new Error('the grid is empty');
  return scores.reduce((x, y) => (better(y, x) ? y : x));
}

/**
 * Where the ladder must widen: for each batch whose best rung is at an end of the rungs tried
 * (so the rung beyond might be better still), the rung beyond it. The grid is done when every
 * batch's best rung has a worse one on both sides.
 */
export function ladderExtensions(scores: readonly SettingScore[]): { batch: number; k: number }[] {
  const out: { batch: number; k: number }[] = [];
  for (const batch of [...new Set(scores.map((s) => s.batch))].sort((a, b) => a - b)) {
    const rungs = scores.filter((s) => s.batch === batch);
    const ks = rungs.map((s) => s.k);
    const lo = Math.min(...ks);
    const hi = Math.max(...ks);
    const best = bestOf(rungs);
    if (best.k === lo && lo > -MAX_LADDER_STEPS) out.push({ batch, k: lo - 1 });
    if (best.k === hi && hi < MAX_LADDER_STEPS) out.push({ batch, k: hi + 1 });
  }
  return out;
}

/** A grid run: one setting on one picking seed. */
export interface GridRun extends Curve {
  seed: number;
  batch: number;
  k: number;
  rate: number;
}

/** The grid's scores with the target its runs so far fix. */
export function scoreGrid(grid: readonly GridRun[], pickSeeds: readonly number[]): { target: number; best: number; scores: SettingScore[] } {
  const settings = new Map<string, GridRun[]>();
  for (const r of grid) {
    if (!pickSeeds.includes(r.seed)) continue;
    const key = `${r.batch}:${r.k}`;
    settings.set(key, [...(settings.get(key) ?? []), r]);
  }
  const complete = [...settings.values()].filter((rs) => rs.length === pickSeeds.length);
  const accuracies = complete.map((rs) => median(rs.map(bestAccuracy)));
  const target = fixTarget(accuracies);
  const scores = complete.map((rs) => scoreSetting(rs[0]!.batch, rs[0]!.k, rs[0]!.rate, rs, target));
  return { target, best: Math.max(...accuracies), scores };
}
