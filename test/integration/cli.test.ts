// The `autobatch` command as a user runs it: JSON documents on stdout, one-line reasons and
// non-zero exits on failure, --help everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempHome } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/** `autobatch train` of the small MLP on the imported 'mnist' for two steps, with `extra` flags, as JSON. */
function trainTwoSteps(home: string, ...extra: string[]) {
  return cli(
    home,
    'train',
    '--dataset',
    'mnist',
    '--model',
    'mlp',
    '--batch-size',
    '32',
    '--epochs',
    '1',
    '--lr',
    '0.001',
    '--max-steps',
    '2',
    ...extra,
    '--json',
  );
}

test('import, train, list, show, export: a whole session from the command line', { timeout: 600_000 }, () => {
  const home = tempHome();
  const imp = cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '600', '--json');
  assert.equal(imp.code, 0, imp.stderr);
  const ds = imp.json();
  assert.equal(ds.name, 'mnist');
  // --json prints the API's own shapes (here DatasetDetail).
  assert.equal(ds.count, 600);
  assert.equal(ds.classes.length, 10);
  assert.deepEqual(ds.problems, []);

  const list = cli(home, 'datasets', 'list', '--json');
  assert.equal(list.json().length, 1);
  assert.equal(cli(home, 'datasets', 'show', 'mnist', '--json').json().id, ds.id);

  const train = cli(
    home,
    'train',
    '--dataset',
    'mnist',
    '--model',
    'small',
    '--batch-size',
    '32',
    '--epochs',
    '1',
    '--lr',
    '0.001',
    '--backend',
    'wasm',
    '--json',
  );
  assert.equal(train.code, 0, train.stderr);
  const run = train.json();
  assert.equal(run.status, 'completed');
  assert.equal(typeof run.bestValAccuracy, 'number');
  assert.ok(run.id >= 1);

  // Whatever the trainer's libraries print, stdout holds exactly one JSON document.
  const cpu = cli(
    home,
    'train',
    '--dataset',
    'mnist',
    '--model',
    'mlp',
    '--batch-size',
    '32',
    '--epochs',
    '1',
    '--lr',
    '0.001',
    '--backend',
    'cpu',
    '--max-steps',
    '2',
    '--json',
  );
  assert.equal(cpu.code, 0, cpu.stderr);
  assert.equal(cpu.json().status, 'completed');
  assert.equal(cpu.json().steps, 2);

  const runs = cli(home, 'runs', 'list', '--json').json();
  assert.equal(runs[1].id, run.id);
  const shown = cli(home, 'runs', 'show', String(run.id), '--json').json();
  assert.equal(shown.run.id, run.id);
  assert.equal(shown.epochs.length, 1);

  const csvFile = path.join(home, 'metrics.csv');
  assert.equal(cli(home, 'runs', 'export', String(run.id), '--csv', csvFile).code, 0);
  const lines = readFileSync(csvFile, 'utf8').trim().split('\n');
  assert.match(lines[0]!, /^step,epoch,time,loss,accuracy/);
  assert.equal(lines.length, 1 + Math.ceil(ds.split.trainCount / 32));

  const modelDir = path.join(home, 'exported-model');
  assert.equal(cli(home, 'models', 'export', String(run.id), modelDir).code, 0);
  assert.ok(existsSync(path.join(modelDir, 'model.json')) && existsSync(path.join(modelDir, 'weights.bin')));
});

