// Adam's update of one variable as one kernel on wasm. tfjs's AdamOptimizer runs about fourteen
// kernels a variable (mul, add, square, div, sqrt…), each on a tensor the size of a weight: on
// wasm each costs far more to dispatch than to compute (a tenth of a MobileNet's training step
// for a hundred and fifty small variables). models/optimizer.ts runs this kernel where the
// backend has it:
//
//   AdamUpdate(value, m, v, gradient; beta1, beta2, epsilon, learningRate, accBeta1, accBeta2)
//     -> value', m', v'
//
// with tfjs's own arithmetic, op by op in float32 (the SIMD routine in wasm-simd-adam.ts, and
// Math.fround for what is left), so that the results are tfjs's.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sizeOf, type Info } from './wasm-kernel-utils.js';
import { simdKernels } from './wasm-simd.js';

export const ADAM_UPDATE = 'AdamUpdate';

export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  /** The optimizer's beta1^t and beta2^t (its accBeta1/accBeta2 before this step). */
  accBeta1: number;
  accBeta2: number;
}

const f = Math.fround;

function adamUpdateWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info[] {
  const { value, m, v, gradient } = args.inputs as { value: Info; m: Info; v: Info; gradient: Info };
  const backend = args.backend as BackendWasm;
  const a = args.attrs as unknown as AdamUpdateAttrs;
  const n = sizeOf(value.shape);
  for (const t of [value, m, v, gradient]) {
    if (t.dtype !== 'float32' || sizeOf(t.shape) !== n) throw new Error(`${ADAM_UPDATE} takes float32 value, m, v and gradient of one size`);
  }
  const outs = [value, m, v].map((t) => backend.makeOutput(t.shape.slice(), 'float32'));
  // The scalars as tfjs makes them: float32 tensors of the JavaScript values (1 - beta1 computed
  // in double), and 1 - accBeta as a float32 op on the float32 accBeta.
  const [b1, omb1, b2, omb2] = [f(a.beta1), f(1 - a.beta1), f(a.beta2), f(1 - a.beta2)];
  const [c1, c2] = [f(1 - f(a.accBeta1)), f(1 - f(a.accBeta2))];
  const [eps, negLr] = [f(a.epsilon), f(-a.learningRate)];
  const simd = simdKernels(backend);
  const whole = simd === null ? 0 : n - (n % 4);
  const ptr = (t: Info): number => backend.getMemoryOffset(t.dataId);
  if (simd !== null && whole > 0) {
    simd.adam(ptr(value), ptr(m), ptr(v), ptr(gradient), whole * 4, ptr(outs[0]), ptr(outs[1]), ptr(outs[2]), b1, omb1, b2, omb2, c1, c2, eps, negLr);
  }
  const [x, mi, vi, g, xo, mo, vo] = [value, m, v, gradient, ...outs].map((t) => backend.typedArrayFromHeap(t) as Float32Array) as Float32Array[];
  for (let i = whole; i < n; i++) {
    const nm = f(f(mi[i] * b1) + f(g[i] * omb1));
    const nv = f(f(vi[i] * b2) + f(f(g[i] * g[i]) * omb2));
    const step = f(f(nm / c1) / f(f(Math.sqrt(f(nv / c2))) + eps));
    xo[i] = f(f(step * negLr) + x[i]);
    mo[i] = nm;
    vo[i] = nv;
  }
  return outs;
}

export const adamUpdateConfig: tf.KernelConfig = {
  kernelName: ADAM_UPDATE,
  backendName: 'wasm',
  kernelFunc: adamUpdateWasm as unknown as tf.KernelFunc,
};
