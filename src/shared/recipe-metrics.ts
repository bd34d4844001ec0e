// The metrics an exported distributed recipe writes (one JSON object per line) and that
// `autobatch runs import` reads back: one schema for both sides. The recipe's Python script
// (python/recipe/) writes exactly these lines; test/fixtures/recipe-metrics/ holds valid and
// invalid files that both the import and the script's own check judge alike.
//
// A file is: one 'start' line, then 'step' and 'epoch' lines in order, then (unless the run was
// cut off) one 'end' line. Only rank 0 writes it. Times are seconds since the first training step.
// Non-finite numbers are written as {"$f": "NaN" | "Infinity" | "-Infinity"}, as the trainers'
// protocol does (json-lines.ts): read the lines with decodeJsonLine.
import { z } from 'zod';
import { anyNumber } from './schemas.js';
import { OPTIMIZERS, RUN_MODELS } from './run-types.js';

export const RECIPE_METRICS_FORMAT = 'autobatch-recipe-metrics/1' as const;

const finite = z.number().finite();
const count = z.number().int().min(0);

/** What the recipe was made from: a run or a tuning of this app, and its plan row. */
export const recipeOriginSchema = z.strictObject({
  kind: z.enum(['run', 'tuning']),
  id: z.number().int().min(1),
  /** The app version that exported the recipe. */
  appVersion: z.string(),
  /** When it was exported (ISO 8601). */
  exportedAt: z.string(),
});

/** The training the recipe does, as the scale-out plan set it (shared/scale-out.ts). */
export const recipeSettingsSchema = z.strictObject({
  model: z.enum(RUN_MODELS),
  /** Trainable parameters, as the app counts them (the script prints its own count and refuses to start on a mismatch). */
  parameters: count,
  optimizer: z.enum(OPTIMIZERS),
  workers: z.number().int().min(1),
  perWorkerBatch: z.number().int().min(1),
  /** Per-worker micro-batch when the per-worker batch is accumulated; equal to perWorkerBatch when not. */
  microBatch: z.number().int().min(1),
  globalBatch: z.number().int().min(1),
  learningRate: finite.positive(),
  warmupSteps: count,
  epochs: z.number().int().min(1),
  seed: z.number().int(),
});

export const recipeDatasetSchema = z.strictObject({
  name: z.string(),
  /** The dataset's content hash in the app, where it had one. */
  contentHash: z.string().nullable(),
  trainCount: count,
  validationCount: count,
  classes: z.array(z.string()).min(1),
});

export const recipeStartLineSchema = z.strictObject({
  kind: z.literal('start'),
  format: z.literal(RECIPE_METRICS_FORMAT),
  origin: recipeOriginSchema,
  settings: recipeSettingsSchema,
  dataset: recipeDatasetSchema,
  /** The world the script actually ran in. */
  world: z.strictObject({
    size: z.number().int().min(1),
    /** torch.distributed's backend: 'gloo', 'nccl', … */
    backend: z.string(),
    device: z.string(),
    torchVersion: z.string(),
  }),
  /** Whether training continued from the app's trained weights (--with-weights). */
  fromWeights: z.boolean(),
  /** Wall-clock start (ISO 8601). */
  startedAt: z.string(),
});

export const recipeStepLineSchema = z.strictObject({
  kind: z.literal('step'),
  /** Global optimizer step, 1-based. */
  step: z.number().int().min(1),
  epoch: z.number().int().min(1),
  time: finite.min(0),
  /** Mean training loss of the step over all workers (may be NaN when training diverged). */
  loss: anyNumber,
  accuracy: finite.min(0).max(1),
  learningRate: finite.min(0),
  /** Samples per second over all workers. */
  samplesPerSecond: finite.min(0),
  stepMs: finite.min(0),
});

export const recipeEpochLineSchema = z.strictObject({
  kind: z.literal('epoch'),
  epoch: z.number().int().min(1),
  /** The global step the epoch ended at. */
  step: count,
  time: finite.min(0),
  trainLoss: anyNumber,
  trainAccuracy: finite.min(0).max(1),
  valLoss: anyNumber,
  valAccuracy: finite.min(0).max(1),
});

export const recipeEndLineSchema = z.strictObject({
  kind: z.literal('end'),
  status: z.enum(['completed', 'stopped', 'failed']),
  steps: count,
  time: finite.min(0),
  error: z.string().nullable(),
});

export const recipeMetricsLineSchema = z.discriminatedUnion('kind', [recipeStartLineSchema, recipeStepLineSchema, recipeEpochLineSchema, recipeEndLineSchema]);

export type RecipeStartLine = z.infer<typeof recipeStartLineSchema>;
export type RecipeStepLine = z.infer<typeof recipeStepLineSchema>;
export type RecipeEpochLine = z.infer<typeof recipeEpochLineSchema>;
export type RecipeEndLine = z.infer<typeof recipeEndLineSchema>;
export type RecipeMetricsLine = z.infer<typeof recipeMetricsLineSchema>;
export type RecipeSettings = z.infer<typeof recipeSettingsSchema>;

/** The file name the recipe writes its metrics to, in its output folder. */
export const RECIPE_METRICS_FILE = 'metrics.jsonl';
