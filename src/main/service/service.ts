// The API implementation: validates requests, imports datasets, runs training jobs in trainer
// processes, persists their events as they arrive, and tells listeners. It knows nothing of
// Electron, HTTP or terminals; the CLI, the server and the Electron shell sit on top of it.
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  startTuningParams,
  TRAIN_DEFAULTS,
  TUNING_DEFAULTS,
  type Deletion,
  type SeriesName,
  type SeriesPoint,
  type ValidParamsOf,
} from '../../shared/api/index.js';
import type { ImportOptions, ImportProgress } from '../../shared/dataset-types.js';
import {
  TFJS_BACKENDS,
  type BackendChoice,
  type BackendReport,
  type ConcreteBackend,
  type EpochMetrics,
  type ModelKind,
  type RunStatus,
  type StepMetrics,
  type TrainConfig,
  isTorchBackend,
} from '../../shared/run-types.js';
import type { TrainJob } from '../../shared/trainer-protocol.js';
import type { CheckpointPlan, CheckpointReason } from '../../shared/checkpoint.js';
import { isResumableStatus, type RunEvent } from '../../shared/run-events.js';
import { latestCheckpoint } from '../engine/training/checkpoint-folder.js';
import { oomStepDown } from './oom-step-down.js';
import { runMicroBatch } from '../../shared/accumulation.js';
import type { AdaptivePlan } from '../../shared/adaptive-batch.js';
import { AdaptiveController, adaptivePlanFor, DEFAULT_ADAPTIVE_SETTINGS, type AdaptiveSettings } from './adaptive-run.js';
import type { ProbeSession } from '../../shared/probe-protocol.js';
import { ProbeSessionProber } from './tuning/prober.js';
import { describeSchemaError, schemaErrorField } from '../../shared/schema-errors.js';
import { trainConfigSchema } from '../../shared/schemas.js';
import { importDataset, DatasetImportError } from '../engine/datasets/index.js';
import { modelAcceptsShape } from '../engine/models/build-model.js';
import {
  openStore,
  processGone,
  type ArtifactRecord,
  type DatasetRecord,
  type JobRow,
  type RemovalPlan,
  type RemovalTarget,
  type RunRecord,
  type Store,
  type StorePaths,
} from '../store/index.js';
import { ConflictError, NotFoundError, UserError } from './errors.js';
import { resolveAugmentation } from './augmentation.js';
import { forkSpawner, TrainerHost, type JobOutcome, type TrainerSpawner } from './trainer-host.js';
import { WarmSpawner } from './warm-spawner.js';
import { WarmPythonSpawners } from './warm-python.js';
import { createPythonSpawner, type PythonSpawnerFactory } from './python-trainer.js';
import { nodeEntryRunner, tryChoice, type EntryRunner } from './backend-detect.js';
import { BackendResolver } from './backend-resolver.js';
import { routedSpawner, type Route } from './routed-trainer.js';
import { routeChoice, routeProbeSession, type EngineRouting } from './engine-route.js';
import { SettingsStore } from './settings-store.js';
import { packageVersion } from './app-version.js';
import { bytesOf, filesOfPlan, moveAside, purge, putBack, sweepTrash } from './removal.js';
import { runTuning, TuningStoppedError } from './tuner.js';
import type { TrialRecord, TuningProgress, TuningRequest, TuningStatus } from '../../shared/tuning-types.js';
import type { TuningSessionRecord } from '../store/index.js';
import type { StartFromRequest } from '../../shared/fine-tuning.js';
import { loadStartModel, startModelDir as startModelDirOf, type LoadedStartModel, type StartModelLimits, type StoredRunModel } from './start-model-source.js';
import { checkNamedModel, planFromLoaded, planFromTuning, tuningOrigin, type StartPlan } from './run-start.js';
import { datasetContentHash } from '../engine/datasets/content-hash.js';
import { retuneCommand, retuneParams } from '../../shared/api/retune.js';
import type { TuningFingerprint, TuningFreshness } from '../../shared/tuning-fingerprint.js';
import { importRunMetrics } from './run-import.js';
import { endedSearchFingerprint, fingerprintOf, freshnessFrom, tuningInput, type FingerprintDeps } from './tuning-freshness.js';

export interface ServiceEvents {
  'tune-progress': [TuningProgress];
  'tune-trial': [{ sessionId: number; trial: TrialRecord }];
  'tune-status': [{ sessionId: number; status: TuningStatus; error?: string }];
  'run-status': [{ runId: number; status: RunStatus; error?: string }];
  'run-backend': [{ runId: number; report: BackendReport }];
  'run-metrics': [{ runId: number; steps: StepMetrics[]; epochs: EpochMetrics[] }];
}

interface ServiceOptions {
  home: string;
  spawn?: TrainerSpawner;
  heartbeatTimeoutMs?: number;
  /** Tests only: runs write a checkpoint this often (seconds) instead of the setting's minutes. */
  checkpointSeconds?: number;
  /** Tests: an adaptive run's cadence (steps between noise reports, fewest steps between changes…) instead of the defaults. */
  adaptive?: Partial<AdaptiveSettings>;
  /**
   * Keep one trainer process started while nothing runs, so a job starts without Node's boot
   * and tfjs's import (long-lived apps: the desktop shell, `autobatch serve`, benchmarks).
   */
  warmTrainer?: boolean;
  /** Time and size limits on reading a start model (tests shorten the time). */
  startModelLimits?: Partial<StartModelLimits>;
  /** `--python`: the interpreter tried first for the torch rungs (python-discovery.ts). */
  python?: string;
  /** Where AUTOBATCH_PYTHON and PATH are read (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
  /** Starts the Python trainer for a torch rung (python-trainer.ts's createPythonSpawner). */
  pythonSpawner?: PythonSpawnerFactory;
  /** Runs the tfjs detection process (the Electron shell passes a utilityProcess runner). */
  entryRunner?: EntryRunner;
  /** Tests: a resolver of their own (a fake detection). */
  resolver?: BackendResolver;
}

export type { PythonSpawnerFactory } from './python-trainer.js';

/**
 * What startTraining takes: the API's params, with the dataset resolved (or '' with fromTuning),
 * the start model loaded (loadStartModel), and a test hook.
 */
type StartTrainingRequest = Omit<ValidParamsOf<'startTraining'>, 'dataset' | 'config' | 'startFrom'> & {
  dataset: string | number;
  config: Partial<TrainConfig>;
  startFrom?: LoadedStartModel;
  /** Tests only: train on the memory-capped test backend with this cap (out-of-memory tests). */
  memoryCapBytes?: number;
};

