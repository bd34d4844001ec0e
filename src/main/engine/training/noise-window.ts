// An adaptive run's noise-scale estimate from its own steps (shared/adaptive-batch.ts): each
// measured step, taken as k equal passes of b samples, leaves the mean of the passes' squared
// gradient norms and the squared norm of their mean on the device; every window they are read
// back at once and turned into the two-batch terms |G|² and tr Σ, whose window means give φ.
import * as tf from '@tensorflow/tfjs';
import { noiseScaleTerms } from '../../../shared/tuner-math.js';

export interface NoiseReport {
  step: number;
  gradSq: number;
  traceSigma: number;
  noiseScale: number;
  measurements: number;
}

interface Measurement {
  /** [mean ‖gᵢ‖², ‖ḡ‖²], kept on the device until the window's readback. */
  norms: tf.Tensor1D;
  passes: number;
  size: number;
}

/** ‖g‖² summed over every tensor of a gradient. */
export function squaredNorm(grads: tf.NamedTensorMap): tf.Scalar {
  return tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))) as tf.Scalar);
}

export class NoiseWindow {
  private measurements: Measurement[] = [];

  /** Keeps one measured step's norms (the caller's tensors are not taken). */
  add(meanOfSquaredNorms: tf.Scalar, squaredNormOfMean: tf.Scalar, passes: number, size: number): void {
    this.measurements.push({ norms: tf.keep(tf.stack([meanOfSquaredNorms, squaredNormOfMean]) as tf.Tensor1D), passes, size });
  }

  /** The window's estimate at `step` (one readback), or undefined without measurements; the window starts again. */
  async report(step: number): Promise<NoiseReport | undefined> {
    const taken = this.measurements;
    this.measurements = [];
    if (taken.length === 0) return undefined;
    const stacked = tf.stack(taken.map((m) => m.norms));
    const values = await stacked.data();
    tf.dispose([stacked, ...taken.map((m) => m.norms)]);
    let gradSq = 0;
    let traceSigma = 0;
    taken.forEach((m, i) => {
      const t = noiseScaleTerms(values[2 * i]!, values[2 * i + 1]!, m.passes, m.size);
      gradSq += t.gradSq / taken.length;
      traceSigma += t.traceSigma / taken.length;
    });
    // |G|² not above 0: the window was too noisy to say (-1; the decision then leaves the batch).
    return { step, gradSq, traceSigma, noiseScale: gradSq > 0 ? traceSigma / gradSq : -1, measurements: taken.length };
  }

  dispose(): void {
    tf.dispose(this.measurements.map((m) => m.norms));
    this.measurements = [];
  }
}
