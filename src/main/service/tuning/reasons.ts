// The report's sentences (docs/architecture.md §5.10): one plain sentence per finding of the
// search, built from the numbers the phases measured. Pure.
import type { CeilingResult, MemoryModel } from '../../../shared/ceiling-search.js';
import type { LearningRateSuggestion } from '../../../shared/learning-rate-range.js';
import type { BackendReport, OptimizerKind } from '../../../shared/run-types.js';
import { engineLabel, MEMORY_SOURCE_LABELS } from '../../../shared/memory-source.js';
import type { MemorySource } from '../../../shared/probe-protocol.js';
import type { JudgedTrial } from '../../../shared/trial-verdicts.js';
import { WORSE_OVERRULES } from '../../../shared/trial-verdicts.js';
import type { LinearFit } from '../../../shared/tuner-math.js';
import type { LateNoise, NoiseForecast } from '../../../shared/tuning-types.js';
import { formatBytes, formatDuration } from '../../../shared/format.js';
import type { Budget } from './context.js';

export const round = (x: number, digits = 0) => Number(x.toFixed(digits));

/** §5.3: how far memory allows, or that it is not the limit. */
export function memoryReason(o: { ceiling: CeilingResult; model: MemoryModel; budget: Budget; cap: number; capRaised: boolean; trainCount: number }): string {
  const { ceiling, budget } = o;
  if (ceiling.cappedByDataset) {
    const which = o.capRaised
      ? `the least batch normalisation allows, though it gives only ${Math.ceil(o.trainCount / o.cap)} steps per epoch on ${o.trainCount} training samples`
      : `the largest that still gives about 20 steps per epoch on ${o.trainCount} training samples`;
    return `Memory is not the limit here: batch ${o.cap} — ${which} — fits in the ${formatBytes(budget.bytes)} budget (${budget.source}).`;
  }
  const { fit, updateFloor } = o.model;
  return `Batches up to ${ceiling.ceiling} fit in the ${formatBytes(budget.bytes)} budget (${budget.source}): a step needs about ${formatBytes(Math.max(fit.a, 0))} plus ${formatBytes(fit.b)} per sample${updateFloor > 0 ? ` (and ${formatBytes(updateFloor)} during the optimizer update, whatever the batch)` : ''}; ${ceiling.largestFitted} was verified with a real step${ceiling.smallestFailed ? ` and ${ceiling.smallestFailed} did not fit` : ''}, and a ${Math.round((1 - ceiling.ceiling / ceiling.largestFitted) * 100)} % margin is kept.`;
}

/** What the memory figures are and where they were read: the engine, the device and the source. */
export function memorySourceReason(source: MemorySource | null, backend: BackendReport): string {
  const engine = backend.rung ? engineLabel(backend.rung) : backend.name === 'torch' ? 'PyTorch' : 'tfjs';
  const what = source ? `the ${MEMORY_SOURCE_LABELS[source]} of each step` : 'each step';
  return `Memory was measured as ${what}, on ${engine} (${backend.device}).`;
}

/** Why a batch-norm model's search starts at its floor (MIN_BATCH_NORM_BATCH). */
export function batchNormReason(label: string, minBatch: number): string {
  return `${label} uses batch normalisation: batches below ${minBatch} were not considered (their statistics are too noisy); the memory probes below it only measured memory.`;
}

/** Why a batch-norm model's search ends: its floor does not fit in memory. */
export function batchNormMemoryMessage(o: { label: string; minBatch: number; ceiling: number; budget: Budget }): string {
  return `${o.label} uses batch normalisation, which needs at least ${o.minBatch} samples a step, but only batches up to ${o.ceiling} fit in the ${formatBytes(o.budget.bytes)} budget (${o.budget.source}), a safety margin kept: use a smaller model, smaller images or a larger memory budget.`;
}

