// BatchMatMul for the wasm backend, registered over the stock one: the stock kernel runs
// XNNPACK only for an untransposed single matrix product and otherwise a scalar C++ loop,
// which is what the gradients of a dense layer (x^T.dy, dy.W^T) hit. Here a transposed operand
// is transposed explicitly (Transpose is cheap) so that the product takes the XNNPACK path.
import * as tf from '@tensorflow/tfjs';
import { finish, sizeOf, wasmKernel, withScope, type Info } from './wasm-kernel-utils.js';

export function batchMatMulWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { a, b } = args.inputs as { a: Info; b: Info };
  const attrs = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  const stock = wasmKernel(tf.BatchMatMul);
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  const fast = (attrs.transposeA || attrs.transposeB) && batchA === 1 && batchB === 1 &&
    a.dtype === 'float32' && b.dtype === 'float32';
  if (!fast) return stock({ inputs: args.inputs, backend: args.backend as object, attrs: args.attrs }) as Info;
  return withScope(args.backend, (s) => {
    const a2 = s.view(a, a.shape.slice(-2));
    const b2 = s.view(b, b.shape.slice(-2));
    const aa = attrs.transposeA ? s.transpose(a2, [1, 0]) : a2;
    const bb = attrs.transposeB ? s.transpose(b2, [1, 0]) : b2;
    const out = s.run(tf.BatchMatMul, { a: s.view(aa, [1, ...aa.shape]), b: s.view(bb, [1, ...bb.shape]) },
      { transposeA: false, transposeB: false });
    const outShape = [...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2), aa.shape[0], bb.shape[1]];
    return finish(s, out, outShape);
  });
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMulWasm as unknown as tf.KernelFunc,
};
