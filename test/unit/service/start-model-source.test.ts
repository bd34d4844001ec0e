// Where a run's start model comes from: each kind of source (a run, a folder, a model.json file,
// an http address served on 127.0.0.1) read and checked into the same content-addressed copy, and
// each thing that can be wrong with one refused with a message that says what, before anything is
// written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../../../src/main/engine/models/build-model.js';
import { saveModelToDir } from '../../../src/main/engine/models/model-files.js';
import { UserError } from '../../../src/main/service/errors.js';
import {
  loadStartModel,
  startFromRecord,
  startModelProblem,
  storeStartModel,
  type LoadedStartModel,
  type LoadOptions,
} from '../../../src/main/service/start-model-source.js';
import type { StartFromRequest } from '../../../src/shared/fine-tuning.js';
import type { ModelKind } from '../../../src/shared/run-types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'start-model-source-'));
const IMAGE = { name: 'digits', inputShape: [12, 12, 1], normalization: { kind: 'scale' as const, scale: 1 / 255 } };
const CLASSES = ['cat', 'dog', 'owl'];

/** A model of this app, saved as the trainer saves one (format 1 metadata unless `metadata` says otherwise). */
async function savedModel(name: string, kind: ModelKind, metadata?: Record<string, unknown>): Promise<string> {
  const inputShape = kind === 'mlp' ? [6] : IMAGE.inputShape;
  const model = buildModel(kind, { inputShape, classes: CLASSES.length }, 1);
  const dir = path.join(tmp, name);
  await saveModelToDir(
    model,
    dir,
    metadata ?? { format: 'autobatch-model', formatVersion: 1, model: kind, classes: CLASSES, inputShape, normalization: IMAGE.normalization, runId: 7 },
  );
  model.dispose();
  return dir;
}

/** A copy of `dir` whose model.json is edited by `edit` (and written back). */
function edited(from: string, name: string, edit: (json: Record<string, unknown>) => void): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(from)) writeFileSync(path.join(dir, f), readFileSync(path.join(from, f)));
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  edit(json);
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

const noRuns: LoadOptions = {
  findRun: (id) => {
    throw new UserError(`no run ${id}`, 'startFrom.source');
  },
};
const load = (source: string, options: LoadOptions = noRuns, extra: Partial<StartFromRequest> = {}) => loadStartModel({ source, ...extra }, options);

/** The promise rejects with a UserError on startFrom.source whose message matches. */
async function refused(promise: Promise<unknown>, pattern: RegExp, field = 'startFrom.source'): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, String(err));
    assert.match(err.message, pattern);
    assert.equal(err.field, field);
    return true;
  });
}

let small: string;
let server: http.Server;
let base: string;
/** Requests the test server received, by path. */
const requests: string[] = [];

before(async () => {
  await tf.setBackend('cpu');
  small = await savedModel('small', 'small');
  // Serves tmp/ as files; /slow/… never answers; /notjson/model.json is HTML.
  server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '/');
    requests.push(url);
    if (url.startsWith('/slow/')) return; // holds the connection, sends nothing
    if (url === '/notjson/model.json') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end('<html><body>Sign in</body></html>');
    }
    const file = path.join(tmp, url);
    if (!file.startsWith(tmp) || !existsSync(file)) {
      res.writeHead(404);
      return res.end('not found');
    }
    res.writeHead(200);
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

test('a folder of an app export: its architecture, classes and run come from the metadata', async () => {
  const loaded = await load(small);
  assert.equal(loaded.sourceKind, 'folder');
  assert.equal(loaded.kind, 'small');
  assert.equal(loaded.runId, 7);
  assert.match(loaded.digest, /^[0-9a-f]{64}$/);
  assert.equal(loaded.metadata?.formatVersion, 1);
  const record = startFromRecord(loaded, 0.002);
  assert.equal(record.architecture, 'small');
  assert.deepEqual(record.classes, CLASSES);
  assert.deepEqual(record.inputShape, IMAGE.inputShape);
  assert.equal(record.blocks, loaded.anatomy.blocks.length);
  assert.ok(record.blocks >= 2, `blocks ${record.blocks}`);
  assert.equal(record.unfreeze, 0);
  assert.equal(record.batchNormTrained, false);
  assert.ok(Math.abs(record.fineTuneLearningRate - 0.0002) < 1e-12, String(record.fineTuneLearningRate));
  assert.equal(startFromRecord({ ...loaded, request: { source: small, unfreeze: 1, fineTuneLearningRate: 0.05 } }, 0.002).fineTuneLearningRate, 0.05);
});

