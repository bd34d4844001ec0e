// Reads a tfjs layers model's model.json (the topology, not the weights) and finds what
// fine-tuning needs: the Dense classifier to replace, the backbone that feeds it, and the
// backbone's blocks (the units `--unfreeze N` counts). Pure: the engine loads the weights and
// rebuilds the model from this (src/main/engine/models/start-model.ts).
//
// A block boundary is a point in the backbone's topological order where a single tensor carries
// everything onward (nothing computed earlier is used later): cutting there leaves a frozen prefix
// whose one output feeds the trained part. Between boundaries, layers are grouped so that a block
// starts at a convolution or a dense layer: conv + batch norm + ReLU is one block, a residual
// block (its branch and shortcut live until their Add) is one block, and a pooling or flatten
// layer joins the block before it.

export interface TopologyLayer {
  name: string;
  className: string;
  inbound: string[];
  config: Record<string, unknown>;
}
export interface BackboneBlock {
  /** layer names, topological order */
  layers: string[];
  hasBatchNorm: boolean;
}
export interface ModelAnatomy {
  /** modelTopology.config.name (e.g. 'resnet_20_classifier'). */
  name: string;
  /** The model's input shape without the batch axis, e.g. [28, 28, 1]. */
  inputShape: number[];
  /** The Dense layer that a fine-tuned model replaces, and its units (the old class count). */
  classifier: string;
  classifierUnits: number;
  /** The layer whose output feeds the classifier (the backbone's last layer). */
  features: string;
  /** Every layer, topological order, the input layer first. */
  layers: TopologyLayer[];
  /** The backbone (input → features) cut where one tensor carries everything onward, grouped so that a block starts at a convolution or dense layer (a ResNet residual block is one block; conv+BN+ReLU is one block). */
  blocks: BackboneBlock[];
}

/** A model.json that cannot be fine-tuned; the message names `where` (file or address) and says what was expected. */
export class ModelTopologyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelTopologyError';
  }
}

