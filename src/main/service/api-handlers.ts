// The API calls implemented over AutoBatchService. Every handler receives params that the
// dispatcher has already validated with the contract's schema; the service validates again
// what it cares about (training settings), so no front end can get past it.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Backends, ExportFile, ImportProgressEvent, MethodName, ResultOf, TuningTrialRow, ValidParamsOf, WireError } from '../../shared/api/index.js';
import { ApiError, DESKTOP_ONLY_METHODS, SERIES_NAMES, VIEW_DEFAULTS } from '../../shared/api/index.js';
import type { ImportOptions } from '../../shared/dataset-types.js';
import type { StartFromRequest } from '../../shared/fine-tuning.js';
import type { LoadedStartModel } from './start-model-source.js';
import type { TuningProgress } from '../../shared/tuning-types.js';
import { tuningTrialRows, tuningTrialsCsv, tuningTrialsFileName } from '../../shared/tuning-trial-rows.js';
import { DatasetImportError, MNIST_SAMPLE_SOURCE } from '../engine/datasets/index.js';
import { detectBackends, type EntryRunner } from './backend-detect.js';
import { ConflictError, NotFoundError, UserError } from './errors.js';
import { architectureList, datasetDetail, datasetSummary, evaluationView, readEvaluation, runSummary, tuningDetail, tuningSummary } from './api-views.js';
import type { AutoBatchService } from './service.js';
import type { RunRecord } from '../store/index.js';
import type { SettingsStore } from './settings-store.js';
import { scaleOutAnswer, tuningPlan } from './scale-out-plan.js';
import type { ScaleOutPlan } from '../../shared/scale-out.js';
import type { TuningSessionRecord } from '../store/index.js';
import { folderEntries, tarArchive } from './tar.js';
import { exportRecipe } from './recipe/export-recipe.js';

export type Handler<M extends MethodName> = (params: ValidParamsOf<M>) => Promise<ResultOf<M>> | ResultOf<M>;
/** Calls only the desktop shell can serve (native dialogs). */
export type DesktopMethod = (typeof DESKTOP_ONLY_METHODS)[number];
export type ServiceMethod = Exclude<MethodName, DesktopMethod>;
/** One handler per call the service serves: a call added to the contract without one does not compile. */
export type ServiceHandlers = { [M in ServiceMethod]: Handler<M> };
/** The desktop shell's handlers, one per desktop-only call. */
export type DesktopHandlers = { [M in DesktopMethod]: Handler<M> };

interface HandlerContext {
  service: AutoBatchService;
  /** Sends an API event to every subscriber (import progress, which the service does not emit). */
  emit(event: 'import-progress', data: ImportProgressEvent): void;
  /** Last tune-progress per running session. */
  lastProgress(sessionId: number): TuningProgress | null;
  /** Runs the backend-detection processes (the Electron shell passes a utilityProcess runner). */
  entryRunner?: EntryRunner;
  version: string;
}

/** A run's CSV or model as bytes, for the API (text or base64). */
export async function exportBytes(
  service: AutoBatchService,
  runId: number,
  kind: 'csv' | 'model',
): Promise<{ fileName: string; mimeType: string; bytes: Buffer }> {
  const run = service.getRun(runId);
  const base = `run-${run.id}-${run.datasetName}-${run.model}`.replace(/[^A-Za-z0-9._-]+/g, '_');
  if (kind === 'csv') return { fileName: `${base}.csv`, mimeType: 'text/csv; charset=utf-8', bytes: Buffer.from(service.runCsv(runId), 'utf8') };
  const { model, artifactDir } = service.runFiles(runId);
  if (!model || !existsSync(model.path))
    throw new ConflictError(`run ${runId} has no saved model (it is ${run.status}; models are saved when a run completes)`, 'runId');
  const entries = folderEntries(model.path, base);
  const evaluation = path.join(artifactDir, 'evaluation.json');
  if (existsSync(evaluation)) entries.push({ name: `${base}/evaluation.json`, data: readFileSync(evaluation) });
  return { fileName: `${base}.tar`, mimeType: 'application/x-tar', bytes: await tarArchive(entries) };
}

