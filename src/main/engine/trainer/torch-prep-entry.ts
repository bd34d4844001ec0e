// A short-lived Node process that prepares a torch run's starting point (src/main/service/
// python-trainer.ts starts it): it builds the net exactly as a tfjs trainer would for the same job
// — the architecture from the run's seed, or the model assembled from a start model — and saves
// it in the tfjs layers format with which layers train at which rate. The Python trainer loads
// that, so both engines start from the same weights and no architecture is written twice.
//
//   node torch-prep-entry.js <job.json> <out folder>
// prints one line `AUTOBATCH_TORCH_PREP {"ok":true,"prepared":{…}}` or `{"ok":false,"cause","message"}`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { DatasetManifest } from '../../../shared/dataset-types.js';
import { ModelTopologyError } from '../../../shared/model-topology.js';
import { describeSchemaError } from '../../../shared/schema-errors.js';
import { hostMessageSchema, type TrainJob } from '../../../shared/trainer-protocol.js';
import { modelAcceptsShape } from '../models/build-model.js';
import { createNet } from '../models/create-net.js';
import { exportMetadata } from '../models/export-metadata.js';
import { saveModelToDir } from '../models/model-files.js';
import type { TrainableNet } from '../models/trainable-net.js';
import { TORCH_PREP_MARKER, type TorchPrepOutcome } from './torch-prep-protocol.js';

type Outcome = TorchPrepOutcome;

function readJob(file: string): TrainJob {
  const parsed = hostMessageSchema.safeParse({ type: 'start', job: JSON.parse(readFileSync(file, 'utf8')) as unknown });
  if (!parsed.success || parsed.data.type !== 'start') throw new Error(`invalid job: ${parsed.success ? 'not a start' : describeSchemaError(parsed.error)}`);
  return parsed.data.job;
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

async function prepare(job: TrainJob, outDir: string): Promise<Outcome> {
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(job.datasetDir, 'meta.json'), 'utf8')) as DatasetManifest;
  } catch (err) {
    return { ok: false, cause: 'dataset', message: `could not load the dataset: ${(err as Error).message}` };
  }
  const { config } = job;
  const shapeProblem = config.startFrom || config.model === 'imported' ? null : modelAcceptsShape(config.model, manifest.inputShape);
  if (shapeProblem) return { ok: false, cause: 'bad-config', message: shapeProblem };
  if (config.startFrom && !job.startModelDir)
    return { ok: false, cause: 'bad-config', message: 'the run starts from a trained model, but the job names no copy of it (startModelDir)' };
  const startModel =
    config.startFrom && job.startModelDir
      ? { dir: job.startModelDir, unfreeze: config.startFrom.unfreeze, fineTuneRateFactor: config.startFrom.fineTuneLearningRate / config.learningRate }
      : undefined;
  // The pure-JavaScript backend: seeded initialisers draw the same values on every backend, and it needs nothing native.
  await tf.setBackend('cpu');
  const net = await createNet({
    model: config.model,
    inputShape: manifest.inputShape,
    classes: manifest.classes.length,
    normalization: manifest.normalization,
    seed: config.seed,
    startModel,
  });
  const modelDir = path.join(outDir, 'model');
  await saveModelToDir(net.model, modelDir);
  writeFileSync(path.join(modelDir, 'export-metadata.json'), JSON.stringify(exportMetadata(job, manifest, net.model)));
  return { ok: true, prepared: { modelDir, groups: groupLayers(net) } };
}

async function main(): Promise<void> {
  const [jobFile, outDir] = process.argv.slice(2);
  let outcome: Outcome;
  try {
    if (!jobFile || !outDir) throw new Error('usage: torch-prep-entry.js <job.json> <out folder>');
    outcome = await prepare(readJob(jobFile), outDir);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    outcome = { ok: false, cause: err instanceof ModelTopologyError ? 'bad-config' : 'error', message };
  }
  process.stdout.write(`${TORCH_PREP_MARKER}${JSON.stringify(outcome)}\n`);
  process.exit(0);
}

void main();
