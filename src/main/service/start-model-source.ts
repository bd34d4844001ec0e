// The model a run starts from, from where the user named it (a run of this data folder, a folder
// holding model.json, a model.json file, or an http(s) address of one) to a checked copy in the
// data folder and the StartFrom record stored with the run.
//
// It happens in two steps so that a bad model changes nothing stored: loadStartModel reads and
// checks every byte (into memory, within size limits) and writes nothing; once the run's other
// settings are checked too, storeStartModel writes the copy (content-addressed: a temp folder
// renamed into start-models/<sha256>/, so a copy is whole or absent) and the run is created.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describeSchemaError } from '../../shared/schema-errors.js';
import type { Normalization } from '../../shared/dataset-types.js';
import { FINE_TUNE_RATE_FACTOR, startFromSchema, type StartFrom, type StartFromRequest } from '../../shared/fine-tuning.js';
import { formatBytes } from '../../shared/format.js';
import { isModelKind, ModelMetadataError, readModelMetadata, type ReadModelMetadata } from '../../shared/model-export.js';
import { analyseLayersModel, batchNormTrained, ModelTopologyError, type ModelAnatomy } from '../../shared/model-topology.js';
import type { RunModel } from '../../shared/run-types.js';
import { UserError } from './errors.js';
import { fetchBytes, fileErrorText, readLocalFile, SOURCE_FIELD } from './start-model-fetch.js';

export interface StartModelLimits {
  /** How long an address may take for each file (default 30 s). */
  timeoutMs: number;
  /** The largest model.json, and the largest total of weights, accepted. */
  maxModelJsonBytes: number;
  maxWeightsBytes: number;
}

export const START_MODEL_LIMITS: Readonly<StartModelLimits> = {
  timeoutMs: 30_000,
  maxModelJsonBytes: 32 * 1024 * 1024,
  maxWeightsBytes: 1024 * 1024 * 1024,
};

/** A run of this data folder whose model a run may start from. */
export interface StoredRunModel {
  /** Its model folder (model.json and weights). */
  dir: string;
  model: RunModel;
}

export interface LoadOptions {
  /** The stored model of run `runId`, or a UserError saying why there is none. */
  findRun(runId: number): StoredRunModel;
  limits?: Partial<StartModelLimits>;
}

/** A start model read and checked, not yet stored. */
export interface LoadedStartModel {
  request: StartFromRequest;
  sourceKind: StartFrom['sourceKind'];
  /** The model.json file or address, for messages. */
  where: string;
  /** The run that made it: the source's, or the one its metadata names. */
  runId: number | undefined;
  /** model.json's bytes as read, and each weights file by its path relative to model.json. */
  modelJson: Buffer;
  weights: { path: string; data: Buffer }[];
  digest: string;
  anatomy: ModelAnatomy;
  /** This app's export metadata (null for a model made elsewhere). */
  metadata: ReadModelMetadata | null;
  /** The architecture, when this app built it: the metadata's, else the source run's. */
  kind: RunModel;
}

// ---- model.json ------------------------------------------------------------------------------

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** A weights path, relative to model.json, that stays in its folder. */
const weightsPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => {
    if (/[\\:\0?#]/.test(p) || p.startsWith('/')) return false;
    const normal = path.posix.normalize(p);
    return normal !== '..' && !normal.startsWith('../') && normal !== '.';
  }, 'must be a path relative to model.json, inside its folder');

const weightSpec = z.looseObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().min(0)),
  dtype: z.enum(['float32', 'int32', 'bool', 'complex64', 'string'], { message: 'expected a dtype of float32, int32, bool or complex64' }),
  quantization: z.looseObject({ dtype: z.enum(['uint8', 'uint16', 'float16']) }).optional(),
});

const modelJsonSchema = z.looseObject({
  format: z.string().optional(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.strictObject({ paths: z.array(weightsPath).min(1), weights: z.array(weightSpec) })).min(1, 'no weights groups'),
  userDefinedMetadata: z.unknown().optional(),
});
type ModelJson = z.infer<typeof modelJsonSchema>;

/** What a weights group's files must add up to: its weights' values × their (stored) dtype's size. */
function groupBytes(group: ModelJson['weightsManifest'][number], where: string): number {
  let bytes = 0;
  for (const w of group.weights) {
    if (w.dtype === 'string') throw new UserError(`${where}: weight ${w.name} holds strings, which a trained backbone does not have`, SOURCE_FIELD);
    const values = w.shape.reduce((a, b) => a * b, 1);
    bytes += values * BYTES_PER_VALUE[w.quantization?.dtype ?? w.dtype]!;
  }
  return bytes;
}

