// The recipe export's decisions (issue 21): which runs and tunings make a recipe and which are
// refused with their reason, the plan each gives, the target folder's rules, the README's
// commands, the CLI's source syntax, and the recipe.json schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatasetRecord, RunRecord, TuningSessionRecord } from '../../../src/main/store/index.js';
import { planForRun, planForTuning, runPlanInput } from '../../../src/main/service/recipe/recipe-plan.js';
import { checkTarget, ENGINE_FILES, SCRIPT_FILES } from '../../../src/main/service/recipe/recipe-writer.js';
import { pythonPackageRoot } from '../../../src/main/service/python-discovery.js';
import { recipeReadme } from '../../../src/main/service/recipe/recipe-readme.js';
import { ConflictError, UserError } from '../../../src/main/service/errors.js';
import { recipeSource } from '../../../src/main/cli/commands/recipes.js';
import { RECIPE_FORMAT, recipeFileSchema, type RecipeFile } from '../../../src/shared/recipe-file.js';
import { trainableParameters } from '../../../src/shared/model-families.js';
import type { TrainConfig } from '../../../src/shared/run-types.js';
import type { TuningReport } from '../../../src/shared/tuning-types.js';

const dataset = {
  id: 1,
  name: 'digits',
  kind: 'mnist-sample',
  source: 'sample:mnist',
  cacheDir: '/nowhere',
  createdAt: '2025-01-01T00:00:00.000Z',
  contentHash: null,
  manifest: { inputShape: [28, 28, 1], classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], split: { trainCount: 1000, validationCount: 200 } },
} as unknown as DatasetRecord;

const config: TrainConfig = {
  model: 'small',
  batchSize: 64,
  epochs: 4,
  learningRate: 1e-3,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 10,
  backend: 'wasm',
  seed: 7,
};

function run(over: Partial<RunRecord> = {}, c: Partial<TrainConfig> = {}): RunRecord {
  return {
    id: 3,
    datasetId: 1,
    datasetName: 'digits',
    model: 'small',
    status: 'completed',
    tuningSessionId: null,
    config: { ...config, ...c },
    ...over,
  } as RunRecord;
}

function report(): TuningReport {
  return {
    recommendation: {
      batchSize: 64,
      learningRate: 1e-3,
      warmupSteps: 10,
      expectedSamplesPerSecond: 1000,
      memoryCeiling: 256,
      memoryBudgetBytes: 1e9,
      memoryHeadroom: null,
      noiseScale: 300,
      optimizer: 'adam',
    },
    reasons: [],
    curves: [],
    fits: { memory: null, time: { alpha: 0.01, beta: 0.0002, r2: 0.99 } },
    saturationBatch: null,
    scaleOut: null,
    searchSeconds: 10,
  } as TuningReport;
}

function tuning(over: Partial<TuningSessionRecord> = {}): TuningSessionRecord {
  return {
    id: 5,
    datasetId: 1,
    datasetName: 'digits',
    model: 'small',
    mode: 'full',
    status: 'completed',
    report: report(),
    request: { model: 'small', mode: 'full', optimizer: 'adam', backend: 'auto', baseBatchSize: 32, baseLearningRate: 1e-3, plannedEpochs: 6, seed: 9 },
    ...over,
  } as TuningSessionRecord;
}

const asRun = (withWeights = false, workers = 2) => ({ source: { kind: 'run' as const, id: 3 }, workers, withWeights });
const asTuning = (withWeights = false, workers = 4) => ({ source: { kind: 'tuning' as const, id: 5 }, workers, withWeights });

test("a run without a tuning: its own setting is the plan's base, the row for the workers asked, the app's parameter count", () => {
  const p = planForRun(run(), undefined, dataset, asRun(), true);
  const row = p.plan.rows.find((r) => r.workers === 2)!;
  assert.equal(p.plan.noiseScale, null);
  assert.equal(p.plan.base.batchSize, 64);
  assert.deepEqual(
    [p.settings.workers, p.settings.perWorkerBatch, p.settings.globalBatch, p.settings.learningRate, p.settings.warmupSteps],
    [2, row.perWorkerBatch, row.globalBatch, row.learningRate, row.warmupSteps],
  );
  assert.equal(p.settings.parameters, trainableParameters('small', [28, 28, 1], 10));
  assert.deepEqual([p.settings.epochs, p.settings.seed, p.training.momentum, p.training.augment, p.training.evalBatchSize], [4, 7, 0.9, 'none', 64]);
  assert.equal(p.weightsOfRun, null);
  assert.equal(planForRun(run(), undefined, dataset, asRun(true), true).weightsOfRun, 3);
});

test("a run trained with its tuning's recommendation is planned from the tuning's measurements; one that changed it, from its own", () => {
  const t = tuning();
  assert.equal(runPlanInput(run({ tuningSessionId: 5 }), t, 1000, 'small').noiseScale, 300);
  assert.deepEqual(runPlanInput(run({ tuningSessionId: 5 }), t, 1000, 'small').timeModel, { alpha: 0.01, beta: 0.0002 });
  const changed = runPlanInput(run({ tuningSessionId: 5 }, { batchSize: 128 }), t, 1000, 'small');
  assert.equal(changed.noiseScale, null);
  assert.equal(changed.base.batchSize, 128);
});

test("a tuning: its report's plan, its planned epochs and seed", () => {
  const p = planForTuning(tuning(), dataset, asTuning());
  assert.equal(p.plan.noiseScaleSource, 'early');
  assert.equal(p.plan.epochs, 6);
  assert.equal(p.settings.workers, 4);
  assert.equal(p.settings.seed, 9);
  assert.equal(p.settings.globalBatch, p.plan.rows.find((r) => r.workers === 4)!.globalBatch);
});

