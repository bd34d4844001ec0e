// The reference models of docs/architecture.md §7, shaped from the dataset. The last layer gives
// logits: the loss applies softmax itself (numerically stable), and predictions apply it
// explicitly, which is the same model as a softmax output layer.
import * as tf from '@tensorflow/tfjs';
import type { ModelKind } from '../../../shared/run-types.js';

interface ModelShape {
  inputShape: number[];
  classes: number;
}

export function modelAcceptsShape(kind: ModelKind, inputShape: number[]): string | undefined {
  if (kind === 'mlp') return undefined; // an MLP flattens any input
  if (inputShape.length !== 3) {
    return `the ${kind} CNN needs image inputs [height, width, channels], but this dataset has ${inputShape.length === 1 ? `${inputShape[0]} tabular features` : `shape [${inputShape.join(', ')}]`}; use --model mlp`;
  }
  // Two 'valid' 3×3 convolutions (small) or four (large) with two 2× poolings must leave ≥1 pixel.
  const minSide = kind === 'small' ? 10 : 16;
  if (inputShape[0]! < minSide || inputShape[1]! < minSide) {
    return `the ${kind} CNN needs images of at least ${minSide}×${minSide}, but this dataset's are ${inputShape[0]}×${inputShape[1]}`;
  }
  return undefined;
}

export function buildModel(kind: ModelKind, shape: ModelShape, seed: number): tf.LayersModel {
  const problem = modelAcceptsShape(kind, shape.inputShape);
  if (problem) throw new Error(problem);
  let s = seed;
  // He initialisation suits ReLU layers (it reached 90 % on small MNIST subsets more reliably than
  // Glorot here); each layer gets its own seed so runs with the same seed start from the same weights.
  const init = () => tf.initializers.heNormal({ seed: s++ });
  const conv = (filters: number, inputShape?: number[]) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: init(), ...(inputShape ? { inputShape } : {}) });
  const pool = () => tf.layers.maxPooling2d({ poolSize: 2, strides: 2 });
  const dense = (units: number, activation: 'relu' | 'linear') => tf.layers.dense({ units, activation, kernelInitializer: init() });

  const model = tf.sequential({ name: `${kind}_classifier` });
  if (kind === 'small') {
    model.add(conv(16, shape.inputShape));
    model.add(pool());
    model.add(conv(32));
    model.add(pool());
    model.add(tf.layers.flatten());
    model.add(dense(shape.classes, 'linear'));
  } else if (kind === 'large') {
    model.add(conv(32, shape.inputShape));
    model.add(conv(32));
    model.add(pool());
    model.add(conv(64));
    model.add(conv(64));
    model.add(pool());
    model.add(tf.layers.flatten());
    model.add(dense(128, 'relu'));
    model.add(dense(shape.classes, 'linear'));
  } else {
    // mlp: two hidden layers sized to the input, enough for tabular data without over-fitting small sets.
    const features = shape.inputShape.reduce((a, b) => a * b, 1);
    const hidden = Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(features * 2))));
    if (shape.inputShape.length > 1) {
      model.add(tf.layers.flatten({ inputShape: shape.inputShape }));
      model.add(dense(hidden, 'relu'));
    } else {
      model.add(tf.layers.dense({ units: hidden, activation: 'relu', kernelInitializer: init(), inputShape: shape.inputShape }));
    }
    model.add(dense(Math.max(16, hidden / 2), 'relu'));
    model.add(dense(shape.classes, 'linear'));
  }
  return model;
}
