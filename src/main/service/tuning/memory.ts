// Phase 1, the memory ceiling (docs/architecture.md §5.3): one training step at batches 1–16 gives
// m(B) = max(a + bB, update); the ceiling search then verifies its prediction with real steps. A
// batch-norm model whose floor (MIN_BATCH_NORM_BATCH) does not fit ends the search here. Its
// one-step probes below the floor still run: they only fit the memory line (each probe starts
// from the initial weights and running statistics, and restores them after).
import { startCeilingSearch, type CeilingResult, type MemoryModel, type MemoryReading } from '../../../shared/ceiling-search.js';
import type { SearchContext } from './context.js';
import { formatBytes } from '../../../shared/format.js';
import { ARCHITECTURES, runModelLabel } from '../../../shared/model-families.js';
import { memorySourceOf } from '../../../shared/memory-source.js';
import type { MemorySource } from '../../../shared/probe-protocol.js';
import { batchNormDatasetMessage, batchNormMemoryMessage, memoryReason, memorySourceReason } from './reasons.js';

const SMALL_BATCHES = [1, 2, 4, 8, 16];

export interface MemoryPhase {
  /** Every memory probe's reading, by batch, in the order they ran. */
  readings: Map<number, MemoryReading>;
  model: MemoryModel;
  ceiling: CeilingResult;
  /** What the readings are (the device's peak, the engine's count…); null when no probe said and the backend does not tell. */
  source: MemorySource | null;
}

/** One training step at batch b: its peak, split into the forward/backward and the update part. Its result is kept in `results`. */
async function readMemory(s: SearchContext, b: number, message: string, results: Record<string, unknown>[]): Promise<MemoryReading> {
  s.progress('memory', b, message);
  const { answer } = await s.probe('memory', b, null, (p) => p.memory({ batchSize: b }));
  const r = answer.ok && answer.result.kind === 'memory' ? answer.result : undefined;
  if (r) results.push(r);
  if (r?.stepMs !== undefined) s.estimate.addProbe(answer.seconds, r.stepMs / 1000);
  return {
    batchSize: b,
    peakBytes: r?.peakBytes,
    gradientBytes: r?.gradientBytes ?? r?.peakBytes,
    updateBytes: r?.updateBytes,
    stepMs: r?.stepMs,
    fits: r !== undefined && r.peakBytes <= s.budget.bytes,
  };
}

function nothingFits(readings: Map<number, MemoryReading>, budget: number): Error {
  const first = readings.get(1);
  return new Error(
    first?.peakBytes
      ? `even a batch of 1 needs ${formatBytes(first.peakBytes)}, more than the ${formatBytes(budget)} budget`
      : 'even a batch of 1 could not run a training step (see the trials)',
  );
}

/** The search cannot start for a batch-norm model on a dataset smaller than its floor. */
function checkDatasetHoldsFloor(s: SearchContext): void {
  if (s.cap >= s.minBatch) return;
  const otherModels = ARCHITECTURES.filter((a) => !a.batchNorm).map((a) => a.model);
  throw new Error(batchNormDatasetMessage({ label: runModelLabel(s.request.model), minBatch: s.minBatch, trainCount: s.trainCount, otherModels }));
}

/** The largest batch that fits in the budget, less a safety margin (or the cap when memory is not the limit). */
export async function findMemoryCeiling(s: SearchContext): Promise<MemoryPhase> {
  checkDatasetHoldsFloor(s);
  const readings = new Map<number, MemoryReading>();
  const results: Record<string, unknown>[] = [];
  const small = SMALL_BATCHES.filter((b) => b <= s.cap);
  s.plan(small.length + 4);
  for (const b of small) readings.set(b, await readMemory(s, b, `one training step at batch ${b}`, results));
  const start = startCeilingSearch([...readings.values()], s.budget.bytes, s.cap);
  if (!start) throw nothingFits(readings, s.budget.bytes);
  const { model, search } = start;
  for (let b = search.next(); b !== undefined; b = search.next()) {
    const m = await readMemory(s, b, `verifying that batch ${b} fits`, results);
    readings.set(b, m);
    search.report(b, m.fits);
  }
  const ceiling = search.result();
  if (ceiling.ceiling < s.minBatch) {
    throw new Error(batchNormMemoryMessage({ label: runModelLabel(s.request.model), minBatch: s.minBatch, ceiling: ceiling.ceiling, budget: s.budget }));
  }
  // The first throughput figures: each memory probe timed its one step.
  s.estimate.fitSteps(
    [...readings.values()].filter((m) => m.fits && m.stepMs !== undefined).map((m) => ({ batchSize: m.batchSize, seconds: m.stepMs! / 1000 })),
  );
  s.allowance.memoryDone(s.estimate.samplesPerSecond(Math.min(ceiling.ceiling, s.cap)));
  const source = memorySourceOf(s.backend.name, results);
  // One reason: what fits, then what the figures are (the engine's count or the device's peak).
  const reason = memoryReason({ ceiling, model, budget: s.budget, cap: s.cap, capRaised: s.capRaised, trainCount: s.trainCount });
  s.reasons.push(`${reason} ${memorySourceReason(source, s.backend)}`);
  return { readings, model, ceiling, source };
}
