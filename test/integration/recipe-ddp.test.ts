// An exported PyTorch DDP recipe (issue 21) runs as its README says: torchrun with two workers on
// the CPU (gloo) trains on disjoint shards of the training split with the plan's global batch and
// rate, the loss falls, and its metrics file is what src/shared/recipe-metrics.ts describes. And
// with --with-weights the recipe's own code rebuilds the run's trained model in PyTorch: it
// predicts what the app's model (tfjs, here in Node) predicts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import { createDirectApi } from '../../src/main/service/api-direct.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { loadModelFromDir } from '../../src/main/engine/models/model-files.js';
import { startAppServer } from '../../src/main/server/app-server.js';
import { runToEnd } from '../../src/shared/api/jobs.js';
import { recipeDownloadPath, type Api } from '../../src/shared/api/index.js';
import { decodeJsonLine } from '../../src/shared/json-lines.js';
import { oneNodeTorchrunArgs, recipeFileSchema } from '../../src/shared/recipe-file.js';
import { RECIPE_METRICS_FILE, recipeMetricsLineSchema, type RecipeMetricsLine } from '../../src/shared/recipe-metrics.js';
import { planScaleOut } from '../../src/shared/scale-out.js';
import { missing, torchPython } from '../support/parts.js';
import { tempHome } from './helpers.js';

const skip = missing('torch');

const RUN = { model: 'small', batchSize: 32, epochs: 3, learningRate: 2e-3, optimizer: 'adam', warmupSteps: 4, backend: 'wasm', seed: 5 } as const;
const MAX_STEPS = 30;

let home: string;
let service: AutoBatchService;
let dispatcher: ApiDispatcher;
let api: Api;
let runId: number;
let trainIndices: number[];

/** uint32 little-endian indices of a split file. */
function readIndices(file: string): number[] {
  const b = readFileSync(file);
  return Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32LE(i * 4));
}

before(async () => {
  if (skip) return;
  home = tempHome('autobatch-recipe-');
  service = new AutoBatchService({ home, python: torchPython() });
  dispatcher = new ApiDispatcher(service, { validateResults: true });
  api = createDirectApi(dispatcher);
  const ds = await api.importSample({ name: 'digits', limit: 1000 });
  // A short real run (its trained model is what --with-weights converts).
  const run = await runToEnd(api, () => api.startTraining({ dataset: ds.id, config: RUN, maxSteps: 6 }));
  assert.equal(run.run.status, 'completed', run.run.error ?? '');
  runId = run.run.id;
  trainIndices = readIndices(path.join(service.getDataset(ds.id).cacheDir, 'train.idx'));
});

after(async () => {
  if (skip) return;
  api.close();
  dispatcher.close();
  await service.close();
});

interface Shard {
  epoch: number;
  step: number;
  indices: number[];
}

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
}

