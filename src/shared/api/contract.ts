// THE API CONTRACT: every call the UI can make and every event it can hear, each with a zod
// schema. Three transports carry it — Electron IPC, WebSocket (`autobatch serve`) and direct
// (in-process: CLI, tests) — and all of them go through one dispatcher on the main side that
// validates params with these schemas before the service sees them.
//
// Names are stable: the renderer is written against them.
import { z } from 'zod';
import { IMAGE_FITS } from '../dataset-types.js';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS, RUN_MODELS, RUN_STATUSES } from '../run-types.js';
import { AUGMENT_LEVELS, startFromRequestSchema } from '../fine-tuning.js';
import { trainConfigSchema } from '../schemas.js';
import { TUNING_MODES, TUNING_STATUSES } from '../tuning-types.js';
import { MAX_BUDGET_SECONDS } from '../search-budget.js';
import { ADAPTIVE_LIMITS } from '../adaptive-batch.js';
import { RECIPE_ENGINES, RECIPE_WORKERS } from '../recipe-file.js';
import { recipeSettingsSchema } from '../recipe-metrics.js';
import type { RecipeDownload } from './http-routes.js';
import {
  architectureListSchema,
  backendsSchema,
  datasetDetailSchema,
  datasetSummarySchema,
  deletionSchema,
  importProgressSchema,
  runBackendEventSchema,
  runDetailSchema,
  runMetricsEventSchema,
  runStatusEventSchema,
  runSummarySchema,
  scaleOutAnswerSchema,
  SERIES_NAMES,
  seriesPointSchema,
  settingsSchema,
  tuneStatusEventSchema,
  tuneTrialEventSchema,
  tuningCheckSchema,
  tuningDetailSchema,
  tuningProgressSchema,
  tuningSummarySchema,
  tuningTrialRowSchema,
} from './data.js';

const id = z.number().int().min(1);
/** A dataset by id or by name. */
const datasetRef = z.union([id, z.string().min(1).max(200)]);
const none = z.strictObject({});
const ok = z.strictObject({ ok: z.literal(true) });

/** Import options a user can set (see ImportOptions in dataset-types.ts). */
const importOptions = {
  /** Name for the new dataset; default: from the folder or file name. */
  name: z.string().trim().min(1).max(100).optional(),
  /** Chosen by the caller so it can tell its own 'import-progress' events apart. */
  importId: z.string().min(1).max(100).optional(),
  /** CSV: label column by header name or 0-based index. */
  labelColumn: z.string().min(1).max(200).optional(),
  /** Image folders, IDX and the sample: change the images to [H, W] (not for CSV). */
  imageSize: z.tuple([z.number().int().min(4).max(512), z.number().int().min(4).max(512)]).optional(),
  /** How imageSize is reached: 'resize' (default) stretches, 'pad' centres on black (see ImportOptions.imageFit). */
  imageFit: z.enum(IMAGE_FITS).optional(),
  /** true: one grey channel; false: RGB (a grey source's channel copied into three). Not for CSV. */
  grayscale: z.boolean().optional(),
  /** Leave bad inputs out (and list them as problems) instead of failing; default true. */
  skipBad: z.boolean().optional(),
  validationFraction: z.number().gt(0).lt(1).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  /** Keep at most this many samples (stratified). */
  limit: z.number().int().min(10).max(10_000_000).optional(),
};

/** Every delete call's options. */
const deleteOptions = {
  /** Say what would be deleted (and what stops it now) without deleting anything. */
  dryRun: z.boolean().optional(),
};

const exportFileSchema = z.strictObject({
  fileName: z.string(),
  mimeType: z.string(),
  /** Text files (CSV). */
  text: z.string().optional(),
  /** Binary files (the model archive, a tar of model.json + weights.bin + evaluation.json), base64. */
  base64: z.string().optional(),
  bytes: z.number().int().min(0),
});
export type ExportFile = z.infer<typeof exportFileSchema>;

