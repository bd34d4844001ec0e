// The verdicts of the search's equal-time validation trials (docs/architecture.md §5.9): each
// trial is flagged diverged, oscillating or worse, and the goodput choice steps down only when its
// own trial diverged, oscillated, crashed or did far worse than the best. Pure.
import type { TrialStatus } from './tuning-types.js';

/** A trial's validation loss over this many times the best trial's flags it 'worse'. */
export const WORSE_FLAG = 1.1;
/** A trial's validation loss this many times the best trial's overrules the goodput choice. */
export const WORSE_OVERRULES = 1.5;

/** What judging a trial needs of its result: the training loss per step and the validation loss. */
export interface TrialLosses {
  losses: readonly number[];
  valLoss: number;
}

/**
 * Flags a validation trial: divergence (non-finite or rising loss) or oscillation. Without a
 * validation split (validated false) the validation loss is NaN by design and only the training
 * loss is judged; with one, a non-finite validation loss means the weights blew up.
 */
export function judgeTrial(r: TrialLosses, validated = true): { status: TrialStatus; why: string } {
  const losses = r.losses;
  if (losses.some((l) => !Number.isFinite(l)) || (validated && !Number.isFinite(r.valLoss)))
    return { status: 'diverged', why: 'the loss became NaN or infinite' };
  if (losses.length >= 4) {
    const q = Math.max(1, Math.floor(losses.length / 4));
    const head = mean(losses.slice(0, q));
    const tail = mean(losses.slice(-q));
    if (tail > 1.5 * head) return { status: 'diverged', why: `the loss rose from ${head.toFixed(3)} to ${tail.toFixed(3)}` };
    const half = losses.slice(Math.floor(losses.length / 2));
    if (half.length >= 4) {
      const m = mean(half);
      const sd = Math.sqrt(mean(half.map((x) => (x - m) ** 2)));
      let flips = 0;
      for (let i = 2; i < half.length; i++) if (Math.sign(half[i]! - half[i - 1]!) !== Math.sign(half[i - 1]! - half[i - 2]!)) flips++;
      if (sd / m > 0.35 && flips / (half.length - 2) > 0.6 && tail >= 0.9 * head) {
        return { status: 'oscillating', why: `the loss swings by ±${Math.round((sd / m) * 100)} % without falling` };
      }
    }
  }
  return { status: 'ok', why: '' };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A judged trial: its batch, validation loss (Infinity when it produced none), flag and why. */
export interface JudgedTrial {
  batchSize: number;
  valLoss: number;
  status: TrialStatus;
  why: string;
}

/**
 * Flags 'worse' each unflagged trial whose validation loss is over WORSE_FLAG × the best trial's
 * (changing those trials in place). Returns the best validation loss and the trials flagged.
 */
export function flagWorseTrials<T extends JudgedTrial>(trials: T[]): { minLoss: number; flagged: T[] } {
  const finite = trials.filter((t) => Number.isFinite(t.valLoss));
  const minLoss = finite.length ? Math.min(...finite.map((t) => t.valLoss)) : Infinity;
  const flagged: T[] = [];
  for (const t of trials) {
    if (t.status === 'ok' && Number.isFinite(minLoss) && t.valLoss > WORSE_FLAG * minLoss) {
      t.status = 'worse';
      t.why = `validation loss ${t.valLoss.toFixed(3)} is over 10 % worse than the best trial's ${minLoss.toFixed(3)}`;
      flagged.push(t);
    }
  }
  return { minLoss, flagged };
}

/** What the trials do to the goodput choice. */
export type TrialDecision =
  /** Its trial was fine. */
  | { action: 'keep' }
  /** Its trial ended worse, but within WORSE_OVERRULES of the best: short trials favour small batches. */
  | { action: 'keep-worse' }
  /** Its trial diverged, oscillated, crashed or did far worse: step to the best unflagged trial. */
  | { action: 'step-down'; to: number; why: string }
  /** Its trial was flagged, but no trial is unflagged to step to. */
  | { action: 'keep-flagged' };

/**
 * A short equal-time trial favours small batches (more steps in the same time, and the run is
 * judged long before its end), so a moderately worse loss only flags a size; it overrules the
 * goodput choice when the size diverged, oscillated, crashed or did far worse.
 */
export function decideAfterTrials(trials: readonly JudgedTrial[], chosen: number, minLoss: number): TrialDecision {
  const mine = trials.find((t) => t.batchSize === chosen);
  if (!mine) throw new Error(`no trial at the chosen batch ${chosen}`);
  const overruled =
    mine.status === 'diverged' ||
    mine.status === 'oscillating' ||
    mine.status === 'crashed' ||
    (mine.status === 'worse' && mine.valLoss > WORSE_OVERRULES * minLoss);
  if (!overruled) return mine.status === 'worse' ? { action: 'keep-worse' } : { action: 'keep' };
  const fallback = trials.filter((t) => t.status === 'ok').sort((a, b) => a.valLoss - b.valLoss)[0];
  return fallback ? { action: 'step-down', to: fallback.batchSize, why: mine.why } : { action: 'keep-flagged' };
}