/**
 * A failed import as a wire error: its problems, and the field at fault — the option the
 * importer names (labelColumn, limit…), else `sourceField` (the data there cannot be imported).
 */
export function importErrorWire(err: DatasetImportError, sourceField?: string): WireError {
  const field = err.option ?? sourceField;
  const message = err.message.split('\n')[0]!;
  return { code: 'rejected', message: field ? `${field}: ${message}` : message, problems: err.problems, ...(field ? { field } : {}) };
}

/** '~/data' → the serving user's home folder: what a user types in the browser's path box. */
export function expandHome(source: string): string {
  if (source === '~') return os.homedir();
  if (source.startsWith('~/') || source.startsWith('~\\')) return path.join(os.homedir(), source.slice(2));
  return source;
}

function importOptionsOf(p: ValidParamsOf<'importDataset'> | ValidParamsOf<'importSample'>): ImportOptions {
  return {
    ...(p.name !== undefined ? { name: p.name } : {}),
    ...(p.labelColumn !== undefined ? { labelColumn: p.labelColumn } : {}),
    ...(p.imageSize !== undefined ? { imageSize: p.imageSize } : {}),
    ...(p.imageFit !== undefined ? { imageFit: p.imageFit } : {}),
    ...(p.grayscale !== undefined ? { grayscale: p.grayscale } : {}),
    // Default on: the UI lists the problems on the dataset page instead of failing the import.
    skipBad: p.skipBad ?? true,
    ...(p.validationFraction !== undefined ? { validationFraction: p.validationFraction } : {}),
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
    ...(p.limit !== undefined ? { limit: p.limit } : {}),
    ...('labelsPath' in p && p.labelsPath !== undefined ? { labelsPath: expandHome(p.labelsPath) } : {}),
  };
}

type Group<M extends ServiceMethod> = Pick<ServiceHandlers, M>;

function datasetHandlers(ctx: HandlerContext): Group<'listDatasets' | 'getDataset' | 'importDataset' | 'importSample' | 'deleteDataset' | 'listArchitectures'> {
  const { service } = ctx;
  /** `sourceField` names what was imported (`source`, `sample`) in the answer to a failed import. */
  const runImport = async (source: string, sourceField: string, p: ValidParamsOf<'importDataset'> | ValidParamsOf<'importSample'>) => {
    const importId = p.importId;
    try {
      const rec = await service.importDataset(
        source,
        importOptionsOf(p),
        importId ? (progress) => ctx.emit('import-progress', { importId, ...progress }) : undefined,
      );
      return datasetDetail(rec);
    } catch (err) {
      if (err instanceof DatasetImportError) throw new ApiError(importErrorWire(err, sourceField));
      // The service calls what it imports `source`.
      if (err instanceof UserError && err.field === 'source') throw new UserError(err.message, sourceField);
      throw err;
    }
  };
  return {
    listDatasets: () => service.listDatasets().map(datasetSummary),
    getDataset: (p) => datasetDetail(service.getDataset(p.dataset), p.previewsPerClass ?? VIEW_DEFAULTS.previewsPerClass),
    importDataset: (p) => runImport(expandHome(p.source), 'source', p),
    importSample: (p) => runImport(MNIST_SAMPLE_SOURCE, 'sample', p),
    deleteDataset: (p) => service.deleteDataset(p.dataset, { dryRun: p.dryRun ?? false }),
    listArchitectures: (p) => architectureList(p.dataset !== undefined ? service.getDataset(p.dataset) : undefined),
  };
}

/** The trials of one session, or of every session oldest first, as the export's rows. */
function trialRowsOf(service: AutoBatchService, sessionId: number | undefined): TuningTrialRow[] {
  const sessions = sessionId === undefined ? [...service.listTunings()].reverse() : [service.getTuning(sessionId)];
  return sessions.flatMap((t) => tuningTrialRows(t, service.tuningTrials(t.id)));
}

