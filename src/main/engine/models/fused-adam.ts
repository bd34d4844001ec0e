// Adam's step with one kernel a variable (kernels/adam.ts) where the active backend has that
// kernel (wasm): the same bookkeeping as tfjs's AdamOptimizer.applyGradients (its moment slots,
// named as tfjs names them, so that getWeights, setWeights and dispose still work; its beta
// powers; its iteration count), the arithmetic in the kernel.
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE, type AdamUpdateAttrs } from '../kernels/adam.js';

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** AdamOptimizer's fields (private or protected in tfjs's typings). */
interface AdamFields {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  incrementIterations(): void;
}

/** What AdamOptimizer.applyGradients takes. */
export type AdamGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

let enabled = true;

/** Turns the one-kernel step off (benchmarks compare with tfjs's own). */
export function setFusedAdam(on: boolean): void {
  enabled = on;
}

function slot(name: string, value: tf.Variable): Slot {
  return { originalName: name, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
}

/** One Adam step through AdamUpdate; false, having done nothing, where the backend lacks the kernel. */
export function applyAdamFused(optimizer: tf.AdamOptimizer, variableGradients: AdamGradients): boolean {
  if (!enabled || tf.getKernel(ADAM_UPDATE, tf.getBackend()) === undefined) return false;
  const o = optimizer as unknown as AdamFields;
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  // Read on the device that has the kernel (wasm): no transfer.
  const attrs: AdamUpdateAttrs = {
    beta1: o.beta1,
    beta2: o.beta2,
    epsilon: o.epsilon,
    learningRate: o.learningRate,
    accBeta1: o.accBeta1.dataSync()[0]!,
    accBeta2: o.accBeta2.dataSync()[0]!,
  };
  tf.tidy(() => {
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name]!;
      o.accumulatedFirstMoment[i] ??= slot(`${name}/m`, value);
      o.accumulatedSecondMoment[i] ??= slot(`${name}/v`, value);
      const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
      if (gradient == null) return;
      const m = o.accumulatedFirstMoment[i]!.variable;
      const v = o.accumulatedSecondMoment[i]!.variable;
      const [newValue, newM, newV] = tf.engine().runKernel(ADAM_UPDATE, { value, m, v, gradient }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      m.assign(newM!);
      v.assign(newV!);
      value.assign(newValue!);
    });
    o.accBeta1.assign(tf.mul(o.accBeta1, o.beta1));
    o.accBeta2.assign(tf.mul(o.accBeta2, o.beta2));
  });
  o.incrementIterations();
  return true;
}