/** startTuning's params, before the check that a model is named (the service reads its settings with it). */
export const startTuningParams = z.strictObject({
  dataset: datasetRef,
  /** Required unless startFrom is given (then the start model is the model). */
  model: z.enum(MODEL_KINDS).optional(),
  /** Augmentation the probes (and the recommended run) train with; default by the dataset's kind. */
  augment: z.enum(AUGMENT_LEVELS).optional(),
  /** Search for a run that starts from this trained model. */
  startFrom: startFromRequestSchema.optional(),
  mode: z.enum(TUNING_MODES).optional(),
  backend: z.enum(BACKEND_CHOICES).optional(),
  optimizer: z.enum(OPTIMIZERS).optional(),
  /** A lower memory budget than the device's; default: the settings' budget, else the device's. */
  memoryBudgetBytes: z
    .number()
    .positive()
    .max(2 ** 50)
    .optional(),
  plannedEpochs: z.number().int().min(1).max(100_000).optional(),
  /** The time the planned run may take, in seconds: the search spends its share (5 % Quick, 15 % Full) of this. */
  budgetSeconds: z.number().positive().max(MAX_BUDGET_SECONDS).optional(),
  /** Whether a previous tuning of the same model and dataset may stand in for probes the search has no time for (default true). */
  reuseKnown: z.boolean().optional(),
  baseBatchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 16)
    .optional(),
  baseLearningRate: z.number().positive().max(10).optional(),
  /** Find the base rate with a learning-rate range test (default true); false trusts baseLearningRate. */
  searchLearningRate: z.boolean().optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
});

