// The automatic batch-size search (docs/architecture.md §5) for the service: the search of
// ./tuning/ over a probe session in a trainer process, its trials kept in the store. A dead probe
// process is replaced and the search goes on.
import type { ProbeSession } from '../../shared/probe-protocol.js';
import type { BackendReport } from '../../shared/run-types.js';
import type { TrialRecord, TuningProgress, TuningReport, TuningRequest } from '../../shared/tuning-types.js';
import { deviceMemoryBudget } from '../engine/backends/memory-budget.js';
import type { DatasetRecord, Store, TuningSessionRecord } from '../store/index.js';
import type { ConcreteBackend } from '../../shared/run-types.js';
import { scaleLearningRate } from '../../shared/tuner-math.js';
import type { KnownTuning } from './tuning/context.js';
import type { ProbeRoute } from './engine-route.js';
import { ProbeSessionProber } from './tuning/prober.js';
import { runSearch } from './tuning/search.js';
import { fineTuneRateFactor } from './run-start.js';
import { startModelDir } from './start-model-source.js';

export { TuningStoppedError } from './tuning/context.js';
export { judgeTrial } from '../../shared/trial-verdicts.js';

export interface TunerContext {
  store: Store;
  sessionId: number;
  dataset: DatasetRecord;
  request: TuningRequest;
  /** The trainer for the session: its backend resolved to a rung, tfjs's or the Python trainer (engine-route.ts). */
  route(session: ProbeSession): Promise<Pick<ProbeRoute, 'spawn' | 'session'> & Partial<Pick<ProbeRoute, 'rung'>>>;
  /** Tests: the memory-capped test device with this cap (tfjs's capped backend, or the Python trainer's capped device on a torch rung). */
  memoryCapBytes?: number;
  shouldStop(): boolean;
  onProgress(p: TuningProgress): void;
  onTrial(t: TrialRecord): void;
  onBackend(r: BackendReport): void;
}

/** The probes train the model the run will: the start model's stored copy, as the search asked. */
function probedStartModel(store: Store, request: TuningRequest): Pick<ProbeSession, 'startModel'> {
  const start = request.startFrom;
  if (!start) return {};
  return {
    startModel: { dir: startModelDir(store.paths.startModelsDir, start.digest), unfreeze: start.unfreeze, fineTuneRateFactor: fineTuneRateFactor(request) },
  };
}

/** Runs the whole search; resolves with the report (stored by the caller). */
export async function runTuning(ctx: TunerContext): Promise<TuningReport> {
  const { store, sessionId, dataset, request } = ctx;
  const session: ProbeSession = {
    kind: 'probe-session',
    datasetDir: dataset.cacheDir,
    model: request.model,
    optimizer: request.optimizer,
    backend: request.backend,
    seed: request.seed,
    augment: request.augment ?? 'none',
    ...probedStartModel(store, request),
    ...(ctx.memoryCapBytes ? { memoryCapBytes: ctx.memoryCapBytes } : {}),
  };
  const routed = await ctx.route(session);
  const known = routed.rung
    ? knownTuning(store.tuning.list(), { sessionId, datasetId: dataset.id, request, rung: routed.rung, contentHash: dataset.contentHash })
    : undefined;
  return runSearch({
    ...(known ? { known } : {}),
    prober: new ProbeSessionProber(routed.session, { spawn: routed.spawn }),
    request,
    sessionId,
    trainCount: dataset.manifest.split.trainCount,
    validationCount: dataset.manifest.split.validationCount,
    trials: {
      setBackend: (backend, budgetBytes) => store.tuning.setBackend(sessionId, backend, budgetBytes),
      addTrial: (trial) => store.tuning.addTrial(sessionId, trial),
    },
    deviceBudget: deviceMemoryBudget,
    memoryCapBytes: ctx.memoryCapBytes,
    shouldStop: () => ctx.shouldStop(),
    onProgress: (p) => ctx.onProgress(p),
    onTrial: (t) => ctx.onTrial(t),
    onBackend: (r) => ctx.onBackend(r),
  });
}

/**
 * The latest completed tuning of the same model (or start model), dataset (with the same
 * content, where both know it), optimizer and augmentation on the same rung, with its base rate at this request's base batch: what a search
 * with no room for some probes falls back on.
 */
export function knownTuning(
  sessions: readonly TuningSessionRecord[],
  o: { sessionId: number; datasetId: number; request: TuningRequest; rung: ConcreteBackend; contentHash?: string | null },
): KnownTuning | undefined {
  const { request } = o;
  const same = (t: TuningSessionRecord) =>
    t.id !== o.sessionId &&
    t.status === 'completed' &&
    t.report !== null &&
    t.datasetId === o.datasetId &&
    t.rung === o.rung &&
    t.request.model === request.model &&
    t.request.optimizer === request.optimizer &&
    (t.request.augment ?? 'none') === (request.augment ?? 'none') &&
    t.request.startFrom?.digest === request.startFrom?.digest &&
    t.request.startFrom?.unfreeze === request.startFrom?.unfreeze &&
    // Measured on other data (the dataset's content changed since, as its fingerprint says): not this one's findings.
    !(o.contentHash && t.fingerprint && t.fingerprint.dataset.contentHash !== o.contentHash);
  const t = sessions.filter(same).sort((a, b) => b.id - a.id)[0];
  if (!t?.report) return undefined;
  const rec = t.report.recommendation;
  const test = t.report.learningRateTest;
  // Its base rate where it found one (at its base batch), else its recommended rate; either scaled to this base batch.
  const baseRate =
    test?.baseRate != null
      ? scaleLearningRate(test.baseRate, t.request.baseBatchSize, request.baseBatchSize, request.optimizer)
      : scaleLearningRate(rec.learningRate, rec.batchSize, request.baseBatchSize, request.optimizer);
  return {
    sessionId: t.id,
    baseRate,
    report: t.report,
    backend: { name: t.backend ?? o.rung, device: t.device ?? '', rung: o.rung, skipped: [] },
  };
}
