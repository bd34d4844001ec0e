// Phase 4 (Full), the gradient noise scale (docs/architecture.md §5.6): measured over a few
// windows at the base batch (a batch-norm model's micro-batches are at least its floor), then
// carried forward to the middle of the planned run.
import { noiseProbePlan } from '../../../shared/search-plan.js';
import { forecastNoiseScale } from '../../../shared/tuner-math.js';
import type { NoiseForecast } from '../../../shared/tuning-types.js';
import type { SearchContext } from './context.js';
import { noiseForecastReason } from './reasons.js';
import type { ThroughputPhase } from './throughput.js';

export interface NoisePhase {
  /** φ for the choice (the forecast where there is one); null when it could not be measured. */
  noiseScale: number | null;
  forecast: NoiseForecast | null;
}

export const NO_NOISE: NoisePhase = { noiseScale: null, forecast: null };

/** The noise probe at the base batch, training at the base rate; φ forecast to halfway through the run. */
export async function measureNoiseScale(s: SearchContext, speed: ThroughputPhase, baseRate: number): Promise<NoisePhase> {
  const { request } = s;
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
  const windows = answer.result.windows ?? [];
  // The noise scale grows as the loss falls: carry it forward to halfway through the planned
  // run, which is what a batch size fixed for the whole run has to suit.
  const forecast = forecastNoiseScale(windows, (request.plannedEpochs * s.trainCount) / 2);
  if (!forecast) return { noiseScale: Math.max(0, answer.result.noiseScale), forecast: null };
  s.reasons.push(noiseForecastReason(forecast, windows.length, request.plannedEpochs));
  return { noiseScale: forecast.noiseScale, forecast };
}
