// Small WebAssembly SIMD routines that work in place on the tfjs wasm backend's own heap (they
// import its Memory): the gradient of a 2x2/stride-2 max pool and column sums (the bias
// gradient) here, per-channel passes (wasm-simd-channels.ts), 4x4-block transposes
// (wasm-simd-transpose.ts) and Adam's update (wasm-simd-adam.ts). The stock kernels for these are scalar C++ (or, for Sum, a transpose
// and a sum), and JavaScript loops over the heap are slow per element. The module is a couple of
// kilobytes, assembled by wasm-simd-asm.ts; when the runtime lacks WebAssembly SIMD,
// simdKernels() returns null and callers keep their JavaScript or stock paths.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { I32, V128, addr, forBytes, forRows, moduleBytes, op, whileCount, type Routine } from './wasm-simd-asm.js';
import { channelRoutines, type ChannelKernels } from './wasm-simd-channels.js';
import { transposeRoutine, type TransposeKernels } from './wasm-simd-transpose.js';
import { adamRoutine, type AdamKernels } from './wasm-simd-adam.js';

export interface SimdKernels extends ChannelKernels, TransposeKernels, AdamKernels {
  /**
   * One row of 2x2/stride-2 windows: x0/dx0 point at the window row's top-left (bytes), g at
   * its gradients; `count` windows of C channels (C % 4 == 0); cb = C*4, rb = W*C*4 bytes.
   * Writes all four dx values of every window (the gradient to the first maximum, 0 elsewhere).
   */
  maxPool2x2GradRow(x0: number, g: number, dx0: number, count: number, cb: number, rb: number): void;
  /** dst[c] += sum over `rows` rows of src[r*C + c]; cb = C*4 bytes, C % 4 == 0. */
  columnSum(src: number, rows: number, cb: number, dst: number): void;
}

/**
 * maxPool2x2GradRow's locals: its params (i32), then off and cbrb = cb + rb (i32), then the
 * vectors (v128): a (a tap's values), best (the maximum so far), m0…m3 (the tap raised the
 * maximum), gv (the gradients) and ninf (-Infinity).
 */
const MAX_POOL = { x0: 0, g: 1, dx0: 2, count: 3, cb: 4, rb: 5, off: 6, cbrb: 7, a: 8, best: 9, m0: 10, m1: 11, m2: 12, m3: 13, gv: 14, ninf: 15 };

function maxPoolRoutine(): Routine {
  const { x0, g, dx0, count, cb, rb, off, cbrb, ninf } = MAX_POOL;
  const step = (l: number, by: number[]): number[] => [...op.get(l), ...by, ...op.add, ...op.set(l)];
  const body = [
    ...op.f32(-Infinity),
    ...op.splatF32,
    ...op.set(ninf),
    ...op.get(cb),
    ...op.get(rb),
    ...op.add,
    ...op.set(cbrb),
    ...whileCount(count, [
      ...forBytes(off, cb, maxPoolWindow()),
      ...step(x0, [...op.get(cb), ...op.i32(1), ...op.shl]),
      ...step(dx0, [...op.get(cb), ...op.i32(1), ...op.shl]),
      ...step(g, op.get(cb)),
    ]),
  ];
  // locals past the params: off, cbrb (i32), then a … ninf (v128)
  return {
    name: 'maxPool2x2GradRow',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [
      [2, I32],
      [8, V128],
    ],
    body,
  };
}

/** Four channels of the window at `off` (taps a b / d e): which taps raise the maximum (m0…m3), then the gradient routed to the last. */
function maxPoolWindow(): number[] {
  const { x0, g, cb, rb, off, cbrb, best, m0, m1, m2, m3, gv, ninf } = MAX_POOL;
  return [
    ...maxPoolTap(addr(x0, off), ninf, m0), // a (best starts at -inf)
    ...maxPoolTap(addr(x0, cb, off), best, m1), // b
    ...maxPoolTap(addr(x0, rb, off), best, m2), // d
    // e: only whether it raises the maximum
    ...addr(x0, cbrb, off),
    ...op.load,
    ...op.get(best),
    ...op.gt,
    ...op.set(m3),
    ...addr(g, off),
    ...op.load,
    ...op.set(gv),
    ...maxPoolRouteGradient(),
  ];
}

