// A small in-memory tabular dataset for the training loop's tests: 96 samples of 6 features in 3
// classes, all of them training samples; each feature is its class's `signal` plus a fixed
// pattern of noise of width 10/`spread` (larger `signal`/`spread`: easier, less noisy gradients).
import type { DatasetManifest } from '../../../src/shared/dataset-types.js';
import type { LoadedDataset } from '../../../src/main/engine/datasets/index.js';

export function tabularDataset(signal: number, spread: number): LoadedDataset {
  const n = 96;
  const x = new Float32Array(n * 6);
  const y = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = (j === y[i] ? signal : 0) + (((i * 7 + j * 5) % 11) - 5) / spread;
  }
  const manifest = { inputShape: [6], classes: ['a', 'b', 'c'], normalization: { kind: 'scale', scale: 1 } } as unknown as DatasetManifest;
  return { manifest, x, y, trainIndex: Uint32Array.from({ length: n }, (_, i) => i), validationIndex: new Uint32Array(0), sampleSize: 6 };
}