/** What startTuning takes: the API's params, the start model loaded (loadStartModel), and a test hook. */
type StartTuningRequest = Omit<ValidParamsOf<'startTuning'>, 'startFrom'> & {
  startFrom?: LoadedStartModel;
  /** Tests only: the memory-capped test backend. */
  memoryCapBytes?: number;
};

/** A search's settings are checked by the contract's own schema (the service checks again: not every caller is the dispatcher). */
const tuningSettingsSchema = startTuningParams.omit({ dataset: true, startFrom: true });

export interface DeleteOptions {
  /** Only say what would be deleted (and what stops it now); delete nothing. */
  dryRun?: boolean;
}

interface ActiveRun {
  host: TrainerHost;
  done: Promise<RunRecord>;
  bestVal: number | null;
  lastVal: number | null;
  steps: number;
  lastStep?: StepMetrics;
  /** The first failure to store what the trainer reported (disk full, database locked…): it ends the run. */
  storeError?: Error;
  /** The run's config as it trains now (an adaptive run's batch changes it). */
  config: TrainConfig;
}

/** The run's micro-batch (shared/accumulation.ts, withMicroBatch), or a UserError naming the field. */
function withMicroBatch(config: TrainConfig, memoryCeiling: number | undefined): TrainConfig {
  const r = runMicroBatch(config, memoryCeiling);
  if ('problem' in r) throw new UserError(r.problem, 'config.microBatchSize');
  return r.config;
}

export class AutoBatchService extends EventEmitter<ServiceEvents> {
  /** The store is the service's own: every client reads through the methods below (or the API over them). */
  private readonly store: Store;
  private readonly active = new Map<number, ActiveRun>();
  private readonly activeTunings = new Map<number, () => void>();
  private readonly pendingTunings = new Map<number, Promise<TuningSessionRecord>>();

  private readonly warm: WarmSpawner | undefined;
  /** With warmTrainer: a spare Python trainer for the interpreter torch jobs last used. */
  private readonly warmPython: WarmPythonSpawners | undefined;
  /** The tfjs trainer's spawner (the warm one, a test's, or undefined: fork). */
  private readonly spawn: TrainerSpawner | undefined;
  /** The settings the app and the CLI share (settings.json in the data folder). */
  readonly settings: SettingsStore;
  /** Resolves `auto` to one rung from cached detection (backend-resolver.ts). */
  readonly backends: BackendResolver;

  constructor(private readonly options: ServiceOptions) {
    super();
    this.store = openStore(options.home);
    this.settings = new SettingsStore(options.home);
    const env = options.env ?? process.env;
    const entryRunner = options.entryRunner ?? nodeEntryRunner;
    this.backends =
      options.resolver ??
      new BackendResolver({
        home: options.home,
        appVersion: packageVersion(),
        search: () => ({ flag: options.python, env: env.AUTOBATCH_PYTHON || undefined, settings: this.settings.get().pythonPath, pathEnv: env.PATH ?? '' }),
        detectTfjs: (choice) => tryChoice(entryRunner, choice),
      });
    if (options.warmTrainer) {
      this.warm = new WarmSpawner(options.spawn ?? forkSpawner);
      this.spawn = this.warm.spawn;
      this.warm.prewarm();
      this.warmPython = new WarmPythonSpawners(options.pythonSpawner ?? createPythonSpawner);
    } else {
      this.spawn = options.spawn;
    }
    // What earlier deletions could not remove (a file that was held open).
    sweepTrash([this.store.paths.datasetsDir, this.store.paths.artifactsDir]);
  }

  /** Starts the spare trainer once no job runs (never beside one: it would skew its timings). */
  private prewarmIfIdle(): void {
    if (this.active.size > 0 || this.activeTunings.size > 0) return;
    this.warm?.prewarm();
    this.warmPython?.prewarm();
  }

  // ---- datasets -------------------------------------------------------------------------

  async importDataset(source: string, options: ImportOptions = {}, onProgress?: (p: ImportProgress) => void): Promise<DatasetRecord> {
    const base = options.name?.trim() || defaultDatasetName(source);
    if (options.name && this.store.datasets.resolve(options.name)) {
      throw new ConflictError(`a dataset named "${options.name}" already exists; choose another --name`, 'name');
    }
    const name = options.name ? base : this.store.datasets.uniqueName(base);
    const cacheDir = path.join(this.store.paths.datasetsDir, `${slug(name)}-${randomUUID().slice(0, 8)}`);
    let manifest;
    try {
      manifest = await importDataset(source, { ...options, name }, cacheDir, onProgress);
    } catch (err) {
      if (err instanceof DatasetImportError) throw err;
      throw new UserError(`could not import ${source}: ${(err as Error).message}`, 'source');
    }
    try {
      // Hashed once, now: the cache is never changed after import (content-hash.ts).
      return this.store.datasets.insert(manifest, cacheDir, await datasetContentHash(cacheDir, manifest));
    } catch (err) {
      rmSync(cacheDir, { recursive: true, force: true });
      throw err;
    }
  }

  listDatasets(): DatasetRecord[] {
    return this.store.datasets.list();
  }

  getDataset(ref: string | number): DatasetRecord {
    const rec = this.store.datasets.resolve(String(ref));
    if (!rec) throw new NotFoundError('dataset', ref, 'dataset');
    return rec;
  }

  // ---- training -------------------------------------------------------------------------