const CONVOLUTIONS = new Set(['Conv1D', 'Conv2D', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Conv3DTranspose', 'ConvLSTM2D']);
/** Layers that start a block. */
const BLOCK_STARTS = new Set([...CONVOLUTIONS, 'Dense']);
/** Layers that may follow the classifier: they keep which class scores highest (or are off at inference). */
const AFTER_CLASSIFIER = new Set(['Softmax', 'Dropout', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'ActivityRegularization']);
const RANKING_ACTIVATIONS = new Set(['softmax', 'sigmoid', 'linear']);

function keepsRanking(layer: TopologyLayer): boolean {
  if (layer.className === 'Activation') return RANKING_ACTIVATIONS.has(String(layer.config.activation));
  return AFTER_CLASSIFIER.has(layer.className);
}
const NESTED_MODELS = new Set(['Sequential', 'Model', 'Functional']);
const LAYERS_FORMAT_HINT =
  'use a tfjs layers model (model.json with "format": "layers-model"), such as a model this app exported, or a Keras model converted with tensorflowjs_converter --output_format tfjs_layers_model';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Builds the error for a structural problem: `where` and what was expected. */
function malformed(where: string, what: string): ModelTopologyError {
  return new ModelTopologyError(`${where} is not a valid tfjs layers model.json: ${what}`);
}

/** A dimension list with the batch axis first (null), e.g. [null, 28, 28, 1] → [28, 28, 1]. */
function shapeWithoutBatch(value: unknown, where: string, field: string): number[] {
  if (!Array.isArray(value) || value.length < 2) throw malformed(where, `${field} must be a list [batch, ...dimensions], got ${JSON.stringify(value)}`);
  const dims = value.slice(1);
  if (!dims.every((d) => Number.isInteger(d) && (d as number) >= 1)) {
    throw new ModelTopologyError(
      `${where}: the model's input shape ${JSON.stringify(value)} has dimensions that are not fixed positive integers; fine-tuning needs a fixed input size`,
    );
  }
  return dims as number[];
}

function batchShapeOf(config: Json): unknown {
  return config.batch_input_shape ?? config.batch_shape ?? (Array.isArray(config.input_shape) ? [null, ...(config.input_shape as unknown[])] : undefined);
}

/** modelTopology's model, unwrapped from Keras' {model_config, training_config} where a converter kept that. */
function modelConfigOf(modelJson: unknown, where: string): Json {
  if (!isObject(modelJson)) throw malformed(where, `expected a JSON object, got ${Array.isArray(modelJson) ? 'a list' : JSON.stringify(modelJson)}`);
  const topology = modelJson.modelTopology;
  const graph = modelJson.format === 'graph-model' || (isObject(topology) && Array.isArray(topology.node));
  if (graph) {
    throw new ModelTopologyError(
      `${where} is a TensorFlow graph model (e.g. most TF Hub models); tfjs cannot train one: it holds a frozen computation graph, not layers with trainable weights. Fine-tuning needs a layers model: ${LAYERS_FORMAT_HINT}`,
    );
  }
  if (modelJson.format !== undefined && modelJson.format !== 'layers-model') {
    throw new ModelTopologyError(`${where} has "format": ${JSON.stringify(modelJson.format)}, not a tfjs layers model: ${LAYERS_FORMAT_HINT}`);
  }
  if (!isObject(topology)) throw new ModelTopologyError(`${where} has no modelTopology object, so it is not a tfjs layers model: ${LAYERS_FORMAT_HINT}`);
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  if (typeof model.class_name !== 'string') throw malformed(where, 'modelTopology has no class_name');
  return model;
}

interface RawLayer {
  name: string;
  className: string;
  config: Json;
  /** Per call of the layer, the layer names it took. */
  calls: string[][];
}

function readLayer(raw: unknown, index: number, where: string): RawLayer {
  if (!isObject(raw) || typeof raw.class_name !== 'string' || !isObject(raw.config)) {
    throw malformed(where, `layer ${index} needs a class_name and a config object`);
  }
  const name = typeof raw.name === 'string' ? raw.name : raw.config.name;
  if (typeof name !== 'string' || name === '') throw malformed(where, `layer ${index} (${raw.class_name}) has no name`);
  if (NESTED_MODELS.has(raw.class_name)) {
    throw new ModelTopologyError(
      `${where}: layer "${name}" is a whole model (${raw.class_name}) nested inside this one; fine-tuning cannot cut into a nested model: save the model flat (its layers directly in one model)`,
    );
  }
  const nodes = raw.inbound_nodes ?? [];
  if (!Array.isArray(nodes)) throw malformed(where, `layer "${name}" has inbound_nodes that are not a list`);
  const calls = nodes.map((node) => {
    if (!Array.isArray(node))
      throw malformed(where, `layer "${name}" has an inbound node in a form tfjs 4 does not read (${JSON.stringify(node).slice(0, 80)})`);
    return node.map((entry) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw malformed(where, `layer "${name}" has an inbound entry that does not name a layer`);
      return entry[0] as string;
    });
  });
  return { name, className: raw.class_name, config: raw.config, calls };
}

function layerList(config: Json, where: string): unknown[] {
  const list = Array.isArray(config) ? config : config.layers;
  if (!Array.isArray(list) || list.length === 0) throw malformed(where, 'modelTopology.config.layers must be a non-empty list');
  return list;
}

/** A Sequential model's layers as a chain, the input layer (named as tfjs names it) first. */
function sequentialLayers(config: Json, where: string): TopologyLayer[] {
  const raws = layerList(config, where).map((l, i) => readLayer(l, i, where));
  const first = raws[0]!;
  const layers: TopologyLayer[] = [];
  if (first.className !== 'InputLayer') {
    const batchShape = batchShapeOf(first.config);
    if (batchShape === undefined) throw malformed(where, `the first layer ("${first.name}") does not give the input shape (batch_input_shape)`);
    layers.push({ name: `${first.name}_input`, className: 'InputLayer', inbound: [], config: { batch_input_shape: batchShape } });
  }
  for (const raw of raws) {
    const previous = layers[layers.length - 1];
    layers.push({ name: raw.name, className: raw.className, inbound: previous ? [previous.name] : [], config: raw.config });
  }
  return layers;
}

function endpointName(list: unknown, where: string, field: string): string {
  const entries = Array.isArray(list) ? list : [];
  // One endpoint is [name, node, tensor]; Keras also writes a lone endpoint unwrapped.
  const flat = typeof entries[0] === 'string' ? [entries] : entries;
  if (flat.length !== 1) throw new ModelTopologyError(`${where}: the model has ${flat.length} ${field}; fine-tuning needs exactly one input and one output`);
  const entry = flat[0] as unknown;
  if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw malformed(where, `${field} must name a layer`);
  return entry[0];
}

/** A functional model's layers in topological order (each layer called once). */
function functionalLayers(config: Json, where: string): { layers: TopologyLayer[]; input: string; output: string } {
  const raws = layerList(config, where).map((l, i) => readLayer(l, i, where));
  const byName = new Map<string, RawLayer>();
  for (const raw of raws) {
    if (byName.has(raw.name)) throw malformed(where, `two layers are named "${raw.name}"`);
    if (raw.calls.length > 1) {
      throw new ModelTopologyError(
        `${where}: layer "${raw.name}" is applied ${raw.calls.length} times (a shared layer); fine-tuning cannot cut a model whose layers are shared`,
      );
    }
    byName.set(raw.name, raw);
  }
  for (const raw of raws) {
    for (const from of raw.calls[0] ?? [])
      if (!byName.has(from)) throw malformed(where, `layer "${raw.name}" takes the output of "${from}", which is not in the model`);
  }
  const input = endpointName(config.input_layers, where, 'inputs');
  const output = endpointName(config.output_layers, where, 'outputs');
  for (const [name, field] of [
    [input, 'input_layers'],
    [output, 'output_layers'],
  ] as const) {
    if (!byName.has(name)) throw malformed(where, `${field} names "${name}", which is not in the model`);
  }
  // The input first, so that `layers` starts with it whatever order the file lists them in.
  const ordered = [byName.get(input)!, ...raws.filter((r) => r.name !== input)];
  const layers = topologicalOrder(ordered, where).map((r) => ({ name: r.name, className: r.className, inbound: r.calls[0] ?? [], config: r.config }));
  return { layers, input, output };
}

/** Kahn's order, stable in the listed order (which tfjs and Keras already write topologically). */
function topologicalOrder(raws: RawLayer[], where: string): RawLayer[] {
  const done = new Set<string>();
  const order: RawLayer[] = [];
  let pending = raws;
  while (pending.length > 0) {
    const ready = pending.filter((r) => (r.calls[0] ?? []).every((from) => done.has(from)));
    if (ready.length === 0) throw malformed(where, `its layers form a cycle (${pending.map((r) => r.name).join(', ')})`);
    // One at a time, so a layer listed early but ready late keeps the others' order.
    const next = ready[0]!;
    order.push(next);
    done.add(next.name);
    pending = pending.filter((r) => r !== next);
  }
  return order;
}

/** The layers `name` depends on (itself included). */
function ancestors(name: string, byName: Map<string, TopologyLayer>): Set<string> {
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(byName.get(n)?.inbound ?? []));
  }
  return seen;
}

