// The Train and Tune screens' augmentation choice and "Start from" group: defaults by the
// dataset's kind (none for a table, with the reason), the runs offered, and the form → request
// mapping the screens send (a start model names no model; a browser's model files are uploaded
// first and their source sent), checked before anything is sent with the field named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  augmentDisabledReason,
  augmentHelp,
  augmentRequest,
  augmentShown,
  emptyStartFrom,
  isStartFromField,
  modelFilesProblem,
  runOptionLabel,
  startableRuns,
  startFromErrorOf,
  startFromFormOf,
  startFromRequest,
  startFromWithUpload,
  startModelNote,
  trainRequest,
  tuneRequest,
  budgetText,
  type StartFromForm,
} from '../../../src/renderer/lib/fine-tuning-form.js';
import { ApiError, API_METHODS, type UploadableFile } from '../../../src/shared/api/index.js';
import type { StartFrom } from '../../../src/shared/fine-tuning.js';

const photos = { name: 'pets', kind: 'image-folder' as const, inputShape: [32, 32, 3] };
const digits = { name: 'mnist', kind: 'mnist-sample' as const, inputShape: [28, 28, 1] };
const table = { name: 'flowers', kind: 'csv' as const, inputShape: [4] };

test('augmentation: the default follows the dataset (photos light, digits none) until the user picks one', () => {
  assert.equal(augmentShown(photos, null), 'light');
  assert.equal(augmentShown(digits, null), 'none');
  assert.equal(augmentShown(digits, 'standard'), 'standard');
  assert.equal(augmentHelp(photos, 'light'), 'Light: random shifts of up to 1/8 of the side (pad and crop) (the default for image folders).');
  assert.equal(augmentHelp(digits, 'standard'), 'Standard: random shifts, horizontal flips, brightness and contrast ±20 %.');
  assert.equal(augmentHelp(digits, 'none'), 'None: no augmentation (the default for this dataset).');
  assert.deepEqual(augmentRequest(photos, null), { augment: 'light' });
  assert.deepEqual(augmentRequest(digits, 'light'), { augment: 'light' });
});

test('augmentation: a table gets none, the select says why, and the request leaves it to the service', () => {
  assert.equal(augmentDisabledReason(table), 'Augmentation needs images; "flowers" is a table (4 features per row).');
  assert.equal(augmentDisabledReason(photos), null);
  assert.equal(augmentDisabledReason(null), null);
  assert.equal(augmentShown(table, 'standard'), 'none', 'a level chosen on an image dataset does not carry over');
  assert.equal(augmentHelp(table, 'none'), augmentDisabledReason(table));
  assert.deepEqual(augmentRequest(table, 'light'), {});
});

const runs = [
  { id: 2, model: 'small', datasetName: 'mnist', bestValAccuracy: 0.9712, hasModel: true },
  { id: 5, model: 'resnet-8', datasetName: 'pets', bestValAccuracy: null, hasModel: true },
  { id: 4, model: 'small', datasetName: 'mnist', bestValAccuracy: 0.5, hasModel: false },
];

test('runs to start from: only those with a stored model, newest first, labelled with id, model, dataset, accuracy', () => {
  assert.deepEqual(
    startableRuns(runs).map((r) => r.id),
    [5, 2],
  );
  assert.equal(runOptionLabel(runs[0]!), 'Run 2 · small · mnist · best 97.1 %');
  assert.equal(runOptionLabel(runs[1]!), 'Run 5 · resnet-8 · pets · best —');
  assert.equal(startModelNote({ ...emptyStartFrom(), choice: 'run', runId: 2 }, runs), "The model is the one you start from: run 2's small model.");
  assert.equal(startModelNote({ ...emptyStartFrom(), choice: 'url' }, runs), 'The model is the one you start from.');
});

const form = (over: Partial<StartFromForm>): StartFromForm => ({ ...emptyStartFrom(), ...over });

