// The automatic batch-size search (docs/architecture.md §5) for the service: the search of
// ./tuning/ over a probe session in a trainer process, its trials kept in the store. A dead probe
// process is replaced and the search goes on.
import type { ProbeSession } from '../../shared/probe-protocol.js';
import type { BackendReport } from '../../shared/run-types.js';
import type { TrialRecord, TuningProgress, TuningReport, TuningRequest } from '../../shared/tuning-types.js';
import { deviceMemoryBudget } from '../engine/backends/memory-budget.js';
import type { DatasetRecord, Store } from '../store/index.js';
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
  route(session: ProbeSession): Promise<Pick<ProbeRoute, 'spawn' | 'session'>>;
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
  return runSearch({
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
