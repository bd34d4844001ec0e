// The Train and Tune screens' augmentation choice and "Start from" group, as data: which level a
// dataset gets by default (and why a table gets none), the runs a model can be started from, and
// the form → request mapping, checked with the contract's own schema so a mistake names its field
// before anything is sent. Pure apart from the upload, which takes the Api's upload as a parameter.
import {
  AUGMENT_DESCRIPTIONS,
  AUGMENT_LEVELS,
  defaultAugmentation,
  startFromRequestSchema,
  type AugmentLevel,
  type StartFrom,
  type StartFromRequest,
} from '../../shared/fine-tuning.js';
import { describeSchemaError, schemaErrorField } from '../../shared/schema-errors.js';
import type { DatasetKind } from '../../shared/dataset-types.js';
import type { ModelKind } from '../../shared/run-types.js';
import type { TuningMode } from '../../shared/tuning-types.js';
import { MAX_BUDGET_SECONDS, parseDuration } from '../../shared/search-budget.js';
import { ApiError, type Api, type UploadableFile } from '../../shared/api/index.js';
import { formatPercent } from './format.js';

export const START_FROM_CHOICES = ['scratch', 'run', 'file', 'url'] as const;
export type StartFromChoice = (typeof START_FROM_CHOICES)[number];

export const START_FROM_LABELS: Record<StartFromChoice, string> = {
  scratch: 'Nothing (train from scratch)',
  run: "A previous run's model",
  file: 'A model file',
  url: 'An address',
};

/** What the "Start from" group holds (number inputs give null when empty). */
export interface StartFromForm {
  choice: StartFromChoice;
  runId: number | null;
  /** A folder holding model.json, or a model.json path, on the machine that runs the service. */
  path: string;
  url: string;
  unfreeze: number | null;
  fineTuneLearningRate: number | null;
}

export function emptyStartFrom(): StartFromForm {
  return { choice: 'scratch', runId: null, path: '', url: '', unfreeze: 0, fineTuneLearningRate: null };
}

/** The group as a stored start model fills it (a search shown again, a run's settings reused). */
export function startFromFormOf(stored: StartFrom | undefined): StartFromForm {
  const form = emptyStartFrom();
  if (!stored) return form;
  const tuning = { unfreeze: stored.unfreeze, fineTuneLearningRate: stored.fineTuneLearningRate };
  if (stored.sourceKind === 'run') return { ...form, ...tuning, choice: 'run', runId: stored.runId ?? (Number(stored.source) || null) };
  if (stored.sourceKind === 'url') return { ...form, ...tuning, choice: 'url', url: stored.source };
  return { ...form, ...tuning, choice: 'file', path: stored.source };
}

// ---- augmentation -------------------------------------------------------------------------

/** The parts of a dataset the augmentation choice depends on. */
export interface AugmentTarget {
  name: string;
  kind: DatasetKind;
  inputShape: readonly number[];
}

export interface AugmentOption {
  level: AugmentLevel;
  label: string;
  description: string;
}

export const AUGMENT_OPTIONS: readonly AugmentOption[] = AUGMENT_LEVELS.map((level) => ({
  level,
  label: level[0]!.toUpperCase() + level.slice(1),
  description: AUGMENT_DESCRIPTIONS[level],
}));

/** Why a dataset cannot be augmented (augmentation moves pixels: it needs images), or null. */
export function augmentDisabledReason(dataset: AugmentTarget | null): string | null {
  if (!dataset || dataset.inputShape.length === 3) return null;
  return `Augmentation needs images; "${dataset.name}" is a table (${dataset.inputShape.join(' × ')} features per row).`;
}

/** The level the select shows: the user's choice, else the dataset's default; none for a table. */
export function augmentShown(dataset: AugmentTarget | null, chosen: AugmentLevel | null): AugmentLevel {
  if (!dataset || augmentDisabledReason(dataset)) return 'none';
  return chosen ?? defaultAugmentation(dataset.kind);
}

/** The help text the select is described by: what the level does, or why there is no choice. */
export function augmentHelp(dataset: AugmentTarget | null, level: AugmentLevel): string {
  const reason = augmentDisabledReason(dataset);
  if (reason) return reason;
  const option = AUGMENT_OPTIONS.find((o) => o.level === level)!;
  const isDefault = dataset !== null && defaultAugmentation(dataset.kind) === level;
  return `${option.label}: ${option.description}${isDefault ? ` (the default for ${dataset.kind === 'image-folder' ? 'image folders' : 'this dataset'})` : ''}.`;
}

