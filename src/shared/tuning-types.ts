// The automatic batch-size search as every part of the app sees it: requests, progress,
// trials and the report. Pure data.
import type { z } from 'zod';
import type {
  curvePointSchema,
  learningRateTestSchema,
  noiseForecastSchema,
  lateNoiseSchema,
  searchAllowanceSchema,
  trialSchema,
  tuningProgressSchema,
  tuningReportSchema,
  tuningRequestSchema,
} from './tuning-schemas.js';

export const TUNING_MODES = ['quick', 'full'] as const;
export type TuningMode = (typeof TUNING_MODES)[number];

export const TUNING_STATUSES = ['running', 'completed', 'failed', 'stopped', 'interrupted'] as const;
export type TuningStatus = (typeof TUNING_STATUSES)[number];

export const TRIAL_KINDS = ['memory', 'throughput', 'learning-rate', 'noise', 'trial', 'forward-memory'] as const;
export type TrialKind = (typeof TRIAL_KINDS)[number];

/** ok, or what went wrong / what a validation trial was flagged for. */
export const TRIAL_STATUSES = ['ok', 'oom', 'crashed', 'error', 'diverged', 'oscillating', 'worse'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/** The phases a search goes through, as its progress events name them. */
export const TUNING_PHASES = ['starting', 'memory', 'throughput', 'learning-rate', 'noise', 'trials', 'report'] as const;
export type TuningPhase = (typeof TUNING_PHASES)[number];

// The shapes below are defined by their zod schemas in tuning-schemas.ts (field docs are there);
// the types are inferred from them, so a type and its runtime check cannot drift apart.

/** A search as it was run, defaults applied. */
export type TuningRequest = z.infer<typeof tuningRequestSchema>;

/** One probe of a search and what it measured. */
export type TrialRecord = z.infer<typeof trialSchema>;

/** One point of the curves m(B), X(B), E(B), G(B); absent values were not measured. */
export type CurvePoint = z.infer<typeof curvePointSchema>;

/** How the noise scale was carried forward to later in the run (see forecastNoiseScale). */
export type NoiseForecast = z.infer<typeof noiseForecastSchema>;

/** The learning-rate range test of a Full search: its curve and what was read from it. */
export type LearningRateTest = z.infer<typeof learningRateTestSchema>;

/** The noise scale re-measured later in training. */
export type LateNoise = z.infer<typeof lateNoiseSchema>;

/** What the search could spend, spent, and cut to keep to it. */
export type SearchAllowanceReport = z.infer<typeof searchAllowanceSchema>;

/** What a finished search recommends, and why. */
export type TuningReport = z.infer<typeof tuningReportSchema>;

/** Where a running search is. */
export type TuningProgress = z.infer<typeof tuningProgressSchema>;
