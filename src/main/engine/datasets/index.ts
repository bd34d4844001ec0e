// Dataset importers: turn a source (the bundled MNIST sample, an image folder, a CSV/TSV file,
// an IDX pair) into the cached, tensor-ready folder described in src/shared/dataset-types.ts.
// Defaults and choices are documented in ./README.md.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { IMAGE_FITS } from '../../../shared/dataset-types.js';
import type {
  DatasetKind,
  DatasetManifest,
  ImageTransform,
  ImportOptions,
  ImportProgress,
  Normalization,
  PreviewSample,
} from '../../../shared/dataset-types.js';
import { CACHE_FILES, writeArray } from './cache.js';
import { detectSourceKind, isMnistSample, MNIST_SAMPLE_SOURCE } from './detect.js';
import { importCsv } from './csv.js';
import { importIdx } from './idx.js';
import { applyImageChange, checkImageOptionsFor, planImageChange } from './image-adjust.js';
import { importImageFolder } from './image-folder.js';
import { importMnistSample } from './mnist-sample.js';
import { DatasetImportError, optionsError, ProblemLog } from './problems.js';
import { indicesByClass, minimumLimit, stratifiedSplit, stratifiedSubset } from './split.js';
import type { ImporterContext, RawDataset } from './types.js';
import { mapPool, progressReporter } from './util.js';

export { DatasetImportError, MAX_LISTED_PROBLEMS } from './problems.js';
export { loadDataset, toFloatBatch, type LoadedDataset } from './cache.js';
export { detectSourceKind, MNIST_SAMPLE_SOURCE } from './detect.js';

const DEFAULT_SEED = 42;
const DEFAULT_VALIDATION_FRACTION = 0.2;
/** Preview samples per class (fewer when there are many classes: at most ~2000 in all). */
const PREVIEWS_PER_CLASS = 8;
const MAX_PREVIEWS = 2000;
/** Feature values kept per tabular preview. */
const PREVIEW_VALUES = 16;

function checkOptions(o: ImportOptions): void {
  const f = o.validationFraction;
  if (f !== undefined && !(typeof f === 'number' && f >= 0 && f < 1))
    throw optionsError('validationFraction', `validationFraction must be a number from 0 up to (not including) 1, got ${String(f)}`);
  if (o.seed !== undefined && !(typeof o.seed === 'number' && Number.isSafeInteger(o.seed)))
    throw optionsError('seed', `seed must be an integer, got ${String(o.seed)}`);
  if (o.limit !== undefined && !(typeof o.limit === 'number' && Number.isSafeInteger(o.limit) && o.limit >= 1))
    throw optionsError('limit', `limit must be a positive integer, got ${String(o.limit)}`);
  if (o.imageSize !== undefined) {
    const s = o.imageSize;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((d) => Number.isInteger(d) && d >= 1 && d <= 4096)) {
      throw optionsError('imageSize', `imageSize must be [height, width] with integers from 1 to 4096, got ${JSON.stringify(s)}`);
    }
  }
  if (o.imageFit !== undefined && !(IMAGE_FITS as readonly unknown[]).includes(o.imageFit))
    throw optionsError('imageFit', `imageFit must be one of ${IMAGE_FITS.join(', ')}, got ${JSON.stringify(o.imageFit)}`);
  if (o.grayscale !== undefined && typeof o.grayscale !== 'boolean')
    throw optionsError('grayscale', `grayscale must be true or false, got ${JSON.stringify(o.grayscale)}`);
  if (o.labelColumn !== undefined && typeof o.labelColumn !== 'string') throw optionsError('labelColumn', 'labelColumn must be a string');
}

function defaultName(source: string, kind: DatasetKind): string {
  if (kind === 'mnist-sample') return 'MNIST sample';
  const base = path.basename(source);
  return kind === 'image-folder' ? base : base.replace(/\.gz$/i, '').replace(/\.(csv|tsv|tab)$/i, '');
}