function tuningDataHandlers(ctx: HandlerContext): Group<'tuningTrialRows' | 'exportTuningCsv'> {
  const { service } = ctx;
  return {
    tuningTrialRows: (p) => trialRowsOf(service, p.sessionId),
    exportTuningCsv: (p) => {
      const text = tuningTrialsCsv(trialRowsOf(service, p.sessionId));
      const fileName = tuningTrialsFileName(p.sessionId === undefined ? null : service.getTuning(p.sessionId));
      return { fileName, mimeType: 'text/csv; charset=utf-8', text, bytes: Buffer.byteLength(text, 'utf8') } satisfies ExportFile;
    },
  };
}

function tuningHandlers(
  ctx: HandlerContext,
  settings: SettingsStore,
): Group<'startTuning' | 'stopTuning' | 'getTuning' | 'listTunings' | 'deleteTuning' | 'checkTuning' | 'scaleOutPlan'> {
  const { service } = ctx;
  return {
    startTuning: async (p) => {
      // The user's settings come before the contract's defaults.
      const s = settings.get();
      const { startFrom, ...params } = p;
      const loaded = await loadStartModel(service, startFrom);
      const { sessionId, done } = service.startTuning({
        ...params,
        ...(loaded ? { startFrom: loaded } : {}),
        // Settings' default backend serves searches as it serves runs (a torch rung included).
        backend: p.backend ?? s.backend,
        ...(p.memoryBudgetBytes === undefined && s.memoryBudgetBytes !== null ? { memoryBudgetBytes: s.memoryBudgetBytes } : {}),
      });
      done.catch(() => {}); // its end arrives as a tune-status event
      return { sessionId };
    },
    stopTuning: (p) => {
      service.stopTuning(p.sessionId);
      return { ok: true as const };
    },
    getTuning: async (p) => {
      const t = service.getTuning(p.sessionId);
      const freshness = await service.tuningFreshness(t);
      return tuningDetail(t, service.tuningTrials(t.id), service.isTuningActive(t.id), ctx.lastProgress(t.id), planOfTuning(service, t), freshness);
    },
    listTunings: async (p) => {
      const datasetId = p.dataset !== undefined ? service.getDataset(p.dataset).id : undefined;
      const list = service
        .listTunings()
        .filter((t) => (datasetId === undefined || t.datasetId === datasetId) && (p.status === undefined || t.status === p.status));
      // One after another: the first may run backend detection, which the rest then find cached.
      const out = [];
      for (const t of list) out.push(tuningSummary(t, service.isTuningActive(t.id), await service.tuningFreshness(t)));
      return out;
    },
    deleteTuning: (p) => service.deleteTuning(p.sessionId, { dryRun: p.dryRun ?? false }),
    scaleOutPlan: (p) => scaleOutAnswer(service, p),
    checkTuning: async (p) => ({
      sessionId: p.sessionId,
      ...(await service.checkTuning(p.sessionId, { ...(p.dataset !== undefined ? { dataset: p.dataset } : {}), ...p.config })),
    }),
  };
}

function trainingHandlers(ctx: HandlerContext, settings: SettingsStore): Group<'startTraining' | 'stopTraining' | 'resumeTraining' | 'activeRuns'> {
  const { service } = ctx;
  return {
    startTraining: async (p) => {
      // The settings' backend where neither the request nor a tuning session names one.
      const config = { ...(p.fromTuning === undefined && p.config?.backend === undefined ? { backend: settings.get().backend } : {}), ...(p.config ?? {}) };
      const loaded = await loadStartModel(service, p.startFrom);
      const { runId, done } = service.startTraining({
        dataset: p.dataset ?? '',
        config,
        ...(loaded ? { startFrom: loaded } : {}),
        ...(p.fromTuning !== undefined ? { fromTuning: p.fromTuning } : {}),
        ...(p.maxSteps !== undefined ? { maxSteps: p.maxSteps } : {}),
      });
      done.catch(() => {}); // its end arrives as a run-status event
      return { runId };
    },
    stopTraining: (p) => {
      service.stopRun(p.runId);
      return { ok: true as const };
    },
    resumeTraining: (p) => {
      const { runId, done } = service.resumeTraining(p.runId);
      done.catch(() => {}); // its end arrives as a run-status event
      return { runId };
    },
    activeRuns: () =>
      service
        .listRuns()
        .filter((r) => service.isActive(r.id))
        .map((r) => runSummary(r, true, runHasModel(service, r.id))),
  };
}