test(
  'tune --mode full: one JSON document with the range test and the recommendation; --no-lr-search trusts --base-lr; --chart draws the range test',
  { timeout: 600_000 },
  () => {
    const home = tempHome();
    assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '1200', '--json').code, 0);
    const chart = path.join(home, 'curves.svg');
    // A ten-minute run: the search's allowance cuts no probe (planned on 10 epochs of 1 200 samples it would, by design).
    const full = cli(
      home,
      'tune',
      '--dataset',
      'mnist',
      '--model',
      'small',
      '--mode',
      'full',
      '--backend',
      'wasm',
      '--budget',
      '10m',
      '--chart',
      chart,
      '--json',
    );
    assert.equal(full.code, 0, full.stderr);
    const doc = full.json();
    assert.equal(doc.status, 'completed');
    // The API's TuningDetail: the report holds the recommendation, its reasons and the range test.
    for (const key of ['batchSize', 'learningRate', 'warmupSteps', 'expectedSamplesPerSecond', 'memoryCeiling', 'noiseScale'])
      assert.ok(key in doc.report.recommendation, key);
    assert.ok(doc.report.learningRateTest.rate > 0 && doc.report.learningRateTest.points.length >= 8);
    assert.ok(doc.trials.some((t: { kind: string }) => t.kind === 'learning-rate'));
    assert.ok(doc.report.reasons.some((r: string) => /learning-rate ramps/.test(r)));
    assert.equal(doc.report.allowance.plannedSeconds, 600);
    assert.deepEqual(doc.report.allowance.cuts, []);
    assert.match(readFileSync(chart, 'utf8'), /Learning-rate range test at batch \d+/);

    const trusted = cli(
      home,
      'tune',
      '--dataset',
      'mnist',
      '--model',
      'small',
      '--mode',
      'full',
      '--backend',
      'wasm',
      '--base-lr',
      '0.002',
      '--no-lr-search',
      '--budget',
      '10m',
      '--json',
    );
    assert.equal(trusted.code, 0, trusted.stderr);
    const t = trusted.json();
    assert.equal(t.report.learningRateTest, null);
    assert.ok(!t.trials.some((x: { kind: string }) => x.kind === 'learning-rate'));
    assert.ok(Math.abs(t.report.recommendation.learningRate - 0.002 * Math.sqrt(t.report.recommendation.batchSize / 32)) < 1e-12);
  },
);

test("the command line applies the app's settings: a run that names no backend takes the settings' one", { timeout: 300_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '200', '--json').code, 0);
  const set = cli(home, 'settings', '--backend', 'cpu', '--memory-budget', '512MiB', '--json');
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual({ backend: set.json().backend, budget: set.json().memoryBudgetBytes }, { backend: 'cpu', budget: 512 * 2 ** 20 });
  assert.equal(cli(home, 'settings', '--json').json().backend, 'cpu', 'kept in the data folder, as the app keeps it');
  const train = trainTwoSteps(home);
  assert.equal(train.code, 0, train.stderr);
  assert.equal(train.json().config.backend, 'cpu');
  assert.equal(train.json().backend, 'cpu');
  const flag = trainTwoSteps(home, '--backend', 'wasm');
  assert.equal(flag.json().config.backend, 'wasm', 'a flag still wins');
  const reset = cli(home, 'settings', '--memory-budget', 'device', '--json').json();
  assert.equal(reset.memoryBudgetBytes, null);
  assert.match(cli(home, 'settings', '--memory-budget', 'lots').stderr, /expected "device" or a size/);
});

test(
  'settings --python names the Python for PyTorch, --clear-python forgets it; --backends lists each rung with its engine and the PyTorch engine',
  { timeout: 120_000 },
  () => {
    const home = tempHome();
    const set = cli(home, 'settings', '--python', '  /nonexistent/bin/python3 ', '--json');
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.json().pythonPath, '/nonexistent/bin/python3', 'trimmed, and the JSON stays the settings alone');
    assert.equal(cli(home, 'settings', '--json').json().pythonPath, '/nonexistent/bin/python3', 'kept in the data folder');
    const empty = cli(home, 'settings', '--python', '   ');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--python <path>.*expected the path or command of a Python interpreter/);
    assert.match(cli(home, 'settings', '--python', 'python3', '--clear-python').stderr, /cannot be used with option '--clear-python'/);
    // In text, naming a Python shows what detection finds with it.
    const text = cli(home, 'settings', '--python', 'python3');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Python\s+python3 \(PyTorch engine/m);
    assert.match(text.stdout, /^Backend\s+Engine\s+Status\s+Device or reason$/m);
    assert.match(text.stdout, /^wasm\s+tfjs \(built in\)\s+available/m);
    assert.match(text.stdout, /^PyTorch engine$/m);
    const cleared = cli(home, 'settings', '--clear-python', '--json');
    assert.equal(cleared.json().pythonPath, null);
    const both = cli(home, 'settings', '--backends', '--json');
    assert.equal(both.code, 0, both.stderr);
    assert.equal(both.json().settings.pythonPath, null);
    assert.ok(both.json().backends.backends.some((r: { choice: string; engine: string }) => r.choice === 'wasm' && r.engine === 'tfjs'));
    assert.ok(Array.isArray(both.json().backends.python.candidates));
  },
);