  /** Validates and starts a run; resolves once it is queued, with a promise of its end. */
  startTraining(req: StartTrainingRequest): { runId: number; done: Promise<RunRecord> } {
    let fromTuning: Partial<TrainConfig> = {};
    let tuning: TuningSessionRecord | undefined;
    if (req.fromTuning !== undefined) {
      const t = (tuning = this.store.tuning.get(req.fromTuning));
      if (!t) throw new NotFoundError('tuning session', req.fromTuning, 'fromTuning');
      if (!t.report) throw new ConflictError(`tuning session ${t.id} has no recommendation (it is ${t.status})`, 'fromTuning');
      const r = t.report.recommendation;
      fromTuning = {
        model: t.model,
        batchSize: r.batchSize,
        learningRate: r.learningRate,
        warmupSteps: r.warmupSteps,
        optimizer: r.optimizer,
        ...(r.evalBatchSize !== undefined ? { evalBatchSize: r.evalBatchSize } : {}),
        ...(r.microBatchSize !== undefined ? { microBatchSize: r.microBatchSize } : {}),
        // The rung the search ran on, not a fresh `auto` (which may now resolve elsewhere).
        backend: tuningRung(t),
        augment: t.request.augment ?? 'none',
      };
      if (req.dataset === undefined || req.dataset === '') req = { ...req, dataset: t.datasetId };
    }
    const dataset = this.getDataset(req.dataset);
    const start = this.runStartPlan(req, tuning);
    const parsed = trainConfigSchema.safeParse({ ...TRAIN_DEFAULTS, ...fromTuning, ...req.config, ...(start ? { model: start.kind } : {}) });
    if (!parsed.success)
      throw new UserError(
        `invalid training settings: ${describeSchemaError(parsed.error)}`,
        ['config', schemaErrorField(parsed.error)].filter(Boolean).join('.'),
      );
    const config: TrainConfig = withMicroBatch(
      {
        ...parsed.data,
        augment: resolveAugmentation(dataset, 'config.augment', parsed.data.augment),
        ...(start ? { startFrom: start.record(parsed.data.learningRate) } : {}),
      },
      tuning?.report?.recommendation.memoryCeiling,
    );
    if (config.adaptive) this.adaptivePlan(dataset.id, config, req.fromTuning);
    const startProblem = start?.problem({ ...dataset.manifest, name: dataset.name });
    if (startProblem) throw new UserError(startProblem, 'startFrom');
    const shapeProblem = config.startFrom || config.model === 'imported' ? null : modelAcceptsShape(config.model, dataset.manifest.inputShape);
    if (shapeProblem) throw new UserError(shapeProblem, 'config.model');
    if (!existsSync(dataset.cacheDir))
      throw new UserError(`dataset "${dataset.name}" has lost its cached data (${dataset.cacheDir}); import it again`, 'dataset');

    // Everything is checked: the start model's copy is stored now (once per model), then the run.
    const startModelDir = start?.store();
    const origin = tuning ? tuningOrigin(tuning) : undefined;
    const run = this.store.runs.create({ datasetId: dataset.id, config, ...(req.fromTuning !== undefined ? { tuningSessionId: req.fromTuning } : {}) });
    const artifactDir = this.artifactDirOf(run.id);
    mkdirSync(artifactDir, { recursive: true });
    return this.launchRun(run.id, {
      kind: 'train',
      runId: run.id,
      datasetDir: dataset.cacheDir,
      config,
      artifactDir,
      maxSteps: req.maxSteps,
      checkpoints: this.checkpointPlan(run.id),
      ...(config.adaptive ? { adaptive: { everySteps: this.adaptiveSettings().everySteps } } : {}),
      ...(startModelDir !== undefined ? { startModelDir } : {}),
      ...(origin ? { tuning: origin } : {}),
      ...(req.memoryCapBytes !== undefined ? { memoryCapBytes: req.memoryCapBytes } : {}),
    });
  }

  private artifactDirOf(runId: number): string {
    return path.join(this.store.paths.artifactsDir, `run-${runId}`);
  }

  /** Where a run's checkpoints go, and how often (the setting) besides each epoch's end and a stop. */
  private checkpointPlan(runId: number): CheckpointPlan {
    return {
      dir: path.join(this.artifactDirOf(runId), 'checkpoints'),
      everySeconds: this.options.checkpointSeconds ?? this.settings.get().checkpointMinutes * 60,
    };
  }

  /**
   * Continues a stopped, interrupted or failed run from its newest checkpoint in a fresh trainer,
   * on the engine and rung it ran on, appending to the same run. Steps the earlier attempt did
   * after the checkpoint are kept apart (discarded_metrics) and redone; the resume is an event.
   */
  resumeTraining(runId: number, test: { memoryCapBytes?: number; maxSteps?: number } = {}): { runId: number; done: Promise<RunRecord> } {
    const run = this.getRun(runId);
    if (this.active.has(runId)) throw new ConflictError(`run ${runId} is ${run.status}: it is training now`, 'runId');
    if (run.distributed)
      throw new ConflictError(
        `run ${runId} was trained elsewhere (PyTorch DDP on ${run.distributed.workers} workers) and imported: it cannot be resumed here`,
        'runId',
      );
    if (!isResumableStatus(run.status))
      throw new ConflictError(`run ${runId} is ${run.status}: only a stopped, interrupted or failed run can be resumed`, 'runId');
    const plan = this.checkpointPlan(runId);
    const checkpoint = latestCheckpoint(plan.dir);
    if (!checkpoint)
      throw new ConflictError(`run ${runId} has no checkpoint to resume from (${plan.dir} holds none: it ended before its first checkpoint)`, 'runId');
    const dataset = this.store.datasets.get(run.datasetId);
    if (!dataset || !existsSync(dataset.cacheDir))
      throw new UserError(
        `run ${runId} cannot be resumed: its dataset "${run.datasetName}" has lost its cached data (${dataset?.cacheDir ?? 'deleted'}); its stored metrics and checkpoints are kept`,
        'runId',
      );
    const engine = run.rung?.startsWith('torch-') || run.config.backend.startsWith('torch-') ? 'torch' : 'tfjs';
    if (checkpoint.state.engine !== engine)
      throw new ConflictError(`run ${runId}'s checkpoint was written by the ${checkpoint.state.engine} engine, but the run trains on ${engine}`, 'runId');
    const startFrom = run.config.startFrom;
    const startModelDir = startFrom ? startModelDirOf(this.store.paths.startModelsDir, startFrom.digest) : undefined;
    if (startModelDir !== undefined && !existsSync(startModelDir))
      throw new UserError(`run ${runId} started from a trained model that is no longer in the data folder (${startModelDir})`, 'runId');
    const tuning = run.tuningSessionId !== null ? this.store.tuning.get(run.tuningSessionId) : undefined;
    const origin = tuning ? tuningOrigin(tuning) : undefined;
    // The rung it ran on, not a fresh `auto`: a resumed run stays on its engine and rung.
    const config: TrainConfig = { ...run.config, ...(run.rung ? { backend: run.rung } : {}) };
    this.store.events.reopen(runId, {
      kind: 'resumed',
      step: checkpoint.state.step,
      time: checkpoint.state.trainSeconds,
      checkpoint: checkpoint.state.reason,
      previousStatus: run.status,
      discardedSteps: Math.max(0, run.steps - checkpoint.state.step),
    });
    const { state } = checkpoint;
    return this.launchRun(
      runId,
      {
        kind: 'train',
        runId,
        datasetDir: dataset.cacheDir,
        config,
        artifactDir: this.artifactDirOf(runId),
        checkpoints: plan,
        resume: { checkpointDir: checkpoint.dir },
        ...(config.adaptive ? { adaptive: { everySteps: this.adaptiveSettings().everySteps } } : {}),
        ...(test.maxSteps !== undefined ? { maxSteps: test.maxSteps } : {}),
        ...(startModelDir !== undefined ? { startModelDir } : {}),
        ...(origin ? { tuning: origin } : {}),
        ...(test.memoryCapBytes !== undefined ? { memoryCapBytes: test.memoryCapBytes } : {}),
      },
      { bestVal: state.bestValAccuracy, lastVal: state.finalValAccuracy, steps: state.step },
    );
  }

