// The scale-out plan (issue 21): what K data-parallel workers should train with, from a tuning's
// measurements — per-worker and global batch, learning rate by the search's rule, a gradual
// warm-up, and the speed-up predicted with statistical efficiency counted in (Pollux's goodput:
// K·X(b)·E(K·b) against X(B)·E(B) on one worker). It assumes no communication cost and says so.
// Pure: the service, the CLI, the UI and the recipe export all read the same plan.
import type { OptimizerKind } from './run-types.js';

export const SCALE_OUT_WORKERS = [1, 2, 4, 8] as const;

/** One row of the plan: K workers. */
export interface ScaleOutRow {
  workers: number;
  /** Batch each worker computes per optimizer step. */
  perWorkerBatch: number;
  /** The per-worker micro-batch when perWorkerBatch is past the memory ceiling and accumulated; equal to perWorkerBatch otherwise. */
  microBatch: number;
  /** workers × perWorkerBatch. */
  globalBatch: number;
  learningRate: number;
  /** Steps of the gradual (linear) warm-up to learningRate. */
  warmupSteps: number;
  /** Optimizer steps per epoch at the global batch. */
  stepsPerEpoch: number;
  /** Statistical efficiency of the global batch against the one-worker batch (≤ 1). */
  efficiency: number;
  /** Predicted time-to-target speed-up against one worker at the tuned batch, communication not counted. */
  speedup: number;
  /** Why this row's batch, in a sentence (e.g. "K·B = 1024 is past the noise scale's diminishing returns: 128 per worker"). */
  reason: string;
}

export interface ScaleOutPlan {
  /** The one-worker setting the plan scales from (the tuning's recommendation). */
  base: { batchSize: number; learningRate: number; optimizer: OptimizerKind; warmupSteps: number };
  /** The gradient noise scale used; null when none was measured (the rows then scale K·B with no efficiency loss counted, and say so). */
  noiseScale: number | null;
  /** Which noise scale: the late (re-measured) one, the search's forecast, or the early measurement. */
  noiseScaleSource: 'late' | 'forecast' | 'early' | null;
  /** The memory ceiling per worker (the same device assumed on every worker). */
  memoryCeiling: number;
  epochs: number;
  rows: ScaleOutRow[];
  /** The assumptions, in sentences, shown with the plan (no communication cost; the noise scale's source; the same device per worker). */
  assumptions: string[];
}
