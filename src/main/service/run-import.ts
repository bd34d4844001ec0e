// Bringing a distributed run back (`autobatch runs import`, importRunMetrics): the metrics file an
// exported recipe's rank 0 wrote (shared/recipe-metrics.ts) becomes a run of its own — its
// dataset in this app, the plan it came from, its steps and epochs as stored metrics — so it is
// reviewed and compared with local runs on the same charts.
//
// Everything is checked before anything is written, and the write is one transaction
// (store/run-imports.ts): a bad, unfinished or already imported file changes nothing stored.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DistributedRun } from '../../shared/api/data.js';
import { TRAIN_DEFAULTS } from '../../shared/api/defaults.js';
import { RECIPE_METRICS_FILE, type RecipeStartLine } from '../../shared/recipe-metrics.js';
import { parseRecipeMetrics, RecipeMetricsError, type RecipeMetrics } from '../../shared/recipe-metrics-read.js';
import type { ConcreteBackend, RunModel, TrainConfig } from '../../shared/run-types.js';
import { trainConfigSchema } from '../../shared/schemas.js';
import { describeSchemaError, schemaErrorField } from '../../shared/schema-errors.js';
import type { DatasetRecord, MetricRow, NewImportedRun, RunRecord, Store } from '../store/index.js';
import { ConflictError, UserError } from './errors.js';

export interface RunImportDeps {
  store: Store;
  /** A dataset's content hash (kept since import, else computed once from its cache). */
  contentHash(d: DatasetRecord): Promise<string>;
}

/** A metrics file this large is not one rank 0 wrote (a million steps is ~200 MB). */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

/** The error an interrupted import's run carries, in the run's own words. */
export const PARTIAL_RUN_ERROR = 'imported without its end line: the distributed run was still running or was cut off when its metrics file was read';

/** The metrics file a path names: the file itself, or metrics.jsonl in the recipe's --out folder. */
export function metricsFileOf(input: string): string {
  const given = path.resolve(input);
  let stat;
  try {
    stat = statSync(given);
  } catch {
    throw new UserError(`${given} does not exist: give the metrics file (${RECIPE_METRICS_FILE}) or the recipe's --out folder holding it`, 'path');
  }
  if (!stat.isDirectory()) return given;
  const file = path.join(given, RECIPE_METRICS_FILE);
  try {
    if (statSync(file).isFile()) return file;
  } catch {
    // told below
  }
  throw new UserError(`${given} holds no ${RECIPE_METRICS_FILE}: give the metrics file, or the --out folder the recipe's run wrote it in`, 'path');
}

function readBytes(file: string): Buffer {
  const size = statSync(file).size;
  if (size > MAX_FILE_BYTES) throw new UserError(`${file} is ${size} bytes, more than a recipe's metrics file can be (at most ${MAX_FILE_BYTES})`, 'path');
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UserError(`${file} cannot be read: ${(err as Error).message}`, 'path');
  }
}

/** A problem with the start line, as every other problem of the file is told: file, line, field. */
function startProblem(file: string, field: string, detail: string): UserError {
  return new UserError(new RecipeMetricsError(file, 1, field, detail).message, 'path');
}

interface Origin {
  datasetId: number;
  model: RunModel;
  /** Set when the origin is a tuning session that is stored. */
  tuningSessionId: number | null;
}

function originOf(store: Store, start: RecipeStartLine): Origin | undefined {
  const o = start.origin;
  if (o.kind === 'run') {
    const run = store.runs.get(o.id);
    return run && { datasetId: run.datasetId, model: run.model, tuningSessionId: null };
  }
  const t = store.tuning.get(o.id);
  return t && { datasetId: t.datasetId, model: t.model, tuningSessionId: t.id };
}

/**
 * The run's dataset: the origin's, when it still exists and its content is the file's (when the
 * file names a content hash); else any dataset with that content hash; else none — refused.
 */
