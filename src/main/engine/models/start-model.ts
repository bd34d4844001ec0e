// A model assembled from a trained one: its backbone (input adapted to the dataset), a new
// classifier for the dataset's classes, the backbone frozen but for its last `unfreeze` blocks.
//
// One new functional model is built from the start model's own layer objects (so the trained
// weights are shared, not copied): input → adapters (input-adapters.ts) → the backbone's layers
// re-applied in topological order up to its features → a new Dense classifier. Two views of it
// drive training (trainable-net.ts): the prefix up to the cut (adapters + frozen blocks), a model
// over the same input, run in inference mode outside the gradient tape; and the tail (unfrozen
// blocks + classifier), rebuilt from a new input of the cut's shape. docs/architecture.md
// ("Fine-tuning") has the why.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Normalization } from '../../../shared/dataset-types.js';
import { analyseLayersModel, INPUT_ADAPTER_PREFIX, ModelTopologyError, type ModelAnatomy } from '../../../shared/model-topology.js';
import { adaptInput, adapterProblem } from './input-adapters.js';
import { loadModelFromDir } from './model-files.js';
import type { TrainableNet } from './trainable-net.js';

export interface StartModelSpec {
  /** The stored copy's folder (model.json and its weights). */
  dir: string;
  unfreeze: number;
  /** The unfrozen blocks' rate over the run's. */
  fineTuneRateFactor: number;
  /** The dataset the run trains on. */
  inputShape: number[];
  classes: number;
  normalization: Normalization;
  seed: number;
}

/** The new classifier's name (made unique if the start model already has a layer of that name). */
export const CLASSIFIER_NAME = 'classifier_finetuned';

type Node = tf.SymbolicTensor;

function checkSpec(spec: StartModelSpec): void {
  if (!Number.isInteger(spec.unfreeze) || spec.unfreeze < 0) throw new Error(`unfreeze must be a whole number of blocks (0 or more), got ${spec.unfreeze}`);
  if (!(spec.fineTuneRateFactor > 0 && Number.isFinite(spec.fineTuneRateFactor)))
    throw new Error(`the fine-tuning rate factor must be a positive number, got ${spec.fineTuneRateFactor}`);
  if (!Number.isInteger(spec.classes) || spec.classes < 1) throw new Error(`classes must be a positive whole number, got ${spec.classes}`);
  if (spec.inputShape.length !== 3) {
    throw new ModelTopologyError(
      `the dataset's inputs are [${spec.inputShape.join(', ')}], not images [height, width, channels]; a start model with a convolutional backbone needs an image dataset`,
    );
  }
}

