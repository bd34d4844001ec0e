// BatchMatMul for the wasm backend, registered over the stock one: the stock kernel runs
// XNNPACK only for an untransposed single matrix product and otherwise a scalar C++ loop,
// which is what the gradients of a dense layer (x^T.dy, dy.W^T) hit. Here transposed operands
// are transposed explicitly so that the product takes the XNNPACK path, choosing between
// op(A).op(B) and (op(B)^T.op(A)^T)^T whichever moves fewer elements.
//
// XNNPACK's fully-connected operator, which the stock kernel runs for that product, packs the
// right operand once and tfjs-backend-wasm caches it under that operand's tensor id alone, not its
// shape (batch_mat_mul_impl.cc in 4.22). So a tensor must never reach it as the right operand in
// two shapes: an input goes there only in its own [rows, cols], and a transpose that is a mere view
// (one dimension is 1) is copied first. Without the copy, a one-sample batch's dy went in as
// [1,units] for dW = x^T.dy and as [units,1] for dx = dy.W^T: the second product ran the first
// one's operator, reading past its input and leaving uninitialised heap (NaN) in the result.
import * as tf from '@tensorflow/tfjs';
import { finish, sizeOf, wasmKernel, withScope, type Info, type WasmScope } from './wasm-kernel-utils.js';

function batchMatMulWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { a, b } = args.inputs as { a: Info; b: Info };
  const attrs = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  const tA = attrs.transposeA === true;
  const tB = attrs.transposeB === true;
  // One matrix each (batch dimensions of size 1, so no broadcasting), float32, and no empty
  // dimension (which the stock kernel handles its own way): other cases go to the stock kernel.
  const single = sizeOf(a.shape.slice(0, -2)) === 1 && sizeOf(b.shape.slice(0, -2)) === 1 && sizeOf(a.shape) > 0 && sizeOf(b.shape) > 0;
  const fast = (tA || tB) && single && a.dtype === 'float32' && b.dtype === 'float32';
  if (!fast) return wasmKernel(tf.BatchMatMul)({ inputs: args.inputs, backend: args.backend as object, attrs: args.attrs }) as Info;
  const [a0, a1] = a.shape.slice(-2);
  const [b0, b1] = b.shape.slice(-2);
  const M = tA ? a1 : a0;
  const K = tA ? a0 : a1;
  const N = tB ? b0 : b1;
  const outShape = [...(a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2), M, N];
  return withScope(args.backend, (s) => {
    const A = s.view(a, [a0, a1]);
    const B = s.view(b, [b0, b1]);
    // Elements transposed: directly, op(A) and op(B); swapped, the other two and the result.
    const direct = (tA ? M * K : 0) + (tB ? K * N : 0);
    const swapped = (tA ? 0 : M * K) + (tB ? 0 : K * N) + M * N;
    if (direct <= swapped) {
      const out = product(s, tA ? s.transpose(A, [1, 0]) : A, tB ? transposedCopy(s, B) : B);
      return finish(s, out, outShape);
    }
    // C^T = op(B)^T . op(A)^T, where op(B)^T is B itself when tB, and its transpose otherwise.
    const left = tB ? B : s.transpose(B, [1, 0]); // [N,K]
    const right = tA ? A : transposedCopy(s, A); // [K,M]
    const outT = product(s, left, right); // [N,M]
    return finish(s, s.transpose(s.view(outT, [N, M]), [1, 0]), outShape);
  });
}

/** The transpose of an input as a tensor of its own (a new id), even where it could be a view. */
function transposedCopy(s: WasmScope, t: Info): Info {
  const out = s.transpose(t, [1, 0]);
  return s.owns(out) ? out : s.run('Identity', { x: out });
}

function product(s: WasmScope, x: Info, y: Info): Info {
  return s.run(tf.BatchMatMul, { a: s.view(x, [1, ...x.shape]), b: s.view(y, [1, ...y.shape]) }, { transposeA: false, transposeB: false });
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMulWasm as unknown as tf.KernelFunc,
};
