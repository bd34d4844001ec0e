// Runtime schemas of the batch-size search: its request, trials, progress and report. They are
// the definitions: the types of tuning-types.ts (TuningRequest, TrialRecord, TuningReport …) are
// inferred from them. The API (api/data.ts) uses them for what it returns and sends.
import { z } from 'zod';
import { BACKEND_CHOICES, OPTIMIZERS, RUN_MODELS } from './run-types.js';
import { AUGMENT_LEVELS, startFromSchema } from './fine-tuning.js';
import { anyNumber } from './schemas.js';
import { CUT_ORDER } from './search-budget.js';
import { TRIAL_KINDS, TRIAL_STATUSES, TUNING_MODES, TUNING_PHASES } from './tuning-types.js';

/** A search as it was run, defaults applied (TuningRequest). */
export const tuningRequestSchema = z.strictObject({
  model: z.enum(RUN_MODELS),
  mode: z.enum(TUNING_MODES),
  optimizer: z.enum(OPTIMIZERS),
  backend: z.enum(BACKEND_CHOICES),
  /** A lower memory budget than the device's, in bytes. */
  memoryBudgetBytes: z.number().optional(),
  /** The batch whose learning rate is known to work (B₀) and that rate (η₀). */
  baseBatchSize: z.number().int(),
  baseLearningRate: z.number(),
  /** Epochs the recommendation is planned for (warm-up, search-cost share). */
  plannedEpochs: z.number().int(),
  /**
   * The time the planned run may take, in seconds: the search spends its share of this instead
   * of a share of the planned epochs' predicted time.
   */
  budgetSeconds: z.number().positive().optional(),
  /**
   * Whether a previous tuning of the same model and dataset on the same engine may stand in for
   * probes the time allowance has no room for (default true; the benchmark measures searches cold).
   */
  reuseKnown: z.boolean().optional(),
  seed: z.number().int(),
  /**
   * Find the base rate with a learning-rate range test instead of trusting baseLearningRate
   * (which then only centres the ramp). Default true.
   */
  searchLearningRate: z.boolean().optional(),
  /** Augmentation the probes train with, as the recommended run will (absent: none). */
  augment: z.enum(AUGMENT_LEVELS).optional(),
  /** The trained model the search (and the recommended run) starts from; absent: `model` from scratch. */
  startFrom: startFromSchema.optional(),
});

/** One probe of a search and what it measured (TrialRecord). */
export const trialSchema = z.strictObject({
  seq: z.number().int(),
  kind: z.enum(TRIAL_KINDS),
  batchSize: z.number().int(),
  learningRate: z.number().nullable(),
  status: z.enum(TRIAL_STATUSES),
  /** Measured values: peakBytes, samplesPerSecond, noiseScale, valLoss … */
  result: z.record(z.string(), z.unknown()),
  /** Why it failed or was flagged, in plain words. */
  cause: z.string().nullable(),
  seconds: z.number(),
});

/** One point of the curves m(B), X(B), E(B), G(B); absent values were not measured (CurvePoint). */
export const curvePointSchema = z.strictObject({
  batchSize: z.number().int(),
  memoryBytes: z.number().optional(),
  predictedMemoryBytes: z.number().optional(),
  samplesPerSecond: z.number().optional(),
  efficiency: z.number().optional(),
  goodput: z.number().optional(),
  fits: z.boolean().optional(),
});

/** How the noise scale was carried forward to later in the run (NoiseForecast). */
export const noiseForecastSchema = z.strictObject({
  /** The noise scale measured at the probe's last window, and its training loss there. */
  measured: z.number(),
  measuredLoss: z.number(),
  /** Samples into the run the forecast is for, the loss predicted there, and φ there. */
  atSamples: z.number(),
  loss: z.number(),
  noiseScale: z.number(),
  /** L ∝ samples^−lossExponent and φ ∝ L^−growthExponent, as fitted (after clamping). */
  lossExponent: z.number(),
  growthExponent: z.number(),
  /** Whether the growth exponent was measured (else the prior of McCandlish et al.'s model). */
  growthMeasured: z.boolean(),
});

/** The noise scale measured again later in training (Full), and the early forecast it refines (LateNoise). */
export const lateNoiseSchema = z.strictObject({
  /** Samples trained when it was measured, the training loss there, and φ. */
  samples: z.number(),
  loss: anyNumber,
  noiseScale: z.number(),
  pretrainSteps: z.number().int(),
  /** φ forecast from the early windows alone, before this measurement. */
  earlyNoiseScale: z.number(),
});

/** One ramp of the range test: its curve and what was read from it. */
const rangeRampSchema = z.strictObject({
  batchSize: z.number().int(),
  /** One point per step up to the first non-finite loss: the rate, its loss, the smoothed loss. */
  points: z.array(z.strictObject({ rate: z.number(), loss: z.number(), smoothed: z.number() })),
  steepestRate: z.number().nullable(),
  minimumRate: z.number().nullable(),
  /** The rate suggested for batchSize; null when the curve showed no clear fall. */
  rate: z.number().nullable(),
});

