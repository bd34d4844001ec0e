// Fixed layers that turn a dataset's images into what a start model's backbone was trained on:
// its height × width, its channels (grey ↔ RGB) and its pixel scale. Only stock tfjs layers
// with fixed, non-trainable weights, so a fine-tuned model saves and loads (in tfjs, Keras or a
// plain forward pass elsewhere) like any other.
//
// The resize is two fixed linear maps (Permute + Dense on one spatial axis, then the other), not
// tfjs' Resizing layer: in tfjs 4.22 Resizing.computeOutputShape drops the batch axis (it returns
// [height, width, inputShape[2]]; tensorflow/tfjs#8324), so a model holding one cannot even be
// rebuilt from its model.json. The maps are bilinear weights: enlarging, exactly
// tf.image.resizeBilinear with half-pixel centres; shrinking, a triangle filter widened by the
// reduction factor, so a large image is averaged rather than sampled (antialiased resizing, as
// TensorFlow's antialias option and PIL do it).
import * as tf from '@tensorflow/tfjs';

/** ITU-R BT.601 luma, the weights of tf.image.rgbToGrayscale and of the image importer's greyscale. */
export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

/** out = A · in along one axis: A[i][p], `to` rows of `from` weights that sum to 1. */
export function resizeWeights(from: number, to: number): Float32Array[] {
  const ratio = from / to;
  const support = Math.max(1, ratio);
  const rows: Float32Array[] = [];
  for (let i = 0; i < to; i++) {
    // Enlarging, an edge pixel's centre lies outside the image: it takes the edge's value (as tfjs does).
    const centre = ratio < 1 ? Math.min(from - 1, Math.max(0, (i + 0.5) * ratio - 0.5)) : (i + 0.5) * ratio - 0.5;
    const row = new Float32Array(from);
    let sum = 0;
    for (let p = Math.max(0, Math.floor(centre - support)); p <= Math.min(from - 1, Math.ceil(centre + support)); p++) {
      const w = Math.max(0, 1 - Math.abs(p - centre) / support);
      row[p] = w;
      sum += w;
    }
    // Near an edge part of the filter falls outside the image: the rest is renormalised.
    for (let p = 0; p < from; p++) row[p] = row[p]! / sum;
    rows.push(row);
  }
  return rows;
}

type Node = tf.SymbolicTensor;

/** The adapters: their new layers (whose weights are freed if assembly fails) and the adapted input. */
export interface AdapterBuild {
  layers: tf.layers.Layer[];
  output: Node;
}

export interface AdapterSpec {
  /** The dataset's [height, width, channels]. */
  from: number[];
  /** The start model's [height, width, channels]. */
  to: number[];
  /** Start model's pixel value over the dataset's for the same pixel (1: same scale). */
  scale: number;
  /** A layer name not yet used in the model being built. */
  name(base: string): string;
}

/** A Dense layer with a fixed kernel (no bias, not trainable), applied to x. */
function fixedDense(x: Node, kernel: tf.Tensor2D, name: string, layers: tf.layers.Layer[]): Node {
  const layer = tf.layers.dense({ units: kernel.shape[1], useBias: false, trainable: false, name });
  layers.push(layer);
  const y = layer.apply(x) as Node;
  layer.setWeights([kernel]);
  return y;
}

/** Bilinear resize of [h, w, c] to [h2, w2, c] as permutes and two fixed linear maps. */
function resize(x: Node, spec: AdapterSpec, layers: tf.layers.Layer[]): Node {
  const [h, w] = spec.from as [number, number];
  const [h2, w2] = spec.to as [number, number];
  const permute = (y: Node, dims: number[], base: string) => {
    const layer = tf.layers.permute({ dims, name: spec.name(base) });
    layers.push(layer);
    return layer.apply(y) as Node;
  };
  // A Dense maps the last axis: kernel[p][i] = A[i][p].
  const kernel = (from: number, to: number) => {
    const rows = resizeWeights(from, to);
    return tf.tidy(
      () =>
        tf.transpose(
          tf.tensor2d(
            rows.map((r) => Array.from(r)),
            [to, from],
          ),
        ) as tf.Tensor2D,
    );
  };
  const widthKernel = kernel(w, w2);
  const heightKernel = kernel(h, h2);
  try {
    let y = permute(x, [3, 1, 2], 'input_adapter_to_chw'); // [c, h, w]
    y = fixedDense(y, widthKernel, spec.name('input_adapter_resize_width'), layers); // [c, h, w2]
    y = permute(y, [1, 3, 2], 'input_adapter_swap_hw'); // [c, w2, h]
    y = fixedDense(y, heightKernel, spec.name('input_adapter_resize_height'), layers); // [c, w2, h2]
    return permute(y, [3, 2, 1], 'input_adapter_to_hwc'); // [h2, w2, c]
  } finally {
    tf.dispose([widthKernel, heightKernel]);
  }
}

/** Grey → RGB (each channel the grey value) or RGB → grey (luma), as a fixed 1×1 convolution. */
function convertChannels(x: Node, from: number, to: number, spec: AdapterSpec, layers: tf.layers.Layer[]): Node {
  const layer = tf.layers.conv2d({
    filters: to,
    kernelSize: 1,
    useBias: false,
    trainable: false,
    name: spec.name(from === 1 ? 'input_adapter_grey_to_rgb' : 'input_adapter_rgb_to_grey'),
  });
  layers.push(layer);
  const y = layer.apply(x) as Node;
  const kernel = from === 1 ? tf.ones([1, 1, 1, to]) : tf.tensor4d([...LUMA_WEIGHTS], [1, 1, 3, 1]);
  layer.setWeights([kernel]);
  kernel.dispose();
  return y;
}

/** Why these adapters cannot be made (null when they can). */
export function adapterProblem(from: readonly number[], to: readonly number[]): string | null {
  const [c, c2] = [from[2]!, to[2]!];
  if (c === c2 || (c === 1 && c2 === 3) || (c === 3 && c2 === 1)) return null;
  return `the dataset's images have ${c} channel${c === 1 ? '' : 's'} and the start model's ${c2}; only grey ↔ RGB (1 ↔ 3 channels) can be converted`;
}

/** x (the dataset's images) → the start model's input. Identity when nothing differs. */
export function adaptInput(x: Node, spec: AdapterSpec): AdapterBuild {
  const layers: tf.layers.Layer[] = [];
  const [c, c2] = [spec.from[2]!, spec.to[2]!];
  const resized = spec.from[0] !== spec.to[0] || spec.from[1] !== spec.to[1];
  let y = x;
  // Resizing the side with fewer channels costs less: convert RGB → grey before, grey → RGB after.
  if (c > c2) y = convertChannels(y, c, c2, spec, layers);
  if (resized) y = resize(y, spec, layers);
  if (c < c2) y = convertChannels(y, c, c2, spec, layers);
  if (Math.abs(spec.scale - 1) > 1e-9) {
    const layer = tf.layers.rescaling({ scale: spec.scale, offset: 0, name: spec.name('input_adapter_rescale') });
    layers.push(layer);
    y = layer.apply(y) as Node;
  }
  return { layers, output: y };
}
