// The evaluation batch (issue 19): validation and a run's final evaluation run forward only, in
// chunks of their own size. Without a measured one, the training batch: a forward pass at a batch
// needs less memory than the training step at that batch, which the run makes anyway, so
// validation is never the step that runs out of memory. Auto-tune measures the largest
// forward-only batch that fits (its forward-memory probes) and recommends it.
import type { TrainConfig } from './run-types.js';

/** The largest evaluation batch the search looks for: beyond it a forward pass is no faster per sample, only larger. */
export const MAX_EVAL_BATCH = 1024;

/** The chunk validation and evaluation use for this run. */
export function evalBatchOf(config: Pick<TrainConfig, 'batchSize' | 'evalBatchSize'>): number {
  return config.evalBatchSize ?? config.batchSize;
}