/** Why a batch-norm model's search cannot start: the dataset holds fewer samples than its floor. */
export function batchNormDatasetMessage(o: { label: string; minBatch: number; trainCount: number; otherModels: readonly string[] }): string {
  return `${o.label} uses batch normalisation, which needs at least ${o.minBatch} samples a step, but the dataset has only ${o.trainCount} training samples: use a model without it (${listed(o.otherModels, 'or')}) or more data.`;
}

/** §5.4: where throughput saturates. */
export function throughputReason(o: {
  first: { batchSize: number; samplesPerSecond: number };
  bestSamplesPerSecond: number;
  saturation: number;
  backendName: string;
}): string {
  return `Throughput grows from ${Math.round(o.first.samplesPerSecond)} samples/s at batch ${o.first.batchSize} to ${Math.round(o.bestSamplesPerSecond)} at its best; from batch ${o.saturation} on, it is within 10 % of the best, so larger batches buy little speed on this ${o.backendName} device.`;
}

/** §5.5: what the range test's ramps found, and the base rate they set. */
export function rangeTestReason(o: {
  ramps: { batchSize: number; steps: number; found: LearningRateSuggestion; atBase: number }[];
  /** A second ramp that showed no clear fall. */
  flatBatch: number | null;
  combined: { rate: number; spread: number; sure: boolean } | null;
  minRate: number;
  maxRate: number;
  b0: number;
  given: number;
  baseRate: number;
}): string {
  const each = o.ramps.map(
    (r) =>
      `at batch ${r.batchSize} (${r.steps} steps, ${r.steps * r.batchSize} samples) the loss fell fastest at ${r.found.steepestRate.toExponential(1)} and blew up past ${r.found.minimumRate.toExponential(1)}, reading ${round(r.atBase, 6)} for batch ${o.b0}`,
  );
  const head = `${o.ramps.length + (o.flatBatch ? 1 : 0) > 1 ? 'Two learning-rate ramps' : 'A learning-rate ramp'} (one step at each rate from ${o.minRate.toExponential(0)} to ${o.maxRate.toExponential(0)}): ${each.join('; ')}${o.flatBatch ? `; the ramp at batch ${o.flatBatch} showed no clear fall` : ''}.`;
  const vsDefault = Math.abs(o.baseRate / o.given - 1) > 0.05 ? ` (${round(o.baseRate / o.given, 1)}× the default ${o.given})` : '';
  if (!o.combined)
    return `${head} A run trains best somewhat below the steepest point, so the base rate at batch ${o.b0} is ${round(o.baseRate, 6)}${vsDefault}; with one reading, how sure it is cannot be told.`;
  const { spread, sure } = o.combined;
  return sure
    ? `${head} The two readings are ${round(spread, 2)}× apart, so their geometric mean is taken: the base rate at batch ${o.b0} is ${round(o.baseRate, 6)}${vsDefault}.`
    : `${head} The two readings are ${round(spread, 1)}× apart, too far to trust their mean, so the lower is taken, as a rate too low only costs time: the base rate at batch ${o.b0} is ${round(o.baseRate, 6)}${vsDefault}.`;
}

/** §5.5: why the range test gave no rate, and what stands in. */
export function rangeFallbackReason(
  o: { fallback: { rate: number; from: string | null }; given: number } & (
    { why: 'no-time' } | { why: 'failed'; message: string } | { why: 'flat'; lrBatch: number }
  ),
): string {
  const stands = o.fallback.from
    ? `the base rate ${round(o.fallback.rate, 6)} that ${o.fallback.from} found for this model and dataset is used`
    : `the base rate stays ${o.given}, the usual default`;
  if (o.why === 'no-time') return `The learning-rate range test did not fit in the search's time allowance, so ${stands}.`;
  if (o.why === 'failed') return `The learning-rate range test did not complete (${o.message}), so ${stands}.`;
  return `The learning-rate range test at batch ${o.lrBatch} showed no clear fall of the loss (too flat or too noisy to read), so ${stands}.`;
}

