// Helpers shared by the wasm gradient kernels: call the wasm backend's own (C++/XNNPACK)
// kernels from inside a kernelFunc, make free reshape views, and dispose intermediates.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { sizeOf, wasmKernel } from './wasm-kernel-registry.js';
import { transposeOnHeap } from './transpose.js';

export { rememberOriginal, sizeOf, wasmKernel } from './wasm-kernel-registry.js';

export type Info = tf.TensorInfo;
export type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Runs wasm kernels and owns their outputs until dispose(); keep() hands one out.
 * Views (reshapes) share the data of their source and are never disposed on their own.
 */
export class WasmScope {
  private readonly owned: Info[] = [];
  constructor(readonly backend: BackendWasm) {}

  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    const out = wasmKernel(name)({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error(`${name}: expected one output`);
    this.owned.push(out);
    return out;
  }

  view(t: Info, shape: number[]): Info {
    if (sizeOf(shape) !== sizeOf(t.shape)) throw new Error(`view: ${String(t.shape)} -> ${String(shape)}`);
    return { dataId: t.dataId, shape, dtype: t.dtype };
  }

  /** Transposes, or returns a view when the permutation leaves memory order unchanged. */
  transpose(t: Info, perm: number[]): Info {
    const outShape = perm.map((p) => t.shape[p]);
    let last = -1;
    let noop = true;
    for (const p of perm) {
      if (t.shape[p] === 1) continue;
      if (p < last) {
        noop = false;
        break;
      }
      last = p;
    }
    if (noop) return this.view(t, outShape);
    // The app's Transpose (transpose.ts), which run() would not reach: it calls stock kernels.
    return this.adopt(transposeOnHeap(this.backend, t, perm));
  }

  /** Crops (negative amounts) and zero-pads (positive amounts) each axis. */
  padOrCrop(t: Info, amounts: Array<[number, number]>): Info {
    let cur = t;
    if (amounts.some(([a, b]) => a < 0 || b < 0)) {
      const begin = amounts.map(([a]) => Math.max(0, -a));
      const size = amounts.map(([a, b], i) => cur.shape[i] - Math.max(0, -a) - Math.max(0, -b));
      if (size.some((s) => s <= 0)) throw new Error('padOrCrop: crops everything');
      cur = this.run('Slice', { x: cur }, { begin, size });
    }
    if (amounts.some(([a, b]) => a > 0 || b > 0)) {
      const paddings = amounts.map(([a, b]) => [Math.max(0, a), Math.max(0, b)]);
      cur = this.run('PadV2', { x: cur }, { paddings, constantValue: 0 });
    }
    return cur;
  }

  /** Inserts s-1 zeros after each element along axes 1 and 2 of an NHWC tensor (length n*s). */
  upsample(t: Info, sh: number, sw: number): Info {
    if (sh === 1 && sw === 1) return t;
    const [n, h, w, c] = t.shape;
    const v = this.view(t, [n, h, 1, w, 1, c]);
    const p = this.run(
      'PadV2',
      { x: v },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    return this.view(p, [n, h * sh, w * sw, c]);
  }

  /**
   * conv2d (or depthwise) of x with filter at the given stride/dilation and per-side padding,
   * any pad may be negative (the input is then cropped first).
   */
  conv(
    kind: 'Conv2D' | 'DepthwiseConv2dNative',
    x: Info,
    filter: Info,
    strides: [number, number],
    dilations: [number, number],
    pads: [number, number, number, number],
  ): Info {
    const [top, bottom, left, right] = pads;
    let input = x;
    const keptRows = x.shape[1] + Math.min(0, top) + Math.min(0, bottom);
    const keptCols = x.shape[2] + Math.min(0, left) + Math.min(0, right);
    if (keptRows <= 0 || keptCols <= 0) {
      // Every tap reads padding only: the result is zero.
      const effH = (filter.shape[0] - 1) * dilations[0] + 1;
      const effW = (filter.shape[1] - 1) * dilations[1] + 1;
      const outH = Math.floor((x.shape[1] + top + bottom - effH) / strides[0]) + 1;
      const outW = Math.floor((x.shape[2] + left + right - effW) / strides[1]) + 1;
      const outC = kind === 'Conv2D' ? filter.shape[3] : filter.shape[2] * filter.shape[3];
      return this.run('Fill', {}, { shape: [x.shape[0], outH, outW, outC], value: 0, dtype: 'float32' });
    }
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      input = this.padOrCrop(x, [
        [0, 0],
        [Math.min(0, top), Math.min(0, bottom)],
        [Math.min(0, left), Math.min(0, right)],
        [0, 0],
      ]);
    }
    const pad: ExplicitPad = [
      [0, 0],
      [Math.max(0, top), Math.max(0, bottom)],
      [Math.max(0, left), Math.max(0, right)],
      [0, 0],
    ];
    return this.run(kind, { x: input, filter }, { strides, dilations, pad, dataFormat: 'NHWC', dimRoundingMode: undefined } as unknown as tf.NamedAttrMap);
  }

  /** Takes ownership of a tensor made directly with backend.makeOutput. */
  adopt(t: Info): Info {
    this.owned.push(t);
    return t;
  }

  owns(t: Info): boolean {
    return this.owned.some((o) => o.dataId === t.dataId);
  }

  /**
   * The filter [kh,kw,a,b] reversed in both spatial axes, and with `swap` its last two axes
   * exchanged ([kh,kw,b,a]): one pass on the heap (the stock Reverse kernel is slow per element).
   */
  flipFilter(filter: Info, swap: boolean): Info {
    const [kh, kw, a, b] = filter.shape;
    const out = this.backend.makeOutput(swap ? [kh, kw, b, a] : [kh, kw, a, b], 'float32');
    this.owned.push(out);
    // Views after makeOutput: allocating may grow (and detach) the heap.
    const dst = this.backend.typedArrayFromHeap(out) as Float32Array;
    const src = this.backend.typedArrayFromHeap(filter) as Float32Array;
    const ab = a * b;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * ab;
        const to = (i * kw + j) * ab;
        if (!swap) {
          dst.set(src.subarray(from, from + ab), to);
          continue;
        }
        for (let p = 0; p < a; p++) {
          for (let q = 0; q < b; q++) dst[to + q * a + p] = src[from + p * b + q];
        }
      }
    }
    return out;
  }

  /** Removes t from the owned list (and any view of it stays valid). */
  keep(t: Info): Info {
    const i = this.owned.findIndex((o) => o.dataId === t.dataId);
    if (i < 0) throw new Error('keep: not owned by this scope');
    this.owned.splice(i, 1);
    return t;
  }

  dispose(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * For a kernel the wasm backend lacks (so there is no stock kernel to hand a case to): throws when
 * an input does not have the shape the attributes imply. tfjs's ops always pass consistent shapes;
 * a direct runKernel call may not, and the compositions would then read the wrong elements.
 */
export function expectShape(kernel: string, input: string, t: Info, shape: readonly number[]): void {
  if (!sameShape(t.shape, shape)) {
    throw new Error(`${kernel}: ${input} has shape [${t.shape.join(',')}], but the attributes imply [${shape.join(',')}]`);
  }
}

/** Like expectShape, for the channel count two of a kernel's inputs (or attributes) must share. */
export function expectChannels(kernel: string, what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${kernel}: ${what} has ${got} channels, the input has ${want}`);
}

/**
 * t as float32: itself, or cast by the stock Cast kernel (owned by s). The compositions read the
 * heap as float32; tfjs's ops cast to float32 before these kernels, a direct call may not.
 */
export function float32(s: WasmScope, t: Info): Info {
  return t.dtype === 'float32' ? t : s.run('Cast', { x: t }, { dtype: 'float32' });
}

/** Runs the stock wasm kernel `name` with a replacement's own arguments (the cases it leaves to it). */
export function stockKernel(name: string, args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): Info {
  return wasmKernel(name)({ inputs: args.inputs, backend: args.backend as object, attrs: args.attrs }) as Info;
}

/** Runs body with a scope; disposes every intermediate, returns body's result (kept). */
export function withScope(backend: unknown, body: (s: WasmScope) => Info): Info {
  const scope = new WasmScope(backend as BackendWasm);
  try {
    const result = body(scope);
    return result;
  } finally {
    scope.dispose();
  }
}

/**
 * The kernel's output: t (an intermediate of s, or a view of one) with the given shape, kept
 * out of the scope's disposal; a copy when t is not owned by s (e.g. a view of an input).
 */
export function finish(s: WasmScope, t: Info, shape: number[]): Info {
  const owner = s.owns(t) ? s.keep(t) : s.keep(s.run('Identity', { x: t }));
  return { dataId: owner.dataId, shape, dtype: owner.dtype };
}