/** model.json, parsed and analysed; the error names the file. */
function readStartModel(dir: string): { json: unknown; anatomy: ModelAnatomy; where: string } {
  const where = path.join(dir, 'model.json');
  let text: string;
  try {
    text = readFileSync(where, 'utf8');
  } catch (err) {
    throw new ModelTopologyError(`could not read the start model ${where}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ModelTopologyError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  return { json, anatomy: analyseLayersModel(json, where), where };
}

/**
 * The start model's pixel value over the dataset's for the same pixel, from the pixel scale the
 * model was trained with (its metadata's normalization, as this app exports it); a model without
 * one is taken to expect the dataset's.
 */
export function pixelScaleFactor(modelJson: unknown, dataset: Normalization, where: string): number {
  if (dataset.kind !== 'scale') throw new ModelTopologyError(`the dataset is standardized per column (a table); a start model needs an image dataset`);
  const meta = (modelJson as { userDefinedMetadata?: { normalization?: unknown } }).userDefinedMetadata;
  const norm = meta?.normalization as { kind?: unknown; scale?: unknown } | undefined;
  if (norm === undefined || norm === null) return 1;
  if (norm.kind === 'scale' && typeof norm.scale === 'number' && norm.scale > 0 && Number.isFinite(norm.scale)) return norm.scale / dataset.scale;
  throw new ModelTopologyError(
    `${where}: userDefinedMetadata.normalization is ${JSON.stringify(norm).slice(0, 120)}; a start model's inputs must be pixels times a positive scale ({"kind": "scale", "scale": 0.00392…})`,
  );
}

async function loadSource(dir: string, where: string): Promise<tf.LayersModel> {
  try {
    return await loadModelFromDir(dir);
  } catch (err) {
    throw new ModelTopologyError(`could not load the start model ${where} with its weights: ${(err as Error).message.split('\n')[0]}`);
  }
}

export async function startModelNet(spec: StartModelSpec): Promise<TrainableNet> {
  checkSpec(spec);
  const { json, anatomy, where } = readStartModel(spec.dir);
  const channelProblem = adapterProblem(spec.inputShape, anatomy.inputShape);
  if (channelProblem) throw new ModelTopologyError(`${where}: ${channelProblem}`);
  const scale = pixelScaleFactor(json, spec.normalization, where);
  const source = await loadSource(spec.dir, where);
  const created: tf.layers.Layer[] = [];
  let net: TrainableNet;
  try {
    net = assemble(source, anatomy, spec, scale, created);
  } catch (err) {
    // Nothing of it is kept: free every weight the start model and the new layers hold.
    for (const layer of [...source.layers, ...created]) for (const w of layer.weights) if (!w.read().isDisposed) w.read().dispose();
    throw err instanceof ModelTopologyError
      ? err
      : new ModelTopologyError(`${where}: could not rebuild the model for this dataset: ${(err as Error).message.split('\n')[0]}`);
  }
  // The backbone's layers live on in the new model; what only the start model used (its old
  // classifier) is freed here.
  source.dispose();
  return net;
}

/** Applies the named layers in order, each to what its inbound layers gave (`tensors`, filled in). */
function applyLayers(names: readonly string[], anatomy: ModelAnatomy, layerOf: (name: string) => tf.layers.Layer, tensors: Map<string, Node>): void {
  const inbound = new Map(anatomy.layers.map((l) => [l.name, l.inbound]));
  for (const name of names) {
    const inputs = (inbound.get(name) ?? []).map((from) => {
      const t = tensors.get(from);
      if (!t) throw new ModelTopologyError(`layer "${name}" takes "${from}", which is not computed before it`);
      return t;
    });
    const out = layerOf(name).apply(inputs.length === 1 ? inputs[0]! : inputs);
    if (Array.isArray(out)) throw new ModelTopologyError(`layer "${name}" has ${out.length} outputs; fine-tuning needs single-output layers`);
    tensors.set(name, out as Node);
  }
}

/** The trainable variables of these layers (made trainable: a start model may have frozen them), an earlier fine-tuning's fixed input adapters aside. */
function variablesOf(layers: tf.layers.Layer[]): tf.Variable[] {
  return layers.flatMap((layer) => {
    if (layer.name.startsWith(INPUT_ADAPTER_PREFIX)) return [];
    layer.trainable = true;
    return layer.trainableWeights.map((w) => w.read() as tf.Variable);
  });
}

function assemble(source: tf.LayersModel, anatomy: ModelAnatomy, spec: StartModelSpec, scale: number, created: tf.layers.Layer[]): TrainableNet {
  const byName = new Map(source.layers.map((l) => [l.name, l]));
  const layerOf = (name: string) => {
    const layer = byName.get(name);
    if (!layer) throw new ModelTopologyError(`layer "${name}" is in model.json but not in the loaded model`);
    return layer;
  };
  // Names the new model keeps; the old classifier's (and what followed it) are free again, so a
  // fine-tuned model fine-tuned again keeps the name of its classifier.
  const taken = new Set([anatomy.layers[0]!.name, ...anatomy.blocks.flatMap((b) => b.layers)]);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const input = tf.input({ shape: spec.inputShape, name: fresh('input_finetuned') });
  const adapters = adaptInput(input, { from: spec.inputShape, to: anatomy.inputShape, scale, name: fresh });
  created.push(...adapters.layers);
  const classifier = tf.layers.dense({
    units: spec.classes,
    activation: 'linear',
    // Zeros, not a random draw: the backbone's features are trained and often large, and a random
    // classifier on them starts far from uniform predictions and spends its first steps undoing
    // that. On the few-shot digits of bench/fine-tune.ts, in the direction the constants are
    // chosen on (pre-trained on 5–9, learning 0–4), zeros raised a frozen backbone's accuracy at
    // the default rate from 91.0 to 93.0 % (small CNN), 79.9 to 92.4 % (large) and 70.8 to
    // 79.7 % (ResNet-8); docs/benchmarks.md has the figures.
    kernelInitializer: tf.initializers.zeros(),
    name: fresh(CLASSIFIER_NAME),
  });
  created.push(classifier);

  const cut = Math.max(0, anatomy.blocks.length - spec.unfreeze);
  const frozenNames = anatomy.blocks.slice(0, cut).flatMap((b) => b.layers);
  const trainedNames = anatomy.blocks.slice(cut).flatMap((b) => b.layers);
  const inputName = anatomy.layers[0]!.name;
  /** The layer whose output the tail takes: the input (adapted) when every block trains. */
  const cutName = frozenNames.at(-1) ?? inputName;

  const tensors = new Map<string, Node>([[inputName, adapters.output]]);
  applyLayers([...frozenNames, ...trainedNames], anatomy, layerOf, tensors);
  const logits = classifier.apply(tensors.get(anatomy.features)!) as Node;
  const model = tf.model({ inputs: input, outputs: logits, name: `${anatomy.name.replace(/_finetuned$/, '')}_finetuned` });
  const cutTensor = tensors.get(cutName)!;
  const prefix = cutTensor === input ? null : tf.model({ inputs: input, outputs: cutTensor, name: fresh('frozen_part') });

  const tailInput = tf.input({ shape: cutTensor.shape.slice(1) as number[], name: fresh('trained_part_input') });
  const tailTensors = new Map<string, Node>([[cutName, tailInput]]);
  applyLayers(trainedNames, anatomy, layerOf, tailTensors);
  const tail = tf.model({ inputs: tailInput, outputs: classifier.apply(tailTensors.get(anatomy.features)!) as Node, name: fresh('trained_part') });

  const head = variablesOf([classifier]);
  const backbone = variablesOf(trainedNames.map(layerOf));
  return {
    model,
    trainable: [...head, ...backbone],
    rateGroups: [
      { variables: head, rateFactor: 1 },
      { variables: backbone, rateFactor: spec.fineTuneRateFactor },
    ],
    // Its own tidy: the prefix's activations are freed as soon as its output exists.
    frozen: (x) => (prefix ? tf.tidy(() => prefix.apply(x, { training: false }) as tf.Tensor) : x),
    trained: (features) => tail.apply(features, { training: true }) as tf.Tensor2D,
    // The tail holds a second reference to the unfrozen layers and the classifier; the prefix
    // holds none of its own (it is the whole model's graph), so disposing it would free layers
    // the whole model still uses.
    disposeParts: () => void tail.dispose(),
  };
}