  /** Starts a trainer on a queued run's job and follows it to its end; a resumed run's figures so far come with it. */
  private adaptiveSettings(): AdaptiveSettings {
    const s = this.settings.get();
    return { ...DEFAULT_ADAPTIVE_SETTINGS, everySteps: s.adaptiveEverySteps, minStepsBetween: s.adaptiveMinSteps, ...this.options.adaptive };
  }

  /** The plan an adaptive run of this config on this dataset follows, or a UserError saying why there is none. */
  private adaptivePlan(datasetId: number, config: TrainConfig, tuningId: number | null | undefined): AdaptivePlan {
    const plan = adaptivePlanFor({ datasetId, config }, this.store.tuning.list(), tuningId);
    if ('problem' in plan) throw new UserError(plan.problem, 'config.adaptive');
    return plan;
  }

  /**
   * An adaptive run: each noise report the trainer sends may change its batch (AdaptiveController);
   * the change, once taken, is stored as an event with the run's new config.
   */
  private adaptRun(runId: number, active: ActiveRun, startStep: number): void {
    const run = this.store.runs.get(runId);
    if (!run) return;
    const plan = adaptivePlanFor(run, this.store.tuning.list(), run.tuningSessionId);
    if ('problem' in plan) return; // checked at the start; a tuning deleted since: the batch stays
    const settings = this.adaptiveSettings();
    const controller = new AdaptiveController(plan, settings, startStep);
    active.host.on('noise', (n) => {
      const change = controller.decide(n.step, n.noiseScale, active.config);
      if (change) active.host.setBatch({ batchSize: change.batchSize, learningRate: change.learningRate, rampSteps: settings.rampSteps });
    });
    active.host.on('batch-changed', (c) => {
      // The decision's own gain and noise scale (a later noise report may have come meanwhile).
      const decided = controller.changed(c.step);
      const from = active.config;
      active.config = { ...from, batchSize: c.batchSize, learningRate: c.learningRate };
      const event = {
        kind: 'batch-adapted',
        step: c.step,
        time: c.time,
        fromBatch: from.batchSize,
        toBatch: c.batchSize,
        fromRate: from.learningRate,
        toRate: c.learningRate,
        // decided is never null: the trainer changes its batch only when told to (setBatch).
        noiseScale: decided?.noiseScale ?? 0,
        gain: decided?.change.gain ?? 0,
        rampSteps: settings.rampSteps,
      } as const;
      this.storing(active, () => this.store.events.record(runId, event, active.config));
    });
  }

  private launchRun(
    runId: number,
    job: TrainJob,
    sofar: Pick<ActiveRun, 'bestVal' | 'lastVal' | 'steps'> = { bestVal: null, lastVal: null, steps: 0 },
  ): { runId: number; done: Promise<RunRecord> } {
    const host = new TrainerHost(job, { spawn: routedSpawner((j) => this.route(j)), heartbeatTimeoutMs: this.options.heartbeatTimeoutMs });
    const active: ActiveRun = { host, done: undefined as unknown as Promise<RunRecord>, ...sofar, config: job.config };
    if (job.config.adaptive) this.adaptRun(runId, active, sofar.steps);
    host.on('backend', (report) => {
      if (!this.storing(active, () => this.store.runs.markRunning(runId, report))) return;
      this.emit('run-backend', { runId: runId, report });
      this.emit('run-status', { runId: runId, status: 'running' });
    });
    host.on('metrics', ({ steps, epochs }) => this.recordMetrics(runId, active, steps, epochs));
    active.done = host.done.then((outcome) => this.afterRun(runId, active, job, outcome));
    this.active.set(runId, active);
    this.emit('run-status', { runId: runId, status: 'queued' });
    return { runId: runId, done: active.done };
  }

  /**
   * Which trainer takes a run's job: the backend resolved to one rung (cached detection), then
   * tfjs's trainer with that rung, or the Python trainer for a torch rung (engine-route.ts).
   * Memory-capped test jobs: tfjs's capped backend, or the Python trainer's capped device when
   * they name a torch rung.
   */
  private async route(job: TrainJob): Promise<Route> {
    if (job.memoryCapBytes !== undefined && !isTorchBackend(job.config.backend)) return { ok: true, spawn: this.engineRouting().tfjs, job, skipped: [] };
    const r = await routeChoice(job.config.backend, this.engineRouting());
    if (!r.ok) return { ok: false, cause: 'backend', message: r.message };
    return { ok: true, spawn: r.spawn, job: { ...job, config: { ...job.config, backend: r.rung } }, rung: r.rung, skipped: r.skipped };
  }

  /** How a backend choice finds its trainer: this service's resolver, tfjs spawner and Python spawner. */
  private engineRouting(): EngineRouting {
    return {
      resolve: (choice) => this.backends.resolve(choice),
      tfjs: this.spawn ?? forkSpawner,
      python: this.warmPython?.factory ?? this.options.pythonSpawner ?? createPythonSpawner,
      ...(this.options.entryRunner ? { entryRunner: this.options.entryRunner } : {}),
    };
  }

  /**
   * A probe session on a stored dataset, routed as a search's (its backend resolved to a rung, the
   * trainer for that rung): for tools that run one probe on their own, such as the Auto-tune
   * benchmark's learning-rate-finder baseline, and tests. The caller starts and closes it.
   */
  async openProber(datasetId: number, o: { model: ModelKind; backend: BackendChoice; seed: number; memoryCapBytes?: number }): Promise<ProbeSessionProber> {
    const dataset = this.getDataset(datasetId);
    const session: ProbeSession = {
      kind: 'probe-session',
      datasetDir: dataset.cacheDir,
      model: o.model,
      optimizer: 'adam',
      backend: o.backend,
      seed: o.seed,
      augment: 'none',
      // Tests: the capped test device (on a torch rung its peaks are the live tensor bytes its cap compares).
      ...(o.memoryCapBytes !== undefined ? { memoryCapBytes: o.memoryCapBytes } : {}),
    };
    const routed = await routeProbeSession(session, this.engineRouting());
    return new ProbeSessionProber(routed.session, { spawn: routed.spawn });
  }

