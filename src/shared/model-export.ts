// What an exported model carries besides its weights: model.json's `userDefinedMetadata`, written
// by the trainer when it saves a model and read back when a run starts from one. The format is
// documented in the README ("Exported models"); this schema is its definition. Pure data.
//
// Format version 1 (format: 'autobatch-model'). Models saved before it existed carry only
// classes, inputShape, normalization and runId; they are still read (readModelMetadata).
import { z } from 'zod';
import { MODEL_FAMILIES, architectureInfo } from './model-families.js';
import { MODEL_KINDS, OPTIMIZERS, RUN_MODELS, type RunModel } from './run-types.js';
import { trainConfigSchema } from './schemas.js';
import { TUNING_MODES } from './tuning-types.js';
import type { ModelFamily } from './model-families.js';

export const MODEL_EXPORT_FORMAT = 'autobatch-model';
export const MODEL_EXPORT_VERSION = 1;

const count = z.number().int().min(0);

/** How the stored features become the model's inputs (DatasetManifest.normalization). */
export const normalizationSchema = z.discriminatedUnion('kind', [
  /** Images: input = pixel × scale (1/255: inputs in [0, 1]). */
  z.strictObject({ kind: z.literal('scale'), scale: z.number().finite().positive() }),
  /** Tables: input = (value − mean) / std, per column, from the training split. */
  z.strictObject({ kind: z.literal('standardize'), mean: z.array(z.number().finite()), std: z.array(z.number().finite()) }),
]);

/** The Auto-tune session a run trained with: which, and what it recommended. */
export const tuningOriginSchema = z.strictObject({
  sessionId: z.number().int().min(1),
  mode: z.enum(TUNING_MODES),
  recommendation: z.strictObject({
    batchSize: z.number().int().min(1),
    learningRate: z.number().positive(),
    warmupSteps: count,
    optimizer: z.enum(OPTIMIZERS),
    /** Largest batch verified to fit the memory budget. */
    memoryCeiling: z.number().int().min(0),
    expectedSamplesPerSecond: z.number().min(0),
    /** Gradient noise scale (Full mode), else null. */
    noiseScale: z.number().nullable(),
  }),
});
export type TuningOrigin = z.infer<typeof tuningOriginSchema>;

/** model.json's userDefinedMetadata as this version writes it. */
export const modelExportMetadataSchema = z.strictObject({
  format: z.literal(MODEL_EXPORT_FORMAT),
  formatVersion: z.literal(MODEL_EXPORT_VERSION),
  /** The architecture (`autobatch architectures`), or 'imported' for one started from a model made elsewhere. */
  model: z.enum(RUN_MODELS),
  /** Its family; null for an imported model. */
  family: z.enum(MODEL_FAMILIES).nullable(),
  /** Output i is the probability of classes[i]. */
  classes: z.array(z.string()).min(1),
  /** One input without the batch axis: [height, width, channels] (NHWC) for images, [features] for tables. */
  inputShape: z.array(z.number().int().min(1)).min(1),
  /** How raw values become inputs; the model does not do it itself. */
  normalization: normalizationSchema,
  /** Images: the raw pixel range ([0, 255]) that normalization scales; null for tables. */
  pixelRange: z.tuple([z.literal(0), z.literal(255)]).nullable(),
  /** Weights training can change (all but batch norm's running statistics), and every stored value. */
  trainableParameters: count,
  totalParameters: count,
  /** The run (in the data folder it was trained in) and its dataset. */
  runId: z.number().int().min(1),
  datasetName: z.string(),
  /** When the model was saved (ISO 8601). */
  createdAt: z.iso.datetime({ offset: true }),
  /** How it was made: the run's settings (augmentation and start model included), and its tuning. */
  madeWith: z.strictObject({
    settings: trainConfigSchema,
    tuning: tuningOriginSchema.nullable(),
  }),
});
export type ModelExportMetadata = z.infer<typeof modelExportMetadataSchema>;

/** The family a model's metadata names: its architecture's, none for an imported model. */
export function familyOf(model: RunModel): ModelFamily | null {
  return model === 'imported' ? null : architectureInfo(model).family;
}

/**
 * Trainable and total parameters of a model from its weights (name and shape each), as saved:
 * batch norm's running mean and variance are stored but never trained, whatever part of the
 * model was frozen while it was fine-tuned.
 */
export function parameterCounts(weights: readonly { name: string; shape: readonly number[] }[]): { trainable: number; total: number } {
  let trainable = 0;
  let total = 0;
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    total += size;
    if (!/(^|\/)moving_(mean|variance)(_\d+)?$/.test(w.name)) trainable += size;
  }
  return { trainable, total };
}

/** What a run starting from an exported model learns from its metadata. */
export interface ReadModelMetadata {
  /** The format version; 0 for exports written before there was one. */
  formatVersion: number;
  classes: string[];
  inputShape: number[];
  normalization: z.infer<typeof normalizationSchema>;
  runId: number | null;
  /** The architecture, when it is one this app builds (absent from old exports). */
  model: RunModel | null;
}

/**
 * The fields a reader needs. Loose, so that a later version's extra fields do not stop this one
 * from reading what it knows.
 */
const readableSchema = z.looseObject({
  format: z.literal(MODEL_EXPORT_FORMAT).optional(),
  formatVersion: z.number().int().min(1).optional(),
  model: z.string().optional(),
  classes: z.array(z.string()).min(1),
  inputShape: z.array(z.number().int().min(1)).min(1),
  normalization: normalizationSchema,
  runId: z.number().int().min(1).optional(),
});

/** A model's metadata that says it is this app's but cannot be read. */
export class ModelMetadataError extends Error {}

/**
 * Reads an export's metadata: this version's, a later one's (the fields it needs), or an old
 * export's (classes, inputShape, normalization and runId, no format). Null when the model is not
 * this app's (other metadata, or none). Throws ModelMetadataError, naming the field, when the
 * metadata says it is this app's but a field it needs is wrong.
 */
export function readModelMetadata(raw: unknown): ReadModelMetadata | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const fields = raw as Record<string, unknown>;
  const claimsApp = fields.format === MODEL_EXPORT_FORMAT || ('runId' in fields && 'normalization' in fields && 'classes' in fields);
  if (!claimsApp) return null;
  const parsed = readableSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `userDefinedMetadata.${issue.path.join('.')}` : 'userDefinedMetadata';
    throw new ModelMetadataError(`${where}: ${issue.message}`);
  }
  const m = parsed.data;
  return {
    formatVersion: m.format === MODEL_EXPORT_FORMAT ? (m.formatVersion ?? MODEL_EXPORT_VERSION) : 0,
    classes: m.classes,
    inputShape: m.inputShape,
    normalization: m.normalization,
    runId: m.runId ?? null,
    model: m.model !== undefined && (RUN_MODELS as readonly string[]).includes(m.model) ? (m.model as RunModel) : null,
  };
}

/** Whether a model name is an architecture this app builds. */
export function isModelKind(name: string | null | undefined): name is (typeof MODEL_KINDS)[number] {
  return name !== null && name !== undefined && (MODEL_KINDS as readonly string[]).includes(name);
}
