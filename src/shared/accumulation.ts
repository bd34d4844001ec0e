// Gradient accumulation: a run's batchSize is its effective batch (the samples behind one
// optimizer step, the figure the learning rate and the noise scale are about); microBatchSize,
// when smaller, splits it into micro-batches whose gradients add up before the step, so an
// effective batch above the memory ceiling still trains. Without batch norm the step equals the
// full batch's (up to float rounding); with batch norm each micro-batch normalises by its own
// statistics, so the micro-batch, not the effective batch, is held to the batch-norm minimum.
import { MIN_BATCH_NORM_BATCH, minimumBatchForRun } from './model-families.js';
import type { TrainConfig } from './run-types.js';

type BatchConfig = Pick<TrainConfig, 'batchSize' | 'microBatchSize'>;

/** Samples in each forward/backward pass: the micro-batch, or the whole batch without accumulation. */
export function microBatchOf(config: BatchConfig): number {
  const m = config.microBatchSize;
  return m !== undefined && m < config.batchSize ? m : config.batchSize;
}

/** Forward/backward passes per optimizer step (the last may be smaller). */
export function accumulationSteps(config: BatchConfig): number {
  return Math.ceil(config.batchSize / microBatchOf(config));
}

/** Why this micro-batch cannot be used for this run, or null. */
export function microBatchProblem(config: Pick<TrainConfig, 'batchSize' | 'microBatchSize' | 'model' | 'startFrom'>): string | null {
  const m = config.microBatchSize;
  if (m === undefined) return null;
  if (m > config.batchSize) return `microBatchSize ${m} is larger than batchSize ${config.batchSize} (the effective batch it splits)`;
  const min = minimumBatchForRun(config.model, config.startFrom);
  if (m < min && m < config.batchSize)
    return `microBatchSize ${m} is below ${min}, the smallest a batch-norm model trains with: batch-norm statistics are computed per micro-batch`;
  return null;
}

/**
 * The micro-batch that splits `batch` into the fewest equal passes of at most `ceiling` samples
 * (equal passes: no small last one whose batch-norm statistics or timing stand out), never below
 * `min`. Undefined when the batch fits as it is.
 */
export function microBatchUnder(batch: number, ceiling: number, min = 1): number | undefined {
  if (batch <= ceiling) return undefined;
  const passes = Math.ceil(batch / Math.max(1, ceiling));
  return Math.max(min, Math.ceil(batch / passes));
}

/**
 * A run's config with its micro-batch settled: the one asked for (checked), else — when the batch
 * is above the memory ceiling its tuning measured — the fewest equal passes under that ceiling,
 * so that an effective batch chosen above it (by hand, or by a search that says why) trains
 * instead of running out of memory. A micro-batch not smaller than the batch is dropped.
 */
export function runMicroBatch<C extends Pick<TrainConfig, 'batchSize' | 'microBatchSize' | 'model' | 'startFrom'>>(
  config: C,
  memoryCeiling: number | undefined,
): { config: C } | { problem: string } {
  const problem = microBatchProblem(config);
  if (problem) return { problem };
  const { microBatchSize, ...rest } = config;
  if (microBatchSize !== undefined) return { config: microBatchSize < config.batchSize ? config : (rest as C) };
  const auto = memoryCeiling ? microBatchUnder(config.batchSize, memoryCeiling, minimumBatchForRun(config.model, config.startFrom)) : undefined;
  return { config: auto !== undefined && auto < config.batchSize ? ({ ...rest, microBatchSize: auto } as C) : (rest as C) };
}

/** The run's accumulation in words, for its details; null without accumulation. */
export function accumulationText(config: Pick<TrainConfig, 'batchSize' | 'microBatchSize' | 'model' | 'startFrom'>): string | null {
  const m = microBatchOf(config);
  if (m === config.batchSize) return null;
  const k = accumulationSteps(config);
  const last = config.batchSize - (k - 1) * m;
  const passes = last === m ? `${k} micro-batches of ${m}` : `${k - 1} micro-batches of ${m} and one of ${last}`;
  const bn = minimumBatchForRun(config.model, config.startFrom) === MIN_BATCH_NORM_BATCH ? `; batch-norm statistics are per micro-batch of ${m}` : '';
  return `each step of ${config.batchSize} samples accumulates the gradients of ${passes}${bn}`;
}