test('the startFrom of the request: nothing from scratch, else the source of the chosen option with the tuning fields given', () => {
  assert.deepEqual(startFromRequest(form({ runId: 3, path: '/x', url: 'http://y' })), { ok: true, value: undefined });
  assert.deepEqual(startFromRequest(form({ choice: 'run', runId: 3 })), { ok: true, value: { source: '3', unfreeze: 0 } });
  assert.deepEqual(startFromRequest(form({ choice: 'file', path: '  /models/pets/model.json ', unfreeze: 2, fineTuneLearningRate: 1e-4 })), {
    ok: true,
    value: { source: '/models/pets/model.json', unfreeze: 2, fineTuneLearningRate: 1e-4 },
  });
  assert.deepEqual(startFromRequest(form({ choice: 'url', url: 'http://127.0.0.1:8000/m/model.json', unfreeze: null })), {
    ok: true,
    value: { source: 'http://127.0.0.1:8000/m/model.json' },
  });
  // An uploaded model's source replaces the typed path.
  assert.deepEqual(startFromRequest(form({ choice: 'file', path: '/typed' }), '/data/uploads/u1'), {
    ok: true,
    value: { source: '/data/uploads/u1', unfreeze: 0 },
  });
  // Every request the form makes is one the contract accepts.
  for (const c of ['run', 'file', 'url'] as const) {
    const r = startFromRequest(form({ choice: c, runId: 3, path: '/m', url: 'https://e.org/model.json', unfreeze: 1 }));
    assert.ok(r.ok && r.value);
    assert.ok(API_METHODS.startTraining.params.safeParse({ dataset: 1, startFrom: r.value }).success, c);
  }
});

test('the startFrom of the request: what is missing or wrong is named, field included, before anything is sent', () => {
  const problem = (f: StartFromForm) => {
    const r = startFromRequest(f);
    assert.equal(r.ok, false);
    return !r.ok ? r.problem : null;
  };
  assert.deepEqual(problem(form({ choice: 'run' })), { field: 'startFrom.source', message: 'Choose the run whose model to start from.' });
  assert.match(problem(form({ choice: 'file', path: '  ' }))!.message, /^Give the path of a folder holding model\.json/);
  assert.match(problem(form({ choice: 'url' }))!.message, /^Give the address/);
  assert.equal(
    problem(form({ choice: 'url', url: 'ftp://e.org/model.json' }))!.message,
    'The address must start with http:// or https:// (got "ftp://e.org/model.json").',
  );
  const unfreeze = problem(form({ choice: 'run', runId: 3, unfreeze: 1.5 }))!;
  assert.equal(unfreeze.field, 'startFrom.unfreeze');
  assert.match(unfreeze.message, /^unfreeze: /);
  assert.equal(problem(form({ choice: 'run', runId: 3, fineTuneLearningRate: 0 }))!.field, 'startFrom.fineTuneLearningRate');
});

test('a stored start model fills the group again (a search shown, its settings reused)', () => {
  const stored: StartFrom = {
    source: '7',
    sourceKind: 'run',
    runId: 7,
    digest: 'a'.repeat(64),
    architecture: 'small',
    classes: ['0', '1'],
    inputShape: [28, 28, 1],
    unfreeze: 1,
    blocks: 2,
    batchNormTrained: false,
    fineTuneLearningRate: 1e-4,
  };
  assert.deepEqual(startFromFormOf(undefined), emptyStartFrom());
  assert.deepEqual(startFromFormOf(stored), form({ choice: 'run', runId: 7, unfreeze: 1, fineTuneLearningRate: 1e-4 }));
  assert.deepEqual(startFromFormOf({ ...stored, source: 'https://e.org/model.json', sourceKind: 'url' }).url, 'https://e.org/model.json');
  assert.deepEqual(startFromFormOf({ ...stored, source: '/m', sourceKind: 'folder' }).path, '/m');
});

test('model files to upload: model.json with its weights, uploaded before the request, whose source is sent', async () => {
  const file = (name: string): UploadableFile => ({ name, size: 10 });
  assert.equal(modelFilesProblem([file('model.json'), file('weights.bin')]), null);
  assert.equal(modelFilesProblem([file('model.json')]), 'Choose the weight files (.bin) together with model.json.');
  assert.equal(
    modelFilesProblem([file('pets.json'), file('weights.bin')]),
    'Choose a file named model.json with its weight files (chosen: pets.json, weights.bin).',
  );

  const sent: string[][] = [];
  const upload = (files: readonly UploadableFile[]) => {
    sent.push(files.map((f) => f.name));
    return Promise.resolve({ source: '/data/uploads/abc' });
  };
  const files = [file('model.json'), file('weights.bin')];
  assert.deepEqual(await startFromWithUpload(upload, form({ choice: 'file', unfreeze: 1 }), files), {
    ok: true,
    value: { source: '/data/uploads/abc', unfreeze: 1 },
  });
  assert.deepEqual(sent, [['model.json', 'weights.bin']]);
  // Files chosen but another option picked: nothing is uploaded.
  assert.deepEqual(await startFromWithUpload(upload, form({ choice: 'run', runId: 2 }), files), { ok: true, value: { source: '2', unfreeze: 0 } });
  const bad = await startFromWithUpload(upload, form({ choice: 'file' }), [file('weights.bin')]);
  assert.equal(bad.ok, false);
  assert.equal(sent.length, 1, 'nothing uploaded when the files are not a model');
});

