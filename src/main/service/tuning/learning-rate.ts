// Phase 3, the learning-rate range test (docs/architecture.md §5.5): two short ramps at two
// batches, each read and scaled to the base batch, their spread saying how sure the reading is;
// and the scaling of the base rate to any batch, with its warm-up (§5.8).
import { suggestLearningRate, type LearningRateSuggestion } from '../../../shared/learning-rate-range.js';
import { rampBatches, rampSteps } from '../../../shared/search-plan.js';
import { scaleLearningRate, warmupSteps } from '../../../shared/tuner-math.js';
import type { LearningRateTest, TuningRequest } from '../../../shared/tuning-types.js';
import type { SearchContext } from './context.js';
import { rangeTestReason, rangeFallbackReason } from './reasons.js';
import { laterProbes } from './remaining.js';

/** Each ramp runs from base/10 to base×300, and stops once the smoothed loss is 4× its lowest. */
const LR_RANGE_FROM = 1 / 10;
const LR_RANGE_TO = 300;
const LR_RANGE_STOP = 4;

/**
 * Readings further apart than this (scaled to the base batch) are not trusted as a mean: the lower
 * is taken, since a rate too low costs time and one too high can diverge. One ramp's steepest
 * point moves about 1.4× with its length alone, so two sound readings lie well within 3×.
 */
export const RAMP_SPREAD_LIMIT = 3;

/** Combines two readings at the base batch: their geometric mean when within the spread limit, else the lower. */
export function combineReadings(a: number, b: number): { rate: number; spread: number; sure: boolean } {
  const spread = Math.max(a, b) / Math.min(a, b);
  const sure = spread <= RAMP_SPREAD_LIMIT;
  return { rate: sure ? Math.sqrt(a * b) : Math.min(a, b), spread, sure };
}

export interface BaseRate {
  /** The rate known to work at the base batch: what the range test found, a previous tuning's, or the user's. */
  rate: number;
  /** The range test's curves and reading; null when it was not run. */
  test: LearningRateTest | null;
}

interface Ramp {
  batchSize: number;
  found: LearningRateSuggestion | null;
  /** The reading scaled to the base batch; null when the curve showed no clear fall. */
  atBase: number | null;
  test: Omit<LearningRateTest, 'second' | 'spread' | 'sure' | 'baseRate'>;
}

/** One ramp at batch b, or why its probe failed. */
async function ramp(s: SearchContext, b: number, minRate: number, maxRate: number, which: string): Promise<Ramp | { failed: string }> {
  const steps = rampSteps(b);
  s.progress('learning-rate', b, `${which} learning-rate ramp: ${steps} steps at batch ${b}, rates ${minRate.toExponential(0)} to ${maxRate.toExponential(0)}`);
  const { answer } = await s.probe('learning-rate', b, null, (p) => p.rangeTest({ batchSize: b, minRate, maxRate, steps, stopFactor: LR_RANGE_STOP }));
  if (!answer.ok || answer.result.kind !== 'learning-rate') return { failed: answer.ok ? 'no result' : answer.message };
  const { rates, losses } = answer.result;
  const found = suggestLearningRate(rates, losses);
  // Only the finite points are kept (the report is stored as JSON).
  const points = found ? found.smoothed.map((smoothed, i) => ({ rate: rates[i]!, loss: losses[i]!, smoothed })) : [];
  return {
    batchSize: b,
    found,
    atBase: found ? scaleLearningRate(found.rate, b, s.request.baseBatchSize, s.request.optimizer) : null,
    test: { batchSize: b, points, steepestRate: found?.steepestRate ?? null, minimumRate: found?.minimumRate ?? null, rate: found?.rate ?? null },
  };
}

/**
 * The base rate at the base batch B₀ from two ramps: at B₀ (or the largest batch wanted, if
 * smaller; or a batch-norm model's floor, if above) and at twice (or half) that. Each ramp is
 * granted time by the allowance; what is skipped falls back to a previous tuning's rate, else
 * the given one, and the report says so.
 */
export async function findBaseRate(s: SearchContext, maxBatch: number, around: number): Promise<BaseRate> {
  const { request } = s;
  const given = request.baseLearningRate;
  if (request.searchLearningRate === false) return { rate: given, test: null };
  const b0 = request.baseBatchSize;
  const { first: lrBatch, second: secondBatch } = rampBatches(b0, maxBatch, s.minBatch);
  const minRate = given * LR_RANGE_FROM;
  const maxRate = given * LR_RANGE_TO;
  const fallback = s.known?.baseRate ? { rate: s.known.baseRate, from: `tuning #${s.known.sessionId}` } : { rate: given, from: null };
  const wanted = () => laterProbes(s, 'range-test', maxBatch, around);
  if (s.allowance.grant('range-test', wanted()) <= 0) {
    s.reasons.push(rangeFallbackReason({ why: 'no-time', fallback, given }));
    return { rate: fallback.rate, test: null };
  }
  const first = await ramp(s, lrBatch, minRate, maxRate, secondBatch ? 'the first' : 'a');
  if ('failed' in first) {
    s.reasons.push(rangeFallbackReason({ why: 'failed', message: first.failed, fallback, given }));
    return { rate: fallback.rate, test: null };
  }
  let second: Ramp | null = null;
  if (
    secondBatch &&
    s.allowance.grant(
      'second-ramp',
      wanted().filter((w) => w.probe !== 'range-test'),
    ) > 0
  ) {
    const r = await ramp(s, secondBatch, minRate, maxRate, 'the second');
    if (!('failed' in r)) second = r;
  }
  const readings = [first, second].filter((r): r is Ramp => r !== null && r.atBase !== null);
  const test: LearningRateTest = { ...first.test, ...(second ? { second: second.test } : {}), spread: null, baseRate: null };
  if (readings.length === 0) {
    s.reasons.push(rangeFallbackReason({ why: 'flat', lrBatch, fallback, given }));
    return { rate: fallback.rate, test };
  }
  const combined = readings.length === 2 ? combineReadings(readings[0]!.atBase!, readings[1]!.atBase!) : null;
  const rate = combined?.rate ?? readings[0]!.atBase!;
  test.spread = combined?.spread ?? null;
  if (combined) test.sure = combined.sure;
  test.baseRate = rate;
  s.reasons.push(
    rangeTestReason({
      ramps: readings.map((r) => ({ batchSize: r.batchSize, steps: rampSteps(r.batchSize), found: r.found!, atBase: r.atBase! })),
      flatBatch: second && second.atBase === null ? second.batchSize : null,
      combined,
      minRate,
      maxRate,
      b0,
      given,
      baseRate: rate,
    }),
  );
  return { rate, test };
}

/** The base rate scaled to batch b (§5.8), and the warm-up that reaches it over the planned run. */
export interface RateScaling {
  rateAt(b: number): number;
  warmupAt(b: number): number;
}

export function rateScaling(baseRate: number, request: TuningRequest, trainCount: number): RateScaling {
  const rateAt = (b: number) => scaleLearningRate(baseRate, request.baseBatchSize, b, request.optimizer);
  const stepsPerEpoch = (b: number) => Math.ceil(trainCount / b);
  return {
    rateAt,
    warmupAt: (b) => warmupSteps(request.plannedEpochs * stepsPerEpoch(b), rateAt(b) / baseRate),
  };
}