interface Prepared {
  inputShape: number[];
  featureDtype: 'uint8' | 'float32';
  x: Uint8Array | Float32Array;
  y: Uint16Array;
  classes: string[];
  classCounts: number[];
  train: Uint32Array;
  validation: Uint32Array;
  normalization: Normalization;
  tabular: boolean;
}

/** Keeps the samples at `keep` (ascending), in that order. */
function gather(raw: RawDataset, keep: Uint32Array): void {
  const S = raw.inputShape.reduce((a, b) => a * b, 1);
  const x = raw.featureDtype === 'uint8' ? new Uint8Array(keep.length * S) : new Float32Array(keep.length * S);
  keep.forEach((i, n) => x.set(raw.x.subarray(i * S, (i + 1) * S), n * S));
  raw.x = x;
  raw.y = Uint16Array.from(keep, (i) => raw.y[i]!);
  if (raw.rows) raw.rows = Uint32Array.from(keep, (i) => raw.rows![i]!);
}

/** Standardisation statistics per feature over the train split (population std; 0 → 1). */
function standardizeStats(x: Float32Array | Uint8Array, F: number, train: ArrayLike<number>): { mean: number[]; std: number[] } {
  const mean = new Float64Array(F);
  const m2 = new Float64Array(F);
  const n = train.length;
  for (let t = 0; t < n; t++) {
    const o = train[t]! * F;
    for (let j = 0; j < F; j++) mean[j]! += x[o + j]!;
  }
  for (let j = 0; j < F; j++) mean[j] = n > 0 ? mean[j]! / n : 0;
  for (let t = 0; t < n; t++) {
    const o = train[t]! * F;
    for (let j = 0; j < F; j++) {
      const d = x[o + j]! - mean[j]!;
      m2[j]! += d * d;
    }
  }
  const std = Array.from(m2, (v) => {
    const s = n > 0 ? Math.sqrt(v / n) : 0;
    return s > 0 && Number.isFinite(s) ? s : 1;
  });
  return { mean: Array.from(mean), std };
}

/** Limit, drop empty/too-small classes (as problems), fail or go on, split, normalise. */
function prepare(raw: RawDataset, ctx: ImporterContext, sourceName: string): Prepared {
  const { options, log, seed } = ctx;
  const fraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  let K = raw.classes.length;

  if (options.limit !== undefined && !raw.limited && options.limit < raw.y.length) {
    const counts = indicesByClass(raw.y, K).map((c) => c.length);
    const need = minimumLimit(counts);
    if (options.limit < need) {
      log.fail({ file: sourceName, reason: `limit ${options.limit} is too small: at least ${need} samples are needed to keep 2 of each class` }, 'limit');
    }
    gather(raw, stratifiedSubset(raw.y, K, options.limit, seed));
  }

  const byClass = indicesByClass(raw.y, K);
  const minPerClass = fraction > 0 ? 2 : 1;
  const keepClass: boolean[] = [];
  for (let k = 0; k < K; k++) {
    const n = byClass[k]!.length;
    const name = raw.classes[k]!;
    if (n === 0) {
      const reason = raw.emptyReason ? raw.emptyReason(k) : `class ${JSON.stringify(name)} has no usable samples`;
      if (reason !== null) log.bad({ file: raw.classFile(k), reason }, 0);
    } else if (n < minPerClass) {
      const row = raw.rows ? raw.rows[byClass[k]![0]!] : undefined;
      log.bad(
        {
          file: raw.classFile(k),
          ...(row !== undefined ? { row } : {}),
          reason: `class ${JSON.stringify(name)} has only ${n} sample; at least ${minPerClass} are needed to split it into training and validation`,
        },
        n,
      );
    }
    keepClass.push(n >= minPerClass);
  }
  const kept = raw.classes.filter((_, k) => keepClass[k]);
  if (kept.length < 2) {
    log.fatal({
      file: sourceName,
      reason:
        kept.length === 0
          ? 'no usable classes: at least 2 classes with samples are needed'
          : `only 1 usable class (${JSON.stringify(kept[0])}): at least 2 classes are needed`,
    });
  }
  if (log.fatalCount > 0 || (log.badInputs > 0 && !options.skipBad)) throw log.error();

  if (kept.length < K) {
    const keep: number[] = [];
    for (let i = 0; i < raw.y.length; i++) if (keepClass[raw.y[i]!]) keep.push(i);
    gather(raw, Uint32Array.from(keep));
    const remap: number[] = [];
    let next = 0;
    for (let k = 0; k < K; k++) remap.push(keepClass[k] ? next++ : -1);
    raw.y = raw.y.map((k) => remap[k]!);
    raw.classes = kept;
    K = kept.length;
  }

  const { train, validation } = stratifiedSplit(raw.y, K, fraction, seed);
  const classCounts = indicesByClass(raw.y, K).map((c) => c.length);
  let normalization: Normalization;
  if (raw.scale !== undefined) normalization = { kind: 'scale', scale: raw.scale };
  else normalization = { kind: 'standardize', ...standardizeStats(raw.x, raw.inputShape[0]!, train) };
  return {
    inputShape: raw.inputShape,
    featureDtype: raw.featureDtype,
    x: raw.x,
    y: raw.y,
    classes: raw.classes,
    classCounts,
    train,
    validation,
    normalization,
    tabular: raw.scale === undefined,
  };
}

