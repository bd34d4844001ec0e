// The cached, tensor-ready form of a dataset (layout documented in src/shared/dataset-types.ts):
//   x.bin, y.bin, train.idx, val.idx, meta.json, previews/*.png
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DatasetManifest } from '../../../shared/dataset-types.js';

export interface LoadedDataset {
  manifest: DatasetManifest;
  /** count × sampleSize values (uint8 or float32, as manifest.featureDtype), sample-major. */
  x: Uint8Array | Float32Array;
  /** Class index per sample. */
  y: Uint16Array;
  trainIndex: Uint32Array;
  validationIndex: Uint32Array;
  /** Values per sample: prod(manifest.inputShape). */
  sampleSize: number;
}

export const CACHE_FILES = { x: 'x.bin', y: 'y.bin', train: 'train.idx', validation: 'val.idx', meta: 'meta.json', previews: 'previews' } as const;

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') throw new Error('dataset caches are little-endian; this machine is big-endian');
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export async function writeArray(file: string, a: ArrayBufferView): Promise<void> {
  assertLittleEndian();
  await writeFile(file, bytesOf(a));
}

/** Reads a whole file straight into a new typed array of `length` elements (checks the size). */
function readTyped<T extends Uint8Array | Float32Array | Uint16Array | Uint32Array>(file: string, make: (n: number) => T, length: number, what: string): T {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const out = make(length);
    if (size !== out.byteLength) throw new Error(`${what}: ${path.basename(file)} has ${size} bytes, expected ${out.byteLength}`);
    const bytes = bytesOf(out);
    let off = 0;
    while (off < bytes.length) {
      const n = readSync(fd, bytes, off, bytes.length - off, off);
      if (n === 0) throw new Error(`${what}: ${path.basename(file)} ended early`);
      off += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function isCountArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0);
}

/** Reads a cached dataset folder; throws an Error saying what is wrong with a damaged one. */
export function loadDataset(dir: string): LoadedDataset {
  assertLittleEndian();
  const where = `dataset cache ${dir}`;
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(dir, CACHE_FILES.meta), 'utf8')) as DatasetManifest;
  } catch (err) {
    throw new Error(`${where}: cannot read ${CACHE_FILES.meta}: ${(err as Error).message}`);
  }
  const m = manifest as Partial<DatasetManifest>;
  if (m.formatVersion !== 1) throw new Error(`${where}: unsupported formatVersion ${String(m.formatVersion)} (expected 1)`);
  if (!isCountArray(m.inputShape) || m.inputShape.length === 0 || m.inputShape.some((d) => d < 1)) throw new Error(`${where}: bad inputShape`);
  if (m.featureDtype !== 'uint8' && m.featureDtype !== 'float32') throw new Error(`${where}: bad featureDtype`);
  if (typeof m.count !== 'number' || !Number.isInteger(m.count) || m.count < 0) throw new Error(`${where}: bad count`);
  if (!Array.isArray(m.classes) || m.classes.length === 0) throw new Error(`${where}: bad classes`);
  const split = m.split;
  if (!split || !Number.isInteger(split.trainCount) || !Number.isInteger(split.validationCount)) throw new Error(`${where}: bad split`);
  const norm = m.normalization;
  if (!norm || (norm.kind !== 'scale' && norm.kind !== 'standardize')) throw new Error(`${where}: bad normalization`);
  const sampleSize = m.inputShape.reduce((a, b) => a * b, 1);
  if (norm.kind === 'standardize' && (norm.mean.length !== sampleSize || norm.std.length !== sampleSize)) {
    throw new Error(`${where}: normalization has ${norm.mean.length} means for ${sampleSize} features`);
  }
  const total = m.count * sampleSize;
  try {
    const x =
      m.featureDtype === 'uint8'
        ? readTyped(path.join(dir, CACHE_FILES.x), (n) => new Uint8Array(n), total, where)
        : readTyped(path.join(dir, CACHE_FILES.x), (n) => new Float32Array(n), total, where);
    const y = readTyped(path.join(dir, CACHE_FILES.y), (n) => new Uint16Array(n), m.count, where);
    const trainIndex = readTyped(path.join(dir, CACHE_FILES.train), (n) => new Uint32Array(n), split.trainCount, where);
    const validationIndex = readTyped(path.join(dir, CACHE_FILES.validation), (n) => new Uint32Array(n), split.validationCount, where);
    const K = m.classes.length;
    for (let i = 0; i < y.length; i++) if (y[i]! >= K) throw new Error(`${where}: label ${y[i]} of sample ${i} is not below ${K} classes`);
    for (const idx of [trainIndex, validationIndex]) {
      for (let i = 0; i < idx.length; i++) if (idx[i]! >= m.count) throw new Error(`${where}: split index ${idx[i]} is out of range`);
    }
    return { manifest, x, y, trainIndex, validationIndex, sampleSize };
  } catch (err) {
    const msg = (err as Error).message;
    throw new Error(msg.startsWith(where) ? msg : `${where}: ${msg}`);
  }
}

/**
 * Normalised float32 features of the samples at `indices`, NHWC (or [N, F]) in that order,
 * applying manifest.normalization. Writes into `out` when given (it must hold at least
 * indices.length × sampleSize values; the exact-length view is returned).
 */
export function toFloatBatch(ds: LoadedDataset, indices: ArrayLike<number>, out?: Float32Array): Float32Array {
  const S = ds.sampleSize;
  const n = indices.length;
  const need = n * S;
  let dst: Float32Array;
  if (out) {
    if (out.length < need) throw new RangeError(`toFloatBatch: out holds ${out.length} values, ${need} needed`);
    dst = out.length === need ? out : out.subarray(0, need);
  } else {
    dst = new Float32Array(need);
  }
  const count = ds.y.length;
  const x = ds.x;
  const norm = ds.manifest.normalization;
  if (norm.kind === 'scale') {
    const scale = norm.scale;
    for (let b = 0; b < n; b++) {
      const i = indices[b]!;
      if (!(i >= 0 && i < count && Number.isInteger(i))) throw new RangeError(`toFloatBatch: sample index ${i} is out of range (0–${count - 1})`);
      const src = i * S;
      const o = b * S;
      for (let j = 0; j < S; j++) dst[o + j] = x[src + j]! * scale;
    }
  } else {
    const mean = Float64Array.from(norm.mean);
    const inv = Float64Array.from(norm.std, (s) => (s === 0 || !Number.isFinite(s) ? 1 : 1 / s));
    for (let b = 0; b < n; b++) {
      const i = indices[b]!;
      if (!(i >= 0 && i < count && Number.isInteger(i))) throw new RangeError(`toFloatBatch: sample index ${i} is out of range (0–${count - 1})`);
      const src = i * S;
      const o = b * S;
      for (let j = 0; j < S; j++) dst[o + j] = (x[src + j]! - mean[j]!) * inv[j]!;
    }
  }
  return dst;
}
