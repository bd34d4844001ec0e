// Phase 3, the learning-rate range test (docs/architecture.md §5.5), and the scaling of the base
// rate it finds to any batch, with its warm-up (§5.8).
import { suggestLearningRate } from '../../../shared/learning-rate-range.js';
import { scaleLearningRate, warmupSteps } from '../../../shared/tuner-math.js';
import type { LearningRateTest, TuningRequest } from '../../../shared/tuning-types.js';
import type { SearchContext } from './context.js';
import { rangeTestReason } from './reasons.js';

/**
 * The learning-rate range test: LR_RANGE_STEPS steps from base/10 to base×300, stopped once the
 * smoothed loss is 4× its lowest, in both modes. The reading depends on the ramp's length (fewer
 * steps train less at each rate and read higher), and the rule (learning-rate-range.ts) is
 * calibrated for this length: its reading trained to the target sooner than a longer ramp's, at
 * half the cost (the readings and times are in docs/benchmarks.md, `npm run bench:lr-range`).
 */
const LR_RANGE_STEPS = 24;
const LR_RANGE_FROM = 1 / 10;
const LR_RANGE_TO = 300;
const LR_RANGE_STOP = 4;

export interface BaseRate {
  /** The rate known to work at the base batch: what the range test found, or the user's. */
  rate: number;
  /** The range test's curve and reading; null when it was not asked for. */
  test: LearningRateTest | null;
}

/**
 * The base rate at the base batch B₀, from a range test at B₀ (or at the largest batch wanted, if
 * smaller; or at a batch-norm model's floor, if B₀ is below it).
 */
export async function findBaseRate(s: SearchContext, maxBatch: number): Promise<BaseRate> {
  const { request } = s;
  const given = request.baseLearningRate;
  if (request.searchLearningRate === false) return { rate: given, test: null };
  const b0 = request.baseBatchSize;
  // Not below a batch-norm model's floor (the memory phase has made sure it fits).
  const lrBatch = Math.max(Math.min(b0, maxBatch), s.minBatch);
  const minRate = given * LR_RANGE_FROM;
  const maxRate = given * LR_RANGE_TO;
  const about = { lrBatch, minRate, maxRate, b0, given };
  s.progress(
    'learning-rate',
    lrBatch,
    `a learning-rate range test: ${LR_RANGE_STEPS} steps at batch ${lrBatch}, rates ${minRate.toExponential(0)} to ${maxRate.toExponential(0)}`,
  );
  const { answer } = await s.probe('learning-rate', lrBatch, null, (p) =>
    p.rangeTest({ batchSize: lrBatch, minRate, maxRate, steps: LR_RANGE_STEPS, stopFactor: LR_RANGE_STOP }),
  );
  if (!answer.ok || answer.result.kind !== 'learning-rate') {
    s.reasons.push(rangeTestReason({ ...about, outcome: 'failed', message: answer.ok ? 'no result' : answer.message }));
    return { rate: given, test: null };
  }
  const { rates, losses } = answer.result;
  const found = suggestLearningRate(rates, losses);
  // Only the finite points are kept (the report is stored as JSON).
  const points = found ? found.smoothed.map((smoothed, i) => ({ rate: rates[i]!, loss: losses[i]!, smoothed })) : [];
  const test: LearningRateTest = {
    batchSize: lrBatch,
    points,
    steepestRate: found?.steepestRate ?? null,
    minimumRate: found?.minimumRate ?? null,
    rate: found?.rate ?? null,
  };
  if (!found) {
    s.reasons.push(rangeTestReason({ ...about, outcome: 'flat' }));
    return { rate: given, test };
  }
  // At batch b0 the found rate replaces the base; at another batch it is scaled back to b0.
  const rate = scaleLearningRate(found.rate, lrBatch, b0, request.optimizer);
  s.reasons.push(rangeTestReason({ ...about, outcome: 'found', found, baseRate: rate }));
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
