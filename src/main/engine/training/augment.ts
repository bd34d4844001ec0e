// Data augmentation inside the training step, on the device (see shared/fine-tuning.ts for the
// levels). Every random draw comes from a generator seeded with (run seed, step), so a run with
// the same seed sees the same augmented batches on every backend.
import type * as tf from '@tensorflow/tfjs';
import type { AugmentLevel } from '../../../shared/fine-tuning.js';

/** The batch as this step trains on it; `x` is left to the caller (a new tensor or `x` itself). */
export function augmentBatch(x: tf.Tensor, level: AugmentLevel, _seed: number, _step: number): tf.Tensor {
  if (level === 'none') return x;
  throw new Error(`augmentation "${level}" is not available yet`);
}