/** Each rank's sample indices by epoch. */
function shardsByEpoch(out: string, rank: number): Map<number, number[]> {
  const byEpoch = new Map<number, number[]>();
  for (const line of readLines(path.join(out, `shards-rank${rank}.jsonl`))) {
    const s = JSON.parse(line) as Shard;
    byEpoch.set(s.epoch, [...(byEpoch.get(s.epoch) ?? []), ...s.indices]);
  }
  return byEpoch;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

test(
  'a recipe exported from a run trains with torchrun on 2 CPU workers: disjoint shards, the plan’s batch and rate, a falling loss',
  { skip, timeout: 180_000 },
  async () => {
    const folder = path.join(home, 'recipe-ddp');
    const exported = await api.exportRecipe({ source: { kind: 'run', id: runId }, workers: 2, out: folder });
    const recipe = recipeFileSchema.parse(JSON.parse(readFileSync(path.join(folder, 'recipe.json'), 'utf8')));
    // The run had no tuning: its own setting is the plan's base, nothing measured.
    const plan = planScaleOut({
      base: { batchSize: RUN.batchSize, learningRate: RUN.learningRate, optimizer: RUN.optimizer, warmupSteps: RUN.warmupSteps },
      noiseScale: null,
      noiseScaleSource: null,
      timeModel: null,
      memoryCeiling: RUN.batchSize,
      minimumBatch: 1,
      trainCount: trainIndices.length,
      epochs: RUN.epochs,
    });
    const row = plan.rows.find((r) => r.workers === 2)!;
    assert.deepEqual(recipe.plan, plan);
    assert.equal(exported.settings.globalBatch, row.globalBatch);

    const out = path.join(home, 'ddp-out');
    const r = spawnSync(
      torchPython(),
      [...oneNodeTorchrunArgs(2), 'train_ddp.py', '--out', out, '--max-steps', String(MAX_STEPS), '--record-shards', '--device', 'cpu'],
      { cwd: folder, encoding: 'utf8', timeout: 150_000, env: { ...process.env, OMP_NUM_THREADS: '1' } },
    );
    assert.equal(r.status, 0, `torchrun failed (${r.status ?? r.signal}):\n${r.stderr.slice(-3000)}`);
    assert.match(r.stdout + r.stderr, new RegExp(`trainable parameters: ${exported.settings.parameters} `));

    const lines: RecipeMetricsLine[] = readLines(path.join(out, RECIPE_METRICS_FILE)).map((l, i) => {
      const parsed = recipeMetricsLineSchema.safeParse(decodeJsonLine(l));
      assert.ok(parsed.success, `line ${i + 1}: ${parsed.success ? '' : parsed.error.message}`);
      return parsed.data;
    });
    const start = lines[0]!;
    assert.equal(start.kind, 'start');
    assert.equal(start.world.size, 2);
    assert.equal(start.world.backend, 'gloo');
    assert.equal(start.settings.globalBatch, row.globalBatch);
    assert.equal(start.settings.learningRate, row.learningRate);
    assert.equal(start.settings.warmupSteps, row.warmupSteps);
    assert.equal(start.fromWeights, false);
    const steps = lines.filter((l) => l.kind === 'step');
    assert.deepEqual(
      steps.map((s) => s.step),
      Array.from({ length: MAX_STEPS }, (_, i) => i + 1),
    );
    assert.equal(steps[row.warmupSteps + 1]!.learningRate, row.learningRate);
    assert.ok(steps[0]!.learningRate < row.learningRate, 'the warm-up starts below the rate');
    const end = lines[lines.length - 1]!;
    assert.deepEqual(end.kind === 'end' ? [end.status, end.steps] : end, ['stopped', MAX_STEPS]);
    assert.ok(lines.some((l) => l.kind === 'epoch'));
    const first = mean(steps.slice(0, 5).map((s) => s.loss));
    const last = mean(steps.slice(-5).map((s) => s.loss));
    assert.ok(last < first, `the loss should fall: first steps ${first}, last steps ${last}`);

    // Every epoch: the two ranks' samples are disjoint, from the training split, the global batch a
    // step; an epoch that ran to its end covered the whole split — DistributedSampler evens the
    // shards by repeating the epoch's first samples at its end (2·⌈N/2⌉ − N of them), and only those
    // may be seen twice.
    const train = new Set(trainIndices);
    const padding = 2 * Math.ceil(train.size / 2) - train.size;
    const [rank0, rank1] = [shardsByEpoch(out, 0), shardsByEpoch(out, 1)];
    let total = 0;
    for (const [epoch, a] of rank0) {
      const b = rank1.get(epoch) ?? [];
      const union = new Set([...a, ...b]);
      assert.ok(
        [...union].every((i) => train.has(i)),
        `epoch ${epoch}: a sample outside the training split`,
      );
      const stepsInEpoch = steps.filter((s) => s.epoch === epoch).length;
      if (stepsInEpoch === row.stepsPerEpoch) {
        assert.equal(union.size, train.size, `epoch ${epoch} did not cover the training split`);
        assert.equal(a.length + b.length - union.size, padding, `epoch ${epoch}: the ranks' samples overlap beyond the sampler's padding`);
      } else {
        assert.equal(union.size, a.length + b.length, `epoch ${epoch}: the ranks' samples overlap`);
        assert.equal(union.size, stepsInEpoch * row.globalBatch);
      }
      total += stepsInEpoch;
    }
    assert.equal(total, MAX_STEPS);

    // Back in the app: the metrics file becomes a run of its own, with the plan it came from.
    const before = (await api.listRuns({})).length;
    const imported = await api.importRunMetrics({ path: out });
    assert.deepEqual(
      [imported.distributed?.engine, imported.distributed?.workers, imported.distributed?.origin.kind, imported.distributed?.origin.id, imported.status],
      ['pytorch-ddp', 2, 'run', runId, 'stopped'],
    );
    assert.equal((await api.listRuns({})).length, before + 1);
    const detail = await api.getRun({ runId: imported.id, misclassifiedLimit: 0 });
    assert.equal(detail.run.config.batchSize, row.globalBatch);
    assert.equal(detail.run.config.learningRate, row.learningRate);
    assert.equal(detail.series.loss?.at(-1)?.step, MAX_STEPS, 'the loss series runs to the last step');
  },
);

test(
  '--with-weights: the recipe’s own code rebuilds the trained model in PyTorch, and it predicts as the app’s model does',
  { skip, timeout: 120_000 },
  async () => {
    const folder = path.join(home, 'recipe-weights');
    const exported = await api.exportRecipe({ source: { kind: 'run', id: runId }, workers: 1, withWeights: true, out: folder });
    assert.equal(exported.withWeights, true);
    assert.ok(exported.files.includes('model/weights.pt'));
    // The recipe's build_model (train_ddp.py, over its copy of the engine) on the first validation samples.
    const script = [
      'import json, sys, torch',
      'sys.path.insert(0, ".")',
      'import train_ddp',
      'from autobatch_trainer.dataset import load_dataset',
      'recipe = train_ddp.read_recipe(".")',
      'net, from_weights = train_ddp.build_model(".", recipe, torch.device("cpu"), False)',
      'ds = load_dataset("data", torch.device("cpu"))',
      'x = ds.batch(ds.validation_index[:24])',
      'with torch.no_grad(): logits = net.eval()(x)',
      'print(json.dumps({"fromWeights": from_weights, "shape": list(x.shape), "x": x.flatten().tolist(), "logits": logits.tolist()}))',
    ].join('\n');
    const r = spawnSync(torchPython(), ['-c', script], {
      cwd: folder,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const got = JSON.parse(r.stdout.trim().split('\n').pop()!) as { fromWeights: boolean; shape: number[]; x: number[]; logits: number[][] };
    assert.equal(got.fromWeights, true);
    // The app's trained model, as the app loads it (tfjs, on its reference backend).
    await tf.setBackend('cpu');
    const model = await loadModelFromDir(service.runFiles(runId).model!.path);
    const expected = tf.tidy(() => (model.predict(tf.tensor(got.x, got.shape)) as tf.Tensor).arraySync() as number[][]);
    model.dispose();
    for (const [i, row] of expected.entries()) {
      const mine = got.logits[i]!;
      const diff = Math.max(...row.map((v, j) => Math.abs(v - mine[j]!)));
      assert.ok(diff < 1e-4, `sample ${i}: logits differ by ${diff}`);
      assert.equal(mine.indexOf(Math.max(...mine)), row.indexOf(Math.max(...row)), `sample ${i}: another class`);
    }
  },
);

test('`autobatch serve` downloads a recipe as a tar of its folder; a bad request is answered with the field at fault', { skip, timeout: 60_000 }, async () => {
  const server = await startAppServer({ dispatcher, port: 0 });
  try {
    const get = (p: Parameters<typeof recipeDownloadPath>[0] | string) =>
      fetch(`${new URL(server.url).origin}${typeof p === 'string' ? p : recipeDownloadPath(p)}&token=${encodeURIComponent(server.token)}`);
    const res = await get({ source: { kind: 'run', id: runId }, workers: 4 });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('content-type'), 'application/x-tar');
    assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`recipe-run-${runId}-4w\\.tar`));
    const tar = Buffer.from(await res.arrayBuffer()).toString('latin1');
    for (const f of ['recipe.json', 'train_ddp.py', 'README.md', 'model/model.json', 'data/x.bin', 'autobatch_trainer/keras_model.py'])
      assert.ok(tar.includes(`recipe-run-${runId}-4w/${f}`), f);
    const bad = await get(`/api/download/recipe/run/${runId}?workers=3`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'workers');
    assert.equal((await get({ source: { kind: 'tuning', id: 99 }, workers: 2 })).status, 404);
  } finally {
    await server.close();
  }
});