  /**
   * Reads and checks the trained model a run or search is to start from; stores nothing (the run
   * or search stores its copy once all its settings are checked). Throws UserError on
   * startFrom.source for anything wrong with it.
   */
  loadStartModel(request: StartFromRequest): Promise<LoadedStartModel> {
    return loadStartModel(request, {
      findRun: (runId) => this.storedRunModel(runId),
      ...(this.options.startModelLimits ? { limits: this.options.startModelLimits } : {}),
    });
  }

  /** The saved model of a run of this data folder, for a run to start from. */
  private storedRunModel(runId: number): StoredRunModel {
    const run = this.store.runs.get(runId);
    if (!run) throw new UserError(`no run ${runId} in this data folder (${this.store.paths.home})`, 'startFrom.source');
    if (run.status !== 'completed')
      throw new UserError(`run ${runId} is ${run.status}: only a completed run has a trained model to start from`, 'startFrom.source');
    const model = this.store.artifacts.listForRun(run.id).find((a) => a.kind === 'model');
    if (!model || !existsSync(model.path))
      throw new UserError(`run ${runId} has no saved model (it was deleted from ${model?.path ?? 'its folder'})`, 'startFrom.source');
    return { dir: model.path, model: run.config.model };
  }

  /** The start model of a run: the one the request names, else its tuning session's. */
  private runStartPlan(req: StartTrainingRequest, tuning: TuningSessionRecord | undefined): StartPlan | undefined {
    if (req.config.startFrom) throw new UserError('name the model to start from with startFrom, not config.startFrom', 'config.startFrom');
    const dir = this.store.paths.startModelsDir;
    const plan = req.startFrom ? planFromLoaded(req.startFrom, dir) : tuning ? planFromTuning(tuning, dir) : undefined;
    checkNamedModel(req.config.model, plan, 'config.model');
    return plan;
  }

  stopRun(runId: number): void {
    const active = this.active.get(runId);
    if (!active) {
      const rec = this.store.runs.get(runId);
      if (!rec) throw new NotFoundError('run', runId, 'runId');
      throw new ConflictError(`run ${runId} is not running (it is ${rec.status})`, 'runId');
    }
    active.host.stop();
  }

  isActive(runId: number): boolean {
    return this.active.has(runId);
  }

  /**
   * Runs a store write for an active run. If the storage fails (disk full, database locked by
   * another program, folder turned read-only) the run cannot keep its promise that everything
   * reported is stored: the failure is kept for the run's end, the trainer is stopped, and false
   * is returned. This is called from the trainer's message handler, where a throw would bring
   * down the whole process.
   */
  private storing(active: ActiveRun, write: () => void): boolean {
    if (active.storeError) return false;
    try {
      write();
      return true;
    } catch (err) {
      active.storeError = err instanceof Error ? err : new Error(String(err));
      active.host.stop();
      return false;
    }
  }

  private recordMetrics(runId: number, active: ActiveRun, steps: StepMetrics[], epochs: EpochMetrics[]): void {
    // Persist first: whatever happens to the trainer next, what it reported is kept — and what
    // could not be stored is not announced either.
    const stored = this.storing(active, () => {
      if (steps.length) this.store.metrics.appendSteps(runId, steps);
      if (epochs.length) this.store.metrics.appendEpochs(runId, epochs);
    });
    if (!stored) return;
    if (steps.length) {
      active.steps = steps[steps.length - 1]!.step;
      active.lastStep = steps[steps.length - 1];
    }
    for (const e of epochs) {
      active.lastVal = e.valAccuracy;
      active.bestVal = active.bestVal === null ? e.valAccuracy : Math.max(active.bestVal, e.valAccuracy);
    }
    if (epochs.length) {
      const summarised = this.storing(active, () =>
        this.store.runs.updateSummary(runId, {
          steps: active.steps,
          ...(active.bestVal !== null ? { bestValAccuracy: active.bestVal } : {}),
          ...(active.lastVal !== null ? { finalValAccuracy: active.lastVal } : {}),
        }),
      );
      if (!summarised) return;
    }
    this.emit('run-metrics', { runId, steps, epochs });
  }

  /**
   * A trainer's end: the run's end — unless it ran out of memory and a smaller batch may fit.
   * Then a fresh trainer (a backend that failed an allocation can keep memory) goes on from the
   * newest checkpoint (or the start) with the batch that failed stepped down (oom-step-down.ts),
   * and the change is an event of the run; `done` follows the run to its real end.
   */
  private afterRun(runId: number, active: ActiveRun, job: TrainJob, outcome: JobOutcome): RunRecord | Promise<RunRecord> {
    const artifactDir = job.artifactDir!;
    if (outcome.status !== 'failed' || outcome.cause !== 'oom' || active.storeError) return this.finishRun(runId, active, outcome, artifactDir);
    const run = this.store.runs.get(runId);
    const plan = oomStepDown(job.config, outcome.phase, run ? this.verifiedBatches(run) : []);
    if ('refused' in plan) return this.finishRun(runId, active, { ...outcome, message: `${outcome.message} — ${plan.refused}` }, artifactDir);
    const checkpoint = job.checkpoints ? latestCheckpoint(job.checkpoints.dir) : undefined;
    const from = checkpoint?.state;
    try {
      this.store.events.reopen(
        runId,
        {
          kind: 'batch-reduced',
          step: from?.step ?? 0,
          time: from?.trainSeconds ?? 0,
          checkpoint: from?.reason ?? null,
          discardedSteps: Math.max(0, active.steps - (from?.step ?? 0)),
          batch: plan.batch,
          fromBatch: plan.fromBatch,
          toBatch: plan.toBatch,
          fromRate: plan.fromRate,
          toRate: plan.toRate,
          cause: `${outcome.phase === 'validation' ? 'validation' : 'a training step'}: ${outcome.message}`.slice(0, 500),
        },
        { config: plan.config, active: true },
      );
    } catch {
      return this.finishRun(runId, active, outcome, artifactDir);
    }
    this.active.delete(runId);
    const { resume: _previous, ...rest } = job;
    const next: TrainJob = { ...rest, config: plan.config, ...(checkpoint ? { resume: { checkpointDir: checkpoint.dir } } : {}) };
    return this.launchRun(runId, next, { bestVal: from?.bestValAccuracy ?? null, lastVal: from?.finalValAccuracy ?? null, steps: from?.step ?? 0 }).done;
  }

  /** Batches a search measured to fit for this run's model and dataset on its rung (memory probes that passed). */
  private verifiedBatches(run: RunRecord): number[] {
    const rung = run.rung ?? run.config.backend;
    return this.store.tuning
      .list()
      .filter((t) => t.datasetId === run.datasetId && t.model === run.model && t.rung === rung)
      .flatMap((t) => this.store.tuning.trials(t.id))
      .filter((t) => t.kind === 'memory' && t.status === 'ok')
      .map((t) => t.batchSize);
  }