export const API_METHODS = {
  // ---- datasets ----
  listDatasets: { params: none, result: z.array(datasetSummarySchema) },
  getDataset: {
    params: z.strictObject({ dataset: datasetRef, previewsPerClass: z.number().int().min(0).max(32).optional() }),
    result: datasetDetailSchema,
  },
  /** Imports a folder or file on the machine that runs the service (or 'sample:mnist'). Resolves when done. */
  importDataset: {
    params: z.strictObject({
      source: z.string().min(1).max(4096),
      /** IDX: the labels file, when it is not beside the images file (any path, read only). */
      labelsPath: z.string().min(1).max(4096).optional(),
      ...importOptions,
    }),
    result: datasetDetailSchema,
  },
  /** Imports the bundled sample (10 000 real MNIST digits). */
  importSample: {
    params: z.strictObject({ sample: z.literal('mnist').optional(), ...importOptions }),
    result: datasetDetailSchema,
  },
  /**
   * Deletes the dataset's cache in the data folder (never the files it was imported from), its
   * runs with their metrics and models, and its tuning sessions. Refused ('conflict') while a run
   * or a search uses it.
   */
  deleteDataset: { params: z.strictObject({ dataset: datasetRef, ...deleteOptions }), result: deletionSchema },

  // ---- models ----
  /**
   * Every model with its family, description, smallest batch and trainable parameters: at the
   * dataset's input and classes when one is named (with whether it fits that dataset), else at
   * the reference input (32×32×3, 10 classes), which the answer names. Computed, nothing is built.
   */
  listArchitectures: { params: z.strictObject({ dataset: datasetRef.optional() }), result: architectureListSchema },

  // ---- Auto-tune ----
  startTuning: {
    // A search needs a model: named, or the start model's.
    params: startTuningParams.refine((p) => p.model !== undefined || p.startFrom !== undefined, {
      path: ['model'],
      message: 'choose a model (or a trained model to start from with startFrom)',
    }),
    result: z.strictObject({ sessionId: id }),
  },
  stopTuning: { params: z.strictObject({ sessionId: id }), result: ok },
  getTuning: { params: z.strictObject({ sessionId: id }), result: tuningDetailSchema },
  listTunings: {
    params: z.strictObject({ dataset: datasetRef.optional(), status: z.enum(TUNING_STATUSES).optional() }),
    result: z.array(tuningSummarySchema),
  },
  /**
   * Deletes a tuning session and its measurements. Runs trained with it are kept (their settings
   * say what they trained with); their tuningSessionId becomes null. Refused ('conflict') while it
   * searches or a run trains with its recommendation.
   */
  deleteTuning: { params: z.strictObject({ sessionId: id, ...deleteOptions }), result: deletionSchema },
  /**
   * Every trial of one tuning session (or, without sessionId, of every session, oldest first), one
   * flat row each with the session's context: dataset, model, engine and backend, mode.
   */
  tuningTrialRows: { params: z.strictObject({ sessionId: id.optional() }), result: z.array(tuningTrialRowSchema) },
  /** The same rows as CSV text: the context and trial columns, then one column per measured value. */
  exportTuningCsv: { params: z.strictObject({ sessionId: id.optional() }), result: exportFileSchema },
  /**
   * Whether a tuning still holds for a run started with fromTuning and these changes: its stored
   * fingerprint (model and size, dataset content, input, augmentation, engine, backend, device,
   * torch and app versions) against this machine's now, each change in words, and the search
   * that would measure afresh. 'unknown' for tunings stored before fingerprints were kept.
   */
  checkTuning: {
    params: z.strictObject({
      sessionId: id,
      /** The dataset the run would train on (default: the tuning's). */
      dataset: datasetRef.optional(),
      /** The run's own model, augmentation or backend, where it overrides the tuning's. */
      config: z
        .strictObject({ model: z.enum(MODEL_KINDS).optional(), augment: z.enum(AUGMENT_LEVELS).optional(), backend: z.enum(BACKEND_CHOICES).optional() })
        .optional(),
    }),
    result: tuningCheckSchema,
  },
  /**
   * What 1, 2, 4 and 8 data-parallel workers should train with: per-worker and global batch
   * (micro-batches where a per-worker batch is past the memory ceiling), learning rate, warm-up
   * and predicted speed-up, from a completed tuning (its late noise scale where it has one) or a
   * run (its tuning's measurements, else its own settings with no efficiency counted).
   * 'conflict' for a tuning that has not completed.
   */
  scaleOutPlan: { params: z.strictObject({ kind: z.enum(['run', 'tuning']), id }), result: scaleOutAnswerSchema },

  // ---- training ----
  /**
   * Starts a run. With fromTuning, the session's recommendation (batch, learning rate, warm-up,
   * optimizer, backend, model) is the base that `config` overrides; dataset defaults to the session's.
   */
  startTraining: {
    params: z
      .strictObject({
        dataset: datasetRef.optional(),
        fromTuning: id.optional(),
        /**
         * Any TrainConfig field; epochs included. Missing fields take the defaults (augment: by the
         * dataset's kind). startFrom is not given here but resolved from the startFrom param.
         */
        config: trainConfigSchema.omit({ startFrom: true }).partial().optional(),
        /** Start from this trained model: its backbone, a new classifier (with fromTuning: the tuning's start model). */
        startFrom: startFromRequestSchema.optional(),
        /** Stop after this many steps (quick looks, tests). */
        maxSteps: z.number().int().min(1).optional(),
      })
      // A run needs a dataset: given, or the tuning session's.
      .refine((p) => p.dataset !== undefined || p.fromTuning !== undefined, {
        path: ['dataset'],
        message: 'choose a dataset (or start from a tuning session with fromTuning)',
      }),
    result: z.strictObject({ runId: id }),
  },
  stopTraining: { params: z.strictObject({ runId: id }), result: ok },
  /**
   * Continues a stopped, interrupted or failed run from its newest checkpoint in a fresh trainer,
   * on the engine and rung it ran on, appending to the same run (the steps redone after the
   * checkpoint are kept apart, not mixed in). Refused ('conflict') while it trains or without a
   * checkpoint; 'invalid' when its dataset has lost its data.
   */
  resumeTraining: { params: z.strictObject({ runId: id }), result: z.strictObject({ runId: id }) },
  /** Runs this process is training now (queued or running), newest first. */
  activeRuns: { params: none, result: z.array(runSummarySchema) },

  // ---- runs (offline review, from SQLite alone) ----
  listRuns: {
    params: z.strictObject({
      dataset: datasetRef.optional(),
      model: z.enum(RUN_MODELS).optional(),
      status: z.enum(RUN_STATUSES).optional(),
    }),
    result: z.array(runSummarySchema),
  },
  getRun: {
    params: z.strictObject({
      runId: id,
      /** Points per series at most (default 1000). */
      maxPoints: z.number().int().min(10).max(100_000).optional(),
      /** Misclassified samples to return, most confident first (default 48). */
      misclassifiedLimit: z.number().int().min(0).max(500).optional(),
    }),
    result: runDetailSchema,
  },
  /** One metric of several runs, for one chart. */
  compareRuns: {
    params: z.strictObject({
      runIds: z.array(id).min(1).max(20),
      metric: z.enum(SERIES_NAMES),
      maxPoints: z.number().int().min(10).max(100_000).optional(),
    }),
    result: z.array(z.strictObject({ runId: id, label: z.string(), points: z.array(seriesPointSchema) })),
  },
  /** The run's metrics, one row per step, as CSV text. */
  exportRunCsv: { params: z.strictObject({ runId: id }), result: exportFileSchema },
  /** The trained model as a tar archive (base64). */
  exportModel: { params: z.strictObject({ runId: id }), result: exportFileSchema },
  /**
   * Stores a distributed run (an exported recipe's PyTorch DDP run) as a run of its own, from its
   * metrics file (src/shared/recipe-metrics.ts) or the folder holding metrics.jsonl. 'rejected'
   * names the file, line and field of a bad or unfinished file (partial: store an unfinished one
   * as an interrupted run), or the dataset that is not in this app; 'conflict' when the same file
   * (by sha256) was imported before. Nothing stored changes on any refusal.
   */
  importRunMetrics: {
    params: z.strictObject({
      path: z.string().trim().min(1).max(4096),
      partial: z.boolean().optional(),
      /** The file's own name where it was uploaded (the browser): named in messages and kept as where it came from, instead of the upload's copy. */
      fileName: z.string().trim().min(1).max(255).optional(),
    }),
    result: runSummarySchema,
  },
  /**
   * Writes a runnable distributed-training recipe of a run or a completed tuning into the folder
   * `out` on the machine that runs the service (issue 21): the PyTorch DDP script, the app's model
   * code, the model, the dataset, recipe.json (the scale-out plan's row for `workers`) and a README
   * with the torchrun commands. Refused ('rejected') for runs and tunings that start from a trained
   * model, withWeights for a tuning; ('conflict') for a tuning not completed, withWeights for a run
   * without a trained model, and an `out` that is a file or a non-empty folder other than an
   * earlier recipe (which is replaced).
   */
  exportRecipe: {
    params: z.strictObject({
      source: z.strictObject({ kind: z.enum(['run', 'tuning']), id }),
      /** Only PyTorch DDP so far. */
      engine: z.enum(RECIPE_ENGINES).optional(),
      /** Workers in all: one of the plan's rows (1, 2, 4, 8). */
      workers: z
        .number()
        .int()
        .refine((k) => (RECIPE_WORKERS as readonly number[]).includes(k), { message: `one of ${RECIPE_WORKERS.join(', ')} (the scale-out plan's rows)` }),
      /** A run's trained weights converted to PyTorch's layout, so that training continues from them (needs PyTorch here). */
      withWeights: z.boolean().optional(),
      /** The folder to create (a leading ~ is the serving user's home). */
      out: z.string().min(1).max(4096),
    }),
    result: z.strictObject({
      folder: z.string(),
      /** Every file written, relative to the folder. */
      files: z.array(z.string()),
      settings: recipeSettingsSchema,
      /** Whether the recipe continues from the run's trained weights. */
      withWeights: z.boolean(),
    }),
  },
  /** Deletes a run: its metrics, its model and its folder. Refused ('conflict') while it is queued or training. */
  deleteRun: { params: z.strictObject({ runId: id, ...deleteOptions }), result: deletionSchema },

  // ---- settings ----
  getSettings: { params: none, result: settingsSchema },
  updateSettings: {
    params: z.strictObject({
      memoryBudgetBytes: z
        .number()
        .positive()
        .max(2 ** 50)
        .nullable()
        .optional(),
      backend: z.enum(BACKEND_CHOICES).optional(),
      /** An interpreter's path or command; null clears it. */
      pythonPath: z.string().trim().min(1).max(4096).nullable().optional(),
      checkpointMinutes: z.number().min(1).max(1440).optional(),
      adaptiveEverySteps: z.number().int().min(ADAPTIVE_LIMITS.everySteps.min).max(ADAPTIVE_LIMITS.everySteps.max).optional(),
      adaptiveMinSteps: z.number().int().min(ADAPTIVE_LIMITS.minStepsBetween.min).max(ADAPTIVE_LIMITS.minStepsBetween.max).optional(),
    }),
    result: settingsSchema,
  },
  /** Which backends work here and why the others do not. Probed once (a few seconds), then cached. */
  detectBackends: { params: z.strictObject({ refresh: z.boolean().optional() }), result: backendsSchema },

  // ---- desktop only (Electron); other transports answer code 'unavailable' ----
  /** Native open-folder dialog; null when cancelled. */
  chooseFolder: { params: z.strictObject({ title: z.string().max(200).optional() }), result: z.strictObject({ path: z.string().nullable() }) },
  /** Native open-file dialog (CSV, IDX, images); null when cancelled. */
  chooseFile: { params: z.strictObject({ title: z.string().max(200).optional() }), result: z.strictObject({ path: z.string().nullable() }) },
  /** Native save dialog, then writes the export there; null when cancelled. */
  saveExport: {
    params: z.strictObject({ runId: id, kind: z.enum(['csv', 'model']) }),
    result: z.strictObject({ path: z.string().nullable() }),
  },
} as const;

