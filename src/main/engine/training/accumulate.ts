// Gradient accumulation on tfjs (shared/accumulation.ts): one optimizer step's gradients from
// passes over parts of its batch, for the training loop and the search's throughput probe alike.
import * as tf from '@tensorflow/tfjs';

/** One pass's (or the whole step's) mean values — loss, accuracy… — and gradients. */
export interface PassGradients {
  values: tf.Scalar[];
  grads: tf.NamedTensorMap;
}

/**
 * The batch's mean values and gradients from passes of `micro` of its `n` samples: each pass's
 * weighted by its share of the batch and added to running sums, so that only one pass's
 * activations are alive at a time (the sums are kept across the passes' own tidies, the previous
 * ones disposed as they are replaced). `pass` may return kept tensors in `values`: they are
 * disposed here. Call it inside a tidy, which then owns the result.
 */
export function accumulateGradients(n: number, micro: number, pass: (start: number, size: number) => PassGradients): PassGradients {
  let sum: PassGradients | undefined;
  for (let start = 0; start < n; start += micro) {
    const size = Math.min(micro, n - start);
    const next = tf.tidy(() => {
      const part = pass(start, size);
      const share = tf.scalar(size / n);
      const add = <T extends tf.Tensor>(total: T | undefined, t: T): T => (total ? tf.add(total, tf.mul(t, share)) : tf.mul(t, share)) as T;
      const grads: tf.NamedTensorMap = {};
      for (const [name, g] of Object.entries(part.grads)) grads[name] = add(sum?.grads[name], g);
      const values = part.values.map((v, i) => add(sum?.values[i], v));
      tf.dispose(part.values); // kept ones are no tidy's
      return { values, grads };
    });
    if (sum) tf.dispose([...sum.values, ...Object.values(sum.grads)]);
    sum = next;
  }
  return sum!;
}
