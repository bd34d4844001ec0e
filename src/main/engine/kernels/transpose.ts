// Transpose for the wasm backend, registered over the stock one (a scalar C++ loop that computes
// every element's index: a tenth of a ResNet's training step, from the transposes inside the
// convolution gradients). Axes of size 1 are dropped and axes that stay neighbours are merged;
// then, when the last axis moves, the transpose is a set of 2-D transposes between the input's
// last axis and the axis that becomes the output's last, each done in 4x4 SIMD blocks
// (wasm-simd-transpose.ts) with JavaScript for the edges. Other cases (the last axis stays, so
// memory moves in contiguous runs; other dtypes; no SIMD) go to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sizeOf, wasmKernel } from './wasm-kernel-registry.js';
import { simdKernels, type SimdKernels } from './wasm-simd.js';

/** The shape and permutation with size-1 axes dropped and neighbours that stay neighbours merged. */
export function reducePermutation(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((p) => shape[p] !== 1);
  // Runs of input axes that follow each other in the output order.
  const runs: number[][] = [];
  for (const p of kept) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[last.length - 1] === p - 1) last.push(p);
    else runs.push([p]);
  }
  const order = runs.map((r) => r[0]!).sort((a, b) => a - b);
  return {
    shape: order.map((first) => runs.find((r) => r[0] === first)!.reduce((n, a) => n * shape[a]!, 1)),
    perm: runs.map((r) => order.indexOf(r[0]!)),
  };
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** The 2-D transposes: for every index of the other axes, rows (input axis a) x cols (input's last axis). */
function blockTranspose(simd: SimdKernels, backend: BackendWasm, x: Info, out: Info, shape: number[], perm: number[]): void {
  const r = shape.length;
  const a = perm[r - 1]!;
  const j = perm.indexOf(r - 1);
  const inStrides = stridesOf(shape);
  const outStrides = stridesOf(perm.map((p) => shape[p]!));
  const rows = shape[a]!;
  const cols = shape[r - 1]!;
  const [rows4, cols4] = [rows - (rows % 4), cols - (cols % 4)];
  // The other axes, in output order, with their input and output strides.
  const others = perm.map((p, i) => ({ size: shape[p]!, inStride: inStrides[p]!, outStride: outStrides[i]! })).filter((_, i) => i !== j && i !== r - 1);
  const xp = backend.getMemoryOffset(x.dataId);
  const op = backend.getMemoryOffset(out.dataId);
  // The edges copy 32-bit patterns (int32 too): as integers, so that no NaN payload changes.
  const heap = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer;
  const src = new Int32Array(heap, xp, sizeOf(shape));
  const dst = new Int32Array(heap, op, sizeOf(shape));
  const [sa, dj] = [inStrides[a]!, outStrides[j]!];
  const index = new Array<number>(others.length).fill(0);
  let [inBase, outBase] = [0, 0];
  for (;;) {
    if (rows4 > 0 && cols4 > 0) simd.transposeBlocks(xp + inBase * 4, op + outBase * 4, rows4 / 4, cols4 * 4, sa * 4, dj * 4);
    // The edges: the last rows % 4 rows, and the last cols % 4 columns of the others.
    for (let row = rows4; row < rows; row++) {
      for (let c = 0; c < cols; c++) dst[outBase + c * dj + row] = src[inBase + row * sa + c];
    }
    for (let row = 0; row < rows4; row++) {
      for (let c = cols4; c < cols; c++) dst[outBase + c * dj + row] = src[inBase + row * sa + c];
    }
    // Next index of the other axes (odometer, last fastest).
    let k = others.length - 1;
    for (; k >= 0; k--) {
      const o = others[k]!;
      index[k]!++;
      inBase += o.inStride;
      outBase += o.outStride;
      if (index[k]! < o.size) break;
      inBase -= o.inStride * o.size;
      outBase -= o.outStride * o.size;
      index[k] = 0;
    }
    if (k < 0) return;
  }
}

type Info = tf.TensorInfo;

let enabled = true;
let smallToo = false;

/**
 * Takes the block path for every transpose that moves the last axis (true), not only where it pays
 * (false, the default): tfjs-core's op tests use small tensors, and the upstream-spec run checks
 * this path too.
 */
export function setTransposeSimdForSmallTensors(on: boolean): void {
  smallToo = on;
}

/** Turns the SIMD transposes off, in the kernel and in the app's compositions (benchmarks). */
export function setFastTranspose(on: boolean): void {
  enabled = on;
}

function transposeWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  const { x } = args.inputs as { x: Info };
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  return transposeOnHeap(args.backend as BackendWasm, x, perm);
}

/** x transposed by perm: a new tensor on the heap (the stock kernel's where SIMD does not pay). */
export function transposeOnHeap(backend: BackendWasm, x: Info, perm: readonly number[]): Info {
  const reduced = reducePermutation(x.shape, perm);
  const r = reduced.shape.length;
  const lastMoves = r >= 2 && reduced.perm[r - 1] !== r - 1;
  const rows = lastMoves ? reduced.shape[reduced.perm[r - 1]!]! : 0;
  const cols = reduced.shape[r - 1] ?? 0;
  // SIMD pays where the 2-D blocks hold whole 4x4 blocks, not where there are many tiny ones.
  const pays = rows >= 4 && cols >= 4 && sizeOf(x.shape) >= 256;
  // (An empty tensor would still run the block loop once: the stock kernel takes it.)
  const worthIt = lastMoves && (x.dtype === 'float32' || x.dtype === 'int32') && sizeOf(x.shape) > 0 && (pays || smallToo);
  const simd = enabled && worthIt ? simdKernels(backend) : null;
  if (simd === null) return wasmKernel(tf.Transpose)({ inputs: { x }, backend, attrs: { perm: perm.slice() } }) as Info;
  const out = backend.makeOutput(
    perm.map((p) => x.shape[p]!),
    x.dtype,
  );
  blockTranspose(simd, backend, x, out, reduced.shape, reduced.perm);
  return out;
}

export const transposeConfig: tf.KernelConfig = {
  kernelName: tf.Transpose,
  backendName: 'wasm',
  kernelFunc: transposeWasm as unknown as tf.KernelFunc,
};
