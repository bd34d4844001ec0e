// The automatic batch-size search (docs/architecture.md §5) as a sequence of phases over a prober:
// memory ceiling → throughput and saturation → learning-rate range test → (Full) noise scale →
// the choice (saturation, or goodput and B*) → (Full) validation trials → the report. Every probe
// is stored as a trial, including the ones that ran out of memory or crashed.
import type { BackendReport } from '../../../shared/run-types.js';
import type { TuningReport, TuningRequest } from '../../../shared/tuning-types.js';
import { SearchContext, type Budget, type SearchHooks, type TrialStore } from './context.js';
import { chooseBatch } from './goodput.js';
import { findBaseRate, rateScaling } from './learning-rate.js';
import { findMemoryCeiling } from './memory.js';
import { measureNoiseScale, NO_NOISE } from './noise.js';
import type { Prober } from './prober.js';
import { buildReport } from './report.js';
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
  const started = performance.now();
  const backend = await o.prober.start();
  try {
    o.onBackend(backend);
    const budget = memoryBudget(o.deviceBudget(backend), o.memoryCapBytes, o.request);
    o.trials.setBackend(backend, budget.bytes);
    const { prober, request, sessionId, trainCount, validationCount, trials } = o;
    const s = new SearchContext({ prober, request, sessionId, trainCount, validationCount, trials, hooks: o, backend, budget });
    const memory = await findMemoryCeiling(s);
    const speed = await measureThroughput(s, memory);
    const base = await findBaseRate(s, speed.maxBatch);
    const rates = rateScaling(base.rate, o.request, o.trainCount);
    const full = o.request.mode === 'full';
    const noise = full ? await measureNoiseScale(s, speed, base.rate) : NO_NOISE;
    let chosen = await chooseBatch(s, memory, speed, noise);
    if (full) chosen = await validationTrials(s, speed, chosen, rates);
    s.progress('report', chosen, 'writing the report');
    return buildReport(s, { memory, speed, base, rates, noise, chosen }, () => (performance.now() - started) / 1000);
  } finally {
    await o.prober.close();
  }
}
