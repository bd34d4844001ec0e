// A short-lived Node process that prepares a torch run's or probe session's starting point
// (src/main/service/python-trainer.ts starts it): it builds the net exactly as a tfjs trainer
// would for the same job or session — the architecture from the seed, or the model assembled from
// a start model — and saves it in the tfjs layers format with which layers train at which rate.
// The Python trainer loads that, so both engines start from the same weights and no architecture
// is written twice. Only a run gets the export metadata (a probe session saves no model).
//
//   node torch-prep-entry.js <job-or-session.json> <out folder>
// prints one line `AUTOBATCH_TORCH_PREP {"ok":true,"prepared":{…}}` or `{"ok":false,"cause","message"}`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DatasetManifest } from '../../../shared/dataset-types.js';
import { ModelTopologyError } from '../../../shared/model-topology.js';
import { describeSchemaError } from '../../../shared/schema-errors.js';
import { probeHostMessageSchema, type ProbeSession } from '../../../shared/probe-protocol.js';
import { hostMessageSchema, type TrainJob } from '../../../shared/trainer-protocol.js';
import { modelAcceptsShape } from '../models/build-model.js';
import { createNet } from '../models/create-net.js';
import { exportMetadata } from '../models/export-metadata.js';
import { saveModelToDir } from '../models/model-files.js';
import type { TrainableNet } from '../models/trainable-net.js';
import { TORCH_PREP_MARKER, type TorchPrepOutcome } from './torch-prep-protocol.js';

type Outcome = TorchPrepOutcome;

/** What the net is built from, whether for a run or a probe session. */
interface PrepSpec {
  datasetDir: string;
  model: TrainJob['config']['model'];
  seed: number;
  /** A start model to assemble the net from (its stored copy), with the unfrozen blocks' rate factor. */
  startModel?: { dir: string; unfreeze: number; fineTuneRateFactor: number };
  /** Without a copy of the start model the job names none: said as the run's configuration problem. */
  missingStartModel?: boolean;
  /** A run: the job, for the export metadata saved beside the model. */
  job?: TrainJob;
}

function specOfJob(job: TrainJob): PrepSpec {
  const { config } = job;
  const start = config.startFrom;
  return {
    datasetDir: job.datasetDir,
    model: config.model,
    seed: config.seed,
    ...(start && job.startModelDir
      ? { startModel: { dir: job.startModelDir, unfreeze: start.unfreeze, fineTuneRateFactor: start.fineTuneLearningRate / config.learningRate } }
      : {}),
    ...(start && !job.startModelDir ? { missingStartModel: true } : {}),
    job,
  };
}

function specOfSession(session: ProbeSession): PrepSpec {
  return { datasetDir: session.datasetDir, model: session.model, seed: session.seed, ...(session.startModel ? { startModel: session.startModel } : {}) };
}

/** The file holds a run's job or a probe session (kind 'probe-session'), each checked by its own schema. */
function readPrepSpec(raw: unknown): PrepSpec {
  if (typeof raw === 'object' && raw !== null && (raw as { kind?: unknown }).kind === 'probe-session') {
    const parsed = probeHostMessageSchema.safeParse({ type: 'start-probes', session: raw });
    if (!parsed.success || parsed.data.type !== 'start-probes')
      throw new Error(`invalid probe session: ${parsed.success ? 'not a session' : describeSchemaError(parsed.error)}`);
    return specOfSession(parsed.data.session);
  }
  const parsed = hostMessageSchema.safeParse({ type: 'start', job: raw });
  if (!parsed.success || parsed.data.type !== 'start') throw new Error(`invalid job: ${parsed.success ? 'not a start' : describeSchemaError(parsed.error)}`);
  return specOfJob(parsed.data.job);
}

/** The layers whose trainable weights are in each rate group, in group order. */
function groupLayers(net: TrainableNet): { layers: string[]; rateFactor: number }[] {
  return net.rateGroups
    .filter((g) => g.variables.length > 0)
    .map((g) => {
      const ids = new Set(g.variables.map((v) => v.id));
      const layers = net.model.layers.filter((l) => l.trainableWeights.some((w) => ids.has(w.read().id))).map((l) => l.name);
      return { layers, rateFactor: g.rateFactor };
    });
}

async function prepare(spec: PrepSpec, outDir: string): Promise<Outcome> {
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(spec.datasetDir, 'meta.json'), 'utf8')) as DatasetManifest;
  } catch (err) {
    return { ok: false, cause: 'dataset', message: `could not load the dataset: ${(err as Error).message}` };
  }
  if (spec.missingStartModel)
    return { ok: false, cause: 'bad-config', message: 'the run starts from a trained model, but the job names no copy of it (startModelDir)' };
  const shapeProblem = spec.startModel || spec.model === 'imported' ? null : modelAcceptsShape(spec.model, manifest.inputShape);
  if (shapeProblem) return { ok: false, cause: 'bad-config', message: shapeProblem };
  if (spec.model === 'imported' && !spec.startModel)
    return { ok: false, cause: 'bad-config', message: "model 'imported' needs the start model to assemble it from" };
  // The pure-JavaScript backend: seeded initialisers draw the same values on every backend, and it needs nothing native.
  await tf.setBackend('cpu');
  const net = await createNet({
    model: spec.model,
    inputShape: manifest.inputShape,
    classes: manifest.classes.length,
    normalization: manifest.normalization,
    seed: spec.seed,
    startModel: spec.startModel,
  });
  const modelDir = path.join(outDir, 'model');
  await saveModelToDir(net.model, modelDir);
  if (spec.job) writeFileSync(path.join(modelDir, 'export-metadata.json'), JSON.stringify(exportMetadata(spec.job, manifest, net.model)));
  return { ok: true, prepared: { modelDir, groups: groupLayers(net) } };
}

async function main(): Promise<void> {
  const [jobFile, outDir] = process.argv.slice(2);
  let outcome: Outcome;
  try {
    if (!jobFile || !outDir) throw new Error('usage: torch-prep-entry.js <job-or-session.json> <out folder>');
    outcome = await prepare(readPrepSpec(JSON.parse(readFileSync(jobFile, 'utf8'))), outDir);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    outcome = { ok: false, cause: err instanceof ModelTopologyError ? 'bad-config' : 'error', message };
  }
  process.stdout.write(`${TORCH_PREP_MARKER}${JSON.stringify(outcome)}\n`);
  process.exit(0);
}

void main();
