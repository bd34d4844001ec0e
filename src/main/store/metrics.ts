import type Database from 'better-sqlite3';
import { EPOCH_METRIC_NAMES, STEP_METRIC_NAMES } from '../../shared/run-types.js';
import type { EpochMetrics, StepMetrics } from '../../shared/run-types.js';
import type { StoreContext } from './context.js';
import { guard, isConstraint } from './errors.js';

export interface SeriesPoint {
  step: number;
  epoch: number;
  time: number;
  value: number;
}

type StepName = (typeof STEP_METRIC_NAMES)[number];
type EpochName = (typeof EPOCH_METRIC_NAMES)[number];

const STEP_FIELDS: { [K in StepName]: keyof StepMetrics } = {
  loss: 'loss',
  accuracy: 'accuracy',
  samples_per_s: 'samplesPerSecond',
  step_ms: 'stepMs',
  memory_bytes: 'memoryBytes',
  lr: 'learningRate',
};

const EPOCH_FIELDS: { [K in EpochName]: keyof EpochMetrics } = {
  val_loss: 'valLoss',
  val_accuracy: 'valAccuracy',
  epoch_loss: 'trainLoss',
  epoch_accuracy: 'trainAccuracy',
};

/** Columns of toCsv() after step,epoch,time. */
export const CSV_METRICS = ['loss', 'accuracy', 'samples_per_s', 'step_ms', 'memory_bytes', 'lr', 'val_loss', 'val_accuracy'] as const;

interface MetricRow {
  step: number;
  epoch: number;
  time: number;
  name: string;
  value: number | null;
}

const inList = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/** Series longer than maxPoints × this are down-sampled inside SQLite (see downsampleInSql). */
const SQL_DOWNSAMPLE_FACTOR = 20;

/** SQLite stores NaN as NULL: read it back as NaN. */
const fromDb = (v: number | null): number => (v === null ? Number.NaN : v);

/**
 * Down-samples to at most `maxPoints` by splitting the series into ⌊maxPoints/2⌋ buckets of
 * consecutive points and keeping each bucket's minimum and maximum (in step order), so spikes
 * survive. NaN values are kept only when a whole bucket is NaN.
 */
export function downsampleMinMax<P extends { value: number }>(points: readonly P[], maxPoints: number): P[] {
  const limit = Math.max(2, Math.floor(maxPoints));
  if (points.length <= limit) return points.slice();
  const buckets = Math.floor(limit / 2);
  const out: P[] = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * points.length) / buckets);
    const end = Math.floor(((b + 1) * points.length) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const v = points[i]!.value;
      if (Number.isNaN(v)) continue;
      if (lo < 0 || v < points[lo]!.value) lo = i;
      if (hi < 0 || v > points[hi]!.value) hi = i;
    }
    if (lo < 0) {
      out.push(points[start]!);
    } else if (lo === hi) {
      out.push(points[lo]!);
    } else {
      out.push(points[Math.min(lo, hi)]!, points[Math.max(lo, hi)]!);
    }
  }
  return out;
}

function csvNumber(v: number | undefined): string {
  return v === undefined ? '' : String(v);
}

export class MetricRepo {
  private readonly insertStmt: Database.Statement<[number, number, number, number, string, number | null]>;
  private readonly stepRowsStmt: Database.Statement<[number], MetricRow>;
  private readonly epochRowsStmt: Database.Statement<[number], MetricRow>;
  private readonly csvRowsStmt: Database.Statement<[number], MetricRow>;
  private readonly seriesStmt: Database.Statement<[number, string], MetricRow>;
  private readonly countStmt: Database.Statement<[number], { n: number }>;
  private readonly rangeStmt: Database.Statement<[number, string], { n: number; lo: number | null; hi: number | null }>;
  private readonly bucketMinStmt: Database.Statement<[number, number, number, number, string], MetricRow & { b: number }>;
  private readonly bucketMaxStmt: Database.Statement<[number, number, number, number, string], MetricRow & { b: number }>;