/** From the output back past softmax/dropout-like layers to the Dense classifier. */
function findClassifier(output: string, byName: Map<string, TopologyLayer>, where: string): TopologyLayer {
  let layer = byName.get(output)!;
  while (keepsRanking(layer) && layer.inbound.length === 1) layer = byName.get(layer.inbound[0]!)!;
  if (layer.className !== 'Dense') {
    throw new ModelTopologyError(
      `${where}: the model ends in layer "${layer.name}" (${layer.className}), not a Dense classifier; fine-tuning replaces a final Dense layer (optionally followed by a softmax activation or dropout)`,
    );
  }
  if (layer.inbound.length !== 1) throw malformed(where, `the classifier "${layer.name}" takes ${layer.inbound.length} inputs`);
  const units = layer.config.units;
  if (!Number.isInteger(units) || (units as number) < 1) throw malformed(where, `the classifier "${layer.name}" has no positive integer units`);
  return layer;
}

/** The backbone's layers (input excluded) grouped into blocks; see the file comment. */
function backboneBlocks(backbone: TopologyLayer[]): BackboneBlock[] {
  const position = new Map(backbone.map((l, i) => [l.name, i]));
  // lastUse[i]: the last position that reads layer i's output.
  const lastUse = backbone.map((_, i) => i);
  backbone.forEach((l, k) => l.inbound.forEach((from) => (lastUse[position.get(from)!] = Math.max(lastUse[position.get(from)!]!, k))));
  const segments: TopologyLayer[][] = [];
  let current: TopologyLayer[] = [];
  /** The last position that reads anything computed before the current one. */
  let reach = 0;
  backbone.forEach((l, i) => {
    if (l.className !== 'InputLayer') current.push(l);
    // A boundary after i: nothing before i is read after i (i's own output carries everything on).
    const boundary = reach <= i;
    reach = Math.max(reach, lastUse[i]!);
    if (boundary && current.length > 0) {
      segments.push(current);
      current = [];
    }
  });
  if (current.length > 0) segments.push(current);
  const blocks: TopologyLayer[][] = [];
  for (const segment of segments) {
    const starts = segment.some((l) => BLOCK_STARTS.has(l.className));
    const last = blocks[blocks.length - 1];
    // A segment without a convolution or dense layer joins the block before it; leading ones the first block.
    if (starts || !last) blocks.push([...segment]);
    else last.push(...segment);
  }
  if (blocks.length > 1 && !blocks[0]!.some((l) => BLOCK_STARTS.has(l.className))) blocks.splice(0, 2, [...blocks[0]!, ...blocks[1]!]);
  return blocks.map((b) => ({ layers: b.map((l) => l.name), hasBatchNorm: b.some((l) => l.className === 'BatchNormalization') }));
}