/** The request's augment: the level for an image dataset; nothing for a table (the service's default, none). */
export function augmentRequest(dataset: AugmentTarget | null, chosen: AugmentLevel | null): { augment?: AugmentLevel } {
  if (!dataset || augmentDisabledReason(dataset)) return {};
  return { augment: augmentShown(dataset, chosen) };
}

// ---- runs to start from -------------------------------------------------------------------

/** The parts of a run summary the run select shows. */
export interface StartableRun {
  id: number;
  model: string;
  datasetName: string;
  bestValAccuracy: number | null;
  hasModel: boolean;
}

/** Runs whose trained model is stored, newest first. */
export function startableRuns<R extends StartableRun>(runs: readonly R[]): R[] {
  return runs.filter((r) => r.hasModel).sort((a, b) => b.id - a.id);
}

/** "Run 3 · small · mnist · best 97.1 %". */
export function runOptionLabel(run: StartableRun): string {
  return `Run ${run.id} · ${run.model} · ${run.datasetName} · best ${formatPercent(run.bestValAccuracy)}`;
}

/** What the model select's description says while a start model decides the architecture. */
export function startModelNote(form: StartFromForm, runs: readonly StartableRun[]): string {
  const run = form.choice === 'run' ? runs.find((r) => r.id === form.runId) : undefined;
  return run ? `The model is the one you start from: run ${run.id}'s ${run.model} model.` : 'The model is the one you start from.';
}

// ---- the request --------------------------------------------------------------------------

export interface FieldProblem {
  /** The request field it is about ('startFrom.source'…), as the service names fields. */
  field: string;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: FieldProblem };

const HTTP_ADDRESS = /^https?:\/\//i;

/** The source the chosen option names, or what is missing. */
function sourceOf(form: StartFromForm, uploaded: string | undefined): Checked<string> {
  const problem = (message: string): Checked<string> => ({ ok: false, problem: { field: 'startFrom.source', message } });
  switch (form.choice) {
    case 'run':
      return form.runId === null ? problem('Choose the run whose model to start from.') : { ok: true, value: String(form.runId) };
    case 'file':
      if (uploaded) return { ok: true, value: uploaded };
      return form.path.trim() ? { ok: true, value: form.path.trim() } : problem('Give the path of a folder holding model.json, or of a model.json file.');
    case 'url': {
      const url = form.url.trim();
      if (!url) return problem('Give the address (http:// or https://) of a model.json.');
      return HTTP_ADDRESS.test(url) ? { ok: true, value: url } : problem(`The address must start with http:// or https:// (got "${url}").`);
    }
    case 'scratch':
      return problem('nothing to start from');
  }
}

/**
 * The request's startFrom: undefined from scratch; checked with the contract's schema. `uploaded`
 * is the source the upload answered, which replaces the typed path.
 */
export function startFromRequest(form: StartFromForm, uploaded?: string): Checked<StartFromRequest | undefined> {
  if (form.choice === 'scratch') return { ok: true, value: undefined };
  const source = sourceOf(form, uploaded);
  if (!source.ok) return source;
  const given = (v: number | null): v is number => v !== null && Number.isFinite(v);
  const parsed = startFromRequestSchema.safeParse({
    source: source.value,
    ...(given(form.unfreeze) ? { unfreeze: form.unfreeze } : {}),
    ...(given(form.fineTuneLearningRate) ? { fineTuneLearningRate: form.fineTuneLearningRate } : {}),
  });
  if (!parsed.success) {
    const field = schemaErrorField(parsed.error);
    return { ok: false, problem: { field: field ? `startFrom.${field}` : 'startFrom', message: describeSchemaError(parsed.error) } };
  }
  return { ok: true, value: parsed.data };
}

/**
 * Why these chosen files are not a tfjs layers model, or null: the upload puts them in one folder,
 * which the service reads as a model folder, so it needs a file named model.json and its weights.
 */
export function modelFilesProblem(files: readonly Pick<UploadableFile, 'name'>[]): string | null {
  if (files.length === 0) return 'Choose model.json and its weight files.';
  const names = files.map((f) => f.name);
  if (!names.includes('model.json')) return `Choose a file named model.json with its weight files (chosen: ${names.join(', ')}).`;
  if (files.length === 1) return 'Choose the weight files (.bin) together with model.json.';
  return null;
}