  constructor(private readonly ctx: StoreContext) {
    const db = ctx.db;
    this.insertStmt = db.prepare('INSERT OR REPLACE INTO metrics (run_id, step, epoch, time, name, value) VALUES (?, ?, ?, ?, ?, ?)');
    const rows = (names: readonly string[]) =>
      db.prepare<[number], MetricRow>(`SELECT step, epoch, time, name, value FROM metrics WHERE run_id = ? AND name IN (${inList(names)}) ORDER BY step`);
    this.stepRowsStmt = rows(STEP_METRIC_NAMES);
    this.epochRowsStmt = rows(EPOCH_METRIC_NAMES);
    this.csvRowsStmt = rows(CSV_METRICS);
    this.seriesStmt = db.prepare('SELECT step, epoch, time, name, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM metrics WHERE run_id = ?');
    this.rangeStmt = db.prepare('SELECT count(*) AS n, min(step) AS lo, max(step) AS hi FROM metrics WHERE run_id = ? AND name = ?');
    // One min() (or max()) per query: SQLite then takes the bare columns (step, epoch, time)
    // from the row that holds it. Buckets are equal ranges of steps: (step - lo) * buckets / span.
    const bucket = (agg: 'min' | 'max') =>
      db.prepare<[number, number, number, number, string], MetricRow & { b: number }>(
        `SELECT CAST(((step - ?) * ?) / ? AS INTEGER) AS b, step, epoch, time, name, ${agg}(value) AS value FROM metrics WHERE run_id = ? AND name = ? GROUP BY b ORDER BY b`,
      );
    this.bucketMinStmt = bucket('min');
    this.bucketMaxStmt = bucket('max');
  }

  /** One transaction; a batch sent again replaces the same rows. */
  appendSteps(runId: number, steps: readonly StepMetrics[]): void {
    this.append(runId, () => {
      for (const s of steps) {
        for (const name of STEP_METRIC_NAMES) {
          this.insertStmt.run(runId, s.step, s.epoch, s.time, name, (s[STEP_FIELDS[name]] as number | undefined) ?? null);
        }
      }
    });
  }

  /** One transaction; each epoch's values are stored at the epoch's last step. */
  appendEpochs(runId: number, epochs: readonly EpochMetrics[]): void {
    this.append(runId, () => {
      for (const e of epochs) {
        for (const name of EPOCH_METRIC_NAMES) {
          this.insertStmt.run(runId, e.step, e.epoch, e.time, name, (e[EPOCH_FIELDS[name]] as number | undefined) ?? null);
        }
      }
    });
  }

  /** Step metrics in step order (a value never stored reads as NaN). */
  steps(runId: number): StepMetrics[] {
    return guard(this.ctx.file, () => {
      const byStep = new Map<number, StepMetrics>();
      for (const r of this.stepRowsStmt.all(runId)) {
        let s = byStep.get(r.step);
        if (s === undefined) {
          s = {
            step: r.step,
            epoch: r.epoch,
            time: r.time,
            loss: NaN,
            accuracy: NaN,
            samplesPerSecond: NaN,
            stepMs: NaN,
            memoryBytes: NaN,
            learningRate: NaN,
          };
          byStep.set(r.step, s);
        }
        (s[STEP_FIELDS[r.name as StepName]] as number) = fromDb(r.value);
      }
      return [...byStep.values()];
    });
  }

  /** Epoch metrics in step order. */
  epochs(runId: number): EpochMetrics[] {
    return guard(this.ctx.file, () => {
      const byStep = new Map<number, EpochMetrics>();
      for (const r of this.epochRowsStmt.all(runId)) {
        let e = byStep.get(r.step);
        if (e === undefined) {
          e = { epoch: r.epoch, step: r.step, time: r.time, valLoss: NaN, valAccuracy: NaN, trainLoss: NaN, trainAccuracy: NaN };
          byStep.set(r.step, e);
        }
        (e[EPOCH_FIELDS[r.name as EpochName]] as number) = fromDb(r.value);
      }
      return [...byStep.values()];
    });
  }