/** model.json parsed and checked: a layers model with a convolutional backbone, and a sound weights manifest. */
function checkModelJson(bytes: Buffer, where: string, maxWeightsBytes: number): { json: ModelJson; anatomy: ModelAnatomy; expected: number[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    const start = bytes.subarray(0, 40).toString('utf8').replace(/\s+/g, ' ');
    throw new UserError(`${where} is not JSON (${(err as Error).message}; it starts with "${start}")`, SOURCE_FIELD);
  }
  let anatomy: ModelAnatomy;
  try {
    anatomy = analyseLayersModel(raw, where);
  } catch (err) {
    if (err instanceof ModelTopologyError) throw new UserError(err.message, SOURCE_FIELD);
    throw err;
  }
  const parsed = modelJsonSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${where} is not a tfjs layers model.json: ${describeSchemaError(parsed.error)}`, SOURCE_FIELD);
  const expected = parsed.data.weightsManifest.map((g) => groupBytes(g, where));
  const total = expected.reduce((a, b) => a + b, 0);
  if (total > maxWeightsBytes)
    throw new UserError(`${where} has ${formatBytes(total)} of weights, more than the ${formatBytes(maxWeightsBytes)} a start model may have`, SOURCE_FIELD);
  return { json: parsed.data, anatomy, expected };
}

/** Each group's files must hold exactly its weights (tfjs reads them as one buffer per group). */
function checkWeightSizes(json: ModelJson, expected: number[], weights: { path: string; data: Buffer }[], where: string): void {
  let i = 0;
  json.weightsManifest.forEach((group, g) => {
    const files = weights.slice(i, i + group.paths.length);
    i += group.paths.length;
    const got = files.reduce((n, f) => n + f.data.length, 0);
    if (got !== expected[g]) {
      const names = group.paths.join(', ');
      throw new UserError(
        `${where}: the weights file${group.paths.length > 1 ? 's' : ''} ${names} hold${group.paths.length > 1 ? '' : 's'} ${got} bytes, but the manifest's shapes and dtypes need ${expected[g]}`,
        SOURCE_FIELD,
      );
    }
  });
}

function digestOf(modelJson: Buffer, weights: { path: string; data: Buffer }[]): string {
  const hash = createHash('sha256');
  // Lengths first, so that no two different sets of files hash alike.
  for (const [name, data] of [['model.json', modelJson] as const, ...weights.map((w) => [w.path, w.data] as const)]) {
    hash.update(`${name}\0${data.length}\0`);
    hash.update(data);
  }
  return hash.digest('hex');
}

function readMetadata(json: ModelJson, where: string): ReadModelMetadata | null {
  try {
    return readModelMetadata(json.userDefinedMetadata);
  } catch (err) {
    if (err instanceof ModelMetadataError) throw new UserError(`${where}: ${err.message}`, SOURCE_FIELD);
    throw err;
  }
}

// ---- sources ---------------------------------------------------------------------------------

type Source = { kind: 'run'; runId: number } | { kind: 'url'; url: URL } | { kind: 'folder' | 'file'; file: string };

function classifySource(source: string): Source {
  if (/^\d+$/.test(source)) return { kind: 'run', runId: Number(source) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new UserError(`${source} is not a valid address`, SOURCE_FIELD);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new UserError(`${source}: only http:// and https:// addresses can be loaded`, SOURCE_FIELD);
    return { kind: 'url', url };
  }
  const resolved = path.resolve(source);
  let folder: boolean;
  try {
    folder = statSync(resolved).isDirectory();
  } catch (err) {
    throw new UserError(`cannot read ${resolved}: ${fileErrorText(err)}`, SOURCE_FIELD);
  }
  return folder ? { kind: 'folder', file: path.join(resolved, 'model.json') } : { kind: 'file', file: resolved };
}

interface ReadFiles {
  where: string;
  modelJson: Buffer;
  checked: ReturnType<typeof checkModelJson>;
  weights: { path: string; data: Buffer }[];
}

function readLocal(file: string, limits: StartModelLimits): ReadFiles {
  const modelJson = readLocalFile(file, limits.maxModelJsonBytes, 'model.json');
  const checked = checkModelJson(modelJson, file, limits.maxWeightsBytes);
  const dir = path.dirname(file);
  const weights = checked.json.weightsManifest
    .flatMap((g) => g.paths)
    .map((p) => ({ path: p, data: readLocalFile(path.join(dir, p), limits.maxWeightsBytes, `weights file`) }));
  return { where: file, modelJson, checked, weights };
}

async function readRemote(url: URL, limits: StartModelLimits): Promise<ReadFiles> {
  const fetchLimits = { timeoutMs: limits.timeoutMs, maxBytes: limits.maxModelJsonBytes };
  const modelJson = await fetchBytes(url, fetchLimits, 'model.json');
  const checked = checkModelJson(modelJson, url.href, limits.maxWeightsBytes);
  const weights: { path: string; data: Buffer }[] = [];
  // One at a time: the weights total is capped, and a slow server is not flooded.
  for (const p of checked.json.weightsManifest.flatMap((g) => g.paths)) {
    weights.push({ path: p, data: await fetchBytes(new URL(p, url), { ...fetchLimits, maxBytes: limits.maxWeightsBytes }, `weights file ${p}`) });
  }
  return { where: url.href, modelJson, checked, weights };
}

