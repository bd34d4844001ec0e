// Turns store records into the API's view objects (src/shared/api/data.ts): plain data the UI
// can show as is, images as PNG data URLs read from the dataset cache.
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { ImageTransform } from '../../shared/dataset-types.js';
import type {
  ArchitectureList,
  DatasetDetail,
  DatasetSummary,
  EvaluationView,
  MisclassifiedSample,
  RunSummary,
  TuningDetail,
  TuningSummary,
} from '../../shared/api/index.js';
import type { TrialRecord, TuningProgress } from '../../shared/tuning-types.js';
import type { TuningFreshness } from '../../shared/tuning-fingerprint.js';
import type { ScaleOutPlan } from '../../shared/scale-out.js';
import { MODEL_KINDS } from '../../shared/run-types.js';
import { ARCHITECTURES, minimumBatchFor, modelAcceptsShape, REFERENCE_INPUT, trainableParameters } from '../../shared/model-families.js';
import { problemTotal } from '../../shared/problem-summary.js';
import { evaluationSchema, type Evaluation } from '../../shared/trainer-protocol.js';
import { CACHE_FILES } from '../engine/datasets/cache.js';
import { previewPixels } from '../engine/datasets/index.js';
import type { DatasetRecord, RunRecord, TuningSessionRecord } from '../store/index.js';

export function datasetSummary(d: DatasetRecord): DatasetSummary {
  const m = d.manifest;
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    source: d.source,
    createdAt: d.createdAt,
    inputShape: m.inputShape,
    count: m.count,
    classCount: m.classes.length,
    trainCount: m.split.trainCount,
    validationCount: m.split.validationCount,
    problemCount: problemTotal(m.problems),
    skipped: m.skipped,
  };
}

function pngDataUrl(bytes: Buffer): string {
  return `data:image/png;base64,${bytes.toString('base64')}`;
}

export function datasetDetail(d: DatasetRecord, previewsPerClass = 8): DatasetDetail {
  const m = d.manifest;
  const taken = new Map<number, number>();
  const previews: DatasetDetail['previews'] = [];
  for (const p of m.previews) {
    const n = taken.get(p.classIndex) ?? 0;
    if (n >= previewsPerClass) continue;
    taken.set(p.classIndex, n + 1);
    if (p.image) {
      const file = path.join(d.cacheDir, p.image);
      // A preview file that went missing is left out rather than failing the whole dataset view.
      if (!isInside(d.cacheDir, file) || !existsSync(file)) continue;
      previews.push({ classIndex: p.classIndex, index: p.index, image: pngDataUrl(readFileSync(file)) });
    } else {
      previews.push({ classIndex: p.classIndex, index: p.index, ...(p.values ? { values: p.values } : {}) });
    }
  }
  return {
    ...datasetSummary(d),
    classes: m.classes.map((name, index) => ({ index, name, count: m.classCounts[index] ?? 0 })),
    split: { seed: m.split.seed, validationFraction: m.split.validationFraction, trainCount: m.split.trainCount, validationCount: m.split.validationCount },
    problems: m.problems,
    previews,
    models: MODEL_KINDS.filter((k) => modelAcceptsShape(k, m.inputShape) === undefined),
    ...(m.imageTransform ? { imageTransform: imageTransformView(m.imageTransform) } : {}),
  };
}

/** Only the known fields: the stored manifest is a loose object (a newer engine may add more). */
function imageTransformView(t: ImageTransform): NonNullable<DatasetDetail['imageTransform']> {
  return { ...(t.fit ? { fit: t.fit } : {}), ...(t.sourceShape ? { sourceShape: t.sourceShape } : {}) };
}

/**
 * Every model at this dataset's input and classes (whether it fits, and its size), or at the
 * reference input without one. Pure arithmetic from shared/model-families.ts: no model is built.
 */
