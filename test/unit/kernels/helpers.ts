// Shared helpers for the wasm kernel tests: a seeded generator, running one kernel on a named
// backend, and comparing with a tolerance.
import * as tf from '@tensorflow/tfjs';
import { activateWasm } from '../../../src/main/engine/backends/wasm.js';

export type Backend = 'cpu' | 'wasm';

/** mulberry32: small seeded generator, so that every failing case can be replayed. */
export function rng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T; normals(n: number): Float32Array } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    normals: (n) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = next() * 2 - 1;
      return out;
    },
  };
}

let ready: Promise<void> | null = null;
/**
 * Activates wasm (with the app's kernels) once per process, single-threaded unless `threads`
 * says otherwise (the threaded build is covered by the training test), and makes sure cpu exists too.
 */
export function setUpBackends(threads = 1): Promise<void> {
  ready ??= (async () => {
    tf.env().set('PROD', true); // no NaN checks / debug logging
    await activateWasm({ threads });
    if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend missing');
    await tf.setBackend('wasm');
  })();
  return ready;
}

export interface Arr {
  shape: number[];
  data: Float32Array;
}

/** Runs `name` directly on `backend`; checks that neither the engine nor the backend keeps anything. */
export async function runOn(backend: Backend, name: string, inputs: Record<string, Arr>, attrs: object): Promise<Arr> {
  await tf.setBackend(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.data, v.shape, 'float32');
  const engineBefore = tf.memory().numTensors;
  const dataBefore = tf.backend().numDataIds();
  const out = tf.engine().runKernel(name, tensors as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape.slice(), data: (await out.data()) as Float32Array };
  out.dispose();
  const engineAfter = tf.memory().numTensors;
  const dataAfter = tf.backend().numDataIds();
  for (const t of Object.values(tensors)) t.dispose();
  if (engineAfter !== engineBefore || dataAfter !== dataBefore) {
    throw new Error(`${name} on ${backend} leaked: tensors ${engineBefore}->${engineAfter}, data ids ${dataBefore}->${dataAfter}`);
  }
  return result;
}

/** Max |a-b| over max(1, max|b|); null when shapes differ. */
export function relErr(a: Arr, b: Arr): number | null {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return null;
  let diff = 0;
  let mag = 1;
  for (let i = 0; i < b.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i] - b.data[i]));
    mag = Math.max(mag, Math.abs(b.data[i]));
    if (Number.isNaN(a.data[i]) !== Number.isNaN(b.data[i])) return Infinity;
  }
  return diff / mag;
}

export type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
export type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** A random padding: 'valid', 'same', explicit pads, or a number (with a rounding mode). */
export function randomPad(r: ReturnType<typeof rng>, maxPad: number): { pad: Pad; rounding: Rounding } {
  const kind = r.pick(['valid', 'same', 'explicit', 'number'] as const);
  if (kind === 'valid' || kind === 'same') return { pad: kind, rounding: undefined };
  if (kind === 'number') return { pad: r.int(0, maxPad), rounding: r.pick(['floor', 'round', 'ceil', undefined] as const) };
  return {
    pad: [
      [0, 0],
      [r.int(0, maxPad), r.int(0, maxPad)],
      [r.int(0, maxPad), r.int(0, maxPad)],
      [0, 0],
    ],
    rounding: undefined,
  };
}

/** Same check as the backends: computeConv2DInfo, or null when the output would be empty. */
export function convInfo(
  xShape: number[],
  fShape: number[],
  strides: [number, number],
  dilations: [number, number],
  pad: Pad,
  rounding: Rounding,
  depthwise: boolean,
  format: 'channelsLast' | 'channelsFirst' = 'channelsLast',
): tf.backend_util.Conv2DInfo | null {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    fShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    rounding,
    depthwise,
    format,
  );
  if (info.outHeight < 1 || info.outWidth < 1) return null;
  return info;
}

export function fmt(o: unknown): string {
  return JSON.stringify(o);
}
