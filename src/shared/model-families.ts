// The models the app trains, as data: which family each belongs to, what inputs it takes, and how
// many trainable parameters it has at a given input. Pure (no tfjs), so the CLI, the service and
// the renderer can list models and their sizes without building one; the engine builds the same
// architectures in models/build-model.ts, and a test holds the two to the same counts.
import { MODEL_KINDS, type ModelKind, type RunModel } from './run-types.js';

export const MODEL_FAMILIES = ['cnn', 'mlp', 'resnet', 'mobilenet'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/**
 * The input sizes are quoted at when no dataset is named (lists, docs): CIFAR-10's 32×32 colour
 * images in 10 classes, which every model accepts. Only small, large and mlp change with it.
 */
export const REFERENCE_INPUT: Readonly<{ inputShape: readonly [number, number, number]; classes: number }> = { inputShape: [32, 32, 3], classes: 10 };

export interface ArchitectureInfo {
  model: ModelKind;
  family: ModelFamily;
  /** A short name for menus. */
  label: string;
  /** One line for lists: what it is and what it suits. */
  description: string;
  /** Whether it has batch-normalisation layers (the search keeps batches above a floor for them). */
  batchNorm: boolean;
}

const INFO: Record<ModelKind, Omit<ArchitectureInfo, 'model'>> = {
  small: {
    label: 'Small CNN (2 conv layers)',
    family: 'cnn',
    batchNorm: false,
    description: 'two 3×3 convolutions and max pooling; a fast baseline for digits-sized images',
  },
  large: {
    label: 'Large CNN (4 conv layers + dense)',
    family: 'cnn',
    batchNorm: false,
    description: 'four 3×3 convolutions and a 128-unit dense layer; its dense layer grows with the image',
  },
  mlp: { label: 'MLP (tables)', family: 'mlp', batchNorm: false, description: 'two hidden dense layers sized to the input; for tabular data' },
  'resnet-8': {
    label: 'ResNet-8',
    family: 'resnet',
    batchNorm: true,
    description: 'CIFAR-style residual network, 1 block per stage (16-32-64 filters); small images',
  },
  'resnet-14': {
    label: 'ResNet-14',
    family: 'resnet',
    batchNorm: true,
    description: 'CIFAR-style residual network, 2 blocks per stage (16-32-64 filters); small images',
  },
  'resnet-20': {
    label: 'ResNet-20',
    family: 'resnet',
    batchNorm: true,
    description: 'CIFAR-style residual network, 3 blocks per stage (16-32-64 filters); small images',
  },
  'resnet-18': {
    label: 'ResNet-18',
    family: 'resnet',
    batchNorm: true,
    description: 'ImageNet-style ResNet-18 with a strided 7×7 stem (64-512 filters); images of 64 px and up',
  },
  'mobilenet-0.35': {
    label: 'MobileNetV2 ×0.35',
    family: 'mobilenet',
    batchNorm: true,
    description: 'MobileNetV2, width ×0.35: depthwise inverted residuals; light, images of 64 px and up',
  },
  'mobilenet-0.5': {
    label: 'MobileNetV2 ×0.5',
    family: 'mobilenet',
    batchNorm: true,
    description: 'MobileNetV2, width ×0.5: depthwise inverted residuals; images of 64 px and up',
  },
  'mobilenet-1.0': {
    label: 'MobileNetV2 ×1.0',
    family: 'mobilenet',
    batchNorm: true,
    description: 'MobileNetV2, full width: depthwise inverted residuals; images of 64 px and up',
  },
};

/**
 * Batch-norm models are never searched or trained (after an out-of-memory step-down) below this
 * per-step batch: below about 16 samples a batch's mean and variance are noisy enough to hurt
 * accuracy (Wu & He, "Group Normalization", 2018: ResNet-50's error rises steeply below 16 per
 * device), and the running statistics used for validation inherit the noise.
 */
export const MIN_BATCH_NORM_BATCH = 16;

export function architectureInfo(model: ModelKind): ArchitectureInfo {
  return { model, ...INFO[model] };
}

export function usesBatchNorm(model: ModelKind): boolean {
  return INFO[model].batchNorm;
}

/** The smallest per-step batch the search and the out-of-memory step-down may use for this model. */
export function minimumBatchFor(model: ModelKind): number {
  return usesBatchNorm(model) ? MIN_BATCH_NORM_BATCH : 1;
}

/** A run's or tuning's model in words: its architecture's label, or what an imported model is. */
export function runModelLabel(model: RunModel): string {
  return model === 'imported' ? 'the imported model' : architectureInfo(model).label;
}

/**
 * The smallest batch for a run of this model: with a start model, batch norm only sets a floor
 * where it trains (a frozen backbone's batch norm uses its stored statistics).
 */
export function minimumBatchForRun(model: RunModel, startFrom?: { batchNormTrained: boolean }): number {
  if (startFrom) return startFrom.batchNormTrained ? MIN_BATCH_NORM_BATCH : 1;
  return model === 'imported' ? 1 : minimumBatchFor(model);
}

/** Every model, in the order lists show them. */
export const ARCHITECTURES: readonly ArchitectureInfo[] = MODEL_KINDS.map(architectureInfo);

/** Why this model cannot take inputs of this shape, or undefined when it can. */
export function modelAcceptsShape(kind: ModelKind, inputShape: readonly number[]): string | undefined {
  if (kind === 'mlp') return undefined; // an MLP flattens any input
  if (inputShape.length !== 3) {
    const what = inputShape.length === 1 ? `${inputShape[0]} tabular features` : `shape [${inputShape.join(', ')}]`;
    return `the ${kind} model needs image inputs [height, width, channels], but this dataset has ${what}; use --model mlp`;
  }
  // small/large: two 'valid' 3×3 convolutions (small) or four (large) with two 2× poolings must
  // leave ≥1 pixel. ResNets and MobileNets pad ('same') and pool globally, so any size works;
  // below 8 px their strided stages see a single pixel and learn nothing spatial.
  const minSide = kind === 'small' ? 10 : kind === 'large' ? 16 : 8;
  if (inputShape[0]! < minSide || inputShape[1]! < minSide) {
    return `the ${kind} model needs images of at least ${minSide}×${minSide}, but this dataset's are ${inputShape[0]}×${inputShape[1]}`;
  }
  return undefined;
}

// ---- trainable parameter counts --------------------------------------------------------------

const conv = (k: number, cin: number, cout: number, bias: boolean) => k * k * cin * cout + (bias ? cout : 0);
const bn = (c: number) => 2 * c; // gamma and beta; the running mean and variance are not trained
const dense = (cin: number, cout: number) => cin * cout + cout;

/** Blocks per stage of the CIFAR-style ResNets (depth 6n + 2). */
export const CIFAR_RESNET_BLOCKS: Readonly<Record<'resnet-8' | 'resnet-14' | 'resnet-20', number>> = { 'resnet-8': 1, 'resnet-14': 2, 'resnet-20': 3 };

/** Width multipliers of the MobileNetV2 models. */
export const MOBILENET_WIDTHS: Readonly<Record<'mobilenet-0.35' | 'mobilenet-0.5' | 'mobilenet-1.0', number>> = {
  'mobilenet-0.35': 0.35,
  'mobilenet-0.5': 0.5,
  'mobilenet-1.0': 1.0,
};

export type ResnetKind = 'resnet-8' | 'resnet-14' | 'resnet-20' | 'resnet-18';
export type MobilenetKind = keyof typeof MOBILENET_WIDTHS;

export function isMobilenet(kind: ModelKind): kind is MobilenetKind {
  return kind in MOBILENET_WIDTHS;
}

/** MobileNetV2's inverted-residual stages: expansion t, output channels c, blocks n, first stride s. */
export const MOBILENET_STAGES: readonly (readonly [t: number, c: number, n: number, s: number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** Channel counts rounded to a multiple of 8, never down by more than 10 % (as torchvision and Keras do). */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** One residual block's layout, shared by the builder and the counter. */
export interface ResidualStage {
  filters: number;
  blocks: number;
  stride: number;
}

export function resnetStages(kind: ResnetKind): ResidualStage[] {
  if (kind === 'resnet-18') return [64, 128, 256, 512].map((filters, i) => ({ filters, blocks: 2, stride: i === 0 ? 1 : 2 }));
  const n = CIFAR_RESNET_BLOCKS[kind];
  return [16, 32, 64].map((filters, i) => ({ filters, blocks: n, stride: i === 0 ? 1 : 2 }));
}

function resnetParams(kind: ResnetKind, channels: number, classes: number): number {
  const stem = kind === 'resnet-18' ? { k: 7, filters: 64 } : { k: 3, filters: 16 };
  let total = conv(stem.k, channels, stem.filters, false) + bn(stem.filters);
  let cin = stem.filters;
  for (const stage of resnetStages(kind)) {
    for (let b = 0; b < stage.blocks; b++) {
      const stride = b === 0 ? stage.stride : 1;
      total += conv(3, cin, stage.filters, false) + bn(stage.filters) + conv(3, stage.filters, stage.filters, false) + bn(stage.filters);
      if (stride !== 1 || cin !== stage.filters) total += conv(1, cin, stage.filters, false) + bn(stage.filters);
      cin = stage.filters;
    }
  }
  return total + dense(cin, classes);
}

/** One inverted-residual block of a MobileNetV2: input, expanded and output channels, and stride. */
export interface InvertedResidual {
  input: number;
  hidden: number;
  output: number;
  stride: number;
  /** 1 when there is no 1×1 expansion (the first block). */
  expansion: number;
}

export function mobilenetLayout(width: number): { stem: number; blocks: InvertedResidual[]; head: number } {
  const stem = makeDivisible(32 * width);
  const blocks: InvertedResidual[] = [];
  let input = stem;
  for (const [t, c, n, s] of MOBILENET_STAGES) {
    const output = makeDivisible(c * width);
    for (let i = 0; i < n; i++) {
      blocks.push({ input, hidden: Math.round(input * t), output, stride: i === 0 ? s : 1, expansion: t });
      input = output;
    }
  }
  return { stem, blocks, head: makeDivisible(1280 * Math.max(1, width)) };
}

function mobilenetParams(width: number, channels: number, classes: number): number {
  const { stem, blocks, head } = mobilenetLayout(width);
  let total = conv(3, channels, stem, false) + bn(stem);
  for (const b of blocks) {
    if (b.expansion !== 1) total += conv(1, b.input, b.hidden, false) + bn(b.hidden);
    total += 9 * b.hidden + bn(b.hidden); // depthwise 3×3, no bias
    total += conv(1, b.hidden, b.output, false) + bn(b.output);
  }
  const last = blocks[blocks.length - 1]!.output;
  return total + conv(1, last, head, false) + bn(head) + dense(head, classes);
}

/** The MLP's hidden width for this many input features. */
export function mlpHidden(features: number): number {
  return Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(features * 2))));
}