/**
 * Reads and checks the model the request names; writes nothing. Throws UserError (field
 * startFrom.source) for a run without a model, an unreadable file, an address that does not
 * answer, a graph model, a model without a convolutional backbone, weights that do not match
 * their manifest.
 */
export async function loadStartModel(request: StartFromRequest, options: LoadOptions): Promise<LoadedStartModel> {
  const limits = { ...START_MODEL_LIMITS, ...options.limits };
  const source = classifySource(request.source);
  const run = source.kind === 'run' ? options.findRun(source.runId) : undefined;
  const files = run
    ? readLocal(path.join(run.dir, 'model.json'), limits)
    : source.kind === 'url'
      ? await readRemote(source.url, limits)
      : readLocal((source as { file: string }).file, limits);
  const { json, anatomy, expected } = files.checked;
  checkWeightSizes(json, expected, files.weights, files.where);
  const metadata = readMetadata(json, files.where);
  const kind = isModelKind(metadata?.model) ? metadata.model : run && run.model !== 'imported' ? run.model : 'imported';
  const runId = source.kind === 'run' ? source.runId : (metadata?.runId ?? undefined);
  return {
    request,
    sourceKind: source.kind,
    where: files.where,
    runId,
    modelJson: files.modelJson,
    weights: files.weights,
    digest: digestOf(files.modelJson, files.weights),
    anatomy,
    metadata,
    kind,
  };
}

// ---- what a run keeps of it ------------------------------------------------------------------

/** The record stored with the run (or tuning); `learningRate` is the run's (or the search's base) rate. */
export function startFromRecord(loaded: LoadedStartModel, learningRate: number): StartFrom {
  const { request, anatomy, metadata } = loaded;
  const blocks = anatomy.blocks.length;
  const unfreeze = request.unfreeze ?? 0;
  if (unfreeze > blocks) {
    throw new UserError(`${loaded.where} has ${blocks} block${blocks === 1 ? '' : 's'} in its backbone; unfreeze at most ${blocks}`, 'startFrom.unfreeze');
  }
  const classes =
    metadata && metadata.classes.length === anatomy.classifierUnits
      ? metadata.classes
      : Array.from({ length: anatomy.classifierUnits }, (_, i) => `class ${i}`);
  return startFromSchema.parse({
    source: request.source,
    sourceKind: loaded.sourceKind,
    ...(loaded.runId !== undefined ? { runId: loaded.runId } : {}),
    digest: loaded.digest,
    architecture: loaded.kind === 'imported' ? anatomy.name || 'unnamed model' : loaded.kind,
    classes,
    inputShape: anatomy.inputShape,
    unfreeze,
    blocks,
    batchNormTrained: batchNormTrained(anatomy, unfreeze),
    fineTuneLearningRate: request.fineTuneLearningRate ?? Math.min(10, FINE_TUNE_RATE_FACTOR * learningRate),
  });
}

/**
 * Why a dataset cannot train from this start model; null when it can. Its backbone is
 * convolutional: it takes images, and (when this app made it) pixels scaled as it learned them.
 */
export function startModelProblem(
  loaded: LoadedStartModel,
  dataset: { name: string; inputShape: readonly number[]; normalization: Normalization },
): string | null {
  const { inputShape } = dataset;
  if (inputShape.length !== 3) {
    const what = inputShape.length === 1 ? `a table (${inputShape[0]} features per row)` : `inputs of shape [${inputShape.join(', ')}]`;
    return `dataset "${dataset.name}" has ${what}, but a trained model's convolutional backbone takes images: start from a trained model on an image dataset`;
  }
  const theirs = loaded.metadata?.normalization;
  if (theirs && (theirs.kind !== 'scale' || dataset.normalization.kind !== 'scale' || Math.abs(theirs.scale - dataset.normalization.scale) > 1e-12)) {
    return `${loaded.where} was trained on inputs scaled differently from dataset "${dataset.name}"'s pixels (${JSON.stringify(theirs)}), so its backbone would see other values than it learned`;
  }
  return null;
}

/** The stored copy's folder for a digest. */
export function startModelDir(startModelsDir: string, digest: string): string {
  return path.join(startModelsDir, digest);
}

/**
 * Writes the copy into start-models/<digest>/ unless it is there already; returns its folder.
 * Written into a temp folder that is renamed into place, so the copy is whole or absent.
 */
export function storeStartModel(loaded: LoadedStartModel, startModelsDir: string): string {
  const dir = startModelDir(startModelsDir, loaded.digest);
  if (existsSync(dir)) return dir;
  mkdirSync(startModelsDir, { recursive: true });
  const tmp = path.join(startModelsDir, `.tmp-${loaded.digest.slice(0, 12)}-${process.pid}-${randomUUID().slice(0, 8)}`);
  try {
    mkdirSync(tmp);
    writeFileSync(path.join(tmp, 'model.json'), loaded.modelJson);
    for (const w of loaded.weights) {
      const file = path.join(tmp, w.path);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, w.data);
    }
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process stored the same model meanwhile: its copy is the same bytes.
      if (!existsSync(dir)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}
