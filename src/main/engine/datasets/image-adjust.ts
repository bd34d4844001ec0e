// Changing the size and channels of IDX and bundled-sample images at import (options.imageSize,
// imageFit, grayscale). Image folders do this while decoding each file (image-folder.ts); these
// sources arrive as raw pixel arrays, so they are changed here, after the limit and the split
// (only the kept samples are touched):
//  - 'pad' copies each image into the centre of a zero canvas (exact: the source pixels are
//    unchanged, the border is 0, the extra row/column of an odd margin goes to the bottom/right).
//    It never scales, so the target must be at least the source size in both sides.
//  - 'resize' stretches with sharp (fit 'fill', its default kernel, as image folders do). Only
//    uint8 images of 1 or 3 channels: libvips reads raw float input as something else, and 2 or 4
//    channels as grey/colour with alpha, which it would premultiply.
//  - RGB from grey copies the channel into three.
// Values keep their scale, so the normalisation (1/255 for uint8) stays what it was.
import sharp from 'sharp';
import type { DatasetKind, ImageFit, ImageTransform, ImportOptions, ImportProgress } from '../../../shared/dataset-types.js';
import { optionsError } from './problems.js';
import { mapPool } from './util.js';

/** [H, W, C]. */
type Shape = [number, number, number];

/** The largest x.bin written (as for image folders). */
const MAX_X_BYTES = 2 ** 31 - 1;
/** Images resized at once (sharp runs them on its own threads). */
const RESIZE_CONCURRENCY = 8;

/** What the options ask of a dataset's images, checked against their shape and type. */
export interface ImagePlan {
  from: Shape;
  to: Shape;
  /** How the size changes; absent when it does not. */
  fit?: ImageFit;
}

/** The arrays a plan changes (the importer's raw dataset, or the prepared one). */
export interface ImageArrays {
  x: Uint8Array | Float32Array;
  inputShape: number[];
  featureDtype: 'uint8' | 'float32';
}

/** The image options given, by name. */
function imageOptionsGiven(o: ImportOptions): Array<'imageSize' | 'imageFit' | 'grayscale'> {
  return (['imageSize', 'imageFit', 'grayscale'] as const).filter((k) => o[k] !== undefined);
}

/**
 * Refuses image options that cannot apply to this kind of source, before anything is read: any
 * of them for CSV, and imageFit without imageSize for IDX and the sample (it would do nothing).
 */
export function checkImageOptionsFor(kind: DatasetKind, o: ImportOptions, sourceName: string): void {
  if (kind === 'csv') {
    const field = imageOptionsGiven(o)[0];
    if (field) throw optionsError(field, `${field} applies to images; ${sourceName} is a CSV file (tabular data), whose columns are kept as they are`);
  }
  if ((kind === 'idx' || kind === 'mnist-sample') && o.imageFit !== undefined && o.imageSize === undefined) {
    throw optionsError('imageFit', `imageFit ${JSON.stringify(o.imageFit)} needs an imageSize: without one the ${sourceWord(kind)} images keep their own size`);
  }
}

function sourceWord(kind: DatasetKind): string {
  return kind === 'idx' ? 'IDX' : 'sample';
}

/**
 * What the options ask of IDX or sample images of this shape and type; undefined when nothing
 * changes. Fails (naming the option) when it cannot be done.
 */
export function planImageChange(images: ImageArrays, o: ImportOptions, kind: DatasetKind): ImagePlan | undefined {
  const [h, w, c] = images.inputShape as Shape;
  const what = `the ${sourceWord(kind)} images (${h}×${w}×${c}${images.featureDtype === 'float32' ? ', float' : ''})`;
  if (o.grayscale === true && c !== 1) {
    throw optionsError(
      'grayscale',
      `grayscale: ${what} have ${c} channels; only grey (1-channel) IDX images can be kept grey, converting colour ones is not supported`,
    );
  }
  if (o.grayscale === false && c !== 1 && c !== 3) {
    throw optionsError(
      'grayscale',
      `grayscale false (RGB): ${what} have ${c} channels; RGB can be made from 1-channel (grey) images, and 3-channel ones already are`,
    );
  }
  const size = o.imageSize;
  const fit = o.imageFit ?? 'resize';
  const resized = size !== undefined && (size[0] !== h || size[1] !== w);
  if (resized && fit === 'pad' && (size[0] < h || size[1] < w)) {
    throw optionsError(
      'imageSize',
      `imageSize ${size[0]}×${size[1]} is smaller than ${what}: imageFit 'pad' only adds a border, so it needs at least ${h}×${w}; imageFit 'resize' shrinks them`,
    );
  }
  if (resized && fit === 'resize' && (images.featureDtype !== 'uint8' || (c !== 1 && c !== 3))) {
    const why = images.featureDtype !== 'uint8' ? 'float images cannot be resized' : `images of ${c} channels cannot be resized (only 1 or 3)`;
    throw optionsError(
      'imageFit',
      `imageFit 'resize' to ${size[0]}×${size[1]}: ${what}: ${why}; imageFit 'pad' with an imageSize of at least ${h}×${w} can change their size`,
    );
  }
  const rgb = o.grayscale === false && c === 1;
  if (!resized && !rgb) return undefined;
  return { from: [h, w, c], to: [size?.[0] ?? h, size?.[1] ?? w, rgb ? 3 : c], ...(resized ? { fit } : {}) };
}