/** Trainable parameters of `kind` built for inputs of `inputShape` and `classes` classes. */
export function trainableParameters(kind: ModelKind, inputShape: readonly number[], classes: number): number {
  const problem = modelAcceptsShape(kind, inputShape);
  if (problem) throw new Error(problem);
  if (kind === 'mlp') {
    const features = inputShape.reduce((a, b) => a * b, 1);
    const hidden = mlpHidden(features);
    const second = Math.max(16, hidden / 2);
    return dense(features, hidden) + dense(hidden, second) + dense(second, classes);
  }
  const [h, w, c] = inputShape as [number, number, number];
  if (kind === 'small') {
    const side = (s: number) => Math.floor((Math.floor((s - 2) / 2) - 2) / 2);
    return conv(3, c, 16, true) + conv(3, 16, 32, true) + dense(side(h) * side(w) * 32, classes);
  }
  if (kind === 'large') {
    const side = (s: number) => Math.floor((Math.floor((s - 4) / 2) - 4) / 2);
    return (
      conv(3, c, 32, true) + conv(3, 32, 32, true) + conv(3, 32, 64, true) + conv(3, 64, 64, true) + dense(side(h) * side(w) * 64, 128) + dense(128, classes)
    );
  }
  if (isMobilenet(kind)) return mobilenetParams(MOBILENET_WIDTHS[kind], c, classes);
  return resnetParams(kind, c, classes);
}
