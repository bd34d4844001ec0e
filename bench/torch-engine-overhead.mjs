// Saves the app's small and large CNNs (28×28×1, 10 classes, seed 1) in the tfjs layers format for
// bench/torch-engine-overhead.py: node bench/torch-engine-overhead.mjs <folder>
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../dist/src/main/engine/models/build-model.js';
import { saveModelToDir } from '../dist/src/main/engine/models/model-files.js';

const out = process.argv[2];
if (!out) throw new Error('usage: node bench/torch-engine-overhead.mjs <folder>');
await tf.setBackend('cpu');
for (const kind of ['small', 'large']) {
  const model = buildModel(kind, { inputShape: [28, 28, 1], classes: 10 }, 1);
  await saveModelToDir(model, `${out}/${kind}`);
  model.dispose();
}