export function previewPixels(x: Uint8Array | Float32Array, start: number, size: number): Buffer {
  if (x instanceof Uint8Array) return Buffer.from(x.subarray(start, start + size));
  const v = x.subarray(start, start + size);
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of v) {
    if (a < lo) lo = a;
    if (a > hi) hi = a;
  }
  const unit = lo >= 0 && hi <= 1;
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    const t = unit ? v[i]! : hi > lo ? (v[i]! - lo) / (hi - lo) : 0;
    out[i] = Math.round(Math.min(1, Math.max(0, t)) * 255);
  }
  return out;
}

async function writePreviews(p: Prepared, dir: string): Promise<PreviewSample[]> {
  const K = p.classes.length;
  const perClass = Math.min(PREVIEWS_PER_CLASS, Math.max(1, Math.floor(MAX_PREVIEWS / K)));
  const byClass = indicesByClass(p.y, K);
  const S = p.inputShape.reduce((a, b) => a * b, 1);
  const out: PreviewSample[] = [];
  for (let k = 0; k < K; k++) {
    const idx = byClass[k]!;
    for (let j = 0; j < Math.min(perClass, idx.length); j++) {
      const index = idx[j]!;
      if (p.tabular) {
        const values = Array.from(p.x.subarray(index * S, index * S + Math.min(S, PREVIEW_VALUES)), (v) => Number(v.toPrecision(7)));
        out.push({ classIndex: k, index, values });
      } else {
        out.push({ classIndex: k, index, image: `${CACHE_FILES.previews}/${k}-${j}.png` });
      }
    }
  }
  if (!p.tabular) {
    await mkdir(path.join(dir, CACHE_FILES.previews));
    const [height, width, channels] = p.inputShape as [number, number, number];
    await mapPool(out, 8, async (s) => {
      const px = previewPixels(p.x, s.index * S, S);
      await sharp(px, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } })
        .png()
        .toFile(path.join(dir, s.image!));
    });
  }
  return out;
}

