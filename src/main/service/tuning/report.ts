// The report (docs/architecture.md §5.10): the recommendation at the chosen batch, the curves per
// batch size, the fits, and the reasons the phases gave.
import { efficiency, scaleOutSpeedup } from '../../../shared/tuner-math.js';
import type { CurvePoint, TuningReport } from '../../../shared/tuning-types.js';
import type { SearchContext } from './context.js';
import type { BaseRate, RateScaling } from './learning-rate.js';
import type { AccumulatedChoice } from './accumulation.js';
import type { MemoryPhase } from './memory.js';
import type { NoisePhase } from './noise.js';
import { learningRateReason, round } from './reasons.js';
import { allowanceReason } from './allowance.js';
import type { ThroughputPhase } from './throughput.js';

export interface SearchFindings {
  memory: MemoryPhase;
  speed: ThroughputPhase;
  base: BaseRate;
  rates: RateScaling;
  noise: NoisePhase;
  chosen: number;
  /** The evaluation batch, when the search found one (eval-batch.ts). */
  evalBatch?: number;
  /** An effective batch above the memory ceiling that goodput chose, trained by accumulation (accumulation.ts). */
  accumulated?: AccumulatedChoice;
}

/** Measured and predicted memory, whether it fitted, throughput, and (Full) efficiency and goodput per batch. */
function curves(memory: MemoryPhase, speed: ThroughputPhase, noiseScale: number | null, b0: number): CurvePoint[] {
  const { fit, updateFloor } = memory.model;
  const predictMemory = (b: number) => Math.max(fit.a + fit.b * b, updateFloor);
  return [...new Set([...memory.readings.keys(), ...speed.timings.keys()])]
    .sort((a, b) => a - b)
    .map((b) => {
      const m = memory.readings.get(b);
      const t = speed.timings.get(b);
      const e = noiseScale !== null ? efficiency(b, b0, noiseScale) : undefined;
      return {
        batchSize: b,
        ...(m?.peakBytes !== undefined ? { memoryBytes: m.peakBytes } : {}),
        ...(fit.b > 0 ? { predictedMemoryBytes: predictMemory(b) } : {}),
        ...(m ? { fits: m.fits } : {}),
        ...(t ? { samplesPerSecond: t.samplesPerSecond } : {}),
        ...(e !== undefined ? { efficiency: e } : {}),
        ...(t && e !== undefined ? { goodput: t.samplesPerSecond * e } : {}),
      };
    });
}

/** Share of the budget left at batch b: measured there, else predicted from m(B); null when neither. */
function headroom(memory: MemoryPhase, b: number, budgetBytes: number): number | null {
  const { fit, updateFloor } = memory.model;
  const bytes = memory.readings.get(b)?.peakBytes ?? (fit.b > 0 ? Math.max(fit.a + fit.b * b, updateFloor) : undefined);
  return bytes !== undefined ? Math.max(0, 1 - bytes / budgetBytes) : null;
}

/** The report, with the learning-rate sentence as its last reason. */
export function buildReport(s: SearchContext, f: SearchFindings, searchSeconds: () => number): TuningReport {
  const { request } = s;
  const { memory, speed, noise } = f;
  // The batch recommended: the effective one when goodput chose accumulation, the memory's at its micro-batch.
  const chosen = f.accumulated?.batchSize ?? f.chosen;
  const b0 = request.baseBatchSize;
  const learningRate = f.rates.rateAt(chosen);
  const warm = f.rates.warmupAt(chosen);
  s.reasons.push(learningRateReason({ chosen, b0, learningRate, baseRate: f.base.rate, warmupSteps: warm, optimizer: request.optimizer }));
  const allowance = s.allowance.report();
  const spent = allowanceReason(allowance);
  if (spent) s.reasons.push(spent);
  const { timeFit } = speed;
  const { noiseScale } = noise;
  return {
    recommendation: {
      batchSize: chosen,
      learningRate,
      warmupSteps: warm,
      expectedSamplesPerSecond: f.accumulated?.samplesPerSecond ?? speed.timings.get(chosen)?.samplesPerSecond ?? chosen / (timeFit.a + timeFit.b * chosen),
      ...(f.accumulated ? { microBatchSize: f.accumulated.microBatch } : {}),
      memoryCeiling: memory.ceiling.ceiling,
      memoryBudgetBytes: s.budget.bytes,
      memoryHeadroom: headroom(memory, f.accumulated?.microBatch ?? chosen, s.budget.bytes),
      noiseScale,
      optimizer: request.optimizer,
      ...(f.evalBatch !== undefined ? { evalBatchSize: f.evalBatch } : {}),
    },
    reasons: [...s.reasons],
    curves: curves(memory, speed, noiseScale, b0),
    fits: { memory: { ...memory.model.fit, updateFloor: memory.model.updateFloor }, time: { alpha: timeFit.a, beta: timeFit.b, r2: timeFit.r2 } },
    saturationBatch: speed.saturation,
    noiseForecast: noise.forecast,
    ...(noise.late ? { lateNoise: noise.late } : {}),
    learningRateTest: f.base.test,
    scaleOut: noiseScale !== null ? [2, 4, 8].map((k) => ({ workers: k, speedup: round(scaleOutSpeedup(k, chosen, noiseScale), 2) })) : null,
    allowance,
    searchSeconds: searchSeconds(),
  };
}
