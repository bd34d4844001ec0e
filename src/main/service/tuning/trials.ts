// Phase 6 (Full), the equal-time validation trials (docs/architecture.md §5.9): short runs at B*,
// B*/2 and 2B*, each flagged diverged, oscillating or worse; the choice steps down only when its
// own trial was flagged badly.
import { MIN_TRIAL_SECONDS, trialPlan } from '../../../shared/search-plan.js';
import { decideAfterTrials, flagWorseTrials, judgeTrial, type JudgedTrial } from '../../../shared/trial-verdicts.js';
import type { TrialRecord } from '../../../shared/tuning-types.js';
import type { SearchContext } from './context.js';
import type { RateScaling } from './learning-rate.js';
import { keptDespiteWorseReason, steppedDownReason, trialsReason, TRIALS_SKIPPED_REASON } from './reasons.js';
import { trialsSeconds } from './remaining.js';
import type { ThroughputPhase } from './throughput.js';

/** A judged trial and, when the probe gave a result, its stored record (restamped when flagged). */
type Trial = JudgedTrial & { record?: TrialRecord };

async function runTrial(s: SearchContext, b: number, seconds: number, rates: RateScaling): Promise<Trial> {
  s.progress('trials', b, `training ${seconds.toFixed(1)} s at batch ${b}`);
  const learningRate = rates.rateAt(b);
  const { answer, trial } = await s.probe('trial', b, learningRate, (p) =>
    p.trial({ batchSize: b, learningRate, warmupSteps: Math.min(rates.warmupAt(b), 5), seconds }),
  );
  if (!answer.ok || answer.result.kind !== 'trial') {
    return { batchSize: b, valLoss: Infinity, status: 'crashed', why: answer.ok ? 'no result' : answer.message };
  }
  const flag = judgeTrial(answer.result, s.validated);
  const t: Trial = { batchSize: b, valLoss: answer.result.valLoss, status: flag.status, why: flag.why, record: trial };
  if (flag.status !== 'ok') restamp(s, t);
  return t;
}

/** Stores a flagged trial again with its flag and why. */
function restamp(s: SearchContext, t: Trial): void {
  if (t.record) s.restamp({ ...t.record, status: t.status, result: { ...t.record.result }, cause: t.why });
}

/** Runs the trials around the choice; resolves with the batch that stands after them. */
export async function validationTrials(s: SearchContext, speed: ThroughputPhase, chosen: number, rates: RateScaling): Promise<number> {
  const planned = s.allowance.plannedRunSeconds() ?? (s.request.plannedEpochs * s.trainCount) / speed.bestSamplesPerSecond;
  const plan = trialPlan(chosen, speed.maxBatch, planned, s.minBatch);
  const cost = trialsSeconds(s, chosen, speed.maxBatch);
  const granted = s.allowance.grant('trials', [{ probe: 'trials', seconds: cost.seconds, minSeconds: cost.minSeconds }]);
  if (granted <= 0) {
    s.reasons.push(TRIALS_SKIPPED_REASON);
    return chosen;
  }
  // Shortened: each trial gets an equal share of what is left after the validation passes.
  if (granted < cost.seconds - 1e-9) plan.seconds = Math.max(MIN_TRIAL_SECONDS, (granted - cost.fixed) / cost.count);
  s.plan(plan.sizes.length);
  const trials: Trial[] = [];
  for (const b of plan.sizes) trials.push(await runTrial(s, b, plan.seconds, rates));
  const { minLoss, flagged } = flagWorseTrials(trials);
  for (const t of flagged) restamp(s, t);
  s.reasons.push(trialsReason(plan.seconds, trials, s.validated));
  const decision = decideAfterTrials(trials, chosen, minLoss);
  if (decision.action === 'keep-worse') s.reasons.push(keptDespiteWorseReason(chosen));
  if (decision.action !== 'step-down') return chosen;
  s.reasons.push(steppedDownReason(chosen, decision.why, decision.to));
  return decision.to;
}