/** The start model a request names, read and checked ('~/' is the serving user's home, as for imports). */
function loadStartModel(service: AutoBatchService, request: StartFromRequest | undefined): Promise<LoadedStartModel | undefined> {
  if (!request) return Promise.resolve(undefined);
  return service.loadStartModel({ ...request, source: expandHome(request.source) });
}

/** Whether the run's trained model is stored (and still on disk). */
function runHasModel(service: AutoBatchService, runId: number): boolean {
  const { model } = service.runFiles(runId);
  return Boolean(model && existsSync(model.path));
}

/** A completed tuning's scale-out plan, computed as it is read (null without a report, or without its dataset). */
function planOfTuning(service: AutoBatchService, t: TuningSessionRecord): ScaleOutPlan | null {
  const dataset = unlessNotFound(() => service.getDataset(t.datasetId));
  return dataset ? tuningPlan(t, dataset.manifest.split.trainCount) : null;
}

function unlessNotFound<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

async function runDetail(service: AutoBatchService, p: ValidParamsOf<'getRun'>): Promise<ResultOf<'getRun'>> {
  const run = service.getRun(p.runId);
  const maxPoints = p.maxPoints ?? VIEW_DEFAULTS.maxPoints;
  const series = Object.fromEntries(SERIES_NAMES.map((name) => [name, service.runSeries(run.id, name, maxPoints)])) as ResultOf<'getRun'>['series'];
  const { artifactDir } = service.runFiles(run.id);
  const evaluation = readEvaluation(artifactDir);
  // The dataset or the tuning session may be gone; the run is still shown (without sample images).
  const dataset = unlessNotFound(() => service.getDataset(run.datasetId));
  const tuning = run.tuningSessionId === null ? undefined : unlessNotFound(() => service.getTuning(run.tuningSessionId!));
  return {
    run: runSummary(run, service.isActive(run.id), runHasModel(service, run.id)),
    tuning: tuning ? tuningDetail(tuning, service.tuningTrials(tuning.id), false, null, planOfTuning(service, tuning)) : null,
    series,
    epochs: service.runEpochs(run.id),
    evaluation: evaluation ? await evaluationView(evaluation, dataset, p.misclassifiedLimit ?? VIEW_DEFAULTS.misclassifiedLimit) : null,
    hasModel: runHasModel(service, run.id),
    metricCount: service.runMetricCount(run.id),
    events: service.runEvents(run.id),
    discardedSteps: service.runDiscardedSteps(run.id),
    checkpoint: service.runCheckpoint(run.id),
  };
}

/** A run's name on a compare chart: an imported run says where it trained. */
function compareLabel(run: RunRecord): string {
  const d = run.distributed;
  return `#${run.id} ${run.datasetName} · ${run.model} · batch ${run.config.batchSize}${d ? ` · ${d.engine} ×${d.workers}` : ''}`;
}

