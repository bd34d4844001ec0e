// Optimizers whose learning rate can change every step, for linear warm-up (docs/architecture.md
// §5.8).
import * as tf from '@tensorflow/tfjs';
import type { OptimizerKind } from '../../../shared/run-types.js';
import { applyAdamFused, type AdamGradients } from './fused-adam.js';

/**
 * tfjs's Adam keeps its rate in a protected field that it reads on every step. Its step is one
 * kernel a variable where the backend has one (fused-adam.ts), tfjs's own elsewhere.
 */
class AdjustableAdam extends tf.AdamOptimizer {
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }

  override applyGradients(variableGradients: AdamGradients): void {
    if (!applyAdamFused(this, variableGradients)) super.applyGradients(variableGradients);
  }
}

export interface AdjustableOptimizer {
  optimizer: tf.Optimizer;
  setLearningRate(rate: number): void;
}

export function createOptimizer(kind: OptimizerKind, learningRate: number, momentum: number): AdjustableOptimizer {
  if (kind === 'adam') {
    const optimizer = new AdjustableAdam(learningRate, 0.9, 0.999, 1e-7);
    return { optimizer, setLearningRate: (r) => optimizer.setLearningRate(r) };
  }
  const optimizer = new tf.MomentumOptimizer(learningRate, momentum);
  return { optimizer, setLearningRate: (r) => optimizer.setLearningRate(r) };
}

/**
 * Learning rate at a 1-based step: a linear ramp over the warm-up steps from base/warmup to
 * base, then constant. Large batches with a scaled-up rate diverge without it (Goyal et al. 2017).
 */
export function learningRateAt(step: number, base: number, warmupSteps: number): number {
  if (warmupSteps <= 0 || step > warmupSteps) return base;
  return (base * Math.max(1, step)) / warmupSteps;
}

/** One optimizer per rate group of a net (trainable-net.ts), driven as one. */
export interface NetOptimizer {
  /** Applies each variable's gradient with its group's optimizer. */
  applyGradients(grads: tf.NamedTensorMap): void;
  /** The run's rate now; each group steps at it times its rateFactor. */
  setLearningRate(rate: number): void;
  dispose(): void;
}

export function createNetOptimizer(
  kind: OptimizerKind,
  learningRate: number,
  momentum: number,
  groups: readonly { variables: readonly tf.Variable[]; rateFactor: number }[],
): NetOptimizer {
  const parts = groups
    .filter((g) => g.variables.length > 0)
    .map((g) => ({ ...createOptimizer(kind, learningRate * g.rateFactor, momentum), factor: g.rateFactor, names: new Set(g.variables.map((v) => v.name)) }));
  return {
    applyGradients(grads) {
      if (parts.length === 1) {
        parts[0]!.optimizer.applyGradients(grads);
        return;
      }
      for (const part of parts) {
        const own: tf.NamedTensorMap = {};
        for (const name of Object.keys(grads)) if (part.names.has(name)) own[name] = grads[name]!;
        part.optimizer.applyGradients(own);
      }
    },
    setLearningRate(rate) {
      for (const part of parts) part.setLearningRate(rate * part.factor);
    },
    dispose() {
      for (const part of parts) {
        part.optimizer.dispose();
        // MomentumOptimizer.dispose() forgets SGD's kept learning-rate scalar (tfjs 4.22).
        const c = (part.optimizer as { c?: tf.Tensor }).c;
        if (c && !c.isDisposed) c.dispose();
      }
    },
  };
}
