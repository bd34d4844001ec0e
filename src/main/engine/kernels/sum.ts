// Sum for the wasm backend, registered over the stock one for one case: summing a float32
// tensor over all axes but the last (the gradient of a bias), which the stock kernel does by
// transposing the whole tensor and then summing rows. Here one SIMD pass adds the rows up in
// place (see wasm-simd.ts); every other case goes to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sizeOf, wasmKernel, type Info } from './wasm-kernel-utils.js';
import { simdKernels } from './wasm-simd.js';

function sumWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { x } = args.inputs as { x: Info };
  const backend = args.backend as BackendWasm;
  const attrs = (args.attrs ?? {}) as unknown as tf.SumAttrs;
  const rank = x.shape.length;
  const axes =
    rank === 0
      ? []
      : tf.util
          .parseAxisParam(attrs.axis, x.shape)
          .slice()
          .sort((a, b) => a - b);
  const C = rank === 0 ? 0 : x.shape[rank - 1];
  const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
  const simd = leading && x.dtype === 'float32' && C % 4 === 0 && C > 0 && sizeOf(x.shape) >= 1024 ? simdKernels(backend) : null;
  if (simd === null) return wasmKernel(tf.Sum)({ inputs: args.inputs, backend: args.backend as object, attrs: args.attrs }) as Info;
  const shape = attrs.keepDims ? [...x.shape.slice(0, -1).map(() => 1), C] : [C];
  const out = backend.makeOutput(shape, 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  simd.columnSum(backend.getMemoryOffset(x.dataId), sizeOf(x.shape) / C, C * 4, backend.getMemoryOffset(out.dataId));
  return out;
}

export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: sumWasm as unknown as tf.KernelFunc,
};