test('refusals say why: outside models, unfinished tunings, weights that do not exist, workers off the plan', () => {
  const refused = (fn: () => unknown, kind: typeof UserError, pattern: RegExp, field: string) =>
    assert.throws(fn, (err: unknown) => err instanceof kind && pattern.test((err as Error).message) && (err as UserError).field === field);
  const startFrom = { source: 'run:1', unfreeze: 0, fineTuneLearningRate: 1e-4, batchNormTrained: false } as unknown as TrainConfig['startFrom'];
  refused(() => planForRun(run({}, { startFrom }), undefined, dataset, asRun(), true), UserError, /starts from a trained model \(run:1\)/, 'source');
  refused(() => planForRun(run({ model: 'imported' }, { model: 'imported' }), undefined, dataset, asRun(), true), UserError, /imported model/, 'source');
  refused(
    () => planForRun(run({ status: 'failed' }), undefined, dataset, asRun(true), false),
    ConflictError,
    /has no trained model \(it is failed/,
    'withWeights',
  );
  refused(() => planForRun(run(), undefined, dataset, asRun(false, 3), true), UserError, /workers must be one of 1, 2, 4, 8/, 'workers');
  refused(() => planForTuning(tuning({ status: 'stopped', report: null }), dataset, asTuning()), ConflictError, /tuning 5 is stopped/, 'source');
  refused(() => planForTuning(tuning(), dataset, asTuning(true)), UserError, /trained no model/, 'withWeights');
  refused(
    () => planForTuning(tuning({ request: { ...tuning().request, startFrom: startFrom! } }), dataset, asTuning()),
    UserError,
    /tuning 5 starts from a trained model/,
    'source',
  );
});

test('the target folder: new, empty or an earlier recipe; a file or a folder of other things is refused', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'recipe-target-'));
  assert.doesNotThrow(() => checkTarget(path.join(root, 'new')));
  mkdirSync(path.join(root, 'empty'));
  assert.doesNotThrow(() => checkTarget(path.join(root, 'empty')));
  mkdirSync(path.join(root, 'earlier'));
  writeFileSync(path.join(root, 'earlier', 'recipe.json'), JSON.stringify({ format: RECIPE_FORMAT }));
  assert.doesNotThrow(() => checkTarget(path.join(root, 'earlier')));
  mkdirSync(path.join(root, 'other'));
  writeFileSync(path.join(root, 'other', 'notes.txt'), 'mine');
  assert.throws(() => checkTarget(path.join(root, 'other')), /other files in it/);
  assert.throws(() => checkTarget(path.join(root, 'other', 'notes.txt')), /is a file/);
});

function recipeOf(workers: number, withWeights: boolean): RecipeFile {
  const p = planForRun(run(), undefined, dataset, asRun(withWeights, workers), true);
  return recipeFileSchema.parse({
    format: RECIPE_FORMAT,
    engine: 'pytorch-ddp',
    origin: { kind: 'run', id: 3, appVersion: '1.2.3', exportedAt: '2025-01-01T00:00:00.000Z' },
    settings: p.settings,
    dataset: { name: 'digits', contentHash: null, trainCount: 1000, validationCount: 200, classes: ['a', 'b'] },
    training: p.training,
    model: { folder: 'model', weights: withWeights ? 'weights.pt' : null, trainedByRun: withWeights ? 3 : null },
    data: { folder: 'data' },
    plan: p.plan,
  });
}

test('recipe.json: a plan validates; a wrong field is named', () => {
  const good = recipeOf(2, false);
  const bad = recipeFileSchema.safeParse({ ...good, settings: { ...good.settings, globalBatch: 0 } });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.success ? [] : bad.error.issues[0]!.path, ['settings', 'globalBatch']);
  assert.equal(recipeFileSchema.safeParse({ ...good, format: 'other/1' }).success, false);
});

test("the README gives the torchrun lines for one node and for several (and Slurm's), and names the trained weights", () => {
  const text = recipeReadme(recipeOf(4, true));
  assert.match(text, /torchrun --standalone --nproc_per_node 4 train_ddp\.py/);
  assert.match(text, /torchrun --nnodes 2 --nproc_per_node 2 --rdzv_backend c10d --rdzv_endpoint HOST:29500/);
  assert.match(text, /--node_rank R --master_addr HOST/);
  assert.match(text, /srun --nodes 2/);
  assert.match(text, /model\/weights\.pt/);
  assert.doesNotMatch(recipeReadme(recipeOf(1, false)), /weights\.pt/);
});

test('the CLI names the source as run:<id> or tuning:<id>', () => {
  assert.deepEqual(recipeSource('run:12'), { kind: 'run', id: 12 });
  assert.deepEqual(recipeSource('tuning:3'), { kind: 'tuning', id: 3 });
  for (const bad of ['12', 'run:0', 'run:', 'tune:3', 'run:1.5', 'runs:2']) assert.throws(() => recipeSource(bad), /expected run:<id> or tuning:<id>/, bad);
});

test("the recipe's Python files are in the app's python/ folder, which the packaged app ships (every .py under it)", () => {
  const root = pythonPackageRoot();
  for (const f of SCRIPT_FILES) assert.ok(existsSync(path.join(root, 'recipe', f)), `python/recipe/${f}`);
  for (const f of ENGINE_FILES) assert.ok(existsSync(path.join(root, 'autobatch_trainer', f)), `python/autobatch_trainer/${f}`);
  const builder = readFileSync(path.join(root, '..', 'electron-builder.yml'), 'utf8');
  assert.match(builder, /extraResources:\n {2}- from: python\n {4}to: python\n {4}filter:\n {6}- '\*\*\/\*\.py'/);
});