/** §5.6: the noise scale measured and carried forward to the middle of the run. */
export function noiseForecastReason(f: NoiseForecast, windows: number, plannedEpochs: number): string {
  return `The gradient noise scale was ${Math.round(f.measured)} at training loss ${f.measuredLoss.toFixed(2)}; it grows as the loss falls (φ ∝ L^−${round(f.growthExponent, 2)}, ${f.growthMeasured ? `as measured over ${windows} windows` : 'the usual rate: these first steps were too short to measure it'}). Halfway through a ${plannedEpochs}-epoch run the loss should be near ${f.loss.toFixed(3)} (it fell as samples^−${round(f.lossExponent, 2)}), where φ is about ${Math.round(f.noiseScale)}.`;
}

export const NOISE_SKIPPED_REASON =
  "The gradient noise scale was not measured: it did not fit in the search's time allowance, so Full mode chooses as Quick does.";

export const LATE_NOISE_SKIPPED_REASON =
  "The noise scale was not measured again later in training: that did not fit in the search's time allowance, so the early forecast stands.";
export const LATE_NOISE_FAILED_REASON = 'The noise scale could not be measured again later in training, so the early forecast stands.';

/** §5.6: the late re-measurement, against the early forecast. */
export function lateNoiseReason(o: { late: LateNoise; runSamples: number; noiseScale: number }): string {
  const { late } = o;
  const share = Math.round((100 * late.samples) / o.runSamples);
  return `Measured again after ${late.pretrainSteps} steps of training (${late.samples} samples, ${share < 1 ? 'under 1' : share} % of the planned run), at training loss ${Number.isFinite(late.loss) ? late.loss.toFixed(3) : '—'}, the noise scale was ${Math.round(late.noiseScale)} (the early windows forecast ${Math.round(late.earlyNoiseScale)} for the middle of the run); fitted to both, the choice uses ${Math.round(o.noiseScale)}.`;
}

export const NO_NOISE_SCALE_REASON = 'The gradient noise scale could not be measured, so the batch where throughput saturates is recommended.';

/** §5.7: a goodput tie settled for the smaller batch. */
export function goodputTieReason(best: number, chosen: number, tie: number): string {
  return `Goodput peaks at ${best}, but ${chosen} is within ${Math.round((1 - tie) * 100)} % of it, which is inside the measurement noise; the smaller batch is kept, since it needs less scaling of the measured learning rate.`;
}

/** §5.7: why the goodput choice, and its goodput against the time model's optimum. */
export function goodputReasons(o: {
  chosen: number;
  saturation: number;
  chosenSamplesPerSecond: number;
  phi: number;
  b0: number;
  goodput: number;
  timeFit: LinearFit;
  optimum: number;
}): string[] {
  const { chosen, phi, b0, timeFit } = o;
  return [
    `${chosen} fits in memory and ${chosen === o.saturation ? 'is where throughput saturates' : `trains at ${Math.round(o.chosenSamplesPerSecond)} samples/s`}, but past ~${Math.round(phi)} each extra sample adds little: the gradient noise scale is ${Math.round(phi)}, so a batch of B makes (${Math.round(phi)} + ${b0})/(${Math.round(phi)} + B) of the progress per sample of batch ${b0}.`,
    `Goodput (samples/s × that efficiency) at ${chosen}: ${Math.round(o.goodput)} useful samples/s${Number.isFinite(o.optimum) ? ` (the time model t(B) = ${round(timeFit.a * 1000, 2)} ms + ${round(timeFit.b * 1e6, 2)} µs·B puts the optimum near ${Math.round(o.optimum)})` : ''}.`,
  ];
}

/** §5.7: the non-power-of-two neighbour against its power of two. */
export function neighbourReason(neighbour: number, neighbourSamplesPerSecond: number, base: number, baseSamplesPerSecond: number): string {
  const per = (x: number, b: number) => x / b; // steps per second
  const faster = per(neighbourSamplesPerSecond, neighbour) * neighbour > per(baseSamplesPerSecond, base) * base;
  return `Batch ${neighbour} (not a power of two) trains at ${Math.round(neighbourSamplesPerSecond)} samples/s against ${Math.round(baseSamplesPerSecond)} at ${base}: on this device powers of two are ${faster ? 'no faster than their neighbours' : 'not slower than their neighbours'}.`;
}

