// Augmentation levels and starting a run from a trained model: the settings as requests name
// them and as runs store them. Pure data and their schemas; the engine does the work
// (src/main/engine/training/augment.ts, src/main/engine/models/start-model.ts).
import { z } from 'zod';
import type { DatasetKind } from './dataset-types.js';

export const AUGMENT_LEVELS = ['none', 'light', 'standard'] as const;
export type AugmentLevel = (typeof AUGMENT_LEVELS)[number];

/** What each level does to a training batch, in the words the UI and the CLI's help use. */
export const AUGMENT_DESCRIPTIONS: Record<AugmentLevel, string> = {
  none: 'no augmentation',
  light: 'random shifts of up to 1/8 of the side (pad and crop)',
  standard: 'random shifts, horizontal flips, brightness and contrast ±20 %',
};

/** Largest shift, as a fraction of the image's side. */
export const AUGMENT_SHIFT_FRACTION = 1 / 8;
/** Brightness and contrast factors are drawn from [1 − this, 1 + this]. */
export const AUGMENT_INTENSITY_RANGE = 0.2;

/**
 * The level a run gets when the request does not name one: photos (image folders) vary in
 * framing, so they get shifts; digits and tables (IDX, the MNIST sample, CSV) get nothing, since
 * a flip or a shift can change what a digit is and tables have no pixels.
 */
export function defaultAugmentation(kind: DatasetKind): AugmentLevel {
  return kind === 'image-folder' ? 'light' : 'none';
}

/** Why a level cannot apply to an input of this shape; null when it can. */
export function augmentationProblem(level: AugmentLevel, inputShape: readonly number[], datasetName: string): string | null {
  if (level === 'none' || inputShape.length === 3) return null;
  return `augmentation "${level}" needs an image dataset; "${datasetName}" has ${inputShape.length === 1 ? `${inputShape[0]} features per row (a table)` : `inputs of shape [${inputShape.join(', ')}]`}: use --augment none`;
}

/** The fine-tuning rate is this times the run's rate unless the request names one. */
export const FINE_TUNE_RATE_FACTOR = 0.1;

/** Where a run's starting model comes from, as a request names it. */
export const startFromRequestSchema = z.strictObject({
  /** A run id (digits), a folder holding model.json, a model.json path, or an http(s) address of a model.json. */
  source: z.string().trim().min(1, 'name a run id, a folder, a model.json file or an address').max(4096),
  /** Train the last N blocks of the backbone too (0: only the new classifier). */
  unfreeze: z.number().int().min(0).max(1000).optional(),
  /** Learning rate of the unfrozen blocks (default FINE_TUNE_RATE_FACTOR × the run's rate). */
  fineTuneLearningRate: z.number().finite().gt(0).max(10).optional(),
});
export type StartFromRequest = z.infer<typeof startFromRequestSchema>;

/** The model a run started from, as stored with the run (and its tuning) once resolved. */
export const startFromSchema = z.strictObject({
  /** What the user named (run id, folder, file or address). */
  source: z.string().min(1).max(4096),
  sourceKind: z.enum(['run', 'folder', 'file', 'url']),
  /** The run that made it, when it was this app's (from the source or the model's metadata). */
  runId: z.number().int().min(1).optional(),
  /** sha256 of model.json and the weights: the stored copy's name under <data>/start-models/. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  /** Its architecture: a model name of this app, or the model's own name for one from elsewhere. */
  architecture: z.string().min(1).max(200),
  /** The classes it was trained on, and its input. */
  classes: z.array(z.string()).max(100_000),
  inputShape: z.array(z.number().int().min(1)).min(1).max(4),
  /** Blocks of the backbone trained (the last ones), of how many. */
  unfreeze: z.number().int().min(0),
  blocks: z.number().int().min(0),
  /** Whether a batch-norm layer trains (is in an unfrozen block): then batches have a floor. */
  batchNormTrained: z.boolean(),
  fineTuneLearningRate: z.number().finite().gt(0).max(10),
});
export type StartFrom = z.infer<typeof startFromSchema>;
