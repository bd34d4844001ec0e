// The models as data: which sizes depend on the input, counts that agree with the published
// architectures, and which inputs each model takes. (That the counts equal the tfjs models' is
// test/unit/engine/build-model-parameters.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODEL_KINDS } from '../../../src/shared/run-types.js';
import {
  ARCHITECTURES,
  minimumBatchFor,
  MIN_BATCH_NORM_BATCH,
  modelAcceptsShape,
  REFERENCE_INPUT,
  trainableParameters,
} from '../../../src/shared/model-families.js';

const POOLED = MODEL_KINDS.filter((k) => k.startsWith('resnet') || k.startsWith('mobilenet'));

test('ResNets and MobileNets pool globally: their parameters do not grow with the image', () => {
  assert.equal(POOLED.length, 7);
  for (const kind of POOLED) {
    for (const channels of [1, 3]) {
      const counts = [
        [8, 8],
        [32, 32],
        [64, 48],
        [224, 224],
        [512, 300],
      ].map(([h, w]) => trainableParameters(kind, [h!, w!, channels], 10));
      assert.equal(new Set(counts).size, 1, `${kind} with ${channels} channels: ${counts.join(', ')}`);
    }
    // They do depend on the channels (the stem) and the classes (the last dense layer).
    assert.notEqual(trainableParameters(kind, [32, 32, 1], 10), trainableParameters(kind, [32, 32, 3], 10), kind);
    assert.notEqual(trainableParameters(kind, [32, 32, 3], 10), trainableParameters(kind, [32, 32, 3], 11), kind);
  }
});

test('the small and large CNNs and the MLP grow with the image (a dense layer sees every pixel)', () => {
  for (const kind of ['small', 'large', 'mlp'] as const) {
    assert.ok(trainableParameters(kind, [64, 64, 3], 10) > trainableParameters(kind, [32, 32, 3], 10), kind);
  }
});

test('counts agree with the published architectures at 224×224×3 and 1000 classes', () => {
  // torchvision's resnet18: 11 689 512 parameters, all trainable.
  assert.equal(trainableParameters('resnet-18', [224, 224, 3], 1000), 11_689_512);
  // Keras' MobileNetV2 (alpha 1.0): 3 504 872 trainable of 3 538 984.
  assert.equal(trainableParameters('mobilenet-1.0', [224, 224, 3], 1000), 3_504_872);
  // Deeper CIFAR ResNets add 2 blocks (4 convolutions + 4 batch norms) per stage, nothing else.
  const perBlock = [16, 32, 64].reduce((s, f) => s + 2 * (9 * f * f + 2 * f), 0);
  assert.equal(trainableParameters('resnet-14', [32, 32, 3], 10) - trainableParameters('resnet-8', [32, 32, 3], 10), perBlock);
  assert.equal(trainableParameters('resnet-20', [32, 32, 3], 10) - trainableParameters('resnet-14', [32, 32, 3], 10), perBlock);
  // Wider MobileNets are bigger.
  const mobile = (['mobilenet-0.35', 'mobilenet-0.5', 'mobilenet-1.0'] as const).map((k) => trainableParameters(k, [224, 224, 3], 10));
  assert.ok(mobile[0]! < mobile[1]! && mobile[1]! < mobile[2]!, mobile.join(' < '));
});

test('every model takes the reference input; only the MLP takes a table', () => {
  assert.equal(ARCHITECTURES.length, MODEL_KINDS.length);
  for (const kind of MODEL_KINDS) {
    assert.equal(modelAcceptsShape(kind, REFERENCE_INPUT.inputShape), undefined, kind);
    assert.ok(trainableParameters(kind, REFERENCE_INPUT.inputShape, REFERENCE_INPUT.classes) > 0, kind);
    const table = modelAcceptsShape(kind, [13]);
    if (kind === 'mlp') assert.equal(table, undefined);
    else assert.match(table ?? '', new RegExp(`the ${kind.replace('.', '\\.')} model needs image inputs .* 13 tabular features; use --model mlp`));
  }
  assert.match(modelAcceptsShape('large', [12, 12, 1]) ?? '', /at least 16×16/);
  assert.equal(modelAcceptsShape('resnet-20', [12, 12, 1]), undefined);
});

test('batch-norm models keep a batch floor; the others none', () => {
  for (const a of ARCHITECTURES) assert.equal(minimumBatchFor(a.model), a.batchNorm ? MIN_BATCH_NORM_BATCH : 1, a.model);
  assert.deepEqual(
    ARCHITECTURES.filter((a) => a.batchNorm).map((a) => a.model),
    POOLED,
  );
});
