// zod schemas for what the store reads back from JSON (and enum) columns. A row that fails
// them gives StoreError('corrupt') naming the row and column instead of a crash later on.

import { z } from 'zod';
import { DATASET_KINDS, IMAGE_FITS } from '../../shared/dataset-types.js';
import type { DatasetManifest } from '../../shared/dataset-types.js';
import { BACKEND_CHOICES, OPTIMIZERS, RUN_MODELS, RUN_STATUSES } from '../../shared/run-types.js';
import type { BackendSkip, ConcreteBackend, TrainConfig } from '../../shared/run-types.js';
import { describeSchemaError } from '../../shared/schema-errors.js';
import { tuningFingerprintSchema, type TuningFingerprint } from '../../shared/tuning-fingerprint.js';
import { StoreError } from './errors.js';

export const ARTIFACT_KINDS = ['model'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

const count = z.number().int().nonnegative();

export const datasetKindSchema = z.enum(DATASET_KINDS);

// Loose objects keep fields added by newer engines instead of silently dropping them.
export const manifestSchema = z.looseObject({
  formatVersion: z.literal(1),
  name: z.string().min(1),
  kind: datasetKindSchema,
  source: z.string(),
  inputShape: z.array(count),
  featureDtype: z.enum(['uint8', 'float32']),
  count,
  classes: z.array(z.string()),
  classCounts: z.array(count),
  split: z.looseObject({
    seed: z.number(),
    validationFraction: z.number(),
    trainCount: count,
    validationCount: count,
  }),
  normalization: z.discriminatedUnion('kind', [
    z.looseObject({ kind: z.literal('scale'), scale: z.number() }),
    z.looseObject({ kind: z.literal('standardize'), mean: z.array(z.number()), std: z.array(z.number()) }),
  ]),
  problems: z.array(z.looseObject({ file: z.string(), row: z.number().int().optional(), reason: z.string() })),
  skipped: count,
  previews: z.array(
    z.looseObject({
      classIndex: count,
      index: count,
      image: z.string().optional(),
      values: z.array(z.number()).optional(),
    }),
  ),
  createdAt: z.string(),
  // Added later: manifests without it (older imports) stay valid.
  imageTransform: z.looseObject({ fit: z.enum(IMAGE_FITS).optional(), sourceShape: z.array(count).optional() }).optional(),
});

export const trainConfigSchema = z.looseObject({
  // 'imported': a run started from a model this app did not make (config.startFrom says which).
  model: z.enum(RUN_MODELS),
  batchSize: z.number().int().positive(),
  epochs: z.number().int().positive(),
  learningRate: z.number().positive(),
  optimizer: z.enum(OPTIMIZERS),
  momentum: z.number(),
  warmupSteps: z.number().int().nonnegative(),
  backend: z.enum(BACKEND_CHOICES),
  seed: z.number().int(),
});

export const backendSkipsSchema = z.array(z.looseObject({ backend: z.string(), reason: z.string() }));
export const runStatusSchema = z.enum(RUN_STATUSES);
export const modelKindSchema = z.enum(RUN_MODELS);
export const artifactKindSchema = z.enum(ARTIFACT_KINDS);
/** A dataset's content hash: sha256 in lower-case hex. */
export const contentHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in lower-case hex');

// Compile-time checks that the schemas produce the shared types.
const _manifestCheck = (m: z.infer<typeof manifestSchema>): DatasetManifest => m;
const _configCheck = (c: z.infer<typeof trainConfigSchema>): TrainConfig => c;
const _skipsCheck = (s: z.infer<typeof backendSkipsSchema>): BackendSkip[] => s;
void _manifestCheck;
void _configCheck;
void _skipsCheck;

/** Where a value came from, for error messages: e.g. { what: 'run 5', column: 'config', file }. */
interface ColumnRef {
  what: string;
  column: string;
  file: string;
}

function damaged(ref: ColumnRef, detail: string, cause?: unknown): StoreError {
  return new StoreError('corrupt', `${ref.what} in ${ref.file} has a damaged ${ref.column} column (${detail})`, {
    file: ref.file,
    cause,
  });
}

/** Validates a plain column value (enum etc.). */
export function checkColumn<S extends z.ZodType>(schema: S, value: unknown, ref: ColumnRef): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw damaged(ref, describeSchemaError(result.error), result.error);
  return result.data;
}

/** Parses and validates a JSON column. */
export function parseJsonColumn<S extends z.ZodType>(schema: S, text: unknown, ref: ColumnRef): z.infer<S> {
  if (typeof text !== 'string') throw damaged(ref, `expected JSON text, found ${text === null ? 'NULL' : typeof text}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw damaged(ref, `not valid JSON: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  return checkColumn(schema, value, ref);
}

/** Validates a value before it is written; a bad one is the caller's mistake (plain Error). */
export function checkInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new Error(`invalid ${what}: ${describeSchemaError(result.error)}`);
  return result.data;
}

/** A stored rung; one this app does not know (a newer app wrote it) reads as none, and the backend name stands in. */
export function storedRung(raw: string | null): ConcreteBackend | null {
  return raw !== null && raw !== 'auto' && (BACKEND_CHOICES as readonly string[]).includes(raw) ? (raw as ConcreteBackend) : null;
}

/**
 * A stored fingerprint, read loosely: JSON a newer or older app wrote in a shape this one does
 * not know reads as none ("fingerprint unknown") rather than failing the tuning's whole row.
 */
export function storedFingerprint(raw: string | null): TuningFingerprint | null {
  if (raw === null) return null;
  try {
    const parsed = tuningFingerprintSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
