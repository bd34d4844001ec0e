// Schemas of what the API returns and sends as events: datasets, runs, tuning sessions,
// evaluations, settings. Every value is plain data (structured-clone and wire safe); images
// travel as PNG data URLs the browser can draw directly.
import { z } from 'zod';
import { runEventSchema } from '../run-events.js';
import { recipeOriginSchema, recipeSettingsSchema } from '../recipe-metrics.js';
import { CHECKPOINT_REASONS } from '../checkpoint.js';
import { datasetSplitSchema, importProblemSchema, importProgressSchema as sharedImportProgressSchema } from '../dataset-schemas.js';
import { DATASET_KINDS, IMAGE_FITS } from '../dataset-types.js';
import { MODEL_FAMILIES } from '../model-families.js';
import { BACKEND_CHOICES, MODEL_KINDS, RUN_MODELS, RUN_STATUSES } from '../run-types.js';
import { anyNumber, backendReportSchema, backendSkipSchema, epochMetricsSchema, stepMetricsSchema, trainConfigSchema } from '../schemas.js';
import { TUNING_MODES, TUNING_STATUSES } from '../tuning-types.js';
import { tuningFingerprintSchema, tuningFreshnessSchema } from '../tuning-fingerprint.js';
import { curvePointSchema, trialSchema, tuningProgressSchema, tuningReportSchema, tuningRequestSchema } from '../tuning-schemas.js';
import { scaleOutPlanSchema } from '../scale-out-schemas.js';

// Defined in src/shared with their types (schemas.ts, tuning-schemas.ts, dataset-types.ts); re-exported as part of what the API carries.
export { backendSkipSchema, curvePointSchema, DATASET_KINDS, trialSchema, tuningProgressSchema, tuningReportSchema, tuningRequestSchema };

const count = z.number().int().min(0);
const id = z.number().int().min(1);
const iso = z.string();
/** A data: URL of a PNG image, ready for <img src> or a canvas. */
const imageDataUrlSchema = z.string().startsWith('data:image/');

// ---- datasets -------------------------------------------------------------------------------

export const datasetSummarySchema = z.strictObject({
  id,
  name: z.string(),
  kind: z.enum(DATASET_KINDS),
  /** The folder/file imported, or 'sample:mnist'. */
  source: z.string(),
  createdAt: iso,
  /** [H, W, C] for images, [F] for tabular data. */
  inputShape: z.array(z.number().int()),
  count,
  classCount: count,
  trainCount: count,
  validationCount: count,
  /** Problems found at import, those beyond the listed ones included (an empty class folder is a problem but no input). */
  problemCount: count,
  /** Inputs left out because of problems. */
  skipped: count,
});
export type DatasetSummary = z.infer<typeof datasetSummarySchema>;

const datasetPreviewSchema = z.strictObject({
  classIndex: z.number().int().min(0),
  /** Index of the sample in the dataset. */
  index: z.number().int().min(0),
  /** Images: the thumbnail. */
  image: imageDataUrlSchema.optional(),
  /** Tabular data: the first feature values. */
  values: z.array(anyNumber).optional(),
});

export const datasetDetailSchema = z.strictObject({
  ...datasetSummarySchema.shape,
  classes: z.array(z.strictObject({ index: z.number().int().min(0), name: z.string(), count })),
  split: datasetSplitSchema,
  /** Every problem found at import, in plain words (with skipBad these inputs were left out). */
  problems: z.array(importProblemSchema),
  previews: z.array(datasetPreviewSchema),
  /** Models whose input this dataset fits ('small'/'large' need images). */
  models: z.array(z.enum(MODEL_KINDS)),
  /** What the import did to the images' size or channels (see ImageTransform); absent when nothing was or it was not recorded. */
  imageTransform: z
    .strictObject({
      fit: z.enum(IMAGE_FITS).optional(),
      /** IDX and the sample: the source's [H, W, C]. */
      sourceShape: z.array(z.number().int().min(1)).optional(),
    })
    .optional(),
});
export type DatasetDetail = z.infer<typeof datasetDetailSchema>;

export const importProgressSchema = z.strictObject({
  /** The id the caller chose for the import. */
  importId: z.string(),
  ...sharedImportProgressSchema.shape,
});
export type ImportProgressEvent = z.infer<typeof importProgressSchema>;

// ---- models ---------------------------------------------------------------------------------

