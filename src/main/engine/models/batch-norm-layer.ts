// tfjs-layers' BatchNormalization with a shorter training path. In training, the stock layer
// normalises with tf.moments and tf.batchNorm and lets autodiff differentiate them op by op:
// about 30 kernels a layer, over the whole activation (a Tile of it among them). Here the batch
// statistics are one op outside the gradient's path, and the normalisation a custom-gradient op
// whose gradient is written out in closed form (kernels/batch-norm.ts derives it): on a backend
// with the app's batch-norm kernels (wasm) that is three kernels in all, on the others a dozen
// plain ops. Inference, the saved model (same class name and config) and the moving statistics
// are the stock layer's.
import * as tf from '@tensorflow/tfjs';
import { BATCH_NORM_STATISTICS, BATCH_NORM_TRAINING_GRAD } from '../kernels/batch-norm.js';

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];
type Kwargs = Parameters<tf.layers.Layer['call']>[1];

/** The stock layer's fields this one reads (private in tfjs-layers' typings). */
interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: tf.LayerVariable;
  beta?: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

let fused = true;

/** Turns the closed-form training path off (benchmarks compare with the stock layer's). */
export function setFusedBatchNormTraining(enabled: boolean): void {
  fused = enabled;
}

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** Mean and (biased) variance over every axis but the last. */
function statistics(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  if (hasKernel(BATCH_NORM_STATISTICS)) {
    const [mean, variance] = tf.engine().runKernel(BATCH_NORM_STATISTICS, { x }, {}) as tf.Tensor1D[];
    return { mean: mean!, variance: variance! };
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  return tf.moments(x, axes) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
}

/** The gradient of y = gamma * (x - mean) / sqrt(variance + eps) + beta through the batch's mean and variance. */
function trainingGrad(dy: tf.Tensor, x: tf.Tensor, gamma: tf.Tensor1D, mean: tf.Tensor1D, variance: tf.Tensor1D, epsilon: number): tf.Tensor[] {
  if (hasKernel(BATCH_NORM_TRAINING_GRAD)) {
    const inputs = { dy, x, mean, variance, scale: gamma };
    return tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, inputs, { varianceEpsilon: epsilon }) as tf.Tensor[];
  }
  return tf.tidy(() => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const m = x.size / gamma.size;
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xhat = tf.mul(tf.sub(x, mean), invStd);
    const dBeta = tf.sum(dy, axes);
    const dGamma = tf.sum(tf.mul(dy, xhat), axes);
    const centred = tf.sub(tf.sub(dy, tf.div(dBeta, m)), tf.mul(xhat, tf.div(dGamma, m)));
    return [tf.mul(centred, tf.mul(gamma, invStd)), dGamma, dBeta];
  });
}

/**
 * Batch normalisation over every axis but the last, in training: the normalised x, and the
 * batch's mean and variance (for the moving statistics; no gradient flows through them, as
 * the normalised x's gradient already accounts for them).
 */
export function batchNormInTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const { mean, variance } = statistics(x);
  const normalise = tf.customGrad((xIn, g, b, save) => {
    const [xt, gt, bt] = [xIn, g, b] as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
    (save as tf.GradSaveFunc)([xt, gt, mean, variance]);
    return {
      value: tf.batchNorm(xt, mean, variance, bt, gt, epsilon),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        return trainingGrad(dy, sx, sg, sm, sv, epsilon);
      },
    };
  });
  return { y: normalise(x, gamma, beta) as tf.Tensor, mean, variance };
}

const StockBatchNormalization = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization![0] as unknown as new (
  args?: BatchNormArgs,
) => tf.layers.Layer;

/**
 * tfjs-layers' BatchNormalization (same class name, config and weights, so saved models are the
 * stock layer's), training through batchNormInTraining where it applies: normalising over the
 * last axis with both gamma and beta, float32.
 */
export class BatchNormalization extends StockBatchNormalization {
  static readonly className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const f = this as unknown as BatchNormFields;
    const lastAxis = x !== undefined && (f.axis === -1 || f.axis === x.rank - 1);
    if (!fused || kwargs.training !== true || !lastAxis || x.dtype !== 'float32' || f.gamma === undefined || f.beta === undefined) {
      return super.call(inputs, kwargs);
    }
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormInTraining(x, f.gamma!.read() as tf.Tensor1D, f.beta!.read() as tf.Tensor1D, f.epsilon);
      // The moving statistics, as the stock layer updates them.
      for (const [moving, batch] of [
        [f.movingMean, mean],
        [f.movingVariance, variance],
      ] as const) {
        const old = moving.read();
        moving.write(tf.sub(old, tf.mul(tf.sub(old, batch), 1 - f.momentum)));
      }
      return y;
    });
  }
}

export function batchNormalization(args: BatchNormArgs): tf.layers.Layer {
  return new BatchNormalization(args);
}

// Models read from a model.json (a start model: start-model.ts) get this layer too, not the stock
// one: same class name, so it replaces the stock entry in the map tfjs deserialises from.
// (SerializationMap.register, not registerClass, which would also file it as a custom object.)
tf.serialization.SerializationMap.register(BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>);