export function architectureList(d?: DatasetRecord): ArchitectureList {
  const inputShape = d ? d.manifest.inputShape : [...REFERENCE_INPUT.inputShape];
  const classes = d ? d.manifest.classes.length : REFERENCE_INPUT.classes;
  return {
    dataset: d ? { id: d.id, name: d.name } : null,
    inputShape,
    classes,
    models: ARCHITECTURES.map((a) => {
      const problem = modelAcceptsShape(a.model, inputShape) ?? null;
      return {
        ...a,
        minimumBatch: minimumBatchFor(a.model),
        trainableParameters: problem === null ? trainableParameters(a.model, inputShape, classes) : null,
        fits: problem === null,
        problem,
      };
    }),
  };
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function runSummary(r: RunRecord, active: boolean, hasModel: boolean): RunSummary {
  return { ...r, active, hasModel };
}

/** `freshness`: whether it still holds now (listTunings, getTuning); left out where the tuning is a run's history. */
export function tuningSummary(t: TuningSessionRecord, active: boolean, freshness?: TuningFreshness): TuningSummary {
  return {
    id: t.id,
    datasetId: t.datasetId,
    datasetName: t.datasetName,
    model: t.model,
    mode: t.mode,
    status: t.status,
    backend: t.backend,
    rung: t.rung,
    device: t.device,
    budgetBytes: t.budgetBytes,
    error: t.error,
    createdAt: t.createdAt,
    endedAt: t.endedAt,
    searchSeconds: t.searchSeconds,
    recommendation: t.report ? { batchSize: t.report.recommendation.batchSize, learningRate: t.report.recommendation.learningRate } : null,
    active,
    fingerprint: t.fingerprint,
    ...(freshness ? { freshness } : {}),
  };
}

export function tuningDetail(
  t: TuningSessionRecord,
  trials: TrialRecord[],
  active: boolean,
  lastProgress: TuningProgress | null,
  scaleOutPlan: ScaleOutPlan | null,
  freshness?: TuningFreshness,
): TuningDetail {
  return { ...tuningSummary(t, active, freshness), request: t.request, report: t.report, trials, lastProgress: active ? lastProgress : null, scaleOutPlan };
}

/** The evaluation saved beside a completed run's model, or null when there is none. */
export function readEvaluation(artifactDir: string): Evaluation | null {
  const file = path.join(artifactDir, 'evaluation.json');
  if (!existsSync(file)) return null;
  try {
    const parsed = evaluationSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null; // a damaged file: the run is still shown, without its evaluation
  }
}

/** Reads sample `index` from the cache's x.bin without loading the whole file. */
function readSample(dataset: DatasetRecord, index: number): Uint8Array | Float32Array | undefined {
  const m = dataset.manifest;
  const size = m.inputShape.reduce((a, b) => a * b, 1);
  const bytesPer = m.featureDtype === 'uint8' ? 1 : 4;
  const file = path.join(dataset.cacheDir, CACHE_FILES.x);
  if (!existsSync(file) || index < 0 || index >= m.count) return undefined;
  const buf = Buffer.alloc(size * bytesPer);
  const fd = openSync(file, 'r');
  try {
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, index * size * bytesPer + off);
      if (n === 0) return undefined;
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  if (bytesPer === 1) return new Uint8Array(buf.buffer, buf.byteOffset, size);
  // Copy into an aligned buffer: a Float32Array view needs a 4-byte-aligned offset.
  const out = new Float32Array(size);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

async function sampleView(dataset: DatasetRecord, index: number): Promise<{ image?: string; values?: number[] }> {
  const x = readSample(dataset, index);
  if (!x) return {};
  const shape = dataset.manifest.inputShape;
  if (shape.length !== 3) return { values: Array.from(x.subarray(0, 16), (v) => Number(v.toPrecision(7))) };
  const [height, width, channels] = shape as [number, number, number];
  const png = await sharp(previewPixels(x, 0, x.length), { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } })
    .png()
    .toBuffer();
  return { image: pngDataUrl(png) };
}

export async function evaluationView(evaluation: Evaluation, dataset: DatasetRecord | undefined, limit: number): Promise<EvaluationView> {
  // The trainer stores them most confident first; sort again so the contract holds whatever wrote the file.
  const sorted = [...evaluation.misclassified].sort((a, b) => b.confidence - a.confidence);
  const misclassified: MisclassifiedSample[] = [];
  for (const m of sorted.slice(0, limit)) {
    misclassified.push({ ...m, ...(dataset ? await sampleView(dataset, m.index) : {}) });
  }
  return {
    classes: evaluation.classes,
    confusion: evaluation.confusion,
    perClassAccuracy: evaluation.perClassAccuracy,
    // The file keeps only the most confident mistakes; the confusion matrix counts them all.
    misclassifiedCount: evaluation.confusion.reduce((sum, row, t) => sum + row.reduce((s, n, p) => s + (p === t ? 0 : n), 0), 0),
    misclassified,
  };
}
