// The models of docs/architecture.md §7, shaped from the dataset. Their layouts (and parameter
// counts) are defined in shared/model-families.ts; this file turns them into tfjs layers. The last
// layer gives logits: the loss applies softmax itself (numerically stable), and predictions apply
// it explicitly, which is the same model as a softmax output layer.
import * as tf from '@tensorflow/tfjs';
import type { ModelKind } from '../../../shared/run-types.js';
import {
  MOBILENET_WIDTHS,
  mlpHidden,
  mobilenetLayout,
  isMobilenet,
  modelAcceptsShape,
  resnetStages,
  type InvertedResidual,
  type ResnetKind,
} from '../../../shared/model-families.js';
import { batchNormalization } from './batch-norm-layer.js';

export { modelAcceptsShape } from '../../../shared/model-families.js';

interface ModelShape {
  inputShape: number[];
  classes: number;
}

/** Layer factories that share one seed counter, so runs with the same seed start from the same weights. */
class Layers {
  constructor(private seed: number) {}

  // He initialisation suits ReLU layers (it reached 90 % on small MNIST subsets more reliably than
  // Glorot here); each layer gets its own seed.
  init(): ReturnType<typeof tf.initializers.heNormal> {
    return tf.initializers.heNormal({ seed: this.seed++ });
  }

  conv(filters: number, kernelSize: number, strides = 1): tf.layers.Layer {
    // No bias: the batch norm that follows has its own shift (beta).
    return tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: this.init() });
  }

  depthwise(strides: number): tf.layers.Layer {
    return tf.layers.depthwiseConv2d({ kernelSize: 3, strides, padding: 'same', useBias: false, depthwiseInitializer: this.init() });
  }

  /** PyTorch's batch-norm constants (momentum 0.1 there is 0.9 here): Keras' 0.99 leaves the running
   *  statistics far behind the weights in a short run, and validation reads those statistics. The
   *  layer is tfjs's, with a shorter training path (batch-norm-layer.ts). */
  batchNorm(): tf.layers.Layer {
    return batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
  }

  dense(units: number, activation: 'relu' | 'linear'): tf.layers.Layer {
    return tf.layers.dense({ units, activation, kernelInitializer: this.init() });
  }
}

export function buildModel(kind: ModelKind, shape: ModelShape, seed: number): tf.LayersModel {
  const problem = modelAcceptsShape(kind, shape.inputShape);
  if (problem) throw new Error(problem);
  const layers = new Layers(seed);
  if (kind === 'small' || kind === 'large') return buildPlainCnn(kind, shape, layers);
  if (kind === 'mlp') return buildMlp(shape, layers);
  const input = tf.input({ shape: shape.inputShape });
  const features = isMobilenet(kind) ? mobilenet(MOBILENET_WIDTHS[kind], input, layers) : resnet(kind, input, layers);
  const pooled = tf.layers.globalAveragePooling2d({}).apply(features) as tf.SymbolicTensor;
  const logits = layers.dense(shape.classes, 'linear').apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: `${kind.replace(/[^a-z0-9]/g, '_')}_classifier` });
}

function buildPlainCnn(kind: 'small' | 'large', shape: ModelShape, layers: Layers): tf.LayersModel {
  const conv = (filters: number, inputShape?: number[]) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: layers.init(), ...(inputShape ? { inputShape } : {}) });
  const pool = () => tf.layers.maxPooling2d({ poolSize: 2, strides: 2 });
  const model = tf.sequential({ name: `${kind}_classifier` });
  if (kind === 'small') {
    model.add(conv(16, shape.inputShape));
    model.add(pool());
    model.add(conv(32));
    model.add(pool());
  } else {
    model.add(conv(32, shape.inputShape));
    model.add(conv(32));
    model.add(pool());
    model.add(conv(64));
    model.add(conv(64));
    model.add(pool());
  }
  model.add(tf.layers.flatten());
  if (kind === 'large') model.add(layers.dense(128, 'relu'));
  model.add(layers.dense(shape.classes, 'linear'));
  return model;
}

function buildMlp(shape: ModelShape, layers: Layers): tf.LayersModel {
  // Two hidden layers sized to the input, enough for tabular data without over-fitting small sets.
  const hidden = mlpHidden(shape.inputShape.reduce((a, b) => a * b, 1));
  const model = tf.sequential({ name: 'mlp_classifier' });
  if (shape.inputShape.length > 1) {
    model.add(tf.layers.flatten({ inputShape: shape.inputShape }));
    model.add(layers.dense(hidden, 'relu'));
  } else {
    model.add(tf.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: layers.init(), inputShape: shape.inputShape }));
  }
  model.add(layers.dense(Math.max(16, hidden / 2), 'relu'));
  model.add(layers.dense(shape.classes, 'linear'));
  return model;
}

type Node = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Node | Node[]) => layer.apply(x) as Node;
const relu = (x: Node) => apply(tf.layers.reLU(), x);
const relu6 = (x: Node) => apply(tf.layers.reLU({ maxValue: 6 }), x);

/** Convolution, batch norm, then (unless `activation` is undefined) the activation. */
function convBn(layers: Layers, x: Node, filters: number, kernel: number, stride: number, activation?: (x: Node) => Node): Node {
  const y = apply(layers.batchNorm(), apply(layers.conv(filters, kernel, stride), x));
  return activation ? activation(y) : y;
}

/** He et al. (2016): CIFAR ResNets (3×3 stem, 16-32-64) and ResNet-18 (7×7/2 stem, 3×3/2 max pool,
 *  64-512); basic blocks, with a 1×1 projection shortcut where the shape changes. */
function resnet(kind: ResnetKind, input: Node, layers: Layers): Node {
  let x: Node;
  let channels: number;
  if (kind === 'resnet-18') {
    x = convBn(layers, input, 64, 7, 2, relu);
    x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), x);
    channels = 64;
  } else {
    x = convBn(layers, input, 16, 3, 1, relu);
    channels = 16;
  }
  for (const stage of resnetStages(kind)) {
    for (let b = 0; b < stage.blocks; b++) {
      const stride = b === 0 ? stage.stride : 1;
      const branch = convBn(layers, convBn(layers, x, stage.filters, 3, stride, relu), stage.filters, 3, 1);
      const shortcut = stride !== 1 || channels !== stage.filters ? convBn(layers, x, stage.filters, 1, stride) : x;
      x = relu(apply(tf.layers.add(), [branch, shortcut]));
      channels = stage.filters;
    }
  }
  return x;
}

/** Sandler et al. (2018): MobileNetV2's inverted residuals (1×1 expand, 3×3 depthwise, linear 1×1
 *  project), ReLU6, a residual where stride and width allow. */
function mobilenet(width: number, input: Node, layers: Layers): Node {
  const layout = mobilenetLayout(width);
  let x = convBn(layers, input, layout.stem, 3, 2, relu6);
  for (const block of layout.blocks) x = invertedResidual(layers, x, block);
  return convBn(layers, x, layout.head, 1, 1, relu6);
}

function invertedResidual(layers: Layers, x: Node, b: InvertedResidual): Node {
  let y = b.expansion === 1 ? x : convBn(layers, x, b.hidden, 1, 1, relu6);
  y = relu6(apply(layers.batchNorm(), apply(layers.depthwise(b.stride), y)));
  y = convBn(layers, y, b.output, 1, 1);
  return b.stride === 1 && b.input === b.output ? apply(tf.layers.add(), [y, x]) : y;
}