export const architectureSchema = z.strictObject({
  model: z.enum(MODEL_KINDS),
  /** A short name for menus. */
  label: z.string(),
  family: z.enum(MODEL_FAMILIES),
  /** One line: what it is and what it suits. */
  description: z.string(),
  batchNorm: z.boolean(),
  /** The smallest per-step batch Auto-tune and training use for it (16 with batch norm, else 1). */
  minimumBatch: z.number().int().min(1),
  /** Trainable parameters when built for the list's input; null when it does not fit that input. */
  trainableParameters: count.nullable(),
  /** Whether it takes the list's input (every model takes the reference input). */
  fits: z.boolean(),
  /** Why it does not fit, in plain words; null when it does. */
  problem: z.string().nullable(),
});
export type Architecture = z.infer<typeof architectureSchema>;

export const architectureListSchema = z.strictObject({
  /** The dataset the sizes are for; null when none was named and they are for the reference input. */
  dataset: z.strictObject({ id, name: z.string() }).nullable(),
  /** The input the parameters are counted at: the dataset's ([H, W, C] or [F]), else 32×32×3. */
  inputShape: z.array(z.number().int().min(1)),
  /** Output classes the parameters are counted with: the dataset's, else 10. */
  classes: count,
  /** Every model, in the order menus list them. */
  models: z.array(architectureSchema),
});
export type ArchitectureList = z.infer<typeof architectureListSchema>;

// ---- runs -----------------------------------------------------------------------------------

/**
 * A run trained elsewhere — an exported recipe run with PyTorch DDP on K workers — whose metrics
 * file was imported (`importRunMetrics`): where it ran, the plan it came from, where it was read.
 */
export const distributedRunSchema = z.strictObject({
  engine: z.literal('pytorch-ddp'),
  /** The processes it ran on (the world size, equal to the plan's workers). */
  workers: z.number().int().min(1),
  /** torch.distributed's backend: 'gloo', 'nccl'… */
  worldBackend: z.string(),
  /** The device each worker trained on, as torch named it ('cpu', 'cuda'…). */
  device: z.string(),
  torchVersion: z.string(),
  /** The run or tuning of this app whose scale-out plan the recipe was exported from. */
  origin: recipeOriginSchema,
  /** The plan's settings, as the recipe trained with them. */
  plan: recipeSettingsSchema,
  /** Whether it continued from this app's trained weights (--with-weights). */
  fromWeights: z.boolean(),
  /** The metrics file read (an upload's copy, in the browser). */
  importedFrom: z.string(),
  importedAt: iso,
  /** sha256 of the file's bytes: the same file is imported once. */
  sha256: z.string(),
  /** Stored without its end line (imported with partial): the run was still running or cut off. */
  partial: z.boolean(),
});
export type DistributedRun = z.infer<typeof distributedRunSchema>;