test('datasets import sample:mnist --image-size 32x32 --image-fit pad --rgb: a 32×32×3 dataset a ResNet-20 trains on', { timeout: 300_000 }, () => {
  const home = tempHome();
  const imp = cli(home, 'datasets', 'import', 'sample:mnist', '--image-size', '32x32', '--image-fit', 'pad', '--rgb', '--limit', '200', '--json');
  assert.equal(imp.code, 0, imp.stderr);
  const ds = imp.json();
  assert.deepEqual(ds.inputShape, [32, 32, 3]);
  assert.equal(ds.count, 200);
  assert.deepEqual(ds.imageTransform, { fit: 'pad', sourceShape: [28, 28, 1] });
  assert.ok(ds.models.includes('resnet-20'), ds.models.join(', '));
  const show = cli(home, 'datasets', 'show', ds.name);
  assert.match(show.stdout, /200 samples of shape 32×32×3/);
  assert.match(show.stdout, /images: padded from 28×28 to 32×32 \(centred on black\); the grey channel copied into 3 \(RGB\)/);

  const train = cli(
    home,
    'train',
    '--dataset',
    ds.name,
    '--model',
    'resnet-20',
    '--batch-size',
    '16',
    '--epochs',
    '1',
    '--lr',
    '0.01',
    '--max-steps',
    '2',
    // wasm: the pure-JS cpu backend can take over the trainer's 120 s heartbeat for one ResNet-20 step on a busy 2-core machine
    '--backend',
    'wasm',
    // Augmented on the device inside the step; the level is stored and shown with the run.
    '--augment',
    'standard',
    '--json',
  );
  assert.equal(train.code, 0, train.stderr);
  assert.equal(train.json().steps, 2);
  assert.equal(train.json().config.augment, 'standard');
  assert.match(cli(home, 'runs', 'show', String(train.json().id)).stdout, /resnet-20 on ".*", batch 16, lr 0\.01 \(adam\), augment standard/);

  // Padding to less than 28×28 is refused, naming the option and both sizes; a fit that is none is a usage error.
  const small = cli(home, 'datasets', 'import', 'sample:mnist', '--image-size', '24x24', '--image-fit', 'pad', '--limit', '200', '--name', 'small');
  assert.equal(small.code, 1, small.stderr);
  assert.match(small.stderr, /imageSize.*24×24 is smaller than the sample images \(28×28×1\)/);
  const crop = cli(home, 'datasets', 'import', 'sample:mnist', '--image-size', '24x24', '--image-fit', 'crop');
  assert.notEqual(crop.code, 0);
  assert.match(crop.stderr, /--image-fit.*expected one of resize, pad, got "crop"/);
  assert.equal(cli(home, 'datasets', 'list', '--json').json().length, 1);
});

test('delete: asks or needs --yes, says what goes with it, and leaves nothing behind', { timeout: 300_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '200', '--json').code, 0);
  const train = () => trainTwoSteps(home, '--backend', 'cpu');
  const first = train().json();
  const second = train().json();

  // No terminal to ask on (this test's stdin is not one): nothing is deleted without --yes.
  const refused = cli(home, 'runs', 'delete', String(first.id));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`not deleting run ${first.id} without --yes`));
  assert.equal(cli(home, 'runs', 'list', '--json').json().length, 2);

  const gone = cli(home, 'runs', 'delete', String(first.id), '--yes', '--json');
  assert.equal(gone.code, 0, gone.stderr);
  assert.deepEqual({ runs: gone.json().runs, runIds: gone.json().runIds, dryRun: gone.json().dryRun }, { runs: 1, runIds: [first.id], dryRun: false });
  assert.deepEqual(
    cli(home, 'runs', 'list', '--json')
      .json()
      .map((r: { id: number }) => r.id),
    [second.id],
  );
  assert.equal(existsSync(path.join(home, 'artifacts', `run-${first.id}`)), false, "the run's folder is gone");
  const again = cli(home, 'runs', 'delete', String(first.id), '--yes');
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`no run "${first.id}"`));

  const words = cli(home, 'datasets', 'delete', 'mnist', '--yes');
  assert.equal(words.code, 0, words.stderr);
  assert.match(words.stdout, /^Deleted dataset "mnist" with its 1 run; .* freed\.$/m);
  assert.deepEqual(cli(home, 'datasets', 'list', '--json').json(), []);
  assert.deepEqual(cli(home, 'runs', 'list', '--json').json(), []);
  assert.match(cli(home, 'tunings', 'delete', '1', '--yes').stderr, /no tuning session "1"/);
});

