// The memory-ceiling search of docs/architecture.md §5.3 as a small state machine: after one-step
// probes at small batches have given the line m(B) = a + bB, it proposes batch sizes to verify with
// real steps — first just under the predicted ceiling, then growing or bisecting between the last
// size that fitted and the first that did not — until the two are within a few percent or the step
// budget is spent. Pure: the caller runs each probe and reports whether it fitted.
import type { LinearFit } from './tuner-math.js';
import { fitLine, predictMemoryCeiling } from './tuner-math.js';

interface CeilingSearchOptions {
  budgetBytes: number;
  fit: LinearFit;
  /** Largest batch that fitted among the small probes (≥ 1), and the smallest that failed, if any. */
  largestFitted: number;
  smallestFailed?: number;
  /** No batch above this is wanted (e.g. at least ~20 steps per epoch). */
  cap: number;
  /** Verification steps allowed after the fit (default 8). */
  maxSteps?: number;
  /** Safety margin taken off the largest verified size (default 5 %). */
  margin?: number;
  /** Stop when first-failed / last-fitted ≤ 1 + tolerance (default 5 %). */
  tolerance?: number;
}

export interface CeilingResult {
  /** The batch size the search recommends as the most that fits, margin applied. */
  ceiling: number;
  largestFitted: number;
  smallestFailed: number | undefined;
  predicted: number;
  steps: number;
  /** True when memory never limited the search: everything up to the cap fitted. */
  cappedByDataset: boolean;
}

export class CeilingSearch {
  private lo: number;
  private hi: number | undefined;
  private stepsTaken = 0;
  readonly predicted: number;
  private readonly maxSteps: number;
  private readonly margin: number;
  private readonly tolerance: number;

  constructor(private readonly o: CeilingSearchOptions) {
    this.lo = Math.max(1, Math.min(o.largestFitted, o.cap));
    this.hi = o.smallestFailed;
    this.predicted = predictMemoryCeiling(o.fit, o.budgetBytes);
    this.maxSteps = o.maxSteps ?? 8;
    this.margin = o.margin ?? 0.05;
    this.tolerance = o.tolerance ?? 0.05;
  }

  get steps(): number {
    return this.stepsTaken;
  }

  /** The next batch size to verify, or undefined when the search is over. */
  next(): number | undefined {
    if (this.stepsTaken >= this.maxSteps) return undefined;
    const { lo, hi } = this;
    if (hi === undefined) {
      if (lo >= this.o.cap) return undefined; // everything wanted fits
      // First aim just under the prediction; once past it, grow geometrically.
      const target = this.stepsTaken === 0 && this.predicted > lo ? Math.floor(this.predicted * 0.97) : lo * 2;
      return Math.min(this.o.cap, Math.max(lo + 1, target));
    }
    if (hi <= lo + 1 || hi / lo <= 1 + this.tolerance) return undefined;
    // Aim at the prediction when it lies inside the bracket (it usually is close), otherwise at
    // the geometric middle, which halves the bracket's ratio at every step.
    const mid = Math.round(Math.sqrt(lo * hi));
    const guess = this.predicted > lo * 1.02 && this.predicted < hi * 0.98 && this.stepsTaken < 2 ? Math.floor(this.predicted * 0.99) : mid;
    return Math.min(hi - 1, Math.max(lo + 1, guess));
  }

  report(batch: number, fits: boolean): void {
    this.stepsTaken++;
    if (fits) this.lo = Math.max(this.lo, batch);
    else this.hi = this.hi === undefined ? batch : Math.min(this.hi, batch);
    if (this.hi !== undefined && this.hi <= this.lo) this.hi = this.lo + 1; // memory noise: keep the bracket sane
  }

  result(): CeilingResult {
    const cappedByDataset = this.hi === undefined && this.lo >= this.o.cap;
    return {
      ceiling: cappedByDataset ? this.lo : Math.max(1, Math.floor(this.lo * (1 - this.margin))),
      largestFitted: this.lo,
      smallestFailed: this.hi,
      predicted: this.predicted,
      steps: this.stepsTaken,
      cappedByDataset,
    };
  }
}

/** One memory probe's reading at a batch. */
export interface MemoryReading {
  batchSize: number;
  /** The step's peak bytes; absent when the probe failed. */
  peakBytes?: number;
  /** Its forward/backward part, which grows with the batch (the peak where the probe did not split it). */
  gradientBytes?: number;
  /** Its optimizer-update part, about constant. */
  updateBytes?: number;
  /** The step's wall time. */
  stepMs?: number;
  /** It ran, and its peak is within the budget. */
  fits: boolean;
}

/** m(B) = max(a + b·B, updateFloor). */
export interface MemoryModel {
  fit: LinearFit;
  updateFloor: number;
}

/**
 * The ceiling search's start from the one-step probes at small batches: the line through the
 * forward/backward bytes of those that fitted, the largest update seen, the largest batch that
 * fitted and the smallest above it that did not (a failure below a batch that fitted — a crash,
 * memory noise — bounds nothing). Null when none fitted.
 */
export function startCeilingSearch(small: readonly MemoryReading[], budgetBytes: number, cap: number): { model: MemoryModel; search: CeilingSearch } | null {
  const fitted = small.filter((m) => m.fits && m.peakBytes !== undefined);
  if (fitted.length === 0) return null;
  const fit = fitLine(
    fitted.map((m) => m.batchSize),
    fitted.map((m) => m.gradientBytes ?? m.peakBytes!),
  );
  const updateFloor = Math.max(0, ...fitted.map((m) => m.updateBytes ?? 0));
  const largestFitted = Math.max(...fitted.map((m) => m.batchSize));
  const failed = small.filter((m) => !m.fits && m.batchSize > largestFitted).map((m) => m.batchSize);
  const search = new CeilingSearch({
    budgetBytes,
    fit,
    largestFitted,
    ...(failed.length ? { smallestFailed: Math.min(...failed) } : {}),
    cap,
  });
  return { model: { fit, updateFloor }, search };
}
