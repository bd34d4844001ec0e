// The gradients of ReLU and of clipping (ReLU6 is a ReLU then a clip to [0, 6] in tfjs-layers) as
// one pass each on wasm. tfjs differentiates them op by op: dy * cast(step(x)) for Relu (three
// kernels), where(x >= lo && x <= hi, dy, zerosLike(dy)) for ClipByValue (five, with boolean
// tensors that tfjs-backend-wasm compares in scalar C++: a tenth of a MobileNet's step). Gradients
// are registered per kernel name for every backend, so the app registers Relu's and ClipByValue's
// again: on a backend with the kernels below (wasm) they run them, elsewhere tfjs's own gradient.
//
//   ReluGrad(dy, x)                               = x > 0 ? dy : 0 (NaN where x is NaN, as dy * step(x))
//   ClipByValueGrad(dy, x; clipValueMin, Max)     = min <= x <= max ? dy : 0
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sizeOf, type Info } from './wasm-kernel-utils.js';
import { simdKernels } from './wasm-simd.js';

export const RELU_GRAD = 'ReluGrad';
export const CLIP_BY_VALUE_GRAD = 'ClipByValueGrad';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/**
 * out = mask(x) ? dy : 0 elementwise: the SIMD routine over whole vectors, `scalar` for the
 * rest (or all of it without SIMD).
 */
function maskedGrad(
  args: KernelArgs,
  vectors: ((dy: number, x: number, bytes: number, out: number) => void) | null,
  scalar: (x: number, dy: number) => number,
): Info {
  const { dy, x } = args.inputs as { dy: Info; x: Info };
  const backend = args.backend as BackendWasm;
  if (dy.dtype !== 'float32' || x.dtype !== 'float32' || sizeOf(dy.shape) !== sizeOf(x.shape)) {
    throw new Error(`activation gradients take float32 dy and x of one size, got ${dy.dtype}[${String(dy.shape)}] and ${x.dtype}[${String(x.shape)}]`);
  }
  const n = sizeOf(x.shape);
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const whole = vectors === null ? 0 : n - (n % 4);
  if (vectors !== null && whole > 0) {
    const ptr = (t: Info): number => backend.getMemoryOffset(t.dataId);
    vectors(ptr(dy), ptr(x), whole * 4, ptr(out));
  }
  const [o, g, xs] = [out, dy, x].map((t) => backend.typedArrayFromHeap(t) as Float32Array) as [Float32Array, Float32Array, Float32Array];
  for (let i = whole; i < n; i++) o[i] = scalar(xs[i], g[i]);
  return out;
}

function reluGradWasm(args: KernelArgs): Info {
  const simd = simdKernels(args.backend as BackendWasm);
  return maskedGrad(args, simd && ((dy, x, bytes, out) => simd.reluGrad(dy, x, bytes, out)), (x, dy) => (x > 0 ? dy : Number.isNaN(x) ? NaN : 0));
}

function clipByValueGradWasm(args: KernelArgs): Info {
  const { clipValueMin: lo, clipValueMax: hi } = args.attrs as unknown as tf.ClipByValueAttrs;
  const simd = simdKernels(args.backend as BackendWasm);
  return maskedGrad(args, simd && ((dy, x, bytes, out) => simd.clipGrad(dy, x, bytes, lo, hi, out)), (x, dy) => (x >= lo && x <= hi ? dy : 0));
}

export const reluGradConfig: tf.KernelConfig = { kernelName: RELU_GRAD, backendName: 'wasm', kernelFunc: reluGradWasm as unknown as tf.KernelFunc };
export const clipByValueGradConfig: tf.KernelConfig = {
  kernelName: CLIP_BY_VALUE_GRAD,
  backendName: 'wasm',
  kernelFunc: clipByValueGradWasm as unknown as tf.KernelFunc,
};

let enabled = true;
const stockGradients = new Map<string, tf.GradConfig>();

/** Turns the one-kernel gradients off (benchmarks compare with tfjs's own). */
export function setFastActivationGradients(on: boolean): void {
  enabled = on;
}

/** Registers `kernelName`'s gradient again: `fast` where the active backend has `gradKernel`, tfjs's own elsewhere. Idempotent. */
function override(kernelName: string, gradKernel: string, attrsOf: (attrs: tf.NamedAttrMap) => tf.NamedAttrMap): void {
  if (stockGradients.has(kernelName)) return;
  const stock = tf.getGradient(kernelName);
  if (stock === undefined) throw new Error(`tfjs has no gradient for ${kernelName}`);
  stockGradients.set(kernelName, stock);
  tf.registerGradient({
    ...stock,
    gradFunc: (dy, saved, attrs) => {
      if (!enabled || Array.isArray(dy) || tf.getKernel(gradKernel, tf.getBackend()) === undefined || saved[0]?.dtype !== 'float32' || dy.dtype !== 'float32') {
        return stock.gradFunc(dy, saved, attrs);
      }
      const x = saved[0];
      return { x: () => tf.engine().runKernel(gradKernel, { dy, x }, attrsOf(attrs)) as tf.Tensor };
    },
  });
}

/** Relu's and ClipByValue's gradients through ReluGrad and ClipByValueGrad where the backend has them. */
export function installActivationGradients(): void {
  override(tf.Relu, RELU_GRAD, () => ({}));
  override(tf.ClipByValue, CLIP_BY_VALUE_GRAD, (attrs) => ({ clipValueMin: attrs.clipValueMin, clipValueMax: attrs.clipValueMax }));
}
