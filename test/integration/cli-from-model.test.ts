// `autobatch train --from-model` as a user runs it: from a run id and from an exported folder,
// the start model in the run header and in `runs show` ("Made with"), the refusals of flags that
// do not go together, and nothing stored by a start model that cannot be used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempHome } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'bin', 'autobatch.js');

function cli(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, AUTOBATCH_HOME: home }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

const SHORT = ['--batch-size', '16', '--epochs', '1', '--lr', '0.002', '--backend', 'wasm', '--max-steps', '3'];

test('train --from-model: a run id and an exported folder; shown in the header and in runs show; bad combinations refused', { timeout: 600_000 }, () => {
  const home = tempHome();
  assert.equal(cli(home, 'datasets', 'import', 'sample:mnist', '--limit', '300', '--json').code, 0);
  const first = cli(home, 'train', '--dataset', 'mnist', '--model', 'small', ...SHORT.slice(0, -2), '--json');
  assert.equal(first.code, 0, first.stderr);
  const firstId = first.json().id as number;

  const fromRun = cli(home, 'train', '--dataset', 'mnist', '--from-model', String(firstId), '--unfreeze', '1', '--fine-tune-lr', '0.0005', ...SHORT);
  assert.equal(fromRun.code, 0, fromRun.stderr);
  assert.match(fromRun.stderr, new RegExp(`Run \\d+: starting from small from run ${firstId}: last 1 of \\d+ blocks trained at lr 0\\.0005`));
  const id = Number(/^Run (\d+) completed/m.exec(fromRun.stdout)?.[1]);
  assert.ok(id > firstId, fromRun.stdout);

  const shown = cli(home, 'runs', 'show', String(id));
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /Made with:/);
  assert.match(shown.stdout, /settings +small, batch 16 \(evaluation 16\), 1 epoch, lr 0\.002 \(adam\)/);
  assert.match(shown.stdout, /augmentation +none/);
  assert.match(shown.stdout, new RegExp(`started from +small from run ${firstId}: last 1 of \\d+ blocks trained at lr 0\\.0005`));
  assert.match(shown.stdout, /tuning +—/);
  const detail = cli(home, 'runs', 'show', String(id), '--json').json();
  assert.equal(detail.run.config.startFrom.runId, firstId);
  assert.equal(detail.run.config.startFrom.fineTuneLearningRate, 0.0005);

  // An exported folder (a relative path, made absolute by the CLI): the same stored copy.
  const exported = path.join(home, 'exported');
  assert.equal(cli(home, 'models', 'export', String(firstId), exported).code, 0);
  const fromFolder = spawnSync(process.execPath, [bin, 'train', '--dataset', 'mnist', '--from-model', 'exported', ...SHORT, '--json'], {
    cwd: home,
    env: { ...process.env, AUTOBATCH_HOME: home },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(fromFolder.status, 0, fromFolder.stderr);
  const folderRun = JSON.parse(fromFolder.stdout) as { config: { startFrom: { sourceKind: string; source: string; digest: string; unfreeze: number } } };
  assert.equal(folderRun.config.startFrom.sourceKind, 'folder');
  assert.equal(folderRun.config.startFrom.source, exported);
  assert.equal(folderRun.config.startFrom.unfreeze, 0);
  assert.equal(folderRun.config.startFrom.digest, detail.run.config.startFrom.digest);

  // Refusals: one line each, and nothing stored.
  const runs = cli(home, 'runs', 'list', '--json').json().length;
  const models = readdirSync(path.join(home, 'start-models'));
  const mismatch = cli(home, 'train', '--dataset', 'mnist', '--model', 'large', '--from-model', String(firstId), ...SHORT);
  assert.notEqual(mismatch.code, 0);
  assert.match(mismatch.stderr, /starts from a small model, so its model is small, not large/);
  const stray = cli(home, 'train', '--dataset', 'mnist', '--model', 'small', '--unfreeze', '1', ...SHORT);
  assert.notEqual(stray.code, 0);
  assert.match(stray.stderr, /--unfreeze needs --from-model/);
  const noModel = cli(home, 'tune', '--dataset', 'mnist');
  assert.notEqual(noModel.code, 0);
  assert.match(noModel.stderr, /missing --model \(or start from a trained model with --from-model\)/);
  const graph = path.join(home, 'graph');
  mkdirSync(graph);
  writeFileSync(path.join(graph, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] }));
  for (const cmd of [
    ['train', ...SHORT],
    ['tune', '--mode', 'quick'],
  ]) {
    const refused = cli(home, cmd[0]!, '--dataset', 'mnist', '--from-model', graph, ...cmd.slice(1));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /is a TensorFlow graph model \(e\.g\. most TF Hub models\); tfjs cannot train one/);
  }
  assert.equal(cli(home, 'runs', 'list', '--json').json().length, runs);
  assert.deepEqual(readdirSync(path.join(home, 'start-models')), models);
  assert.equal(cli(home, 'tunings', 'list', '--json').json().length, 0);
});