  private finishRun(runId: number, active: ActiveRun, outcome: JobOutcome, artifactDir: string): RunRecord {
    this.active.delete(runId);
    this.prewarmIfIdle();
    if (active.storeError) {
      // The trainer was stopped because its metrics could not be stored: that is the run's end.
      outcome = { status: 'failed', cause: 'error', message: `could not store the run's metrics: ${active.storeError.message}` };
    }
    let status = outcome.status;
    let error: string | undefined;
    if (outcome.status === 'failed') error = `${outcome.cause}: ${outcome.message}`;
    if (outcome.status === 'interrupted') error = outcome.message;
    const summary = 'summary' in outcome ? outcome.summary : undefined;
    try {
      this.store.runs.updateSummary(runId, {
        steps: summary?.steps ?? active.steps,
        ...(summary
          ? { trainSeconds: summary.trainSeconds, samplesPerSecond: summary.samplesPerSecond }
          : active.lastStep
            ? { trainSeconds: active.lastStep.time }
            : {}),
        ...((summary?.bestValAccuracy ?? active.bestVal) !== null ? { bestValAccuracy: (summary?.bestValAccuracy ?? active.bestVal)! } : {}),
        ...((summary?.finalValAccuracy ?? active.lastVal) !== null ? { finalValAccuracy: (summary?.finalValAccuracy ?? active.lastVal)! } : {}),
      });
      if ((outcome.status === 'completed' || outcome.status === 'stopped') && outcome.artifact) {
        this.store.artifacts.add({ runId, kind: 'model', path: outcome.artifact.path, bytes: outcome.artifact.bytes });
      }
      if (outcome.status === 'completed' && outcome.evaluation) {
        writeFileSync(path.join(artifactDir, 'evaluation.json'), JSON.stringify(outcome.evaluation));
      }
      this.store.runs.finish(runId, status, error);
    } catch (err) {
      // The end itself could not be stored (the storage failed just now): listeners still hear
      // how it ended and why; the stored row stays 'running' and becomes 'interrupted' at the
      // next start, with every metric stored before.
      status = 'failed';
      error = `could not store the end of the run: ${(err as Error).message}`;
      this.emit('run-status', { runId, status, error });
      // Reading usually still works (a full disk, a lock held by a writer): answer with the
      // stored run as it ended here. If even that fails, done rejects with the storage error.
      return { ...this.store.runs.get(runId)!, status, error };
    }
    this.emit('run-status', { runId, status, ...(error ? { error } : {}) });
    return this.store.runs.get(runId)!;
  }

  // ---- automatic batch-size search --------------------------------------------------------

  /** Starts an Auto-tune session; its progress and trials arrive as events. */
  startTuning(req: StartTuningRequest): { sessionId: number; done: Promise<TuningSessionRecord> } {
    const dataset = this.getDataset(req.dataset);
    const { dataset: _ref, memoryCapBytes: _cap, startFrom: loaded, ...settings } = req;
    const parsed = tuningSettingsSchema.safeParse(settings);
    if (!parsed.success) throw new UserError(`invalid tuning settings: ${describeSchemaError(parsed.error)}`, schemaErrorField(parsed.error));
    // The contract's defaults; the range test stays implied (absent means on) as stored before.
    const { searchLearningRate: _rangeTest, ...defaults } = TUNING_DEFAULTS;
    const { model, ...chosen } = parsed.data;
    const start = loaded ? planFromLoaded(loaded, this.store.paths.startModelsDir) : undefined;
    checkNamedModel(model, start, 'model');
    const chosenModel = start?.kind ?? model;
    if (!chosenModel) throw new UserError('choose a model (or a trained model to start from)', 'model');
    const request: TuningRequest = { ...defaults, ...chosen, model: chosenModel };
    if (start) request.startFrom = start.record(request.baseLearningRate);
    request.augment = resolveAugmentation(dataset, 'augment', chosen.augment);
    const shapeProblem = request.startFrom || request.model === 'imported' ? null : modelAcceptsShape(request.model, dataset.manifest.inputShape);
    if (shapeProblem) throw new UserError(shapeProblem, 'model');
    const startProblem = start?.problem({ ...dataset.manifest, name: dataset.name });
    if (startProblem) throw new UserError(startProblem, 'startFrom');
    start?.store();
    const session = this.store.tuning.create(dataset.id, request);
    let stop = false;
    this.activeTunings.set(session.id, () => (stop = true));
    this.emit('tune-status', { sessionId: session.id, status: 'running' });
    const done = runTuning({
      store: this.store,
      sessionId: session.id,
      dataset,
      request,
      route: (probeSession) => routeProbeSession(probeSession, this.engineRouting()),
      memoryCapBytes: req.memoryCapBytes,
      shouldStop: () => stop,
      onProgress: (p) => this.emit('tune-progress', p),
      onTrial: (trial) => this.emit('tune-trial', { sessionId: session.id, trial }),
      onBackend: () => {},
    })
      .then(
        (report) => {
          this.store.tuning.finish(session.id, 'completed', { report, searchSeconds: report.searchSeconds });
          return 'completed' as const;
        },
        (err: unknown) => {
          const stopped = err instanceof TuningStoppedError;
          const error = stopped ? undefined : (err as Error).message;
          this.store.tuning.finish(session.id, stopped ? 'stopped' : 'failed', { ...(error ? { error } : {}) });
          return stopped ? ('stopped' as const) : ('failed' as const);
        },
      )
      .then(async (status) => {
        await this.storeFingerprint(session.id);
        return status;
      })
      .then(
        (status) => {
          this.activeTunings.delete(session.id);
          this.prewarmIfIdle();
          const rec = this.store.tuning.get(session.id)!;
          this.emit('tune-status', { sessionId: session.id, status, ...(rec.error ? { error: rec.error } : {}) });
          return rec;
        },
        (err: unknown) => {
          // The session's end could not be stored (disk full, database locked…): say so; the
          // stored session becomes 'interrupted' at the next start.
          this.activeTunings.delete(session.id);
          this.prewarmIfIdle();
          this.emit('tune-status', { sessionId: session.id, status: 'failed', error: `could not store the search: ${(err as Error).message}` });
          throw err;
        },
      );
    this.pendingTunings.set(session.id, done);
    // Only bookkeeping: the caller handles done's rejection (an unhandled one would end the process).
    done.finally(() => this.pendingTunings.delete(session.id)).catch(() => {});
    return { sessionId: session.id, done };
  }

  stopTuning(sessionId: number): void {
    const stop = this.activeTunings.get(sessionId);
    if (!stop) throw new ConflictError(`tuning session ${sessionId} is not running (it is ${this.getTuning(sessionId).status})`, 'sessionId');
    stop();
  }

