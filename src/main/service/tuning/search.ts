// The automatic batch-size search (docs/architecture.md §5) as a sequence of phases over a prober:
// memory ceiling → throughput and saturation → learning-rate range test → (Full) noise scale →
// the choice (saturation, or goodput and B*) → (Full) validation trials → the report. Every probe
// is stored as a trial, including the ones that ran out of memory or crashed.
import type { BackendReport } from '../../../shared/run-types.js';
import type { SearchAllowanceReport, TuningReport, TuningRequest } from '../../../shared/tuning-types.js';
import { SearchContext, TuningStoppedError, type Budget, type KnownTuning, type SearchHooks, type TrialStore } from './context.js';
import { SearchAllowance } from './allowance.js';
import { plannedRunSeconds, SEARCH_SHARE } from '../../../shared/search-budget.js';
import { chooseBatch, GOODPUT_TIE } from './goodput.js';
import { tryAccumulation } from './accumulation.js';
import { findBaseRate, rateScaling } from './learning-rate.js';
import { findMemoryCeiling } from './memory.js';
import { measureNoiseScale, NO_NOISE, remeasureNoiseScale } from './noise.js';
import { findEvalBatch } from './eval-batch.js';
import type { Prober } from './prober.js';
import { buildReport } from './report.js';
import { reusedReason } from './reasons.js';
import { validationTrials } from './trials.js';
import { measureThroughput } from './throughput.js';

export interface SearchOptions extends SearchHooks {
  prober: Prober;
  request: TuningRequest;
  sessionId: number;
  /** Training and validation samples of the dataset. */
  trainCount: number;
  validationCount: number;
  trials: TrialStore;
  /** The device's memory budget for the backend the session started (deviceMemoryBudget). */
  deviceBudget(backend: BackendReport): Budget;
  /** Tests: the memory-capped test backend's cap, which is then the budget. */
  memoryCapBytes?: number;
  /** A previous tuning of the same model and dataset on the same engine (reuseKnown). */
  known?: KnownTuning;
  /** Seconds on a monotonic clock (tests: a virtual one); default performance.now()/1000. */
  clock?: () => number;
}

/** The budget M: the device's, the test cap, or the user's when lower (§5.2). */
export function memoryBudget(device: Budget, memoryCapBytes: number | undefined, request: TuningRequest): Budget {
  let budget = device;
  if (memoryCapBytes) budget = { bytes: memoryCapBytes, source: 'the test cap' };
  if (request.memoryBudgetBytes && request.memoryBudgetBytes < budget.bytes) budget = { bytes: request.memoryBudgetBytes, source: 'your budget' };
  return budget;
}

/** Runs the whole search; resolves with the report (stored by the caller). The prober is closed at the end. */
export async function runSearch(o: SearchOptions): Promise<TuningReport> {
  const clock = o.clock ?? (() => performance.now() / 1000);
  const started = clock();
  const { prober, request, sessionId, trainCount, validationCount, trials } = o;
  const allowance = new SearchAllowance({
    mode: request.mode,
    clock,
    startedAt: started,
    ...(request.budgetSeconds !== undefined ? { budgetSeconds: request.budgetSeconds } : {}),
    plannedEpochs: request.plannedEpochs,
    trainCount,
    validationCount,
  });
  const known = request.reuseKnown === false ? undefined : o.known;
  const reused = known ? reuseWithoutStarting(known, request, trainCount, validationCount) : null;
  if (reused) {
    // A stop asked for before anything ran still ends the session stopped, with no report.
    if (o.shouldStop()) {
      await o.prober.close();
      throw new TuningStoppedError();
    }
    o.onBackend(known!.backend);
    o.trials.setBackend(known!.backend, reused.recommendation.memoryBudgetBytes);
    await o.prober.close();
    return { ...reused, searchSeconds: clock() - started };
  }
  const backend = await o.prober.start();
  allowance.startupSeconds = clock() - started;
  try {
    o.onBackend(backend);
    const budget = memoryBudget(o.deviceBudget(backend), o.memoryCapBytes, o.request);
    o.trials.setBackend(backend, budget.bytes);
    const s = new SearchContext({
      prober,
      request,
      sessionId,
      trainCount,
      validationCount,
      trials,
      hooks: o,
      backend,
      budget,
      allowance,
      ...(known ? { known } : {}),
    });
    const memory = await findMemoryCeiling(s);
    const speed = await measureThroughput(s, memory);
    const base = await findBaseRate(s, speed.maxBatch, speed.saturation);
    const rates = rateScaling(base.rate, o.request, o.trainCount);
    const full = o.request.mode === 'full';
    const early = full ? await measureNoiseScale(s, speed, base.rate) : NO_NOISE;
    const noise = full ? await remeasureNoiseScale(s, speed, base.rate, early) : early;
    const picked = await chooseBatch(s, memory, speed, noise);
    const chosen = full ? await validationTrials(s, speed, picked, rates) : picked;
    const accumulated = full ? await tryAccumulation(s, { memory, speed, noise }, picked, chosen, GOODPUT_TIE) : null;
    const evalBatch = await findEvalBatch(s, memory);
    s.progress('report', chosen, 'writing the report');
    const findings = { memory, speed, base, rates, noise, chosen, ...(evalBatch !== undefined ? { evalBatch } : {}), ...(accumulated ? { accumulated } : {}) };
    return buildReport(s, findings, () => clock() - started);
  } finally {
    await o.prober.close();
  }
}

/**
 * A previous tuning's report, when even the shortest search (starting the trainer and the memory
 * probes, as long as they took then) exceeds this search's allowance of the planned run (the
 * user's budget, or the planned epochs at the throughput it measured); null when a search fits,
 * or when the previous one cannot stand for this one (a lower memory budget asked now).
 */
export function reuseWithoutStarting(known: KnownTuning, request: TuningRequest, trainCount: number, validationCount: number): TuningReport | null {
  const shortest = known.report.allowance?.shortestSeconds;
  if (shortest === undefined) return null;
  const rec = known.report.recommendation;
  if (request.memoryBudgetBytes !== undefined && request.memoryBudgetBytes < rec.memoryBudgetBytes) return null;
  const share = SEARCH_SHARE[request.mode];
  const planned =
    request.budgetSeconds ?? plannedRunSeconds({ epochs: request.plannedEpochs, trainCount, validationCount, samplesPerSecond: rec.expectedSamplesPerSecond });
  if (share * planned >= shortest) return null;
  const allowance: SearchAllowanceReport = {
    share,
    plannedSeconds: planned,
    plannedFrom: request.budgetSeconds !== undefined ? 'your budget' : 'predicted',
    allowanceSeconds: share * planned,
    startupSeconds: 0,
    spentSeconds: 0,
    // Carried over so a tuning reused from this one can make the same decision (a chain of reuses).
    shortestSeconds: shortest,
    cuts: [],
    reusedFrom: known.sessionId,
  };
  return {
    ...known.report,
    reasons: [
      reusedReason({ sessionId: known.sessionId, shortest, allowance: share * planned, planned, share, fromBudget: request.budgetSeconds !== undefined }),
      ...known.report.reasons,
    ],
    allowance,
  };
}
