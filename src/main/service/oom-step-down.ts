// What a run does after out of memory (docs/architecture.md §6b): step down the batch that ran
// out — the training batch after a training step (to the largest smaller batch a search verified
// to fit for this model and dataset, else ×0.75, never below the model's minimum: the batch-norm
// floor), with the learning rate scaled by the search's rule; the evaluation batch (halved) after
// a validation pass — or say why it cannot. A run that accumulates gradients steps down its
// micro-batch instead (the same rule): the memory a step needs is the micro-batch's, and the
// effective batch and its rate — the training the user chose — stay as they are.
import type { FailurePhase } from '../../shared/trainer-protocol.js';
import type { TrainConfig } from '../../shared/run-types.js';
import { evalBatchOf } from '../../shared/eval-batch.js';
import { microBatchOf } from '../../shared/accumulation.js';
import { MIN_BATCH_NORM_BATCH, minimumBatchForRun } from '../../shared/model-families.js';
import { scaleLearningRate } from '../../shared/tuner-math.js';

export interface StepDown {
  batch: 'training' | 'evaluation' | 'micro';
  config: TrainConfig;
  fromBatch: number;
  toBatch: number;
  fromRate: number;
  toRate: number;
}

/** The next attempt's settings after out of memory in `phase`, or the reason there is none. */
export function oomStepDown(config: TrainConfig, phase: FailurePhase | undefined, verifiedBatches: readonly number[]): StepDown | { refused: string } {
  if (phase === 'validation') {
    const from = evalBatchOf(config);
    if (from <= 1) return { refused: 'it ran out of memory validating one sample at a time' };
    const to = Math.max(1, Math.floor(from / 2));
    return {
      batch: 'evaluation',
      config: { ...config, evalBatchSize: to },
      fromBatch: from,
      toBatch: to,
      fromRate: config.learningRate,
      toRate: config.learningRate,
    };
  }
  const micro = microBatchOf(config);
  const accumulating = micro < config.batchSize;
  const from = micro;
  const min = minimumBatchForRun(config.model, config.startFrom);
  if (from <= min) {
    const floor = min === MIN_BATCH_NORM_BATCH ? `${min}, the smallest a batch-norm model trains with` : `${min}`;
    return { refused: `it cannot fit even the smallest allowed ${accumulating ? 'micro-batch' : 'batch'} (${floor})` };
  }
  const verified = verifiedBatches.filter((b) => b < from && b >= min);
  const to = verified.length ? Math.max(...verified) : Math.max(min, Math.min(from - 1, Math.floor(from * 0.75)));
  if (accumulating) {
    const rate = config.learningRate;
    return { batch: 'micro', config: { ...config, microBatchSize: to }, fromBatch: from, toBatch: to, fromRate: rate, toRate: rate };
  }
  const toRate = scaleLearningRate(config.learningRate, from, to, config.optimizer);
  const factor = toRate / config.learningRate;
  const startFrom = config.startFrom ? { ...config.startFrom, fineTuneLearningRate: Math.min(10, config.startFrom.fineTuneLearningRate * factor) } : undefined;
  return {
    batch: 'training',
    config: { ...config, batchSize: to, learningRate: toRate, ...(startFrom ? { startFrom } : {}) },
    fromBatch: from,
    toBatch: to,
    fromRate: config.learningRate,
    toRate,
  };
}