  /** Whether this process is running the session now (it can be stopped). */
  isTuningActive(sessionId: number): boolean {
    return this.activeTunings.has(sessionId);
  }

  getTuning(sessionId: number): TuningSessionRecord {
    const rec = this.store.tuning.get(sessionId);
    if (!rec) throw new NotFoundError('tuning session', sessionId, 'sessionId');
    return rec;
  }

  listTunings(): TuningSessionRecord[] {
    return this.store.tuning.list();
  }

  // ---- a tuning's fingerprint: is it stale? (tuning-freshness.ts) -------------------------

  private fingerprintDeps(): FingerprintDeps {
    return { backends: this.backends, contentHash: (d) => this.contentHash(d), appVersion: packageVersion() };
  }

  /** A dataset's content hash: kept since import, else computed from its cache folder once and kept. */
  private async contentHash(d: DatasetRecord): Promise<string> {
    if (d.contentHash !== null) return d.contentHash;
    const hash = await datasetContentHash(d.cacheDir, d.manifest);
    this.store.datasets.setContentHash(d.id, hash);
    return hash;
  }

  /**
   * Keeps what an ended search's measurements depended on. A fingerprint that cannot be made
   * (the cache unreadable) leaves the tuning "fingerprint unknown" rather than failing a search
   * whose measurements are stored.
   */
  private async storeFingerprint(sessionId: number): Promise<void> {
    try {
      const t = this.store.tuning.get(sessionId);
      const dataset = t && this.store.datasets.get(t.datasetId);
      if (!t || !dataset) return;
      const fingerprint = await endedSearchFingerprint(t, dataset, this.fingerprintDeps());
      if (fingerprint) this.store.tuning.setFingerprint(sessionId, fingerprint);
    } catch {
      // Its status and report are stored already; without a fingerprint it reads "unknown".
    }
  }

  /** Whether a tuning still holds for training with it as it is (listTunings, getTuning). */
  async tuningFreshness(t: TuningSessionRecord): Promise<TuningFreshness> {
    // Nothing to compare with: unknown, without asking the machine (or hashing a dataset) for it.
    if (t.fingerprint === null) return freshnessFrom(t, { unreadable: '' });
    return (await this.checkTuning(t.id)).freshness;
  }

  /**
   * Whether a tuning still holds for a run started from it with these changes, on this machine
   * now: each change in words, the current fingerprint, and the search that would measure afresh.
   */
  async checkTuning(
    sessionId: number,
    changes: { dataset?: string | number; model?: ModelKind; augment?: TuningRequest['augment']; backend?: BackendChoice } = {},
  ): Promise<{ freshness: TuningFreshness; current: TuningFingerprint | null; retuneCommand: string }> {
    const t = this.getTuning(sessionId);
    const dataset = changes.dataset !== undefined ? this.getDataset(changes.dataset) : this.store.datasets.get(t.datasetId);
    if (!dataset) throw new NotFoundError('dataset', t.datasetId, 'dataset');
    const { dataset: _ref, ...runChanges } = changes;
    const current = await fingerprintOf(tuningInput(t, dataset, runChanges), this.fingerprintDeps()).catch((err: unknown) => ({
      unreadable: `the dataset's cached data cannot be read (${(err as Error).message})`,
    }));
    return {
      freshness: freshnessFrom(t, current),
      current: 'ok' in current && current.ok ? current.fingerprint : null,
      retuneCommand: retuneCommand(retuneParams(t.datasetId, t.request, { ...runChanges, dataset: dataset.id })),
    };
  }

  // ---- runs -----------------------------------------------------------------------------

  listRuns(filter?: Parameters<Store['runs']['list']>[0]): RunRecord[] {
    return this.store.runs.list(filter);
  }

  /**
   * Stores a distributed run from the metrics file its recipe wrote (or the folder holding it):
   * see run-import.ts. Nothing stored changes when it is refused.
   */
  importRunMetrics(file: string, options: { partial?: boolean; fileName?: string } = {}): Promise<RunRecord> {
    return importRunMetrics({ store: this.store, contentHash: (d) => this.contentHash(d) }, file, options);
  }

  getRun(runId: number): RunRecord {
    const rec = this.store.runs.get(runId);
    if (!rec) throw new NotFoundError('run', runId, 'runId');
    return rec;
  }

  /** Every stored step of a run, in order (never down-sampled). */
  runSteps(runId: number): StepMetrics[] {
    return this.store.metrics.steps(this.getRun(runId).id);
  }

  /** Every stored epoch (validation) of a run. */
  runEpochs(runId: number): EpochMetrics[] {
    return this.store.metrics.epochs(this.getRun(runId).id);
  }

  /** One metric of a run, down-sampled to at most maxPoints (each bucket keeps its lowest and highest value). */
  runSeries(runId: number, name: SeriesName, maxPoints: number): SeriesPoint[] {
    return this.store.metrics.series(this.getRun(runId).id, name, maxPoints);
  }

  /** How many metric values are stored for the run. */
  runEvents(runId: number): RunEvent[] {
    return this.store.events.list(runId);
  }

  runDiscardedSteps(runId: number): number {
    return this.store.events.discardedSteps(runId);
  }

  /** The newest readable checkpoint of a run (what Resume continues from), or null. */
  runCheckpoint(runId: number): { step: number; epoch: number; reason: CheckpointReason; writtenAt: string } | null {
    const c = latestCheckpoint(this.checkpointPlan(runId).dir);
    return c ? { step: c.state.step, epoch: c.state.epoch, reason: c.state.reason, writtenAt: c.state.writtenAt } : null;
  }

  runMetricCount(runId: number): number {
    return this.store.metrics.count(this.getRun(runId).id);
  }

  /** The run's metrics, one row per step, as CSV text. */
  runCsv(runId: number): string {
    return this.store.metrics.toCsv(this.getRun(runId).id);
  }

  /** The run's saved files: its model folder (once it completed or stopped), and the folder evaluation.json is in. */
  runFiles(runId: number): { model: ArtifactRecord | undefined; artifactDir: string } {
    const run = this.getRun(runId);
    const model = this.store.artifacts.listForRun(run.id).find((a) => a.kind === 'model');
    return { model, artifactDir: model ? path.dirname(model.path) : path.join(this.store.paths.artifactsDir, `run-${run.id}`) };
  }

  /** Every probe and trial of a tuning session, in order. */
  tuningTrials(sessionId: number): TrialRecord[] {
    return this.store.tuning.trials(this.getTuning(sessionId).id);
  }