  /** One metric in step order, down-sampled to ≤ maxPoints (min/max per bucket) when given. */
  series(runId: number, name: string, maxPoints?: number): SeriesPoint[] {
    return guard(this.ctx.file, () => {
      if (maxPoints !== undefined) {
        const range = this.rangeStmt.get(runId, name)!;
        if (range.n > maxPoints * SQL_DOWNSAMPLE_FACTOR) return this.downsampleInSql(runId, name, maxPoints, range.lo!, range.hi!);
      }
      const points = this.seriesStmt.all(runId, name).map((r) => ({ step: r.step, epoch: r.epoch, time: r.time, value: fromDb(r.value) }));
      return maxPoints === undefined ? points : downsampleMinMax(points, maxPoints);
    });
  }

  /**
   * downsampleMinMax done by SQLite, for long series (a run of a million steps): reading every
   * row into JavaScript takes seconds, two grouped scans take a fraction of that. Buckets are
   * equal step ranges rather than equal point counts (the same for a run's dense steps); each
   * keeps its minimum and maximum, in step order; a bucket of NaN only gives one NaN point.
   */
  private downsampleInSql(runId: number, name: string, maxPoints: number, lo: number, hi: number): SeriesPoint[] {
    const buckets = Math.max(1, Math.floor(Math.max(2, Math.floor(maxPoints)) / 2));
    const span = hi - lo + 1;
    const mins = this.bucketMinStmt.all(lo, buckets, span, runId, name);
    const maxs = new Map(this.bucketMaxStmt.all(lo, buckets, span, runId, name).map((r) => [r.b, r]));
    const out: SeriesPoint[] = [];
    const point = (r: MetricRow): SeriesPoint => ({ step: r.step, epoch: r.epoch, time: r.time, value: fromDb(r.value) });
    for (const min of mins) {
      const max = maxs.get(min.b);
      if (!max || min.value === null || max.step === min.step) out.push(point(min));
      else if (min.step < max.step) out.push(point(min), point(max));
      else out.push(point(max), point(min));
    }
    return out;
  }

  /** Number of stored metric rows (all names) of the run. */
  count(runId: number): number {
    return guard(this.ctx.file, () => this.countStmt.get(runId)!.n);
  }

  /**
   * One line per step (steps with step or epoch metrics), header
   * step,epoch,time,loss,accuracy,samples_per_s,step_ms,memory_bytes,lr,val_loss,val_accuracy;
   * empty where absent; '\n' line ends.
   */
  toCsv(runId: number): string {
    return guard(this.ctx.file, () => {
      const stepNames = new Set<string>(STEP_METRIC_NAMES);
      const byStep = new Map<number, { epoch: number; time: number; fromStep: boolean; values: Map<string, number> }>();
      for (const r of this.csvRowsStmt.all(runId)) {
        const isStep = stepNames.has(r.name);
        let line = byStep.get(r.step);
        if (line === undefined) {
          line = { epoch: r.epoch, time: r.time, fromStep: isStep, values: new Map() };
          byStep.set(r.step, line);
        } else if (isStep && !line.fromStep) {
          // Prefer the training step's own epoch/time over the validation's.
          line.epoch = r.epoch;
          line.time = r.time;
          line.fromStep = true;
        }
        line.values.set(r.name, fromDb(r.value));
      }
      const lines = [['step', 'epoch', 'time', ...CSV_METRICS].join(',')];
      for (const [step, line] of byStep) {
        lines.push([String(step), String(line.epoch), String(line.time), ...CSV_METRICS.map((n) => csvNumber(line.values.get(n)))].join(','));
      }
      return lines.join('\n') + '\n';
    });
  }

  private append(runId: number, write: () => void): void {
    guard(this.ctx.file, () => {
      try {
        this.ctx.db.transaction(write).immediate();
      } catch (err) {
        if (isConstraint(err, 'FOREIGNKEY')) throw new Error(`no run with id ${runId}`);
        throw err;
      }
    });
  }
}