function runHandlers(ctx: HandlerContext): Group<'listRuns' | 'getRun' | 'compareRuns' | 'exportRunCsv' | 'exportModel' | 'deleteRun' | 'importRunMetrics'> {
  const { service } = ctx;
  return {
    listRuns: (p) => {
      const datasetId = p.dataset !== undefined ? service.getDataset(p.dataset).id : undefined;
      return service
        .listRuns({ ...(datasetId !== undefined ? { datasetId } : {}), ...(p.model ? { model: p.model } : {}), ...(p.status ? { status: p.status } : {}) })
        .map((r) => runSummary(r, service.isActive(r.id), runHasModel(service, r.id)));
    },
    getRun: (p) => runDetail(service, p),
    compareRuns: (p) =>
      p.runIds.map((runId, i) => {
        const run = unlessNotFound(() => service.getRun(runId));
        if (!run) throw new NotFoundError('run', runId, `runIds.${i}`);
        return {
          runId,
          label: compareLabel(run),
          points: service.runSeries(runId, p.metric, p.maxPoints ?? VIEW_DEFAULTS.maxPoints),
        };
      }),
    exportRunCsv: async (p) => {
      const f = await exportBytes(service, p.runId, 'csv');
      return { fileName: f.fileName, mimeType: f.mimeType, text: f.bytes.toString('utf8'), bytes: f.bytes.length } satisfies ExportFile;
    },
    exportModel: async (p) => {
      const f = await exportBytes(service, p.runId, 'model');
      return { fileName: f.fileName, mimeType: f.mimeType, base64: f.bytes.toString('base64'), bytes: f.bytes.length } satisfies ExportFile;
    },
    deleteRun: (p) => service.deleteRun(p.runId, { dryRun: p.dryRun ?? false }),
    importRunMetrics: async (p) => {
      // '~/' is the serving user's home, as for dataset imports.
      const run = await service.importRunMetrics(expandHome(p.path), { partial: p.partial ?? false, ...(p.fileName ? { fileName: p.fileName } : {}) });
      return runSummary(run, false, false);
    },
  };
}

function recipeHandlers(ctx: HandlerContext): Group<'exportRecipe'> {
  return {
    exportRecipe: async (p) => {
      const written = await exportRecipe(
        ctx.service,
        { source: p.source, workers: p.workers, withWeights: p.withWeights ?? false, out: expandHome(p.out) },
        ctx.entryRunner,
      );
      return { folder: written.folder, files: written.files, settings: written.settings, withWeights: written.recipe.model.weights !== null };
    },
  };
}

function settingsHandlers(ctx: HandlerContext, settings: SettingsStore): Group<'getSettings' | 'updateSettings' | 'detectBackends'> {
  const dataFolder = ctx.service.paths.home;
  let backends: Promise<Backends> | undefined;
  return {
    getSettings: () => ({ dataFolder, ...settings.get(), version: ctx.version }),
    updateSettings: (p) => {
      // Another Python changes the torch rungs: the next detection looks again.
      if (p.pythonPath !== undefined && p.pythonPath !== settings.get().pythonPath) backends = undefined;
      const next = settings.update({
        ...(p.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: p.memoryBudgetBytes } : {}),
        ...(p.backend !== undefined ? { backend: p.backend } : {}),
        ...(p.pythonPath !== undefined ? { pythonPath: p.pythonPath } : {}),
        ...(p.checkpointMinutes !== undefined ? { checkpointMinutes: p.checkpointMinutes } : {}),
        ...(p.adaptiveEverySteps !== undefined ? { adaptiveEverySteps: p.adaptiveEverySteps } : {}),
        ...(p.adaptiveMinSteps !== undefined ? { adaptiveMinSteps: p.adaptiveMinSteps } : {}),
      });
      return { dataFolder, ...next, version: ctx.version };
    },
    detectBackends: (p) => {
      if (!backends || p.refresh) {
        // A refresh forgets the cached detection runs resolve from, too.
        if (p.refresh) ctx.service.backends.invalidate();
        const attempt = detectBackends(ctx.entryRunner, ctx.service.backends);
        backends = attempt;
        // A failed detection is not cached: the next call tries again.
        attempt.catch(() => {
          if (backends === attempt) backends = undefined;
        });
      }
      return backends;
    },
  };
}

/** Every call the service serves, grouped as the contract lists them. */
export function createServiceHandlers(ctx: HandlerContext): ServiceHandlers {
  // The service's own: the backend resolver reads pythonPath from the same copy.
  const settings = ctx.service.settings;
  return {
    ...datasetHandlers(ctx),
    ...tuningHandlers(ctx, settings),
    ...tuningDataHandlers(ctx),
    ...trainingHandlers(ctx, settings),
    ...runHandlers(ctx),
    ...recipeHandlers(ctx),
    ...settingsHandlers(ctx, settings),
  };
}