/** Reads a parsed model.json (the whole file's object). Throws ModelTopologyError for: a graph model ("… is a TensorFlow graph model (e.g. most TF Hub models); tfjs cannot train one: …"), not a layers model, no Dense classifier at the end, no convolutional backbone, nested models it cannot cut, malformed JSON structure. */
export function analyseLayersModel(modelJson: unknown, where: string): ModelAnatomy {
  const model = modelConfigOf(modelJson, where);
  const className = model.class_name as string;
  const config = model.config;
  if (!isObject(config) && !(className === 'Sequential' && Array.isArray(config))) throw malformed(where, 'modelTopology.config must be an object');
  let topo: { layers: TopologyLayer[]; input: string; output: string };
  if (className === 'Sequential') {
    const layers = sequentialLayers(config as Json, where);
    topo = { layers, input: layers[0]!.name, output: layers[layers.length - 1]!.name };
  } else if (className === 'Model' || className === 'Functional') {
    topo = functionalLayers(config as Json, where);
  } else {
    throw new ModelTopologyError(`${where}: modelTopology is a ${className}, not a Sequential or functional (Model) layers model`);
  }
  const byName = new Map(topo.layers.map((l) => [l.name, l]));
  const inputLayer = byName.get(topo.input)!;
  if (inputLayer.className !== 'InputLayer') throw malformed(where, `the model's input "${topo.input}" is a ${inputLayer.className}, not an InputLayer`);
  const inputShape = shapeWithoutBatch(batchShapeOf(inputLayer.config), where, `the input layer "${inputLayer.name}"'s batch_input_shape`);
  const classifier = findClassifier(topo.output, byName, where);
  const features = classifier.inbound[0]!;
  const needed = ancestors(features, byName);
  if (!needed.has(topo.input)) throw malformed(where, `the classifier's input "${features}" does not depend on the model's input`);
  const backbone = topo.layers.filter((l) => needed.has(l.name));
  if (inputShape.length !== 3 || !backbone.some((l) => CONVOLUTIONS.has(l.className))) {
    throw new ModelTopologyError(
      `${where}: the model has no convolutional backbone (input [${inputShape.join(', ')}], layers ${[...new Set(backbone.map((l) => l.className))].join(', ')}); fine-tuning starts from an image model whose convolutions take [height, width, channels] inputs`,
    );
  }
  const rawName = isObject(config) ? config.name : undefined;
  return {
    name: typeof rawName === 'string' && rawName !== '' ? rawName : 'model',
    inputShape,
    classifier: classifier.name,
    classifierUnits: classifier.config.units as number,
    features,
    layers: topo.layers,
    blocks: backboneBlocks(backbone),
  };
}

/** Whether any batch-norm layer is in the last `unfreeze` blocks (then it trains). */
export function batchNormTrained(anatomy: ModelAnatomy, unfreeze: number): boolean {
  if (unfreeze <= 0) return false;
  return anatomy.blocks.slice(-unfreeze).some((b) => b.hasBatchNorm);
}
