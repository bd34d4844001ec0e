// What Tune and Train say beside the model choice, from the service's own listArchitectures view:
// the size at the dataset's input with the model's description, why a model does not fit, and
// which model stays selected when the dataset changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { architectureList } from '../../../src/main/service/api-views.js';
import type { DatasetRecord } from '../../../src/main/store/index.js';
import { fittingModel, modelFits, modelSizeText } from '../../../src/renderer/lib/model-size.js';

/** The parts of a stored dataset the view reads. */
function dataset(inputShape: number[], classes: string[]): DatasetRecord {
  return { id: 4, name: 'd', manifest: { inputShape, classes } } as unknown as DatasetRecord;
}

test('the size at the dataset input, exact and rounded, then what the model is', () => {
  const digits = architectureList(dataset([28, 28, 1], ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']));
  assert.equal(
    modelSizeText(digits, 'resnet-20'),
    '272 k trainable parameters (272,186) at 28×28×1, 10 classes — CIFAR-style residual network, 3 blocks per stage (16-32-64 filters); small images.',
  );
  assert.match(modelSizeText(digits, 'small'), /^12\.8 k trainable parameters \(12,810\) at 28×28×1, 10 classes — two 3×3 convolutions/);
  const reference = architectureList();
  assert.match(modelSizeText(reference, 'resnet-18'), /^11\.2 M trainable parameters \(11,181,642\) at 32×32×3, 10 classes — /);
});

test('a table: only the MLP fits; the others say why and are passed over', () => {
  const table = architectureList(dataset([4], ['a', 'b']));
  assert.match(modelSizeText(table, 'mlp'), /trainable parameters \([\d,]+\) at 4 features, 2 classes — two hidden dense layers/);
  assert.match(
    modelSizeText(table, 'mobilenet-0.5'),
    /^Does not fit this dataset: the mobilenet-0\.5 model needs image inputs .*4 tabular features; use --model mlp\.$/,
  );
  assert.equal(modelFits(table, 'resnet-8'), false);
  assert.equal(modelFits(table, 'mlp'), true);
  assert.equal(modelFits(null, 'resnet-8'), true, 'every model is offered until the sizes are known');
  assert.equal(fittingModel(table, 'resnet-8'), 'mlp');
  assert.equal(fittingModel(table, 'mlp'), 'mlp');
  const tiny = architectureList(dataset([12, 12, 1], ['a', 'b']));
  assert.equal(fittingModel(tiny, 'large'), 'small', 'the first model that takes 12×12 images');
  assert.equal(fittingModel(tiny, 'resnet-14'), 'resnet-14');
});