test('a model.json path from elsewhere: weights in shards of a subfolder, resolved relative to it; classes numbered', async () => {
  const dir = path.join(tmp, 'foreign');
  mkdirSync(path.join(dir, 'shards'), { recursive: true });
  const json = JSON.parse(readFileSync(path.join(small, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[]; userDefinedMetadata?: unknown };
  const weights = readFileSync(path.join(small, 'weights.bin'));
  const half = Math.floor(weights.length / 2);
  writeFileSync(path.join(dir, 'shards', 'group1-shard1of2.bin'), weights.subarray(0, half));
  writeFileSync(path.join(dir, 'shards', 'group1-shard2of2.bin'), weights.subarray(half));
  json.weightsManifest[0]!.paths = ['shards/group1-shard1of2.bin', 'shards/group1-shard2of2.bin'];
  delete json.userDefinedMetadata;
  writeFileSync(path.join(dir, 'exported.json'), JSON.stringify(json));

  const loaded = await load(path.join(dir, 'exported.json'));
  assert.equal(loaded.sourceKind, 'file');
  assert.equal(loaded.kind, 'imported');
  assert.equal(loaded.metadata, null);
  assert.equal(loaded.runId, undefined);
  const record = startFromRecord(loaded, 1e-3);
  assert.equal(record.architecture, loaded.anatomy.name);
  assert.deepEqual(record.classes, ['class 0', 'class 1', 'class 2']);

  const models = path.join(tmp, 'store-foreign');
  const stored = storeStartModel(loaded, models);
  assert.deepEqual(readdirSync(path.join(stored, 'shards')).sort(), ['group1-shard1of2.bin', 'group1-shard2of2.bin']);
  // The copy is a model like any other: read back from the data folder, it has the same digest.
  assert.equal((await load(stored)).digest, loaded.digest);
});

test('an old export (classes, inputShape, normalization, runId; no format) is still read; a run source takes the run', async () => {
  const old = await savedModel('old', 'resnet-8', { classes: CLASSES, inputShape: IMAGE.inputShape, normalization: IMAGE.normalization, runId: 3 });
  const loaded = await load(old);
  assert.equal(loaded.metadata?.formatVersion, 0);
  assert.deepEqual(loaded.metadata?.classes, CLASSES);
  assert.equal(loaded.kind, 'imported'); // an old export does not say its architecture
  assert.equal(loaded.runId, 3);

  // As run 3 of this data folder, the run says what it is.
  const asRun = await load('3', { findRun: (id) => (id === 3 ? { dir: old, model: 'resnet-8' } : noRuns.findRun(id)) });
  assert.equal(asRun.sourceKind, 'run');
  assert.equal(asRun.kind, 'resnet-8');
  assert.equal(asRun.runId, 3);
  assert.equal(asRun.digest, loaded.digest);
  const record = startFromRecord({ ...asRun, request: { source: '3', unfreeze: 1 } }, 1e-3);
  assert.equal(record.batchNormTrained, true, 'the last block of a ResNet has batch norm');
  await refused(load('4', { findRun: (id) => (id === 3 ? { dir: old, model: 'resnet-8' } : noRuns.findRun(id)) }), /no run 4/);
});

test('an http address: model.json and its weights fetched relative to it, the same copy as from the folder', async () => {
  requests.length = 0;
  const loaded = await load(`${base}/small/model.json`);
  assert.equal(loaded.sourceKind, 'url');
  assert.equal(loaded.kind, 'small');
  assert.equal(loaded.digest, (await load(small)).digest);
  assert.deepEqual(requests, ['/small/model.json', '/small/weights.bin']);
});

test('an address that refuses, does not answer, answers 404 or is not JSON: each said so', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await refused(load(`http://127.0.0.1:${port}/model.json`), /connection to 127\.0\.0\.1:\d+ was refused/);

  const started = Date.now();
  await refused(load(`${base}/slow/model.json`, { ...noRuns, limits: { timeoutMs: 300 } }), /did not answer within 300 ms/);
  assert.ok(Date.now() - started < 5000, 'the time limit ends the wait');

  await refused(load(`${base}/missing/model.json`), /answered HTTP 404 Not Found/);
  await refused(load(`${base}/notjson/model.json`), /is not JSON .*Sign in/);
  await refused(load('ftp://127.0.0.1/model.json'), /only http:\/\/ and https:\/\//);
});

test('a missing weights file on a server: the 404 names the weights file', async () => {
  const dir = edited(small, 'no-weights-remote', (json) => {
    (json.weightsManifest as { paths: string[] }[])[0]!.paths = ['gone.bin'];
  });
  await refused(load(`${base}/${path.basename(dir)}/model.json`), /gone\.bin answered HTTP 404.*weights file gone\.bin/);
});

test('models that cannot be fine-tuned are refused with the reason', async () => {
  const graph = path.join(tmp, 'graph');
  mkdirSync(graph);
  writeFileSync(path.join(graph, 'model.json'), JSON.stringify({ format: 'graph-model', modelTopology: { node: [], versions: {} }, weightsManifest: [] }));
  await refused(load(graph), /is a TensorFlow graph model \(e\.g\. most TF Hub models\); tfjs cannot train one/);

  const mlp = await savedModel('mlp', 'mlp');
  await refused(load(mlp), /convolutional/);
});

test('broken files: missing, unreadable, not JSON, weights that do not match, paths out of the folder, too large', async () => {
  await refused(load(path.join(tmp, 'nowhere')), /cannot read .*nowhere: no such file or folder/);
  const empty = path.join(tmp, 'empty');
  mkdirSync(empty);
  await refused(load(empty), /cannot read model\.json .*empty.model\.json: no such file or folder/);

  const text = path.join(tmp, 'text.json');
  writeFileSync(text, 'not json at all');
  await refused(load(text), /text\.json is not JSON/);

  const truncated = edited(small, 'truncated', () => {});
  const w = readFileSync(path.join(truncated, 'weights.bin'));
  writeFileSync(path.join(truncated, 'weights.bin'), w.subarray(0, w.length - 4));
  await refused(load(truncated), new RegExp(`weights\\.bin holds ${w.length - 4} bytes, but the manifest's shapes and dtypes need ${w.length}`));

  const missing = edited(small, 'missing-weights', (json) => {
    (json.weightsManifest as { paths: string[] }[])[0]!.paths = ['other.bin'];
  });
  await refused(load(missing), /cannot read weights file .*other\.bin: no such file or folder/);

  for (const bad of ['../small/weights.bin', '/etc/passwd', 'a/../../x.bin', 'C:\\x.bin']) {
    const escaping = edited(small, `escape-${bad.replace(/[^a-z]/gi, '')}`, (json) => {
      (json.weightsManifest as { paths: string[] }[])[0]!.paths = [bad];
    });
    await refused(load(escaping), /weightsManifest\.0\.paths\.0: must be a path relative to model\.json, inside its folder/);
  }

  await refused(load(small, { ...noRuns, limits: { maxWeightsBytes: 1000 } }), /of weights, more than the .* a start model may have/);
  await refused(load(small, { ...noRuns, limits: { maxModelJsonBytes: 100 } }), /model\.json .* is .*, more than the 100 B a start model may have/);

  const badMeta = edited(small, 'bad-metadata', (json) => {
    (json.userDefinedMetadata as Record<string, unknown>).classes = 'cat';
  });
  await refused(load(badMeta), /userDefinedMetadata\.classes: /);
});

test('unfreeze beyond the blocks, a table dataset and differently scaled pixels are refused', async () => {
  const loaded = await load(small);
  assert.throws(
    () => startFromRecord({ ...loaded, request: { source: small, unfreeze: 99 } }, 1e-3),
    (err: unknown) =>
      err instanceof UserError && err.field === 'startFrom.unfreeze' && /has \d+ blocks in its backbone; unfreeze at most \d+/.test(err.message),
  );
  assert.equal(startModelProblem(loaded, IMAGE), null);
  assert.match(
    startModelProblem(loaded, { name: 'iris', inputShape: [4], normalization: { kind: 'standardize', mean: [0, 0, 0, 0], std: [1, 1, 1, 1] } })!,
    /dataset "iris" has a table \(4 features per row\), but a trained model's convolutional backbone takes images/,
  );
  assert.match(startModelProblem(loaded, { ...IMAGE, normalization: { kind: 'scale', scale: 1 } })!, /scaled differently/);
});

test('the copy: content-addressed, written whole, once', async () => {
  const loaded: LoadedStartModel = await load(small);
  const models = path.join(tmp, 'start-models');
  const dir = storeStartModel(loaded, models);
  assert.equal(dir, path.join(models, loaded.digest));
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  assert.deepEqual(readFileSync(path.join(dir, 'weights.bin')), readFileSync(path.join(small, 'weights.bin')));
  // Again (another run from the same model): the same folder, nothing else written.
  assert.equal(storeStartModel(await load(`${base}/small/model.json`), models), dir);
  assert.deepEqual(readdirSync(models), [loaded.digest]);
});