test(
  "architectures: every model's parameters at the reference input and at a dataset's; model names with '-' and '.' work everywhere",
  { timeout: 300_000 },
  () => {
    const home = tempHome();
    const reference = cli(home, 'architectures', '--json');
    assert.equal(reference.code, 0, reference.stderr);
    const list = reference.json();
    // --json prints the API's ArchitectureList, exact counts included.
    assert.equal(list.dataset, null);
    assert.deepEqual([list.inputShape, list.classes], [[32, 32, 3], 10]);
    const count = (l: { models: { model: string; trainableParameters: number | null }[] }, m: string) =>
      l.models.find((a) => a.model === m)?.trainableParameters;
    assert.equal(count(list, 'resnet-20'), 272_474);
    assert.equal(count(list, 'mobilenet-1.0'), 2_236_682);
    assert.equal(count(list, 'resnet-18'), 11_181_642);
    assert.equal(list.models.length, 10);

    const table = cli(home, 'architectures');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /reference input 32×32×3 → 10 classes/);
    assert.match(table.stdout, /^MODEL +FAMILY +PARAMETERS +BATCH NORM +DESCRIPTION$/m);
    assert.match(table.stdout, /^resnet-20 +resnet +272 k +yes, batch ≥ 16 +CIFAR-style/m);
    assert.match(table.stdout, /^resnet-18 +resnet +11\.2 M +yes, batch ≥ 16 /m);
    assert.match(table.stdout, /^mobilenet-0\.5 +mobilenet +700 k /m);
    assert.match(table.stdout, /^small +cnn +16\.6 k +no +two 3×3/m);

    // At a dataset (by name or id): its input and classes, and whether each model fits.
    const ds = cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '100', '--json').json();
    const atMnist = cli(home, 'architectures', '--dataset', 'mnist', '--json').json();
    assert.deepEqual(atMnist.dataset, { id: ds.id, name: 'mnist' });
    assert.deepEqual([atMnist.inputShape, atMnist.classes], [[28, 28, 1], 10]);
    assert.ok(atMnist.models.every((a: { fits: boolean }) => a.fits));
    assert.deepEqual(cli(home, 'architectures', '--dataset', String(ds.id), '--json').json(), atMnist);
    const csv = path.join(home, 'table.csv');
    writeFileSync(csv, 'a,b,label\n' + Array.from({ length: 20 }, (_, i) => `${i},${i % 3},${i % 2 ? 'x' : 'y'}`).join('\n') + '\n');
    assert.equal(cli(home, 'datasets', 'import', csv, '--name', 'table', '--json').code, 0);
    const atTable = cli(home, 'architectures', '--dataset', 'table');
    assert.equal(atTable.code, 0, atTable.stderr);
    assert.match(atTable.stdout, /"table": 2 features → 2 classes/);
    assert.match(atTable.stdout, /^MODEL +FAMILY +PARAMETERS +BATCH NORM +FITS +DESCRIPTION$/m);
    assert.match(atTable.stdout, /^mlp +mlp +\d[\d.]* k? +no +yes +two hidden/m);
    assert.match(atTable.stdout, /^resnet-20 +resnet +— +yes, batch ≥ 16 +no +CIFAR-style/m);
    assert.match(atTable.stdout, /^mobilenet-0\.35 does not fit: the mobilenet-0\.35 model needs image inputs .*2 tabular features; use --model mlp$/m);
    const unknown = cli(home, 'architectures', '--dataset', 'nope', '--json');
    assert.equal(unknown.code, 1);
    assert.match(unknown.json().error, /no dataset "nope"/);

    // The new names as flags, in a stored run, in its filter and its export's file name.
    const run = cli(
      home,
      'train',
      '--dataset',
      'mnist',
      '--model',
      'resnet-8',
      '--batch-size',
      '16',
      '--epochs',
      '1',
      '--lr',
      '0.01',
      '--max-steps',
      '2',
      '--json',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.json().config.model, 'resnet-8');
    assert.deepEqual(
      cli(home, 'runs', 'list', '--model', 'resnet-8', '--json')
        .json()
        .map((r: { id: number }) => r.id),
      [run.json().id],
    );
    assert.deepEqual(cli(home, 'runs', 'list', '--model', 'mobilenet-0.5', '--json').json(), []);
    assert.match(cli(home, 'runs', 'list').stdout, /\bresnet-8\b/);
    const exported = path.join(home, 'resnet-8.csv');
    assert.equal(cli(home, 'runs', 'export', String(run.json().id), '--csv', exported).code, 0);
    assert.match(readFileSync(exported, 'utf8'), /^step,epoch/);
    const bad = cli(home, 'runs', 'list', '--model', 'resnet');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected one of .*resnet-20, .*mobilenet-0\.5, .*got "resnet"/);
  },
);