/** §5.11: the batch when no throughput was timed. */
export function knownBatchReason(o: { batch: number; from: string | null; clamped: boolean }): string {
  const what = o.from ? `the batch ${o.from} chose for this model and dataset` : 'the base batch';
  return `No throughput was timed (the search's time allowance had no room), so ${o.batch}${o.clamped ? `, ${what} brought within what fits,` : `, ${what},`} is recommended.`;
}

export function quickReason(chosen: number): string {
  return `Quick mode: ${chosen}, the smallest batch within 10 % of the best throughput, is recommended (Full mode also measures how much each sample teaches, via the gradient noise scale, and checks the choice with short trials).`;
}

/** "a, b and c" (or "a, b or c"). */
function listed(items: readonly string[], conjunction = 'and'): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)!}`;
}

/** §5.9: what the equal-time trials reached (without a validation split, only their flags). */
export function trialsReason(seconds: number, trials: readonly JudgedTrial[], validated: boolean): string {
  const flag = (t: JudgedTrial) => (t.status !== 'ok' ? ` (${t.status})` : '');
  if (!validated) {
    return `Equal-time trials (${seconds.toFixed(1)} s each) at ${listed(trials.map((t) => `${t.batchSize}${flag(t)}`))} were judged on their training loss alone: the dataset has no validation split.`;
  }
  return `Equal-time trials (${seconds.toFixed(1)} s each) reached validation loss ${trials.map((t) => `${Number.isFinite(t.valLoss) ? t.valLoss.toFixed(3) : '—'} at ${t.batchSize}${flag(t)}`).join(', ')}.`;
}

export const TRIALS_SKIPPED_REASON = "The validation trials were skipped: they did not fit in the search's time allowance, so the choice stands unchecked.";

export function keptDespiteWorseReason(chosen: number): string {
  return `${chosen}'s short trial ended with a higher validation loss, as short trials favour small batches; it stays, because it is within ${Math.round((WORSE_OVERRULES - 1) * 100)} % of the best.`;
}

export function steppedDownReason(chosen: number, why: string, to: number): string {
  return `${chosen} was flagged (${why}), so the search steps to ${to}.`;
}

/** §5.8: the recommended rate, scaled from the base rate. */
export function learningRateReason(o: {
  chosen: number;
  b0: number;
  learningRate: number;
  baseRate: number;
  warmupSteps: number;
  optimizer: OptimizerKind;
}): string {
  const { chosen, b0, warmupSteps: warm } = o;
  if (chosen === b0) return `Learning rate ${round(o.learningRate, 6)} is the base rate for batch ${b0}.`;
  const sgd = o.optimizer === 'sgd';
  return `Learning rate ${round(o.learningRate, 6)} = ${round(o.baseRate, 6)} × ${sgd ? `${chosen}/${b0}` : `√(${chosen}/${b0})`} (${sgd ? 'SGD scales it with the batch' : 'Adam scales it with the square root of the batch'})${warm > 0 ? `, reached by a linear warm-up over the first ${warm} steps` : ', with no warm-up: it is not above the base rate'}.`;
}

/** §5.11: why a previous tuning's findings stand without a search of this one's own. */
export function reusedReason(o: { sessionId: number; shortest: number; allowance: number; planned: number; share: number; fromBudget: boolean }): string {
  return `No search was run: even the shortest one (starting the trainer and the memory probes took ${formatDuration(o.shortest)} in tuning #${o.sessionId}) is more than ${Math.round(o.share * 100)} % of ${o.fromBudget ? 'your' : 'the predicted'} ${formatDuration(o.planned)} run (${formatDuration(o.allowance)}), so tuning #${o.sessionId}'s findings for this model and dataset stand; its reasons follow.`;
}