/** Creates `dir`'s missing parents; returns the ones it created, deepest first. */
async function makeParents(dir: string): Promise<string[]> {
  const created: string[] = [];
  let d = dir;
  while (!existsSync(d)) {
    created.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  await mkdir(dir, { recursive: true });
  return created;
}

/** The source's samples as its importer reads them. */
function readSource(kind: DatasetKind, ctx: ImporterContext): Promise<RawDataset> {
  if (kind === 'mnist-sample') return importMnistSample(ctx);
  if (kind === 'image-folder') return importImageFolder(ctx);
  return kind === 'csv' ? importCsv(ctx) : importIdx(ctx);
}

/**
 * Imports `source` into the new folder `outDir` (which must not exist): writes everything into a
 * sibling temporary folder and renames it at the end; on any failure nothing is left behind.
 * Throws DatasetImportError for problems with the input (all of them, unless options.skipBad
 * leaves the bad inputs out).
 */
export async function importDataset(
  source: string,
  options: ImportOptions,
  outDir: string,
  onProgress?: (p: ImportProgress) => void,
): Promise<DatasetManifest> {
  checkOptions(options);
  const mnist = isMnistSample(source);
  const abs = mnist ? MNIST_SAMPLE_SOURCE : path.resolve(source);
  const out = path.resolve(outDir);
  if (existsSync(out)) {
    throw new DatasetImportError(`Cannot import ${abs}: the output folder ${out} already exists`, [{ file: out, reason: 'the output folder already exists' }]);
  }
  const kind = detectSourceKind(abs);
  const log = new ProblemLog(abs);
  const seed = options.seed ?? DEFAULT_SEED;
  const ctx: ImporterContext = { source: abs, options, seed, log, progress: progressReporter(onProgress) };
  const sourceName = mnist ? MNIST_SAMPLE_SOURCE : path.basename(abs);
  checkImageOptionsFor(kind, options, sourceName);

  const raw = await readSource(kind, ctx);
  // Checked before the samples are split, changed after (only the kept ones).
  const plan = kind === 'idx' || kind === 'mnist-sample' ? planImageChange(raw, options, kind) : undefined;
  const p = prepare(raw, ctx, sourceName);
  const imageTransform: ImageTransform | undefined = plan
    ? await applyImageChange(p, p.y.length, plan, ctx.progress)
    : kind === 'image-folder'
      ? { fit: options.imageFit ?? 'resize' }
      : undefined;

  const parents = await makeParents(path.dirname(out));
  const tmp = await mkdtemp(path.join(path.dirname(out), `.${path.basename(out)}.importing-`));
  try {
    const steps = 5;
    ctx.progress('writing', 0, steps);
    await writeArray(path.join(tmp, CACHE_FILES.x), p.x);
    ctx.progress('writing', 1, steps);
    await writeArray(path.join(tmp, CACHE_FILES.y), p.y);
    await writeArray(path.join(tmp, CACHE_FILES.train), p.train);
    await writeArray(path.join(tmp, CACHE_FILES.validation), p.validation);
    ctx.progress('writing', 2, steps);
    const previews = await writePreviews(p, tmp);
    ctx.progress('writing', 3, steps);
    const manifest: DatasetManifest = {
      formatVersion: 1,
      name: options.name?.trim() || defaultName(abs, kind),
      kind,
      source: abs,
      inputShape: p.inputShape,
      featureDtype: p.featureDtype,
      count: p.y.length,
      classes: p.classes,
      classCounts: p.classCounts,
      split: {
        seed,
        validationFraction: options.validationFraction ?? DEFAULT_VALIDATION_FRACTION,
        trainCount: p.train.length,
        validationCount: p.validation.length,
      },
      normalization: p.normalization,
      problems: log.problems(),
      skipped: log.leftOut,
      previews,
      createdAt: new Date().toISOString(),
      ...(imageTransform ? { imageTransform } : {}),
    };
    await writeFile(path.join(tmp, CACHE_FILES.meta), JSON.stringify(manifest, null, 1));
    ctx.progress('writing', 4, steps);
    if (existsSync(out))
      throw new DatasetImportError(`Cannot import ${abs}: the output folder ${out} appeared during the import`, [
        { file: out, reason: 'the output folder already exists' },
      ]);
    await rename(tmp, out);
    ctx.progress('writing', steps, steps);
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    for (const d of parents) await rmdir(d).catch(() => undefined);
    throw err;
  }
}