/** Calls that only the Electron shell implements. */
export const DESKTOP_ONLY_METHODS = ['chooseFolder', 'chooseFile', 'saveExport'] as const satisfies readonly (keyof typeof API_METHODS)[];

export const API_EVENTS = {
  'import-progress': importProgressSchema,
  'run-status': runStatusEventSchema,
  'run-backend': runBackendEventSchema,
  'run-metrics': runMetricsEventSchema,
  'tune-progress': tuningProgressSchema,
  'tune-trial': tuneTrialEventSchema,
  'tune-status': tuneStatusEventSchema,
} as const;

type ApiMethods = typeof API_METHODS;
export type MethodName = keyof ApiMethods;
export type EventName = keyof typeof API_EVENTS;
export const METHOD_NAMES = Object.keys(API_METHODS) as MethodName[];

/** What a caller passes (defaults not yet applied). */
type ParamsOf<M extends MethodName> = z.input<ApiMethods[M]['params']>;
/** What the dispatcher hands the implementation (validated). */
export type ValidParamsOf<M extends MethodName> = z.output<ApiMethods[M]['params']>;
export type ResultOf<M extends MethodName> = z.output<ApiMethods[M]['result']>;
export type EventData<E extends EventName> = z.output<(typeof API_EVENTS)[E]>;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(API_METHODS, name);
}
export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(API_EVENTS, name);
}

