// Phase 4 (Full), the gradient noise scale (docs/architecture.md §5.6): measured over a few
// windows at the base batch (a batch-norm model's micro-batches are at least its floor), then
// carried forward to the middle of the planned run.
import { noiseProbePlan } from '../../../shared/search-plan.js';
import { forecastNoiseScale, type NoiseWindow } from '../../../shared/tuner-math.js';
import type { LateNoise, NoiseForecast } from '../../../shared/tuning-types.js';
import type { SearchContext } from './context.js';
import { LATE_NOISE_FAILED_REASON, LATE_NOISE_SKIPPED_REASON, lateNoiseReason, NOISE_SKIPPED_REASON, noiseForecastReason } from './reasons.js';
import { halfway, lateNoisePlan, lateNoiseWanted, runSamples } from './noise-plan.js';
import { laterProbes } from './remaining.js';
import type { ThroughputPhase } from './throughput.js';

export interface NoisePhase {
  /** φ for the choice (the forecast where there is one); null when it could not be measured. */
  noiseScale: number | null;
  forecast: NoiseForecast | null;
  /** The probe's windows: samples seen, training loss and φ at each. */
  windows: NoiseWindow[];
  /** The re-measurement later in training, and the forecast before it (absent when not run). */
  late?: LateNoise;
}

export const NO_NOISE: NoisePhase = { noiseScale: null, forecast: null, windows: [] };

/** The noise probe at the base batch, training at the base rate; φ forecast to halfway through the run. */
export async function measureNoiseScale(s: SearchContext, speed: ThroughputPhase, baseRate: number): Promise<NoisePhase> {
  const { request } = s;
  if (s.allowance.grant('noise', laterProbes(s, 'noise', speed.maxBatch, speed.saturation)) <= 0) {
    s.reasons.push(NOISE_SKIPPED_REASON);
    return NO_NOISE;
  }
  const b0 = request.baseBatchSize;
  const t0 = speed.timings.get(b0)?.secondsPerStep ?? speed.timeFit.a + speed.timeFit.b * b0;
  const plan = noiseProbePlan(b0, t0, s.trainCount, s.minBatch);
  const batch = plan.microBatch * plan.k;
  s.progress('noise', batch, `measuring the gradient noise scale over ${plan.steps} steps`);
  const { answer } = await s.probe('noise', batch, baseRate, (p) =>
    p.noise({
      microBatch: plan.microBatch,
      k: plan.k,
      steps: plan.steps,
      learningRate: baseRate,
      pretrainSteps: plan.pretrainSteps,
      windows: plan.windows,
    }),
  );
  if (!answer.ok || answer.result.kind !== 'noise' || !Number.isFinite(answer.result.noiseScale)) return NO_NOISE;
  const windows = (answer.result.windows ?? []).map(({ samples, loss, noiseScale }) => ({ samples, loss, noiseScale }));
  // The noise scale grows as the loss falls: carry it forward to halfway through the planned
  // run, which is what a batch size fixed for the whole run has to suit.
  const forecast = forecastNoiseScale(windows, halfway(s));
  if (!forecast) return { noiseScale: Math.max(0, answer.result.noiseScale), forecast: null, windows };
  s.reasons.push(noiseForecastReason(forecast, windows.length, request.plannedEpochs));
  return { noiseScale: forecast.noiseScale, forecast, windows };
}

/**
 * Full: the noise scale measured again later in training, where the target is reached (the
 * early windows see only the first fraction of an epoch): the same probe after pre-training
 * towards a quarter of the planned run, as far as the allowance lets it. The forecast is then
 * fitted to the early windows and this one together, so the choice uses a value measured in the
 * regime it is for; the report keeps both.
 */
export async function remeasureNoiseScale(s: SearchContext, speed: ThroughputPhase, baseRate: number, early: NoisePhase): Promise<NoisePhase> {
  if (early.noiseScale === null) return early;
  const b0 = s.request.baseBatchSize;
  const t0 = speed.timings.get(b0)?.secondsPerStep ?? speed.timeFit.a + speed.timeFit.b * b0;
  const plan = lateNoisePlan(s, t0);
  const { seconds, minSeconds } = lateNoiseWanted(s, plan);
  const granted = s.allowance.grant('late-noise', laterProbes(s, 'late-noise', speed.maxBatch, speed.saturation));
  if (granted <= 0) {
    s.reasons.push(LATE_NOISE_SKIPPED_REASON);
    return early;
  }
  // Fewer pre-training steps where it wants or is granted less than a quarter of the run; the measured ones kept.
  const perStep = s.estimate.stepSeconds(plan.microBatch * plan.k);
  const pretrainSteps = Math.min(
    plan.pretrainSteps,
    Math.max(plan.minPretrainSteps, Math.floor((Math.min(granted, seconds) - minSeconds) / perStep) + plan.minPretrainSteps),
  );
  const batch = plan.microBatch * plan.k;
  s.progress('noise', batch, `measuring the noise scale again after ${pretrainSteps} steps of training`);
  const { answer } = await s.probe('noise', batch, baseRate, (p) =>
    p.noise({ microBatch: plan.microBatch, k: plan.k, steps: plan.steps, learningRate: baseRate, pretrainSteps, windows: 1 }),
  );
  if (!answer.ok || answer.result.kind !== 'noise' || !Number.isFinite(answer.result.noiseScale)) {
    s.reasons.push(LATE_NOISE_FAILED_REASON);
    return early;
  }
  const w = answer.result.windows?.[0] ?? { samples: (pretrainSteps + plan.steps) * batch, loss: NaN, noiseScale: answer.result.noiseScale };
  const lateWindow = { samples: w.samples, loss: w.loss, noiseScale: Math.max(0, w.noiseScale) };
  const windows = [...early.windows, lateWindow];
  const forecast = forecastNoiseScale(windows, halfway(s));
  const noiseScale = forecast?.noiseScale ?? Math.max(lateWindow.noiseScale, early.noiseScale);
  const late: LateNoise = { ...lateWindow, pretrainSteps, earlyNoiseScale: early.noiseScale };
  s.reasons.push(lateNoiseReason({ late, runSamples: runSamples(s), noiseScale }));
  return { noiseScale, forecast: forecast ?? early.forecast, windows, late };
}