test('the requests: a start model names no model; augmentation only where it applies', () => {
  const fields = { dataset: 4, model: 'resnet-8' as const, batchSize: 32, epochs: 2, learningRate: 0.01 };
  assert.deepEqual(trainRequest(fields, { augment: 'light' }, undefined), {
    dataset: 4,
    config: { model: 'resnet-8', batchSize: 32, epochs: 2, learningRate: 0.01, augment: 'light' },
  });
  assert.deepEqual(trainRequest(fields, {}, { source: '2', unfreeze: 1 }), {
    dataset: 4,
    config: { batchSize: 32, epochs: 2, learningRate: 0.01 },
    startFrom: { source: '2', unfreeze: 1 },
  });
  const tune = { dataset: 4, model: 'small' as const, mode: 'quick' as const, plannedEpochs: 5 };
  assert.deepEqual(tuneRequest(tune, { augment: 'none' }, undefined), { dataset: 4, model: 'small', mode: 'quick', plannedEpochs: 5, augment: 'none' });
  assert.deepEqual(tuneRequest(tune, {}, { source: 'https://e.org/model.json' }), {
    dataset: 4,
    startFrom: { source: 'https://e.org/model.json' },
    mode: 'quick',
    plannedEpochs: 5,
  });
  for (const params of [trainRequest(fields, { augment: 'standard' }, { source: '2' }), trainRequest(fields, {}, undefined)]) {
    assert.ok(API_METHODS.startTraining.params.safeParse(params).success);
  }
  assert.ok(API_METHODS.startTuning.params.safeParse(tuneRequest(tune, {}, { source: '2' })).success, 'a search from a start model needs no model');
  // The evaluation batch: sent when given, left out when the field is empty (null) or not a number.
  assert.equal(trainRequest({ ...fields, evalBatchSize: 512 }, {}, undefined).config?.evalBatchSize, 512);
  for (const empty of [null, undefined, NaN])
    assert.equal('evalBatchSize' in (trainRequest({ ...fields, evalBatchSize: empty }, {}, undefined).config ?? {}), false);
  assert.ok(API_METHODS.startTraining.params.safeParse(trainRequest({ ...fields, evalBatchSize: 512 }, {}, undefined)).success);
  assert.equal(API_METHODS.startTraining.params.safeParse(trainRequest({ ...fields, evalBatchSize: 0 }, {}, undefined)).success, false);
  const budgeted = tuneRequest({ ...tune, budgetSeconds: 600 }, {}, undefined);
  assert.equal(budgeted.budgetSeconds, 600);
  assert.ok(API_METHODS.startTuning.params.safeParse(budgeted).success);
});

test("the Tune screen's time budget: minutes, or a time written out; empty is none; anything else is named", () => {
  assert.deepEqual(budgetText(''), { ok: true, seconds: undefined });
  assert.deepEqual(budgetText(' 10 '), { ok: true, seconds: 600 });
  assert.deepEqual(budgetText('1.5'), { ok: true, seconds: 90 });
  assert.deepEqual(budgetText('1h30m'), { ok: true, seconds: 5400 });
  assert.deepEqual(budgetText('90s'), { ok: true, seconds: 90 });
  for (const bad of ['soon', '0', '-3', '10 minutes', '99999999']) {
    const r = budgetText(bad);
    assert.ok(!r.ok && r.message.startsWith(`"${bad.trim()}" is not a time`), bad);
  }
});

test("the service's errors about the group are shown beside it; others are not", () => {
  assert.equal(isStartFromField('startFrom'), true);
  assert.equal(isStartFromField('startFrom.unfreeze'), true);
  assert.equal(isStartFromField('startFromX'), false);
  assert.equal(isStartFromField('config.batchSize'), false);
  assert.equal(isStartFromField(undefined), false);
  assert.equal(startFromErrorOf(new ApiError({ code: 'invalid-params', field: 'startFrom.source', message: 'no model.json in /m' })), 'no model.json in /m');
  assert.equal(startFromErrorOf(new ApiError({ code: 'invalid-params', field: 'config.batchSize', message: 'too big' })), null);
  assert.equal(startFromErrorOf(new Error('startFrom')), null);
});
