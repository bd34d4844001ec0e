// What an import did to a dataset's images, in the same plain words in every front end (CLI, app).
import type { ImageTransform } from './dataset-types.js';

function side(shape: readonly number[]): string {
  return `${shape[0]}×${shape[1]}`;
}

/**
 * "padded from 28×28 to 32×32 (centred on black); the grey channel copied into 3", "resized to
 * 64×64 (stretched to fill)"… `inputShape` is the dataset's stored [H, W, C].
 */
export function describeImageTransform(t: ImageTransform, inputShape: readonly number[]): string {
  const from = t.sourceShape;
  const parts: string[] = [];
  if (t.fit === 'pad') {
    parts.push(
      from
        ? `padded from ${side(from)} to ${side(inputShape)} (centred on black)`
        : `scaled to fit ${side(inputShape)} and centred on black (aspect ratio kept)`,
    );
  } else if (t.fit === 'resize') {
    parts.push(from ? `resized from ${side(from)} to ${side(inputShape)} (stretched)` : `resized to ${side(inputShape)} (stretched to fill)`);
  }
  if (from && from[2] === 1 && inputShape[2] === 3) parts.push('the grey channel copied into 3 (RGB)');
  return parts.length > 0 ? parts.join('; ') : 'stored as the source holds them';
}