/** The learning-rate range test: its first ramp's curve and reading at the top level, as stored before (LearningRateTest). */
export const learningRateTestSchema = rangeRampSchema.extend({
  /** The second ramp, at another batch (absent when it was not run). */
  second: rangeRampSchema.optional(),
  /** How far apart the two ramps' readings are, scaled to the base batch (≥ 1); null with one reading. */
  spread: z.number().nullable().optional(),
  /** Whether the readings agreed well enough to trust their mean (else the lower one was taken). */
  sure: z.boolean().optional(),
  /** The base rate taken from the readings, at the base batch. */
  baseRate: z.number().nullable().optional(),
});

/** A probe shortened or skipped to keep the search within its time allowance. */
const cutSchema = z.strictObject({
  probe: z.enum(CUT_ORDER),
  how: z.enum(['shortened', 'skipped']),
  wanted: z.number(),
  granted: z.number(),
});

/** What the search could spend, spent, and cut (SearchAllowanceReport). */
export const searchAllowanceSchema = z.strictObject({
  /** The share of the planned run the mode may spend (0.05 Quick, 0.15 Full). */
  share: z.number(),
  /** The planned run's seconds (null: never predicted) and where they come from. */
  plannedSeconds: z.number().nullable(),
  plannedFrom: z.enum(['your budget', 'predicted']),
  allowanceSeconds: z.number().nullable(),
  startupSeconds: z.number(),
  spentSeconds: z.number(),
  /** Seconds spent when the memory probes were done: the shortest search on this device. */
  shortestSeconds: z.number().optional(),
  cuts: z.array(cutSchema),
  /** The previous tuning whose findings stood in for skipped probes. */
  reusedFrom: z.number().int().optional(),
});

/** What a finished search recommends, and why (TuningReport). */
export const tuningReportSchema = z.strictObject({
  recommendation: z.strictObject({
    batchSize: z.number().int(),
    learningRate: z.number(),
    warmupSteps: z.number().int(),
    expectedSamplesPerSecond: z.number(),
    /**
     * Gradient accumulation: batchSize (above the memory ceiling) trained in passes of this many
     * samples, because goodput said so (docs/architecture.md §5.7a); absent: the batch in one pass.
     */
    microBatchSize: z.number().int().min(1).optional(),
    /** Largest batch verified to fit, after the safety margin. */
    memoryCeiling: z.number().int(),
    memoryBudgetBytes: z.number(),
    /** Share of the budget left at the recommended batch (0…1), when memory was measured there. */
    memoryHeadroom: z.number().nullable(),
    noiseScale: z.number().nullable(),
    optimizer: z.enum(OPTIMIZERS),
    /**
     * The largest forward-only batch that fits (validation and the final evaluation), measured
     * or known to fit; absent when the search did not look (its probes cut, or a report from before).
     */
    evalBatchSize: z.number().int().min(1).optional(),
  }),
  /** One sentence per reason for the choice. */
  reasons: z.array(z.string()),
  /** m(B), X(B), E(B), G(B) against batch size. */
  curves: z.array(curvePointSchema),
  fits: z.strictObject({
    /** m(B) = max(a + b·B, updateFloor): forward/backward grows with B, the optimizer update does not. */
    memory: z.strictObject({ a: z.number(), b: z.number(), r2: anyNumber, updateFloor: z.number().optional() }).nullable(),
    time: z.strictObject({ alpha: z.number(), beta: z.number(), r2: anyNumber }).nullable(),
  }),
  /** Throughput saturates from this batch on (≥ 90 % of the best measured). */
  saturationBatch: z.number().int().nullable(),
  /**
   * How the noise scale was carried forward (Full mode): measured over the probe's windows, then
   * forecast at the loss expected halfway through the planned run (see forecastNoiseScale).
   */
  noiseForecast: noiseForecastSchema.nullable().optional(),
  /** The late re-measurement of the noise scale (Full; absent when it did not run). */
  lateNoise: lateNoiseSchema.optional(),
  /** The learning-rate range test (absent in reports stored before it existed, null when skipped). */
  learningRateTest: learningRateTestSchema.nullable().optional(),
  /** Predicted speed-up with 2, 4 and 8 data-parallel workers, from the noise scale. */
  scaleOut: z.array(z.strictObject({ workers: z.number().int(), speedup: z.number() })).nullable(),
  /** The time allowance (absent in reports stored before it existed). */
  allowance: searchAllowanceSchema.optional(),
  searchSeconds: z.number(),
});

/** Where a running search is (TuningProgress). */
export const tuningProgressSchema = z.strictObject({
  sessionId: z.number().int().min(1),
  phase: z.enum(TUNING_PHASES),
  /** 1-based number of the probe in this session. */
  trial: z.number().int(),
  batchSize: z.number().int().nullable(),
  /** Seconds left, roughly; null while unknown. */
  etaSeconds: z.number().nullable(),
  message: z.string(),
});