test('`autobatch recipes export` prints the API’s answer with --json, and its reasons on refusal', { skip, timeout: 60_000 }, () => {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/autobatch.js');
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [bin, '--home', home, 'recipes', 'export', ...args], {
      encoding: 'utf8',
      timeout: 50_000,
      env: { ...process.env, AUTOBATCH_PYTHON: torchPython() },
    });
  const ok = cli(`run:${runId}`, '--workers', '8', '--out', path.join(home, 'recipe-cli'), '--json');
  assert.equal(ok.status, 0, ok.stderr);
  const answer = JSON.parse(ok.stdout) as { folder: string; files: string[]; settings: { workers: number }; withWeights: boolean };
  assert.deepEqual([answer.folder, answer.settings.workers, answer.withWeights], [path.join(home, 'recipe-cli'), 8, false]);
  assert.ok(answer.files.includes('recipe.json') && answer.files.includes('train_ddp.py'));
  const missingTuning = cli('tuning:99', '--workers', '2', '--out', path.join(home, 'recipe-none'), '--json');
  assert.equal(missingTuning.status, 1);
  assert.match(missingTuning.stderr, /no tuning session "99"/);
  const badWorkers = cli(`run:${runId}`, '--workers', '3', '--out', path.join(home, 'recipe-none'));
  assert.equal(badWorkers.status, 2);
  assert.match(badWorkers.stderr, /expected one of 1, 2, 4, 8/);
  const badSource = cli(`${runId}`, '--workers', '2', '--out', path.join(home, 'recipe-none'));
  assert.match(badSource.stderr, /expected run:<id> or tuning:<id>/);
  const taken = cli(`run:${runId}`, '--workers', '2', '--out', path.join(home, 'ddp-out'));
  assert.equal(taken.status, 1);
  assert.match(taken.stderr, /other files in it/);
});
