// The device side of the gradient noise scale (docs/architecture.md §5.6): k micro-batch gradients
// of one batch, their mean ḡ, mean‖gᵢ‖² and ‖ḡ‖², all reduced on the device so that one readback
// per step is enough. The maths that turns them into |G|² and tr Σ is noiseScaleTerms (shared).
import * as tf from '@tensorflow/tfjs';

export interface MicroBatchGradientStats {
  /** ḡ, the mean of the k micro-batch gradients (= the whole batch's gradient), by variable name. */
  meanGrads: tf.NamedTensorMap;
  /** [mean‖gᵢ‖², ‖ḡ‖², mean micro-batch loss]: read it back once. */
  stats: tf.Tensor1D;
}

/**
 * Runs `loss(i)` for the micro-batches i = 0…k−1 with gradients of `variables` (tf.variableGrads),
 * keeping only the running sum of the gradients (so memory does not grow with k). A variable the
 * loss does not reach gets a zero gradient. The caller owns (and disposes) everything returned.
 */
export function microBatchGradientStats(k: number, loss: (microBatch: number) => tf.Scalar, variables: tf.Variable[]): MicroBatchGradientStats {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
  if (variables.length === 0) throw new Error('no variables to take gradients of');
  let sum: tf.Tensor[] | undefined;
  let sqNormSum: tf.Scalar | undefined;
  let lossSum: tf.Scalar | undefined;
  try {
    for (let i = 0; i < k; i++) {
      const next = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => loss(i), variables);
        const g = variables.map((v) => grads[v.name] ?? tf.zerosLike(v));
        const sqNorm = tf.addN(g.map((t) => tf.sum(tf.square(t)))) as tf.Scalar;
        return {
          sum: sum ? g.map((t, j) => tf.add(sum![j]!, t)) : g,
          sqNormSum: sqNormSum ? (tf.add(sqNormSum, sqNorm) as tf.Scalar) : sqNorm,
          lossSum: lossSum ? (tf.add(lossSum, value) as tf.Scalar) : value,
        };
      });
      tf.dispose([...(sum ?? []), ...(sqNormSum ? [sqNormSum] : []), ...(lossSum ? [lossSum] : [])]);
      ({ sum, sqNormSum, lossSum } = next);
    }
    const s = sum!;
    const sq = sqNormSum!;
    const ls = lossSum!;
    return tf.tidy(() => {
      const mean = s.map((t) => tf.div(t, k));
      const normOfMeanSq = tf.addN(mean.map((t) => tf.sum(tf.square(t))));
      const stats = tf.stack([tf.div(sq, k), normOfMeanSq, tf.div(ls, k)]) as tf.Tensor1D;
      const meanGrads: tf.NamedTensorMap = {};
      variables.forEach((v, j) => (meanGrads[v.name] = mean[j]!));
      return { meanGrads, stats };
    });
  } finally {
    tf.dispose([...(sum ?? []), ...(sqNormSum ? [sqNormSum] : []), ...(lossSum ? [lossSum] : [])]);
  }
}
