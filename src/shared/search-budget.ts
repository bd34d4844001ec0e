// How much time the batch-size search may spend (docs/architecture.md §5.11): a share of the run
// it plans for, and the order in which it shortens or skips probes to stay within it. Pure: the
// search phases ask it what they may spend; the report says what was cut.
import type { TuningMode } from './tuning-types.js';

/**
 * The search's share of the planned run: a search worth running pays for itself in a run of the
 * planned length only if it costs a small part of it. Quick measures less and promises less.
 */
export const SEARCH_SHARE: Record<TuningMode, number> = { quick: 0.05, full: 0.15 };

/**
 * A validation pass runs the forward pass only, about a third of a training step's work (the
 * backward pass costs about twice the forward), so it goes about 3× as fast per sample.
 */
export const VALIDATION_SPEEDUP = 3;

/** Seconds of a run of `epochs` over the dataset at `samplesPerSecond`, one validation an epoch. */
export function plannedRunSeconds(o: { epochs: number; trainCount: number; validationCount: number; samplesPerSecond: number }): number {
  const x = Math.max(o.samplesPerSecond, 1e-9);
  return o.epochs * (o.trainCount / x + o.validationCount / (VALIDATION_SPEEDUP * x));
}

/**
 * The probes that can be shortened or skipped, in the order they are: the first is given up first.
 * The evaluation batch only speeds validation up (the training batch stands in, and always fits);
 * the validation trials only confirm a choice; the late noise scale refines Full's; the early noise
 * probe is what Full adds to Quick; a second ramp only says how sure the rate is; the range test
 * finds the rate (a previous tuning's, or the base rate, stands in); the throughput sizes find
 * where speed saturates (the memory probes' step times stand in). The memory probes are never
 * cut: nothing is recommended that was not checked to fit.
 */
export const CUT_ORDER = ['eval-batch', 'trials', 'late-noise', 'noise', 'second-ramp', 'range-test', 'throughput'] as const;
export type CuttableProbe = (typeof CUT_ORDER)[number];

/** What each cuttable probe is called in the report. */
export const CUT_LABELS: Record<CuttableProbe, string> = {
  'eval-batch': 'the evaluation-batch probes',
  trials: 'the validation trials',
  'late-noise': 'the late noise-scale measurement',
  noise: 'the noise-scale probe',
  'second-ramp': "the range test's second ramp",
  'range-test': 'the learning-rate range test',
  throughput: 'the throughput timings',
};

/** A probe still to run: its estimated seconds, and the least it can be shortened to (absent: it cannot be, only skipped). */
export interface WantedProbe {
  probe: CuttableProbe;
  seconds: number;
  minSeconds?: number;
}

export interface Cut {
  probe: CuttableProbe;
  how: 'shortened' | 'skipped';
  /** Seconds it was estimated to need, and what it was granted. */
  wanted: number;
  granted: number;
}

/**
 * Grants the wanted probes seconds within `left`: while their sum is over, the next probe in
 * CUT_ORDER is shortened (to its minimum at least) or, if that is not enough, skipped. Probes not
 * in the list are untouched. Returns each probe's grant (0: skipped) and the cuts in order.
 */
export function fitProbes(left: number, wanted: readonly WantedProbe[]): { granted: Map<CuttableProbe, number>; cuts: Cut[] } {
  const granted = new Map(wanted.map((w) => [w.probe, w.seconds] as const));
  const cuts: Cut[] = [];
  const total = () => [...granted.values()].reduce((a, b) => a + b, 0);
  for (const probe of CUT_ORDER) {
    const over = total() - Math.max(0, left);
    if (over <= 1e-9) break;
    const w = wanted.find((x) => x.probe === probe);
    if (!w || w.seconds <= 0) continue;
    const shortened = w.seconds - over;
    if (w.minSeconds !== undefined && shortened >= w.minSeconds) {
      granted.set(probe, shortened);
      cuts.push({ probe, how: 'shortened', wanted: w.seconds, granted: shortened });
    } else {
      granted.set(probe, 0);
      cuts.push({ probe, how: 'skipped', wanted: w.seconds, granted: 0 });
    }
  }
  return { granted, cuts };
}

/** The longest time budget accepted: a year. */
export const MAX_BUDGET_SECONDS = 365 * 24 * 3600;

/** Parses a duration such as `90s`, `10m`, `1h30m`, `1.5h` or a bare number of seconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)\s*(h|m|s)\s*/gy;
  let seconds = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    seconds += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
    matched = re.lastIndex;
  }
  return matched === t.length && matched > 0 ? seconds : null;
}
