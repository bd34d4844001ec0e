// A SIMD routine for Adam's update (adam.ts): tfjs's AdamOptimizer op by op, each step rounded to
// float32 as tfjs's kernels round it, so that the results are the ones tfjs computes.
import { F32, I32, V128, forBytes, ld, op, st, type Routine } from './wasm-simd-asm.js';

export interface AdamKernels {
  /**
   * Over `bytes` bytes (a multiple of 16) of value, m, v, g:
   *   m' = m*b1 + g*omb1;  v' = v*b2 + (g*g)*omb2;
   *   value' = ((m'/c1) / (sqrt(v'/c2) + eps)) * negLr + value
   * written to outValue, outM, outV (which may be the inputs' own memory).
   */
  adam(
    value: number,
    m: number,
    v: number,
    g: number,
    bytes: number,
    outValue: number,
    outM: number,
    outV: number,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    c1: number,
    c2: number,
    eps: number,
    negLr: number,
  ): void;
}

export function adamRoutine(): Routine {
  const [value, m, v, g, bytes, outValue, outM, outV] = [0, 1, 2, 3, 4, 5, 6, 7];
  const scalars = [8, 9, 10, 11, 12, 13, 14, 15]; // b1, omb1, b2, omb2, c1, c2, eps, negLr (f32)
  const off = 16;
  const [B1, OMB1, B2, OMB2, C1, C2, EPS, NEG_LR, gv, nm, nv] = [17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];
  const splats = scalars.flatMap((s, i) => [...op.get(s), ...op.splatF32, ...op.set(B1 + i)]);
  const get = op.get;
  const body = [
    ...ld(g, off),
    ...op.set(gv),
    // m' = m*b1 + g*omb1
    ...ld(m, off),
    ...get(B1),
    ...op.fmul,
    ...get(gv),
    ...get(OMB1),
    ...op.fmul,
    ...op.fadd,
    ...op.set(nm),
    // v' = v*b2 + (g*g)*omb2
    ...ld(v, off),
    ...get(B2),
    ...op.fmul,
    ...get(gv),
    ...get(gv),
    ...op.fmul,
    ...get(OMB2),
    ...op.fmul,
    ...op.fadd,
    ...op.set(nv),
    // value' = ((m'/c1) / (sqrt(v'/c2) + eps)) * negLr + value
    ...st(
      [outValue, off],
      [
        ...get(nm),
        ...get(C1),
        ...op.fdiv,
        ...get(nv),
        ...get(C2),
        ...op.fdiv,
        ...op.fsqrt,
        ...get(EPS),
        ...op.fadd,
        ...op.fdiv,
        ...get(NEG_LR),
        ...op.fmul,
        ...ld(value, off),
        ...op.fadd,
      ],
    ),
    ...st([outM, off], get(nm)),
    ...st([outV, off], get(nv)),
  ];
  return {
    name: 'adam',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32],
    locals: [
      [1, I32],
      [11, V128],
    ],
    body: [...splats, ...forBytes(off, bytes, body)],
  };
}