/**
 * Applies `plan` to the `count` images of `images` (replacing x and inputShape) and returns what
 * to record in the manifest. Fails (naming imageSize) when the result would not fit the cache.
 */
export async function applyImageChange(
  images: ImageArrays,
  count: number,
  plan: ImagePlan,
  progress: (phase: ImportProgress['phase'], done: number, total: number) => void,
): Promise<ImageTransform> {
  const [H, W, C] = plan.to;
  const bytes = count * H * W * C * (images.featureDtype === 'uint8' ? 1 : 4);
  if (bytes > MAX_X_BYTES) {
    throw optionsError(
      'imageSize',
      `${count} images of ${H}×${W}×${C} need ${bytes} bytes, more than the ${MAX_X_BYTES}-byte cache limit; use a limit or a smaller imageSize`,
    );
  }
  let x = images.x;
  if (plan.fit === 'pad') x = padImages(x, count, plan.from, [H, W]);
  else if (plan.fit === 'resize') x = await resizeImages(x as Uint8Array, count, plan.from, [H, W], progress);
  if (C !== plan.from[2]) x = greyToRgb(x, count * H * W);
  images.x = x;
  images.inputShape = [...plan.to];
  return { ...(plan.fit ? { fit: plan.fit } : {}), sourceShape: [...plan.from] };
}

/** Each image centred on a zero canvas of H×W (the odd pixel of a margin at the bottom/right). */
export function padImages(x: Uint8Array | Float32Array, count: number, [h, w, c]: Shape, [H, W]: [number, number]): Uint8Array | Float32Array {
  const n = count * H * W * c;
  const out = x instanceof Uint8Array ? new Uint8Array(n) : new Float32Array(n);
  const top = Math.floor((H - h) / 2);
  const left = Math.floor((W - w) / 2);
  const row = w * c;
  for (let i = 0; i < count; i++) {
    for (let r = 0; r < h; r++) {
      const src = (i * h + r) * row;
      const dst = ((i * H + top + r) * W + left) * c;
      for (let j = 0; j < row; j++) out[dst + j] = x[src + j]!;
    }
  }
  return out;
}

/** One grey channel copied into three. */
export function greyToRgb(x: Uint8Array | Float32Array, pixels: number): Uint8Array | Float32Array {
  const out = x instanceof Uint8Array ? new Uint8Array(pixels * 3) : new Float32Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const v = x[p]!;
    out[3 * p] = v;
    out[3 * p + 1] = v;
    out[3 * p + 2] = v;
  }
  return out;
}

/** Each uint8 image (1 or 3 channels) stretched to H×W with sharp. */
async function resizeImages(
  x: Uint8Array,
  count: number,
  [h, w, c]: Shape,
  [H, W]: [number, number],
  progress: (phase: ImportProgress['phase'], done: number, total: number) => void,
): Promise<Uint8Array> {
  const inSize = h * w * c;
  const outSize = H * W * c;
  const out = new Uint8Array(count * outSize);
  let done = 0;
  progress('decoding', 0, count);
  await mapPool(
    Array.from({ length: count }, (_, i) => i),
    RESIZE_CONCURRENCY,
    async (i) => {
      const img = sharp(x.subarray(i * inSize, (i + 1) * inSize), { raw: { width: w, height: h, channels: c as 1 | 3 } }).resize(W, H, { fit: 'fill' });
      // Without 'b-w' libvips hands a grey image back as three channels.
      const { data, info } = await (c === 1 ? img.toColourspace('b-w') : img).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      if (info.width !== W || info.height !== H || info.channels !== c || data.length !== outSize) {
        throw new Error(`resizing image ${i} gave ${info.width}×${info.height}×${info.channels}, expected ${W}×${H}×${c}`);
      }
      out.set(data, i * outSize);
      progress('decoding', ++done, count);
    },
  );
  return out;
}
