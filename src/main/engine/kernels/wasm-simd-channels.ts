// SIMD routines over [rows, C] float32 data on the wasm heap, with per-channel vectors (C floats,
// C % 4 == 0; cb = C*4 bytes): the passes of batch normalisation in training (batch-norm.ts), the
// gradients of ReLU and clipping (activation-grads.ts) and the taps of a depthwise filter's
// gradient (depthwise-backprop-filter.ts). Pointers are byte offsets on the heap.
// Sums accumulate in float32 into s1/s2; callers keep a block short and add blocks up in double.
import { F32, I32, V128, bump, forBytes, forRows, ld, op, st, whileCount, type Routine } from './wasm-simd-asm.js';

export interface ChannelKernels {
  /** t = x - shift[c]; s1[c] += t; s2[c] += t*t, over `rows` rows. */
  shiftedSums(x: number, rows: number, cb: number, shift: number, s1: number, s2: number): void;
  /** s1[c] += dy; s2[c] += dy * (x - mean[c]), over `rows` rows. */
  gradSums(dy: number, x: number, rows: number, cb: number, mean: number, s1: number, s2: number): void;
  /** out = x * a[c] + b[c]. */
  affine(x: number, rows: number, cb: number, a: number, b: number, out: number): void;
  /** out = dy * k1[c] + x * k2[c] + k3[c]. */
  affine2(dy: number, x: number, rows: number, cb: number, k1: number, k2: number, k3: number, out: number): void;
  /** out = x > 0 ? dy : x is NaN ? NaN : 0 (dy * step(x)), over `bytes` bytes (a multiple of 16). */
  reluGrad(dy: number, x: number, bytes: number, out: number): void;
  /** out = lo <= x <= hi ? dy : 0, over `bytes` bytes (a multiple of 16). */
  clipGrad(dy: number, x: number, bytes: number, lo: number, hi: number, out: number): void;
  /**
   * acc[c] += sum over r < rows, i < count of x[r*xRow + i*xStep + c] * dy[r*dyRow + i*cb + c]
   * (byte strides): one tap of a depthwise filter's gradient over a block of output pixels.
   */
  depthwiseTap(x: number, dy: number, rows: number, count: number, xRow: number, xStep: number, dyRow: number, cb: number, acc: number): void;
}

const add = (a: number[], b: number[]): number[] => [...a, ...b, ...op.fadd];
const mul = (a: number[], b: number[]): number[] => [...a, ...b, ...op.fmul];
const sub = (a: number[], b: number[]): number[] => [...a, ...b, ...op.fsub];

function shiftedSums(): Routine {
  const [x, rows, cb, shift, s1, s2, off, t] = [0, 1, 2, 3, 4, 5, 6, 7];
  const body = [
    ...sub(ld(x, off), ld(shift, off)),
    ...op.set(t),
    ...st([s1, off], add(ld(s1, off), op.get(t))),
    ...st([s2, off], add(ld(s2, off), mul(op.get(t), op.get(t)))),
  ];
  return {
    name: 'shiftedSums',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [
      [1, I32],
      [1, V128],
    ],
    body: forRows(rows, cb, off, [x], body),
  };
}

function gradSums(): Routine {
  const [dy, x, rows, cb, mean, s1, s2, off, d] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const body = [
    ...ld(dy, off),
    ...op.set(d),
    ...st([s1, off], add(ld(s1, off), op.get(d))),
    ...st([s2, off], add(ld(s2, off), mul(op.get(d), sub(ld(x, off), ld(mean, off))))),
  ];
  return {
    name: 'gradSums',
    params: [I32, I32, I32, I32, I32, I32, I32],
    locals: [
      [1, I32],
      [1, V128],
    ],
    body: forRows(rows, cb, off, [dy, x], body),
  };
}

function affine(): Routine {
  const [x, rows, cb, a, b, out, off] = [0, 1, 2, 3, 4, 5, 6];
  const body = st([out, off], add(mul(ld(x, off), ld(a, off)), ld(b, off)));
  return { name: 'affine', params: [I32, I32, I32, I32, I32, I32], locals: [[1, I32]], body: forRows(rows, cb, off, [x, out], body) };
}

function affine2(): Routine {
  const [dy, x, rows, cb, k1, k2, k3, out, off] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const body = st([out, off], add(add(mul(ld(dy, off), ld(k1, off)), mul(ld(x, off), ld(k2, off))), ld(k3, off)));
  return { name: 'affine2', params: [I32, I32, I32, I32, I32, I32, I32, I32], locals: [[1, I32]], body: forRows(rows, cb, off, [dy, x, out], body) };
}

function reluGrad(): Routine {
  const [dy, x, bytes, out, off, xv, gt, zero] = [0, 1, 2, 3, 4, 5, 6, 7];
  // dy where x > 0; x itself (NaN) where x is NaN; 0 elsewhere (x <= 0).
  const isNan = [...op.get(xv), ...op.get(xv), ...op.fne];
  const body = [
    ...ld(x, off),
    ...op.set(xv),
    ...op.get(xv),
    ...op.get(zero),
    ...op.gt,
    ...op.set(gt),
    ...st([out, off], [...ld(dy, off), ...op.get(xv), ...op.get(gt), ...op.bitselect, ...op.get(gt), ...isNan, ...op.or, ...op.and]),
  ];
  return {
    name: 'reluGrad',
    params: [I32, I32, I32, I32],
    locals: [
      [1, I32],
      [3, V128],
    ],
    body: [...op.f32(0), ...op.splatF32, ...op.set(zero), ...forBytes(off, bytes, body)],
  };
}

function clipGrad(): Routine {
  const [dy, x, bytes, lo, hi, out, off, xv, vlo, vhi] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const inRange = [...op.get(xv), ...op.get(vlo), ...op.fge, ...op.get(xv), ...op.get(vhi), ...op.fle, ...op.and];
  const body = [...ld(x, off), ...op.set(xv), ...st([out, off], [...ld(dy, off), ...inRange, ...op.and])];
  return {
    name: 'clipGrad',
    params: [I32, I32, I32, F32, F32, I32],
    locals: [
      [1, I32],
      [3, V128],
    ],
    body: [...op.get(lo), ...op.splatF32, ...op.set(vlo), ...op.get(hi), ...op.splatF32, ...op.set(vhi), ...forBytes(off, bytes, body)],
  };
}

function depthwiseTap(): Routine {
  const [x, dy, rows, count, xRow, xStep, dyRow, cb, acc, off, i, xp, dp] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  const pixel = forBytes(off, cb, st([acc, off], add(ld(acc, off), mul(ld(xp, off), ld(dp, off)))));
  const row = [
    ...op.get(x),
    ...op.set(xp),
    ...op.get(dy),
    ...op.set(dp),
    ...op.get(count),
    ...op.set(i),
    ...whileCount(i, [...pixel, ...bump(xp, op.get(xStep)), ...bump(dp, op.get(cb))]),
    ...bump(x, op.get(xRow)),
    ...bump(dy, op.get(dyRow)),
  ];
  return { name: 'depthwiseTap', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32], locals: [[4, I32]], body: whileCount(rows, row) };
}

export function channelRoutines(): Routine[] {
  return [shiftedSums(), gradSums(), affine(), affine2(), reluGrad(), clipGrad(), depthwiseTap()];
}
