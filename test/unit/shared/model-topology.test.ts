// The topology reader on model.json files this app writes (saveModelToDir of each family, as
// tfjs 4.22 serialises Sequential and functional models) and on hand-made ones: the classifier,
// the features layer, the blocks `--unfreeze N` counts, and the refusals with their messages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelKind } from '../../../src/shared/run-types.js';
import { analyseLayersModel, batchNormTrained, ModelTopologyError, type ModelAnatomy } from '../../../src/shared/model-topology.js';
import { buildModel } from '../../../src/main/engine/models/build-model.js';
import { saveModelToDir } from '../../../src/main/engine/models/model-files.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'model-topology-'));

before(async () => {
  await tf.setBackend('cpu');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The model.json that saveModelToDir writes for a freshly built model of this kind. */
async function savedJson(kind: ModelKind, inputShape: number[], classes = 10): Promise<unknown> {
  const model = buildModel(kind, { inputShape, classes }, 1);
  const dir = path.join(tmp, kind);
  await saveModelToDir(model, dir, { classes: [], inputShape, normalization: { kind: 'scale', scale: 1 / 255 } });
  model.dispose();
  return JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
}

const classOf = (a: ModelAnatomy, name: string) => a.layers.find((l) => l.name === name)!.className;
const blockClasses = (a: ModelAnatomy) => a.blocks.map((b) => b.layers.map((n) => classOf(a, n)).join(' '));

function refuses(json: unknown, pattern: RegExp): void {
  assert.throws(
    () => analyseLayersModel(json, 'test/model.json'),
    (err: unknown) => err instanceof ModelTopologyError && pattern.test(err.message) && err.message.includes('test/model.json'),
  );
}

test("'small' (a Sequential): the last Dense is the classifier, the Flatten feeds it, 2 blocks (conv+pool, conv+pool+flatten)", async () => {
  const a = analyseLayersModel(await savedJson('small', [28, 28, 1], 10), 'small/model.json');
  assert.equal(a.name, 'small_classifier');
  assert.deepEqual(a.inputShape, [28, 28, 1]);
  assert.equal(classOf(a, a.classifier), 'Dense');
  assert.equal(a.classifierUnits, 10);
  assert.equal(classOf(a, a.features), 'Flatten');
  // tfjs names a Sequential's input layer after its first layer.
  assert.equal(a.layers[0]!.className, 'InputLayer');
  assert.equal(a.layers[0]!.name, `${a.layers[1]!.name}_input`);
  assert.deepEqual(a.layers[1]!.inbound, [a.layers[0]!.name]);
  assert.deepEqual(blockClasses(a), ['Conv2D MaxPooling2D', 'Conv2D MaxPooling2D Flatten']);
  assert.ok(a.blocks.every((b) => !b.hasBatchNorm));
  assert.equal(a.blocks.flatMap((b) => b.layers).at(-1), a.features);
});

test("'large': its hidden Dense is a backbone block: 5 blocks (conv, conv+pool, conv, conv+pool+flatten, dense)", async () => {
  const a = analyseLayersModel(await savedJson('large', [28, 28, 1], 7), 'large/model.json');
  assert.equal(a.classifierUnits, 7);
  assert.equal(classOf(a, a.features), 'Dense');
  assert.deepEqual(blockClasses(a), ['Conv2D', 'Conv2D MaxPooling2D', 'Conv2D', 'Conv2D MaxPooling2D Flatten', 'Dense']);
});

test("'mlp' is refused: no convolutional backbone", async () => {
  refuses(await savedJson('mlp', [28, 28, 1]), /no convolutional backbone/);
  refuses(await savedJson('mlp', [12]), /no convolutional backbone \(input \[12\]/);
});

test("'resnet-8' (a functional Model): stem + its 3 residual blocks = 4 blocks, each with batch norm", async () => {
  const json = await savedJson('resnet-8', [32, 32, 3]);
  assert.equal((json as { modelTopology: { class_name: string } }).modelTopology.class_name, 'Model');
  const a = analyseLayersModel(json, 'resnet-8/model.json');
  assert.equal(a.name, 'resnet_8_classifier');
  assert.deepEqual(a.inputShape, [32, 32, 3]);
  assert.equal(classOf(a, a.features), 'GlobalAveragePooling2D');
  assert.equal(a.blocks.length, 4);
  assert.equal(blockClasses(a)[0], 'Conv2D BatchNormalization ReLU');
  // Stage 1 keeps its width (identity shortcut); stages 2 and 3 project the shortcut with a 1×1 conv.
  assert.equal(blockClasses(a)[1], 'Conv2D BatchNormalization ReLU Conv2D BatchNormalization Add ReLU');
  assert.equal(blockClasses(a)[2], 'Conv2D BatchNormalization ReLU Conv2D Conv2D BatchNormalization BatchNormalization Add ReLU');
  assert.ok(blockClasses(a)[3]!.endsWith('Add ReLU GlobalAveragePooling2D'));
  assert.ok(a.blocks.every((b) => b.hasBatchNorm));
  // Every backbone layer is in exactly one block, the input in none.
  const inBlocks = a.blocks.flatMap((b) => b.layers);
  assert.equal(new Set(inBlocks).size, inBlocks.length);
  assert.equal(inBlocks.length, a.layers.length - 2);
  assert.equal(batchNormTrained(a, 0), false);
  assert.equal(batchNormTrained(a, 1), true);
});

test("'mobilenet-0.35': a residual inverted block is one block, one without a residual three (expand, depthwise, project): 32 in all", async () => {
  const a = analyseLayersModel(await savedJson('mobilenet-0.35', [32, 32, 3]), 'mobilenet/model.json');
  // stem 1; stages (t, c, n, s): (1,16,1,1) 2 blocks (no expansion), (6,24,2,2) 3+1, (6,32,3,2) 3+1+1,
  // (6,64,4,2) 3+1+1+1, (6,96,3,1) 3+1+1, (6,160,3,2) 3+1+1, (6,320,1,1) 3; head 1.
  assert.equal(a.blocks.length, 1 + 2 + 4 + 5 + 6 + 5 + 5 + 3 + 1);
  const blocks = blockClasses(a);
  assert.equal(blocks[0], 'Conv2D BatchNormalization ReLU');
  assert.equal(blocks[6], 'Conv2D BatchNormalization ReLU DepthwiseConv2D BatchNormalization ReLU Conv2D BatchNormalization Add');
  assert.equal(blocks.at(-1), 'Conv2D BatchNormalization ReLU GlobalAveragePooling2D');
});

/** A hand-made functional model.json: input 8×8×1 → conv → flatten → `tail` layers, in order. */
function functional(tail: { name: string; class_name: string; config?: Record<string, unknown> }[]): Record<string, unknown> {
  const chain = [
    { name: 'in', class_name: 'InputLayer', config: { batch_input_shape: [null, 8, 8, 1] } },
    { name: 'conv', class_name: 'Conv2D', config: { filters: 4 } },
    { name: 'flat', class_name: 'Flatten', config: {} },
    ...tail.map((t) => ({ ...t, config: t.config ?? {} })),
  ];
  const layers = chain.map((l, i) => ({ ...l, inbound_nodes: i === 0 ? [] : [[[chain[i - 1]!.name, 0, 0, {}]]] }));
  return {
    format: 'layers-model',
    modelTopology: { class_name: 'Functional', config: { name: 'hand', layers, input_layers: [['in', 0, 0]], output_layers: [[chain.at(-1)!.name, 0, 0]] } },
  };
}

test('a Dense followed by a softmax Activation and a Dropout is still found, behind them', () => {
  const a = analyseLayersModel(
    functional([
      { name: 'logits', class_name: 'Dense', config: { units: 3 } },
      { name: 'drop', class_name: 'Dropout', config: { rate: 0.5 } },
      { name: 'probs', class_name: 'Activation', config: { activation: 'softmax' } },
    ]),
    'hand',
  );
  assert.equal(a.classifier, 'logits');
  assert.equal(a.classifierUnits, 3);
  assert.equal(a.features, 'flat');
  assert.deepEqual(a.blocks, [{ layers: ['conv', 'flat'], hasBatchNorm: false }]);
  // Keras' wrapper (model_config) reads the same.
  const wrapped = functional([{ name: 'out', class_name: 'Dense', config: { units: 2 } }]);
  wrapped.modelTopology = { model_config: wrapped.modelTopology, keras_version: '2.15.0' };
  assert.equal(analyseLayersModel(wrapped, 'hand').classifier, 'out');
});

test('a model whose last layer is not Dense (or a ReLU after the Dense) is refused, naming the layer', () => {
  refuses(functional([{ name: 'gap', class_name: 'Reshape', config: {} }]), /ends in layer "gap" \(Reshape\), not a Dense classifier/);
  refuses(
    functional([
      { name: 'd', class_name: 'Dense', config: { units: 2 } },
      { name: 'r', class_name: 'Activation', config: { activation: 'relu' } },
    ]),
    /ends in layer "r" \(Activation\)/,
  );
});

test('a graph model (format graph-model, or a GraphDef topology) gets the graph-model message', () => {
  refuses(
    { format: 'graph-model', modelTopology: { node: [], library: {}, versions: {} }, weightsManifest: [] },
    /is a TensorFlow graph model \(e\.g\. most TF Hub models\); tfjs cannot train one: /,
  );
  refuses({ modelTopology: { node: [{ name: 'x', op: 'Placeholder' }] } }, /TensorFlow graph model/);
});

test('malformed input: each refusal says what was expected', () => {
  refuses(null, /expected a JSON object/);
  refuses([1, 2], /expected a JSON object, got a list/);
  refuses({ weightsManifest: [] }, /no modelTopology object, so it is not a tfjs layers model/);
  refuses({ format: 'onnx', modelTopology: {} }, /"format": "onnx", not a tfjs layers model/);
  refuses({ modelTopology: { class_name: 'Model', config: { layers: [] } } }, /layers must be a non-empty list/);
  refuses({ modelTopology: { class_name: 'Model', config: { layers: [{ name: 'x' }] } } }, /layer 0 needs a class_name and a config/);
  refuses(
    { modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Conv2D', config: { name: 'c' } }] } } },
    /does not give the input shape/,
  );
  refuses({ modelTopology: { class_name: 'Dense', config: {} } }, /is a Dense, not a Sequential or functional/);
  const dangling = functional([{ name: 'out', class_name: 'Dense', config: { units: 2 } }]);
  const layers = (dangling.modelTopology as { config: { layers: { inbound_nodes: unknown[] }[] } }).config.layers;
  layers[2]!.inbound_nodes = [[['nowhere', 0, 0, {}]]];
  refuses(dangling, /takes the output of "nowhere", which is not in the model/);
  const free = functional([{ name: 'out', class_name: 'Dense', config: { units: 2 } }]);
  (free.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers[0]!.config.batch_input_shape = [null, null, null, 3];
  refuses(free, /not fixed positive integers/);
  refuses(functional([{ name: 'out', class_name: 'Dense', config: {} }]), /"out" has no positive integer units/);
});

test('nested models and shared layers are refused: they cannot be cut', () => {
  refuses(
    functional([{ name: 'inner', class_name: 'Sequential', config: { layers: [] } }]),
    /layer "inner" is a whole model \(Sequential\) nested inside this one/,
  );
  const shared = functional([{ name: 'out', class_name: 'Dense', config: { units: 2 } }]);
  const layers = (shared.modelTopology as { config: { layers: { inbound_nodes: unknown[] }[] } }).config.layers;
  layers[1]!.inbound_nodes.push([['in', 0, 0, {}]]);
  refuses(shared, /applied 2 times \(a shared layer\)/);
});

test('batchNormTrained counts the last N blocks; more than there are means all', () => {
  const a: ModelAnatomy = {
    name: 'm',
    inputShape: [8, 8, 1],
    classifier: 'd',
    classifierUnits: 2,
    features: 'c',
    layers: [],
    blocks: [
      { layers: ['a'], hasBatchNorm: true },
      { layers: ['b'], hasBatchNorm: false },
      { layers: ['c'], hasBatchNorm: false },
    ],
  };
  assert.deepEqual(
    [0, 1, 2, 3, 99].map((n) => batchNormTrained(a, n)),
    [false, false, false, true, true],
  );
});

test("a Keras Sequential that lists its InputLayer (batch_shape, Keras 3's name) reads as tfjs' own", () => {
  const a = analyseLayersModel(
    {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'keras_seq',
          layers: [
            { class_name: 'InputLayer', config: { name: 'img', batch_shape: [null, 16, 12, 3] } },
            { class_name: 'Conv2D', config: { name: 'c1', filters: 8 } },
            { class_name: 'BatchNormalization', config: { name: 'bn' } },
            { class_name: 'GlobalAveragePooling2D', config: { name: 'gap' } },
            { class_name: 'Dense', config: { name: 'head', units: 5, activation: 'softmax' } },
          ],
        },
      },
    },
    'keras',
  );
  assert.deepEqual(a.inputShape, [16, 12, 3]);
  assert.deepEqual(
    a.layers.map((l) => [l.name, l.inbound]),
    [
      ['img', []],
      ['c1', ['img']],
      ['bn', ['c1']],
      ['gap', ['bn']],
      ['head', ['gap']],
    ],
  );
  assert.deepEqual(a.blocks, [{ layers: ['c1', 'bn', 'gap'], hasBatchNorm: true }]);
  assert.equal(a.classifier, 'head');
});
