// The automatic batch-size search as every part of the app sees it: requests, progress,
// trials and the report. Pure data.
import type { BackendChoice, ModelKind, OptimizerKind } from './run-types.js';

export const TUNING_MODES = ['quick', 'full'] as const;
export type TuningMode = (typeof TUNING_MODES)[number];

export const TUNING_STATUSES = ['running', 'completed', 'failed', 'stopped', 'interrupted'] as const;
export type TuningStatus = (typeof TUNING_STATUSES)[number];

export const TRIAL_KINDS = ['memory', 'throughput', 'learning-rate', 'noise', 'trial'] as const;
export type TrialKind = (typeof TRIAL_KINDS)[number];

/** ok, or what went wrong / what a validation trial was flagged for. */
export const TRIAL_STATUSES = ['ok', 'oom', 'crashed', 'error', 'diverged', 'oscillating', 'worse'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

export interface TuningRequest {
  model: ModelKind;
  mode: TuningMode;
  optimizer: OptimizerKind;
  backend: BackendChoice;
  /** A lower memory budget than the device's, in bytes. */
  memoryBudgetBytes?: number;
  /** The batch whose learning rate is known to work (B₀) and that rate (η₀). */
  baseBatchSize: number;
  baseLearningRate: number;
  /** Epochs the recommendation is planned for (warm-up, search-cost share). */
  plannedEpochs: number;
  seed: number;
  /**
   * Find the base rate with a learning-rate range test instead of trusting baseLearningRate
   * (which then only centres the ramp). Default true.
   */
  searchLearningRate?: boolean;
}

export interface TrialRecord {
  seq: number;
  kind: TrialKind;
  batchSize: number;
  learningRate: number | null;
  status: TrialStatus;
  /** Measured values: peakBytes, samplesPerSecond, noiseScale, valLoss … */
  result: Record<string, unknown>;
  /** Why it failed or was flagged, in plain words. */
  cause: string | null;
  seconds: number;
}

/** One point of the curves m(B), X(B), E(B), G(B); absent values were not measured. */
export interface CurvePoint {
  batchSize: number;
  memoryBytes?: number;
  predictedMemoryBytes?: number;
  samplesPerSecond?: number;
  efficiency?: number;
  goodput?: number;
  fits?: boolean;
}

export interface NoiseForecast {
  /** The noise scale measured at the probe's last window, and its training loss there. */
  measured: number;
  measuredLoss: number;
  /** Samples into the run the forecast is for, the loss predicted there, and φ there. */
  atSamples: number;
  loss: number;
  noiseScale: number;
  /** L ∝ samples^−lossExponent and φ ∝ L^−growthExponent, as fitted (after clamping). */
  lossExponent: number;
  growthExponent: number;
  /** Whether the growth exponent was measured (else the prior of McCandlish et al.'s model). */
  growthMeasured: boolean;
}

/** The learning-rate range test of a Full search: its curve and what was read from it. */
export interface LearningRateTest {
  batchSize: number;
  /** One point per step up to the first non-finite loss: the rate, its loss, the smoothed loss. */
  points: { rate: number; loss: number; smoothed: number }[];
  steepestRate: number | null;
  minimumRate: number | null;
  /** The rate suggested for batchSize; null when the curve showed no clear fall. */
  rate: number | null;
}

export interface TuningReport {
  recommendation: {
    batchSize: number;
    learningRate: number;
    warmupSteps: number;
    expectedSamplesPerSecond: number;
    /** Largest batch verified to fit, after the safety margin. */
    memoryCeiling: number;
    memoryBudgetBytes: number;
    /** Share of the budget left at the recommended batch (0…1), when memory was measured there. */
    memoryHeadroom: number | null;
    noiseScale: number | null;
    optimizer: OptimizerKind;
  };
  reasons: string[];
  curves: CurvePoint[];
  fits: {
    /** m(B) = max(a + b·B, updateFloor): forward/backward grows with B, the optimizer update does not. */
    memory: { a: number; b: number; r2: number; updateFloor?: number } | null;
    time: { alpha: number; beta: number; r2: number } | null;
  };
  /** Throughput saturates from this batch on (≥ 90 % of the best measured). */
  saturationBatch: number | null;
  /**
   * How the noise scale was carried forward (Full mode): measured over the probe's windows, then
   * forecast at the loss expected halfway through the planned run (see forecastNoiseScale).
   */
  noiseForecast?: NoiseForecast | null;
  /** The learning-rate range test (absent in reports stored before it existed, null when skipped). */
  learningRateTest?: LearningRateTest | null;
  /** Predicted speed-up with 2, 4 and 8 data-parallel workers, from the noise scale. */
  scaleOut: { workers: number; speedup: number }[] | null;
  searchSeconds: number;
}

export interface TuningProgress {
  sessionId: number;
  phase: 'starting' | 'memory' | 'throughput' | 'learning-rate' | 'noise' | 'trials' | 'report';
  /** 1-based number of the probe in this session. */
  trial: number;
  batchSize: number | null;
  /** Seconds left, roughly; null while unknown. */
  etaSeconds: number | null;
  message: string;
}