/** One function per call; calls without required params may be called with none. */
export type ApiCalls = {
  [M in MethodName]: Record<never, never> extends ParamsOf<M> ? (params?: ParamsOf<M>) => Promise<ResultOf<M>> : (params: ParamsOf<M>) => Promise<ResultOf<M>>;
};

export type Unsubscribe = () => void;

/** A file the browser chose (a DOM File, described structurally: src/shared has no DOM types). */
export interface UploadableFile {
  readonly name: string;
  readonly size: number;
  /** 'folder/sub/file.png' when the user chose a folder (input webkitdirectory). */
  readonly webkitRelativePath?: string;
}

export interface ApiCapabilities {
  transport: 'ipc' | 'websocket' | 'direct';
  /** chooseFolder / chooseFile / saveExport work (the desktop app). */
  nativeDialogs: boolean;
  /** upload() works (the browser, served by `autobatch serve`). */
  upload: boolean;
  /** pathForFile() gives dropped files' paths (the desktop app). */
  dropPaths: boolean;
}

/** The interface the renderer is written against; each transport's client implements it. */
export interface Api extends ApiCalls {
  readonly capabilities: ApiCapabilities;
  /** Hears one event (live events arrive at most ~10 times a second per kind and run). */
  on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): Unsubscribe;
  /**
   * Browser only (capabilities.upload): sends the chosen files — a folder keeps its relative
   * paths — to the serving machine and returns the `source` to pass to importDataset.
   */
  upload(files: readonly UploadableFile[], onProgress?: (sentBytes: number, totalBytes: number) => void): Promise<{ source: string }>;
  /** Desktop only (capabilities.dropPaths): the path of a dropped File; null elsewhere. */
  pathForFile(file: UploadableFile): string | null;
  /**
   * Exports a run's CSV or model the way the transport can: the desktop app asks where to save;
   * the browser downloads. Resolves with the saved path (desktop) or null (browser / cancelled).
   */
  download(params: { runId: number; kind: 'csv' | 'model' }): Promise<{ path: string | null }>;
  /**
   * A PyTorch DDP recipe (exportRecipe) the way the transport can: the desktop app asks for a
   * folder and writes the recipe in a new folder inside it; the browser downloads it as a tar.
   * Resolves with the recipe's folder (desktop) or null (browser / cancelled).
   */
  downloadRecipe(params: RecipeDownload): Promise<{ path: string | null }>;
  /** Connection state of remote transports (the WebSocket reconnects by itself). */
  onConnection(listener: (state: ConnectionState) => void): Unsubscribe;
  close(): void;
}

export type ConnectionState = 'connecting' | 'open' | 'closed';