async function datasetOf(deps: RunImportDeps, file: string, start: RecipeStartLine, origin: Origin | undefined): Promise<DatasetRecord> {
  const wanted = start.dataset.contentHash;
  const fromOrigin = origin && deps.store.datasets.get(origin.datasetId);
  if (fromOrigin && (wanted === null || (await deps.contentHash(fromOrigin)) === wanted)) return fromOrigin;
  const o = start.origin;
  if (wanted === null) {
    throw startProblem(
      file,
      'origin.id',
      `the ${o.kind} ${o.id} the recipe was exported from is not in this app (deleted, or another app's), and the file gives no content hash to find its dataset "${start.dataset.name}" by: import it in the app that exported the recipe`,
    );
  }
  // Datasets whose hash is known first: computing one reads the dataset's whole cache.
  const all = deps.store.datasets.list().sort((a, b) => Number(a.contentHash === null) - Number(b.contentHash === null));
  for (const d of all) if ((await deps.contentHash(d)) === wanted) return d;
  const changed = fromOrigin ? ` (the ${o.kind} ${o.id}'s dataset "${fromOrigin.name}" holds other content now)` : '';
  throw startProblem(
    file,
    'dataset.contentHash',
    `the dataset "${start.dataset.name}" (content hash ${wanted.slice(0, 12)}…) is not in this app${changed}: import it first`,
  );
}

/** The file's dataset block and model must be what this app has: the same classes, split and model. */
function checkAgainst(file: string, start: RecipeStartLine, dataset: DatasetRecord, origin: Origin | undefined): void {
  const m = dataset.manifest;
  const d = start.dataset;
  if (d.classes.length !== m.classes.length || d.classes.some((c, i) => c !== m.classes[i])) {
    throw startProblem(file, 'dataset.classes', `expected the classes of "${dataset.name}" (${m.classes.join(', ')}), found ${d.classes.join(', ')}`);
  }
  for (const [field, mine] of [
    ['trainCount', m.split.trainCount],
    ['validationCount', m.split.validationCount],
  ] as const) {
    if (d[field] !== mine)
      throw startProblem(
        file,
        `dataset.${field}`,
        `expected ${mine}, the ${field === 'trainCount' ? 'training' : 'validation'} split of "${dataset.name}" in this app, found ${d[field]}`,
      );
  }
  const o = start.origin;
  if (origin && origin.model !== start.settings.model) {
    throw startProblem(
      file,
      'settings.model',
      `expected ${origin.model}, the model of the ${o.kind} ${o.id} the recipe was exported from, found ${start.settings.model}`,
    );
  }
}

/** The rung a local run on the same device would name; the engine itself is told by `distributed`. */
function rungOf(device: string): ConcreteBackend {
  if (device.startsWith('cuda')) return 'torch-cuda';
  if (device.startsWith('mps')) return 'torch-mps';
  return 'torch-cpu';
}

/** The run's TrainConfig: the plan's settings with the global batch as the batch size. */
function configOf(file: string, start: RecipeStartLine): TrainConfig {
  const s = start.settings;
  const config = {
    model: s.model,
    batchSize: s.globalBatch,
    epochs: s.epochs,
    learningRate: s.learningRate,
    optimizer: s.optimizer,
    // The recipe trains SGD with the app's momentum (the plan has no field for it).
    momentum: TRAIN_DEFAULTS.momentum,
    warmupSteps: s.warmupSteps,
    backend: rungOf(start.world.device),
    seed: s.seed,
  };
  const parsed = trainConfigSchema.safeParse(config);
  if (parsed.success) return parsed.data;
  const field = schemaErrorField(parsed.error) ?? 'settings';
  const named = field === 'batchSize' ? 'settings.globalBatch' : field === 'backend' ? 'world.device' : `settings.${field}`;
  throw startProblem(file, named, `not a setting this app can store: ${describeSchemaError(parsed.error)}`);
}

const nanToNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** Only the metrics the file has: no memory figures (the recipe measures none). */
function metricRows(m: RecipeMetrics): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const s of m.steps) {
    const at = { step: s.step, epoch: s.epoch, time: s.time };
    rows.push(
      { ...at, name: 'loss', value: nanToNull(s.loss) },
      { ...at, name: 'accuracy', value: s.accuracy },
      { ...at, name: 'samples_per_s', value: s.samplesPerSecond },
      { ...at, name: 'step_ms', value: s.stepMs },
      { ...at, name: 'lr', value: s.learningRate },
    );
  }
  for (const e of m.epochs) {
    const at = { step: e.step, epoch: e.epoch, time: e.time };
    rows.push(
      { ...at, name: 'val_loss', value: nanToNull(e.valLoss) },
      { ...at, name: 'val_accuracy', value: e.valAccuracy },
      { ...at, name: 'epoch_loss', value: nanToNull(e.trainLoss) },
      { ...at, name: 'epoch_accuracy', value: e.trainAccuracy },
    );
  }
  return rows;
}

function summaryOf(m: RecipeMetrics): NewImportedRun['summary'] {
  const last = m.steps[m.steps.length - 1]!;
  const lastEpoch = m.epochs[m.epochs.length - 1];
  const val = m.epochs.map((e) => e.valAccuracy);
  return {
    steps: m.end?.steps ?? last.step,
    trainSeconds: m.end?.time ?? Math.max(last.time, lastEpoch?.time ?? 0),
    bestValAccuracy: val.length > 0 ? Math.max(...val) : null,
    finalValAccuracy: lastEpoch?.valAccuracy ?? null,
    // The file's own throughput figures (all workers together), averaged over its step lines.
    samplesPerSecond: m.steps.reduce((sum, s) => sum + s.samplesPerSecond, 0) / m.steps.length,
  };
}

function endedAt(startedAt: string, seconds: number | undefined): string | null {
  const t = Date.parse(startedAt);
  return seconds === undefined || Number.isNaN(t) ? null : new Date(t + seconds * 1000).toISOString();
}

function provenanceOf(start: RecipeStartLine, file: string, sha256: string, partial: boolean): Omit<DistributedRun, 'importedAt'> {
  const w = start.world;
  return {
    engine: 'pytorch-ddp',
    workers: w.size,
    worldBackend: w.backend,
    device: w.device,
    torchVersion: w.torchVersion,
    origin: start.origin,
    plan: start.settings,
    fromWeights: start.fromWeights,
    importedFrom: file,
    sha256,
    partial,
  };
}

function parse(text: string, file: string, partial: boolean): RecipeMetrics {
  try {
    return parseRecipeMetrics(text, file, { partial });
  } catch (err) {
    if (err instanceof RecipeMetricsError) throw new UserError(err.message, 'path');
    throw err;
  }
}

/** Reads, checks and stores one metrics file (or the folder holding it); answers the new run. */
export async function importRunMetrics(deps: RunImportDeps, input: string, options: { partial?: boolean; fileName?: string } = {}): Promise<RunRecord> {
  const { store } = deps;
  const found = metricsFileOf(input);
  const bytes = readBytes(found);
  // An upload is named as the user knows it, not by the server's copy.
  const file = options.fileName !== undefined ? `${options.fileName} (uploaded)` : found;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const already = store.imports.runWithSha256(sha256);
  if (already !== undefined) throw new ConflictError(`${file} was already imported as run ${already} (the same file, by its sha256)`, 'path');
  const m = parse(bytes.toString('utf8'), file, options.partial ?? false);
  const { start, end } = m;
  const origin = originOf(store, start);
  const dataset = await datasetOf(deps, file, start, origin);
  checkAgainst(file, start, dataset, origin);
  const w = start.world;
  const stored = store.imports.insert({
    datasetId: dataset.id,
    config: configOf(file, start),
    status: end ? end.status : 'interrupted',
    error: end ? end.error : PARTIAL_RUN_ERROR,
    backend: 'pytorch-ddp',
    device: `${w.size} × ${w.device} (${w.backend}, PyTorch ${w.torchVersion})`,
    startedAt: start.startedAt,
    endedAt: endedAt(start.startedAt, end?.time),
    summary: summaryOf(m),
    tuningSessionId: origin?.tuningSessionId ?? null,
    metrics: metricRows(m),
    provenance: provenanceOf(start, file, sha256, end === null),
  });
  if ('duplicateOf' in stored) throw new ConflictError(`${file} was already imported as run ${stored.duplicateOf} (the same file, by its sha256)`, 'path');
  return store.runs.get(stored.runId)!;
}