/** a = x[at]; mask = a > than; best = mask ? a : than. */
function maxPoolTap(at: number[], than: number, mask: number): number[] {
  const { a, best } = MAX_POOL;
  return [
    ...at,
    ...op.load,
    ...op.set(a),
    ...op.get(a),
    ...op.get(than),
    ...op.gt,
    ...op.set(mask),
    ...op.get(a),
    ...op.get(than),
    ...op.get(mask),
    ...op.bitselect,
    ...op.set(best),
  ];
}

/** The last tap that raised the maximum wins: e if m3, d if m2 and not m3, ... (m3 gathers the taps taken). */
function maxPoolRouteGradient(): number[] {
  const { dx0, cb, rb, off, cbrb, m0, m1, m2, m3 } = MAX_POOL;
  const taken = (mask: number): number[] => [...op.get(m3), ...op.get(mask), ...op.or, ...op.set(m3)];
  return [
    ...storeGradient(addr(dx0, cbrb, off), op.get(m3)),
    ...storeGradient(addr(dx0, rb, off), [...op.get(m2), ...op.get(m3), ...op.andnot]),
    ...taken(m2),
    ...storeGradient(addr(dx0, cb, off), [...op.get(m1), ...op.get(m3), ...op.andnot]),
    ...taken(m1),
    ...storeGradient(addr(dx0, off), [...op.get(m0), ...op.get(m3), ...op.andnot]),
  ];
}

/** dx[at] = gv & mask. */
function storeGradient(at: number[], mask: number[]): number[] {
  return [...at, ...op.get(MAX_POOL.gv), ...mask, ...op.and, ...op.store];
}

function columnSumRoutine(): Routine {
  // params: 0 src, 1 rows, 2 cb, 3 dst; locals: 4 off
  const [src, rows, cb, dst, off] = [0, 1, 2, 3, 4];
  const inner = [...addr(dst, off), ...addr(dst, off), ...op.load, ...addr(src, off), ...op.load, ...op.fadd, ...op.store];
  return { name: 'columnSum', params: [I32, I32, I32, I32], locals: [[1, I32]], body: forRows(rows, cb, off, [src], inner) };
}

const ROUTINES = (): Routine[] => [maxPoolRoutine(), columnSumRoutine(), ...channelRoutines(), transposeRoutine(), adamRoutine()];

// WebAssembly is a global of every runtime this backend runs on, but not in this project's TS libs.
interface WasmMemory {
  buffer: ArrayBufferLike;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

const cache = new WeakMap<object, SimdKernels | null>();
let disabled = false;

/** Turns the SIMD routines off (tests and benchmarks compare with the JavaScript paths). */
export function setSimdKernelsEnabled(enabled: boolean): void {
  disabled = !enabled;
}

/** The routines bound to this backend's heap, or null (no SIMD, or turned off). */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  if (disabled) return null;
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  // The Memory is `wasmMemory` in the threaded build and an export of the instance otherwise.
  const module = backend.wasm as unknown as { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } };
  const memory = module.wasmMemory ?? module.asm?.memory;
  if (memory === undefined || api === undefined) return null;
  if (cache.has(memory)) return cache.get(memory) ?? null;
  let kernels: SimdKernels | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const instance = new api.Instance(new api.Module(moduleBytes(ROUTINES(), shared)), { env: { memory } });
    kernels = instance.exports as unknown as SimdKernels;
  } catch {
    kernels = null;
  }
  cache.set(memory, kernels);
  return kernels;
}
