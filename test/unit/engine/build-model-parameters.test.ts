// The parameter counts the app shows (shared/model-families.ts, pure arithmetic) against the
// models the engine really builds (engine/models/build-model.ts, tfjs): every model at several
// input shapes and class counts, counted from the built model's trainable weights.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MODEL_KINDS, type ModelKind } from '../../../src/shared/run-types.js';
import { modelAcceptsShape, trainableParameters } from '../../../src/shared/model-families.js';
import { buildModel } from '../../../src/main/engine/models/build-model.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** Input shapes with the class counts to build them for: grey and colour, square and not, tiny to ImageNet-sized. */
const SHAPES: readonly { inputShape: number[]; classes: number }[] = [
  { inputShape: [16, 16, 1], classes: 2 },
  { inputShape: [28, 28, 1], classes: 10 },
  { inputShape: [32, 32, 3], classes: 10 },
  { inputShape: [33, 47, 3], classes: 7 },
  { inputShape: [64, 64, 3], classes: 100 },
  { inputShape: [224, 224, 3], classes: 10 },
  { inputShape: [13], classes: 3 },
];

/**
 * Builds left out to keep the test to seconds on a 2-core machine: large and mlp at 224×224×3
 * have 23 M and 39 M weights to initialise (3 s and 5 s here) and no arithmetic the smaller
 * shapes miss; ResNet-18's count depends only on channels and classes, so two of its shapes (one
 * grey, one colour) cover it at about 1.5 s each.
 */
function skipped(kind: ModelKind, inputShape: readonly number[]): boolean {
  if ((kind === 'large' || kind === 'mlp') && inputShape[0] === 224) return true;
  if (kind === 'resnet-18') return !(inputShape.join('x') === '28x28x1' || inputShape.join('x') === '224x224x3');
  return false;
}

function builtTrainableParameters(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * b!, 1), 0);
}

for (const { inputShape, classes } of SHAPES) {
  test(`trainable parameters match the built model at ${inputShape.join('×')} → ${classes} classes`, () => {
    let compared = 0;
    for (const kind of MODEL_KINDS) {
      if (skipped(kind, inputShape)) continue;
      const problem = modelAcceptsShape(kind, inputShape);
      if (problem !== undefined) {
        // A model that does not fit is refused alike by both, with the same words.
        assert.throws(() => buildModel(kind, { inputShape, classes }, 1), { message: problem });
        assert.throws(() => trainableParameters(kind, inputShape, classes), { message: problem });
        continue;
      }
      const model = buildModel(kind, { inputShape, classes }, 1);
      try {
        assert.equal(trainableParameters(kind, inputShape, classes), builtTrainableParameters(model), `${kind} at ${inputShape.join('×')}`);
        // Batch norm's running mean and variance are weights too, but not trained.
        assert.equal(
          model.countParams() > builtTrainableParameters(model),
          kind.startsWith('resnet') || kind.startsWith('mobilenet'),
          `${kind}: non-trainable weights`,
        );
      } finally {
        model.dispose();
      }
      compared++;
    }
    assert.ok(compared >= 1);
  });
}
