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
  /** Its state, for a checkpoint: the tensors are its own (read them, do not dispose them). */
  snapshot(): OptimizerSnapshot;
  /** Takes a checkpoint's state (copies of the tensors): the next step is the one after it. */
  restore(snapshot: OptimizerSnapshot): void;
  dispose(): void;
}

/**
 * An optimizer's state per rate group: its iteration count, Adam's beta powers (kept as they
 * were accumulated: recomputing them as powers would round differently), and each variable's
 * slots in the group's variable order (Adam: first and second moment; momentum: accumulation).
 */
export interface OptimizerSnapshot {
  parts: { iterations: number; accBeta1?: number; accBeta2?: number; slots: tf.Tensor[][] }[];
}

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** The fields tfjs keeps private (tfjs 4.22's AdamOptimizer and MomentumOptimizer). */
interface OptimizerFields {
  iterations_: number;
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
  accumulatedFirstMoment?: Slot[];
  accumulatedSecondMoment?: Slot[];
  accumulations?: Slot[];
}

function snapshotOf(optimizer: tf.Optimizer): OptimizerSnapshot['parts'][number] {
  const o = optimizer as unknown as OptimizerFields;
  if (o.accumulatedFirstMoment) {
    const m = o.accumulatedFirstMoment;
    const v = o.accumulatedSecondMoment ?? [];
    return {
      iterations: o.iterations_ ?? 0,
      accBeta1: o.accBeta1!.dataSync()[0]!,
      accBeta2: o.accBeta2!.dataSync()[0]!,
      slots: m.map((slot, i) => [slot.variable, v[i]!.variable]),
    };
  }
  return { iterations: o.iterations_ ?? 0, slots: (o.accumulations ?? []).map((slot) => [slot.variable]) };
}

function restoreInto(optimizer: tf.Optimizer, part: OptimizerSnapshot['parts'][number], variables: readonly tf.Variable[]): void {
  const o = optimizer as unknown as OptimizerFields;
  if (part.slots.length > variables.length)
    throw new Error(`the checkpoint's optimizer has state for ${part.slots.length} variables, the model ${variables.length}`);
  const slot = (i: number, k: number, suffix: string): Slot => {
    const t = part.slots[i]![k];
    if (!t || !tf.util.arraysEqual(t.shape, variables[i]!.shape)) throw new Error(`the checkpoint's optimizer state does not fit ${variables[i]!.name}`);
    return { originalName: `${variables[i]!.name}/${suffix}`, variable: t.variable(false) };
  };
  o.iterations_ = part.iterations;
  if (o.accumulatedFirstMoment) {
    if (part.accBeta1 === undefined || part.accBeta2 === undefined) throw new Error("the checkpoint's optimizer is not Adam");
    tf.dispose([...o.accumulatedFirstMoment, ...(o.accumulatedSecondMoment ?? [])].map((s) => s.variable));
    o.accumulatedFirstMoment = part.slots.map((_, i) => slot(i, 0, 'm'));
    o.accumulatedSecondMoment = part.slots.map((_, i) => slot(i, 1, 'v'));
    o.accBeta1!.assign(tf.scalar(part.accBeta1));
    o.accBeta2!.assign(tf.scalar(part.accBeta2));
    return;
  }
  if (part.accBeta1 !== undefined) throw new Error("the checkpoint's optimizer is Adam, the run's momentum");
  tf.dispose((o.accumulations ?? []).map((s) => s.variable));
  o.accumulations = part.slots.map((_, i) => slot(i, 0, 'momentum'));
}

export function createNetOptimizer(
  kind: OptimizerKind,
  learningRate: number,
  momentum: number,
  groups: readonly { variables: readonly tf.Variable[]; rateFactor: number }[],
): NetOptimizer {
  const parts = groups
    .filter((g) => g.variables.length > 0)
    .map((g) => ({
      ...createOptimizer(kind, learningRate * g.rateFactor, momentum),
      factor: g.rateFactor,
      variables: g.variables,
      names: new Set(g.variables.map((v) => v.name)),
    }));
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
    snapshot: () => ({ parts: parts.map((p) => snapshotOf(p.optimizer)) }),
    restore(snapshot) {
      if (snapshot.parts.length !== parts.length)
        throw new Error(`the checkpoint's optimizer has ${snapshot.parts.length} rate groups, the run ${parts.length}`);
      parts.forEach((p, k) => restoreInto(p.optimizer, snapshot.parts[k]!, p.variables));
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