  /** The data folder and the database file in it. */
  get paths(): Readonly<StorePaths> {
    return this.store.paths;
  }

  /** Runs left 'running' by a process that died, marked interrupted when this service opened the store. */
  get recoveredRuns(): readonly number[] {
    return this.store.recovered;
  }

  // ---- deleting -------------------------------------------------------------------------

  /** Deletes a dataset: its cache folder, its runs (metrics, models) and its tuning sessions. */
  deleteDataset(ref: string | number, options: DeleteOptions = {}): Promise<Deletion> {
    return this.remove(() => ({ kind: 'dataset', id: this.getDataset(ref).id }), 'dataset', options);
  }

  /** Deletes a run: its metrics, its artifacts and its folder. */
  deleteRun(runId: number, options: DeleteOptions = {}): Promise<Deletion> {
    return this.remove(() => ({ kind: 'run', id: this.getRun(runId).id }), 'runId', options);
  }

  /** Deletes a tuning session and its trials; runs trained with it are kept, their link cleared. */
  deleteTuning(sessionId: number, options: DeleteOptions = {}): Promise<Deletion> {
    return this.remove(() => ({ kind: 'tuning', id: this.getTuning(sessionId).id }), 'sessionId', options);
  }

  /**
   * Files moved aside, rows deleted in one transaction, files removed: see removal.ts for why in
   * this order. Everything up to the transaction's end runs without yielding, so no job of this
   * process can start in between; jobs of other processes are checked again inside it.
   */
  private async remove(find: () => RemovalTarget, field: string, options: DeleteOptions): Promise<Deletion> {
    const target = find();
    const plan = this.store.removal.plan(target);
    if (!plan) throw new NotFoundError(target.kind === 'tuning' ? 'tuning session' : target.kind, target.id, field);
    const inUse = this.inUse(plan);
    const files = filesOfPlan(plan, this.store.paths);
    const bytes = bytesOf(files);
    if (options.dryRun) return deletionReport(plan, { dryRun: true, inUse, bytes, leftOver: [] });
    if (inUse) throw new ConflictError(inUse, field);

    const moved = moveAside(files, field);
    let done: RemovalPlan;
    try {
      done = this.store.removal.remove(target, (now) => {
        const reason = this.inUse(now);
        if (reason) throw new ConflictError(reason, field);
        const ids = (p: RemovalPlan) => JSON.stringify([p.runs.map((r) => r.id), p.sessions.map((s) => s.id)]);
        if (ids(now) !== ids(plan)) throw new ConflictError(`${describeTarget(target)} changed while it was being deleted; try again`, field);
      });
    } catch (err) {
      putBack(moved);
      throw err;
    }
    const leftOver = await purge(moved);
    return deletionReport(done, { dryRun: false, inUse: null, bytes, leftOver });
  }

  /** What job uses something this plan deletes, in words; null when none does. */
  private inUse(plan: RemovalPlan): string | null {
    const otherProcess = (j: JobRow) =>
      j.ownerPid !== null && j.ownerPid !== process.pid && !processGone(j.ownerPid, j.ownerHost) ? ` (in another AutoBatch process, pid ${j.ownerPid})` : '';
    const runBusy = (r: JobRow) => this.active.has(r.id) || ((r.status === 'queued' || r.status === 'running') && otherProcess(r) !== '');
    const sessionBusy = (s: JobRow) => this.activeTunings.has(s.id) || (s.status === 'running' && otherProcess(s) !== '');
    const { target } = plan;
    const doing = (r: JobRow) => (r.status === 'queued' ? 'waiting to train' : 'training');
    for (const r of plan.runs) {
      if (!runBusy(r)) continue;
      if (target.kind === 'run') return `run ${r.id} is ${r.status === 'queued' ? 'queued' : 'training'}${otherProcess(r)}; stop it first`;
      return `run ${r.id} is ${doing(r)} on it${otherProcess(r)}; stop it first`;
    }
    for (const s of plan.sessions) {
      if (!sessionBusy(s)) continue;
      if (target.kind === 'tuning') return `tuning session ${s.id} is still searching${otherProcess(s)}; stop it first`;
      return `tuning session ${s.id} is searching on it${otherProcess(s)}; stop it first`;
    }
    for (const r of plan.unlinkedRuns) {
      if (!runBusy(r)) continue;
      const whose = target.kind === 'tuning' ? 'its recommendation' : `the recommendation of its tuning session ${r.tuningSessionId}`;
      return `run ${r.id} is ${doing(r)} with ${whose}${otherProcess(r)}; stop it first`;
    }
    return null;
  }

  /** Stops every active run and closes the database. Runs not finished within the grace end stopped. */
  async close(): Promise<void> {
    const pending = [...this.active.values()];
    for (const a of pending) a.host.stop();
    for (const stop of this.activeTunings.values()) stop();
    await Promise.allSettled([...pending.map((a) => a.done), ...this.pendingTunings.values()]);
    this.warm?.close();
    this.warmPython?.close();
    this.store.close();
  }
}

/** The rung a tuning ran on; for sessions stored before it was kept, the choice its backend name stands for. */
function tuningRung(t: TuningSessionRecord): ConcreteBackend | TuningSessionRecord['request']['backend'] {
  if (t.rung) return t.rung;
  const byName = TFJS_BACKENDS.find((b) => b === t.backend);
  return byName ?? t.request.backend;
}

function describeTarget(target: RemovalTarget): string {
  return target.kind === 'tuning' ? `tuning session ${target.id}` : `${target.kind} ${target.id}`;
}

function deletionReport(plan: RemovalPlan, extra: Pick<Deletion, 'dryRun' | 'inUse' | 'bytes' | 'leftOver'>): Deletion {
  return {
    dryRun: extra.dryRun,
    inUse: extra.inUse,
    datasets: plan.datasets.length,
    runs: plan.runs.length,
    tunings: plan.sessions.length,
    runIds: plan.runs.map((r) => r.id),
    sessionIds: plan.sessions.map((s) => s.id),
    metricRows: plan.metricRows,
    trials: plan.trials,
    artifacts: plan.artifacts,
    unlinkedRunIds: plan.unlinkedRuns.map((r) => r.id),
    bytes: extra.bytes,
    leftOver: extra.leftOver,
  };
}

function defaultDatasetName(source: string): string {
  if (source.startsWith('sample:')) return source.slice('sample:'.length);
  const base = path
    .basename(source.replace(/[\\/]+$/, ''))
    .replace(/\.(csv|tsv|gz)$/i, '')
    .replace(/[-_.]?(images?[-_.]?)?idx\d?[-_.]?ubyte$/i, '');
  return base || 'dataset';
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'dataset'
  );
}
