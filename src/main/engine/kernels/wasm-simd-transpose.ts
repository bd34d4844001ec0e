// A SIMD routine for transposes (transpose.ts): a matrix of 32-bit elements, in 4x4 blocks
// (four vector loads, eight shuffles, four vector stores), with any row strides in and out.
import { I32, V128, bump, op, whileCount, forBytes, type Routine } from './wasm-simd-asm.js';

export interface TransposeKernels {
  /**
   * Element (r, c) at src + r*srcStride + c*4 goes to dst + c*dstStride + r*4, for r < 4*rowBlocks
   * and c*4 < cb (cb a multiple of 16). Strides in bytes. Column blocks are the outer loop, so that
   * four output rows are written in sequence at a time: with row blocks outer, each block wrote
   * to as many output rows as there are columns, often a power of two apart, which the caches
   * cannot hold (measured 3-6 times slower on [65536, 48] and [64, 16, 16, 96] transposes).
   */
  transposeBlocks(src: number, dst: number, rowBlocks: number, cb: number, srcStride: number, dstStride: number): void;
}

const [src, dst, rowBlocks, cb, srcStride, dstStride] = [0, 1, 2, 3, 4, 5];
const [off, p, d, dst4, a0, a1, a2, a3, t0, t1, t2, t3, rows, q] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];

const shuffle = (x: number, y: number, lanes: [number, number, number, number]): number[] => [...op.get(x), ...op.get(y), ...op.shuffle32(lanes)];

/** One 4x4 block: four rows loaded from p (moved on by 3 source strides), stored as four columns at d, d + dstStride, … */
function block(): number[] {
  const a = [a0, a1, a2, a3];
  const loads = a.flatMap((v, i) => [...op.get(p), ...op.load, ...op.set(v), ...(i < 3 ? bump(p, op.get(srcStride)) : [])]);
  const pairs = [
    ...shuffle(a0, a1, [0, 4, 1, 5]),
    ...op.set(t0),
    ...shuffle(a0, a1, [2, 6, 3, 7]),
    ...op.set(t1),
    ...shuffle(a2, a3, [0, 4, 1, 5]),
    ...op.set(t2),
    ...shuffle(a2, a3, [2, 6, 3, 7]),
    ...op.set(t3),
  ];
  // Column i of the block: lanes from t0/t2 (i = 0, 1) or t1/t3 (i = 2, 3).
  const columns: Array<[number, number, [number, number, number, number]]> = [
    [t0, t2, [0, 1, 4, 5]],
    [t0, t2, [2, 3, 6, 7]],
    [t1, t3, [0, 1, 4, 5]],
    [t1, t3, [2, 3, 6, 7]],
  ];
  const stores = columns.flatMap(([x, y, lanes], i) => [
    ...op.get(d),
    ...(i === 0 ? [] : [...op.get(dstStride), ...op.i32(i), ...op.mul, ...op.add]),
    ...shuffle(x, y, lanes),
    ...op.store,
  ]);
  return [...loads, ...pairs, ...stores];
}

const locals: Array<[number, number]> = [
  [4, I32],
  [8, V128],
  [2, I32],
];
const times4 = (local: number): number[] => [...op.get(local), ...op.i32(2), ...op.shl];

export function transposeRoutine(): Routine {
  // For each column block (p = src + off, q its first output row), every row block down the
  // column: p and d move on together.
  const body = [
    ...times4(dstStride),
    ...op.set(dst4),
    ...op.get(dst),
    ...op.set(q),
    ...forBytes(off, cb, [
      ...op.get(src),
      ...op.get(off),
      ...op.add,
      ...op.set(p),
      ...op.get(q),
      ...op.set(d),
      ...op.get(rowBlocks),
      ...op.set(rows),
      ...whileCount(rows, [...block(), ...bump(p, op.get(srcStride)), ...bump(d, op.i32(16))]),
      ...bump(q, op.get(dst4)),
    ]),
  ];
  return { name: 'transposeBlocks', params: [I32, I32, I32, I32, I32, I32], locals, body };
}