/**
 * startFromRequest, after uploading the chosen model files (a browser) so that the service reads
 * them where the upload put them.
 */
export async function startFromWithUpload(
  upload: Api['upload'],
  form: StartFromForm,
  files: readonly UploadableFile[],
): Promise<Checked<StartFromRequest | undefined>> {
  if (form.choice !== 'file' || files.length === 0) return startFromRequest(form);
  const problem = modelFilesProblem(files);
  if (problem) return { ok: false, problem: { field: 'startFrom.source', message: problem } };
  const { source } = await upload(files);
  return startFromRequest(form, source);
}

/** Whether a request field belongs to the "Start from" group. */
export function isStartFromField(field: string | undefined): boolean {
  return field !== undefined && /^startFrom(\.|$)/.test(field);
}

/** The message of a service error about the "Start from" group (shown beside it), else null. */
export function startFromErrorOf(err: unknown): string | null {
  return err instanceof ApiError && isStartFromField(err.field) ? err.message : null;
}

type StartTrainingParams = NonNullable<Parameters<Api['startTraining']>[0]>;
type StartTuningParams = NonNullable<Parameters<Api['startTuning']>[0]>;

/** The Train screen's own settings. */
export interface TrainFields {
  dataset: number;
  model: ModelKind;
  batchSize: number;
  epochs: number;
  learningRate: number;
  /** The evaluation batch; absent (the field left empty): the batch size. */
  evalBatchSize?: number | null | undefined;
  /** Gradient accumulation's micro-batch; absent (the field left empty): none. */
  microBatchSize?: number | null | undefined;
  /** Adapt the batch during training (shared/adaptive-batch.ts). */
  adaptive?: boolean;
}

/** startTraining's params: with a start model the model is that one's, so none is named. */
export function trainRequest(f: TrainFields, augment: { augment?: AugmentLevel }, startFrom: StartFromRequest | undefined): StartTrainingParams {
  const evalBatch = typeof f.evalBatchSize === 'number' && Number.isFinite(f.evalBatchSize) ? { evalBatchSize: f.evalBatchSize } : {};
  const microBatch = typeof f.microBatchSize === 'number' && Number.isFinite(f.microBatchSize) ? { microBatchSize: f.microBatchSize } : {};
  return {
    dataset: f.dataset,
    config: {
      ...(startFrom ? {} : { model: f.model }),
      batchSize: f.batchSize,
      epochs: f.epochs,
      learningRate: f.learningRate,
      ...evalBatch,
      ...microBatch,
      ...(f.adaptive ? { adaptive: true } : {}),
      ...augment,
    },
    ...(startFrom ? { startFrom } : {}),
  };
}

/** The Tune screen's own settings. */
export interface TuneFields {
  dataset: number;
  model: ModelKind;
  mode: TuningMode;
  plannedEpochs: number;
  /** The time budget of the planned run, in seconds (budgetText's), when one was given. */
  budgetSeconds?: number;
}

/** startTuning's params: with a start model the search is for it, so no model is named. */
export function tuneRequest(f: TuneFields, augment: { augment?: AugmentLevel }, startFrom: StartFromRequest | undefined): StartTuningParams {
  return {
    dataset: f.dataset,
    ...(startFrom ? { startFrom } : { model: f.model }),
    mode: f.mode,
    plannedEpochs: f.plannedEpochs,
    ...(f.budgetSeconds !== undefined ? { budgetSeconds: f.budgetSeconds } : {}),
    ...augment,
  };
}

/**
 * The Tune screen's time-budget field: empty is none; else a duration (10m, 1h30m, 90s, or bare
 * minutes, as people type them in a field labelled in minutes), or what is wrong with it.
 */
export function budgetText(text: string): { ok: true; seconds: number | undefined } | { ok: false; message: string } {
  const t = text.trim();
  if (t === '') return { ok: true, seconds: undefined };
  const seconds = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 60 : parseDuration(t);
  if (seconds === null || !(seconds > 0) || seconds > MAX_BUDGET_SECONDS)
    return { ok: false, message: `"${t}" is not a time: write minutes, or e.g. 10m, 1h30m or 90s` };
  return { ok: true, seconds };
}