export const runSummarySchema = z.strictObject({
  id,
  datasetId: id,
  datasetName: z.string(),
  model: z.enum(RUN_MODELS),
  config: trainConfigSchema,
  status: z.enum(RUN_STATUSES),
  backend: z.string().nullable(),
  /** The concrete choice it trained on ('torch-cpu', 'wasm'…), which `auto` resolved to; null before it started, and for runs stored before it was kept. */
  rung: z.enum(BACKEND_CHOICES).exclude(['auto']).nullable(),
  device: z.string().nullable(),
  backendSkipped: z.array(backendSkipSchema),
  createdAt: iso,
  startedAt: iso.nullable(),
  endedAt: iso.nullable(),
  trainSeconds: z.number().nullable(),
  /** Best — not last — validation accuracy over the run. */
  bestValAccuracy: z.number().nullable(),
  finalValAccuracy: z.number().nullable(),
  samplesPerSecond: z.number().nullable(),
  steps: count,
  error: z.string().nullable(),
  tuningSessionId: z.number().int().nullable(),
  /** Whether this process is running it now (it can be stopped). */
  active: z.boolean(),
  /** Whether its trained model is stored (it can be exported, or started from). */
  hasModel: z.boolean(),
  /** Present for a run trained elsewhere and imported (its provenance); absent for runs trained here. */
  distributed: distributedRunSchema.optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

/** Stored metric names a series can be asked for. */
export const SERIES_NAMES = [
  'loss',
  'accuracy',
  'samples_per_s',
  'step_ms',
  'memory_bytes',
  'lr',
  'val_loss',
  'val_accuracy',
  'epoch_loss',
  'epoch_accuracy',
] as const;
export type SeriesName = (typeof SERIES_NAMES)[number];

export const seriesPointSchema = z.strictObject({ step: z.number().int(), epoch: z.number().int(), time: z.number(), value: anyNumber });
export type SeriesPoint = z.infer<typeof seriesPointSchema>;

const misclassifiedSampleSchema = z.strictObject({
  index: z.number().int().min(0),
  trueClass: z.number().int(),
  predictedClass: z.number().int(),
  /** The model's probability for its (wrong) prediction; the list is sorted by it, highest first. */
  confidence: z.number(),
  image: imageDataUrlSchema.optional(),
  values: z.array(anyNumber).optional(),
});
export type MisclassifiedSample = z.infer<typeof misclassifiedSampleSchema>;

const evaluationViewSchema = z.strictObject({
  classes: z.array(z.string()),
  /** confusion[true][predicted] over the validation split. */
  confusion: z.array(z.array(count)),
  perClassAccuracy: z.array(anyNumber),
  /** How many validation samples were wrong in all. */
  misclassifiedCount: count,
  /** The most confident mistakes first, at most the requested number. */
  misclassified: z.array(misclassifiedSampleSchema),
});
export type EvaluationView = z.infer<typeof evaluationViewSchema>;

// ---- tuning ---------------------------------------------------------------------------------

export const tuningSummarySchema = z.strictObject({
  id,
  datasetId: id,
  datasetName: z.string(),
  model: z.enum(RUN_MODELS),
  mode: z.enum(TUNING_MODES),
  status: z.enum(TUNING_STATUSES),
  backend: z.string().nullable(),
  /** The concrete choice the search ran on, which "Train with this" trains on; null before it started, and for older sessions. */
  rung: z.enum(BACKEND_CHOICES).exclude(['auto']).nullable(),
  device: z.string().nullable(),
  budgetBytes: z.number().nullable(),
  error: z.string().nullable(),
  createdAt: iso,
  endedAt: iso.nullable(),
  searchSeconds: z.number().nullable(),
  /** The recommended batch size and learning rate, once there is a report. */
  recommendation: z.strictObject({ batchSize: z.number().int(), learningRate: z.number() }).nullable(),
  active: z.boolean(),
  /** What its measurements depended on when the search ended; null for tunings stored before fingerprints were kept, and before the end. */
  fingerprint: tuningFingerprintSchema.nullable(),
  /**
   * Whether that still holds on this machine now, for training with it as it is (listTunings and
   * getTuning; absent in a run's detail, where the tuning is history).
   */
  freshness: tuningFreshnessSchema.optional(),
});
export type TuningSummary = z.infer<typeof tuningSummarySchema>;

export const tuningDetailSchema = z.strictObject({
  ...tuningSummarySchema.shape,
  request: tuningRequestSchema,
  report: tuningReportSchema.nullable(),
  trials: z.array(trialSchema),
  /** The last progress event of a running session (for a UI that (re)opens mid-search). */
  lastProgress: tuningProgressSchema.nullable(),
  /**
   * What 1, 2, 4 and 8 data-parallel workers should train with (shared/scale-out.ts), computed
   * when read, so tunings stored before it have one too; null until the search has completed.
   * report.scaleOut (speed-ups alone) is kept for older readers.
   */
  scaleOutPlan: scaleOutPlanSchema.nullable(),
});
export type TuningDetail = z.infer<typeof tuningDetailSchema>;

/** scaleOutPlan's answer: the plan, and what it was made from. */
export const scaleOutAnswerSchema = z.strictObject({
  plan: scaleOutPlanSchema,
  /** The run or tuning asked about. */
  source: z.strictObject({ kind: z.enum(['run', 'tuning']), id }),
  /** The tuning whose measurements the plan used (a run's own, or the one asked about); null for a run without one. */
  tuningId: id.nullable(),
  model: z.enum(RUN_MODELS),
  datasetId: id,
});
export type ScaleOutAnswer = z.infer<typeof scaleOutAnswerSchema>;

/**
 * One trial of a tuning session with the session's context, flat: a row of `autobatch tunings
 * export` and of the Tune screen's "Export trials (CSV)" (src/shared/tuning-trial-rows.ts).
 */
export const tuningTrialRowSchema = z.strictObject({
  tuningId: id,
  tuningStatus: z.enum(TUNING_STATUSES),
  createdAt: iso,
  datasetId: id,
  dataset: z.string(),
  model: z.enum(RUN_MODELS),
  mode: z.enum(TUNING_MODES),
  /** 'tfjs' or 'PyTorch', from the rung; null for sessions stored before the rung was kept. */
  engine: z.string().nullable(),
  /** The backend as the trainer named it ('wasm', 'torch'…). */
  backend: z.string().nullable(),
  /** The concrete choice the search ran on ('wasm', 'torch-cpu'…). */
  rung: z.string().nullable(),
  device: z.string().nullable(),
  seq: z.number().int(),
  kind: trialSchema.shape.kind,
  batchSize: z.number().int(),
  learningRate: z.number().nullable(),
  status: trialSchema.shape.status,
  /** The probe ran out of memory (status 'oom'), for filtering without knowing the statuses. */
  oom: z.boolean(),
  cause: z.string().nullable(),
  seconds: z.number(),
  /** What the probe measured (peakBytes, samplesPerSecond, noiseScale, valLoss…), as stored. */
  result: z.record(z.string(), z.unknown()),
});
export type TuningTrialRow = z.infer<typeof tuningTrialRowSchema>;

/** checkTuning's answer: whether the tuning still holds for a run as asked, and the search that would measure afresh. */
export const tuningCheckSchema = z.strictObject({
  sessionId: id,
  freshness: tuningFreshnessSchema,
  /** The fingerprint of the run as asked, on this machine now; null when it cannot be known (see freshness.reason). */
  current: tuningFingerprintSchema.nullable(),
  /** The `autobatch tune` line that repeats the search with the run's changes, without reusing earlier findings (retune.ts). */
  retuneCommand: z.string(),
});
export type TuningCheck = z.infer<typeof tuningCheckSchema>;

export const runDetailSchema = z.strictObject({
  run: runSummarySchema,
  /** The Auto-tune session the run trained with, with its report. */
  tuning: tuningDetailSchema.nullable(),
  /** Down-sampled metric series (min/max per bucket, so spikes survive), by stored name. */
  series: z.record(z.enum(SERIES_NAMES), z.array(seriesPointSchema)),
  /** Every epoch's validation and training means (never down-sampled). */
  epochs: z.array(epochMetricsSchema),
  /** Confusion matrix etc. of a completed run; null before that. */
  evaluation: evaluationViewSchema.nullable(),
  hasModel: z.boolean(),
  /** Stored metric rows in all (the series above are down-sampled from these). */
  metricCount: count,
  /** Resumes and out-of-memory step-downs, oldest first (marked on the charts). */
  events: z.array(runEventSchema),
  /** Steps an attempt did after the checkpoint the next resumed from: kept apart, not in the series. */
  discardedSteps: count,
  /** The newest checkpoint, which Resume continues from; null when there is none. */
  checkpoint: z.strictObject({ step: count, epoch: count, reason: z.enum(CHECKPOINT_REASONS), writtenAt: z.string() }).nullable(),
});
export type RunDetail = z.infer<typeof runDetailSchema>;

// ---- deleting -------------------------------------------------------------------------------

/** What deleteDataset / deleteRun / deleteTuning removed — or, with dryRun, would remove. */
export const deletionSchema = z.strictObject({
  /** Nothing was deleted: the figures say what a deletion would remove now. */
  dryRun: z.boolean(),
  /**
   * Why it cannot be deleted now, in words ("run 4 is training on it; stop it first"); null when
   * it can. Only a dry run answers it: a deletion in that state is refused with 'conflict'.
   */
  inUse: z.string().nullable(),
  /** 1 for deleteDataset, else 0. */
  datasets: count,
  runs: count,
  tunings: count,
  runIds: z.array(id),
  sessionIds: z.array(id),
  /** Stored metric values of the runs. */
  metricRows: count,
  /** Measurements (trials) of the tuning sessions. */
  trials: count,
  /** Saved models of the runs. */
  artifacts: count,
  /** Runs kept that trained with a deleted tuning session: their link to it is cleared (tuningSessionId null). */
  unlinkedRunIds: z.array(id),
  /** Bytes of the files in the data folder removed: the dataset's cache, the runs' models and evaluations. */
  bytes: count,
  /** Files that could not be removed (held open…): nothing points at them any more; the next start removes them. */
  leftOver: z.array(z.string()),
});
export type Deletion = z.infer<typeof deletionSchema>;

// ---- settings -------------------------------------------------------------------------------

/** One Python interpreter looked at for the torch engine, and what it has (or why it was passed over). */
const pythonCandidateSchema = z.strictObject({
  /** The command or path tried, e.g. '/usr/bin/python3'. */
  command: z.string(),
  /** Where it came from: '--python', 'AUTOBATCH_PYTHON', 'settings', 'PATH', 'system'. */
  source: z.enum(['--python', 'AUTOBATCH_PYTHON', 'settings', 'PATH', 'system']),
  /** Python's version ('3.11.2') when it ran. */
  pythonVersion: z.string().nullable(),
  /** torch.__version__ ('1.13.0a0') when it imports. */
  torchVersion: z.string().nullable(),
  /** Why it is not used (null: it is the one used). */
  rejected: z.string().nullable(),
});
export type PythonCandidate = z.infer<typeof pythonCandidateSchema>;

export const pythonFindingSchema = z.strictObject({
  /** The interpreter used (absolute path), or null when none has torch. */
  executable: z.string().nullable(),
  pythonVersion: z.string().nullable(),
  torchVersion: z.string().nullable(),
  /** Every candidate in the order tried, with what it has and why it was passed over. */
  candidates: z.array(pythonCandidateSchema),
});
export type PythonFinding = z.infer<typeof pythonFindingSchema>;

const backendAvailabilitySchema = z.strictObject({
  /** The rung of the ladder, e.g. 'webgpu (Dawn)'. */
  label: z.string(),
  /** Which engine trains on it: tfjs (built in) or torch (the user's PyTorch). */
  engine: z.enum(['tfjs', 'torch']),
  choice: z.enum(BACKEND_CHOICES).exclude(['auto']),
  available: z.boolean(),
  /** The device it would train on, when available. */
  device: z.string().nullable(),
  /** Why it is unavailable, in plain words. */
  reason: z.string().nullable(),
});
export type BackendAvailability = z.infer<typeof backendAvailabilitySchema>;

export const backendsSchema = z.strictObject({
  /** Every rung of the ladder, in the order `auto` tries them. */
  backends: z.array(backendAvailabilitySchema),
  /** What `auto` picks on this machine, with the rungs it skipped and why. */
  auto: backendReportSchema.nullable(),
  /** The memory budget of the auto backend and where it comes from. */
  memoryBudget: z.strictObject({ bytes: z.number(), source: z.string() }).nullable(),
  /** The Python with PyTorch the torch rungs use (null: none found), and every candidate looked at. */
  python: pythonFindingSchema,
  detectedAt: iso,
});
export type Backends = z.infer<typeof backendsSchema>;

export const settingsSchema = z.strictObject({
  /** The data folder: database, datasets, models. Chosen with --home / AUTOBATCH_HOME. */
  dataFolder: z.string(),
  /** The memory budget Auto-tune uses when none is given; null: the device's own. */
  memoryBudgetBytes: z.number().positive().nullable(),
  /** Backend preselected for new runs and searches. */
  backend: z.enum(BACKEND_CHOICES),
  /** The Python interpreter for the torch engine (tried after --python and AUTOBATCH_PYTHON); null: look on PATH, then /usr/bin/python3. */
  pythonPath: z.string().nullable(),
  /** A run writes a checkpoint every this many minutes of training, besides each epoch's end and at a stop. */
  checkpointMinutes: z.number().min(1).max(1440),
  /** An adaptive run's window: it measures its noise scale over this many steps and may change its batch at the end. */
  adaptiveEverySteps: z.number().int(),
  /** An adaptive run changes its batch at most once every this many steps. */
  adaptiveMinSteps: z.number().int(),
  version: z.string(),
});
export type Settings = z.infer<typeof settingsSchema>;

// ---- live events ----------------------------------------------------------------------------

export const runStatusEventSchema = z.strictObject({ runId: id, status: z.enum(RUN_STATUSES), error: z.string().optional() });
export const runBackendEventSchema = z.strictObject({ runId: id, report: backendReportSchema });
/** Every step and epoch since the last event of this run (steps thinned when there are very many). */
export const runMetricsEventSchema = z.strictObject({ runId: id, steps: z.array(stepMetricsSchema), epochs: z.array(epochMetricsSchema) });
export const tuneTrialEventSchema = z.strictObject({ sessionId: id, trial: trialSchema });
export const tuneStatusEventSchema = z.strictObject({ sessionId: id, status: z.enum(TUNING_STATUSES), error: z.string().optional() });