test('failures: non-zero exit, one-line reason, and a JSON error document', () => {
  const home = tempHome();
  const missing = cli(home, 'datasets', 'show', 'nope', '--json');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.json().error, /no dataset "nope"/);

  const badFlag = cli(home, 'train', '--dataset', 'x', '--model', 'huge', '--batch-size', '32', '--epochs', '1', '--lr', '0.001');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /--model.*expected one of small, large, mlp, resnet-8, .*, mobilenet-1\.0, got "huge"/);

  const badBatch = cli(home, 'train', '--dataset', 'x', '--model', 'small', '--batch-size', '0', '--epochs', '1', '--lr', '0.001');
  assert.equal(badBatch.code, 2);
  assert.match(badBatch.stderr, /batch-size/);

  for (const command of [['train', '--batch-size', '32', '--epochs', '1', '--lr', '0.001'], ['tune']]) {
    const badLevel = cli(home, ...command, '--dataset', 'x', '--model', 'small', '--augment', 'heavy');
    assert.equal(badLevel.code, 2);
    assert.match(badLevel.stderr, /--augment.*expected one of none, light, standard, got "heavy"/);
  }

  const dir = path.join(home, 'bad-csv');
  mkdirSync(dir);
  const csv = path.join(dir, 'data.csv');
  writeFileSync(csv, 'a,b,label\n1,2,x\n3,4,y\n5,oops,x\n6,7\n8,9,y\n10,11,x\n12,13,y\n');
  const bad = cli(home, 'datasets', 'import', csv, '--json');
  assert.equal(bad.code, 1);
  const doc = bad.json();
  assert.ok(doc.problems.length >= 2, JSON.stringify(doc));
  assert.ok(doc.problems.some((p: { row?: number }) => p.row === 4));
  assert.equal(cli(home, 'datasets', 'list', '--json').json().length, 0, 'a failed import stores nothing');
});

test('--help works on every command', () => {
  const home = tempHome();
  for (const args of [
    [],
    ['datasets'],
    ['datasets', 'import'],
    ['datasets', 'list'],
    ['datasets', 'show'],
    ['train'],
    ['runs'],
    ['runs', 'list'],
    ['runs', 'show'],
    ['runs', 'export'],
    ['models', 'export'],
    ['demo'],
    ['tune'],
    ['tunings', 'list'],
    ['tunings', 'show'],
    ['tunings', 'export'],
    ['tunings', 'plan'],
    ['runs', 'plan'],
    ['settings'],
    ['serve'],
    ['datasets', 'delete'],
    ['runs', 'delete'],
    ['tunings', 'delete'],
    ['architectures'],
    ['recipes'],
    ['recipes', 'export'],
  ]) {
    const r = cli(home, ...args, '--help');
    assert.equal(r.code, 0, `${args.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, /Usage: autobatch/);
  }
});

test('a reader that goes away (`autobatch … | head`) ends the command quietly, not with an EPIPE crash', async () => {
  const home = tempHome();
  const child = spawn(process.execPath, [bin, 'train', '--help'], { env: { ...process.env, AUTOBATCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // the reader is gone before the first write
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
});
