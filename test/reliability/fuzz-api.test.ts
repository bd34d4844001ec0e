// Fuzzing every API call: ≥ 10 000 malformed payloads through the direct transport (what IPC and
// the CLI use) and ≥ 10 000 over a WebSocket of a real `serve` server, plus malformed envelopes
// and frames. Each must be answered with an error and a message (naming the field for bad
// params), and none may reach the service: every method of the service and of its store's
// repositories is counted, and the count must stay 0. RELIABILITY_SEED=<n> replays a run.
//
// Those payloads are invalid by the very schemas the dispatcher checks with, so they cannot find
// a check the schemas lack. The last tests make payloads from a hand-made description of every
// field (api-fields.ts) instead, and send them to a service with real rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { z } from 'zod';
import {
  API_METHODS,
  ApiError,
  decodeWire,
  encodeWire,
  METHOD_NAMES,
  WS_PATH,
  TOKEN_PARAM,
  type ApiErrorCode,
  type MethodName,
  type WireResponse,
} from '../../src/shared/api/index.js';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import { createDirectApi } from '../../src/main/service/api-direct.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { startAppServer } from '../../src/main/server/app-server.js';
import { EXTRA_FIELDS, METHOD_SPECS, namePathProbes, NOT_OBJECTS, wrongValues, type FieldSpec, type MethodSpec, type Rows } from './api-fields.js';
import { removeDir, seededRandom, tempDir } from './helpers.js';

const PAYLOADS = Number(process.env.RELIABILITY_API_PAYLOADS ?? 10_000);

/** A valid example of every call's params: the fuzzer breaks one thing in it at a time. */
const EXAMPLES: Record<MethodName, Record<string, unknown>> = {
  listDatasets: {},
  getDataset: { dataset: 1, previewsPerClass: 4 },
  importDataset: {
    source: '/tmp/data.csv',
    name: 'n',
    importId: 'i',
    labelColumn: 'label',
    imageSize: [28, 28],
    imageFit: 'pad',
    grayscale: true,
    skipBad: true,
    validationFraction: 0.2,
    seed: 1,
    limit: 100,
  },
  importSample: { sample: 'mnist', name: 'n', limit: 100 },
  deleteDataset: { dataset: 1, dryRun: true },
  listArchitectures: { dataset: 1 },
  startTuning: {
    dataset: 1,
    model: 'mlp',
    mode: 'quick',
    backend: 'cpu',
    optimizer: 'adam',
    memoryBudgetBytes: 1e9,
    plannedEpochs: 3,
    baseBatchSize: 32,
    baseLearningRate: 1e-3,
    seed: 1,
  },
  stopTuning: { sessionId: 1 },
  getTuning: { sessionId: 1 },
  listTunings: { dataset: 1, status: 'running' },
  deleteTuning: { sessionId: 1, dryRun: true },
  tuningTrialRows: { sessionId: 1 },
  exportTuningCsv: { sessionId: 1 },
  checkTuning: { sessionId: 1, dataset: 1, config: { model: 'mlp', augment: 'none', backend: 'cpu' } },
  scaleOutPlan: { kind: 'tuning', id: 1 },
  startTraining: {
    dataset: 1,
    fromTuning: 1,
    config: { model: 'mlp', batchSize: 32, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'cpu', seed: 1 },
    maxSteps: 5,
  },
  stopTraining: { runId: 1 },
  resumeTraining: { runId: 1 },
  activeRuns: {},
  listRuns: { dataset: 1, model: 'mlp', status: 'completed' },
  getRun: { runId: 1, maxPoints: 100, misclassifiedLimit: 10 },
  compareRuns: { runIds: [1, 2], metric: 'loss', maxPoints: 100 },
  exportRunCsv: { runId: 1 },
  exportModel: { runId: 1 },
  exportRecipe: { source: { kind: 'run', id: 1 }, workers: 2, withWeights: true, out: '/tmp/autobatch-fuzz-recipe' },
  deleteRun: { runId: 1, dryRun: true },
  importRunMetrics: { path: '/tmp/metrics.jsonl', partial: true },
  getSettings: {},
  updateSettings: { memoryBudgetBytes: 1e9, backend: 'cpu' },
  detectBackends: { refresh: false },
  chooseFolder: { title: 't' },
  chooseFile: { title: 't' },
  saveExport: { runId: 1, kind: 'csv' },
};

/** Values that are wrong for most fields: other types, out-of-range numbers, absurd strings, prototype tricks. */
const BAD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0.0001,
  2 ** 53,
  -(2 ** 53),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e308,
  '',
  ' ',
  'x'.repeat(5000),
  '1',
  'NaN',
  '../../etc/passwd',
  '\u0000',
  '🐱',
  'DROP TABLE runs;',
  '__proto__',
  [],
  [1],
  [null],
  [[[]]],
  {},
  { a: 1 },
  { __proto__: { admin: true } },
  { constructor: { prototype: {} } },
  new Array(10_000).fill(1),
];

type Rnd = ReturnType<typeof seededRandom>;

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** One malformed params value for `method` (checked to be invalid by the caller). */
function malformedParams(rnd: Rnd, method: MethodName): unknown {
  const base = clone(EXAMPLES[method]);
  switch (rnd.int(0, 9)) {
    case 0: // not an object at all
      return rnd.pick([null, 42, 'params', [], [base], true, Number.NaN]);
    case 1: // an unknown field (a typo, or an attempt to slip something in)
      return { ...base, [rnd.pick(['bogus', 'runID', '__proto__', 'constructor', 'isAdmin', 'home', 'spawn', ''])]: rnd.pick(BAD_VALUES) };
    case 2: // a required field missing (all of them, if none is required this is {} → valid → skipped)
      return Object.fromEntries(Object.entries(base).filter(() => rnd.next() < 0.3));
    case 3: // a nested config field broken
      if (method === 'startTraining') {
        const config = base.config as Record<string, unknown>;
        config[rnd.pick(Object.keys(config).concat('nonsense'))] = rnd.pick(BAD_VALUES);
        return base;
      }
      return breakFields(rnd, base);
    default:
      return breakFields(rnd, base);
  }
}

/** One to three fields set to a wrong value. */
function breakFields(rnd: Rnd, base: Record<string, unknown>): unknown {
  const keys = Object.keys(base);
  if (keys.length === 0) return { [rnd.pick(['x', 'runId', 'dataset'])]: rnd.pick(BAD_VALUES) };
  const n = rnd.int(1, Math.min(3, keys.length));
  for (let i = 0; i < n; i++) base[rnd.pick(keys)] = rnd.pick(BAD_VALUES);
  return base;
}

/** Envelopes that are malformed themselves (not JSON objects, bad ids, unknown methods…). */
function malformedEnvelope(rnd: Rnd, id: number): unknown {
  return rnd.pick<() => unknown>([
    () => null,
    () => [id, 'listRuns'],
    () => ({ method: 'listRuns', params: {} }), // no id
    () => ({ id: { x: 1 }, method: 'listRuns' }),
    () => ({ id: 1.5, method: 'listRuns' }),
    () => ({ id, method: rnd.pick(['', 'nope', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'close', 'service', 'x'.repeat(101)]) }),
    () => ({ id, method: 42 }),
    () => ({ id, method: 'listRuns', params: {}, extra: true }),
    () => ({ id: 'x'.repeat(101), method: 'listRuns' }),
  ])();
}

/** Counts every call into the service and its store; returns the counter. */
function spyOnService(service: AutoBatchService): Map<string, number> {
  const calls = new Map<string, number>();
  const wrap = (obj: object, label: string) => {
    let proto = Object.getPrototypeOf(obj) as object | null;
    while (proto && proto !== Object.prototype && proto.constructor.name !== 'EventEmitter') {
      for (const name of Object.getOwnPropertyNames(proto)) {
        // Methods only: a getter (paths) read on the prototype has no service behind it.
        const fn = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
        if (name === 'constructor' || typeof fn !== 'function') continue;
        Object.defineProperty(obj, name, {
          configurable: true,
          value: (...args: unknown[]) => {
            calls.set(`${label}.${name}`, (calls.get(`${label}.${name}`) ?? 0) + 1);
            return (fn as (...a: unknown[]) => unknown).apply(obj, args);
          },
        });
      }
      proto = Object.getPrototypeOf(proto) as object | null;
    }
  };
  // The store is the service's own (private): nothing reaches it but through these methods.
  wrap(service, 'service');
  return calls;
}

function isInvalid(method: MethodName, params: unknown): boolean {
  return !(API_METHODS[method].params as z.ZodType).safeParse(params ?? {}).success;
}

function checkRejection(res: WireResponse, what: string): void {
  assert.equal(res.ok, false, `${what} was accepted`);
  if (res.ok) return;
  assert.ok(['invalid-params', 'unknown-method'].includes(res.error.code), `${what}: code ${res.error.code} (${res.error.message})`);
  assert.ok(res.error.message.length > 5 && !/\[object /.test(res.error.message), `${what}: unclear message ${res.error.message}`);
  if (res.error.field)
    assert.ok(res.error.message.includes(res.error.field.split('.')[0]!), `${what}: the message does not name ${res.error.field}: ${res.error.message}`);
}

async function withService<T>(fn: (service: AutoBatchService, dispatcher: ApiDispatcher) => Promise<T>): Promise<T> {
  const home = tempDir('autobatch-apifuzz-');
  const service = new AutoBatchService({ home });
  const dispatcher = new ApiDispatcher(service);
  try {
    return await fn(service, dispatcher);
  } finally {
    dispatcher.close();
    await service.close();
    removeDir(home);
  }
}

/** The generated requests: mostly malformed params of every method, some malformed envelopes. */
function* requests(rnd: Rnd, count: number): Generator<{ envelope: unknown; method?: MethodName; what: string }> {
  let made = 0;
  let id = 0;
  while (made < count) {
    id++;
    if (rnd.next() < 0.1) {
      made++;
      const envelope = malformedEnvelope(rnd, id);
      yield { envelope, what: `envelope ${JSON.stringify(envelope)?.slice(0, 200)}` };
      continue;
    }
    const method = METHOD_NAMES[id % METHOD_NAMES.length]!;
    // As the payload travels (the wire's JSON, which keeps NaN and ±Infinity): an object with an
    // odd prototype arrives as a plain object, a "__proto__" key as an own property.
    const params = decodeWire(encodeWire(malformedParams(rnd, method)));
    if (!isInvalid(method, params)) continue; // the mutation happened to be valid: not a malformed payload
    made++;
    yield { envelope: { id, method, params }, method, what: `${method}(${String(JSON.stringify(params)).slice(0, 200)})` };
  }
}

test('every API method has a fuzzing example, and the examples are valid', () => {
  assert.deepEqual(Object.keys(EXAMPLES).sort(), [...METHOD_NAMES].sort());
  for (const m of METHOD_NAMES) assert.ok(!isInvalid(m, EXAMPLES[m]), `${m} example is invalid`);
});

test(`${PAYLOADS} malformed payloads through the direct transport: all rejected, none reaches the service`, { timeout: 120_000 }, async () => {
  const rnd = seededRandom();
  console.log(`# seed ${rnd.seed}`);
  await withService(async (service, dispatcher) => {
    const calls = spyOnService(service);
    const api = createDirectApi(dispatcher);
    const perMethod = new Map<string, number>();
    let withField = 0;
    for (const r of requests(rnd, PAYLOADS)) {
      // The envelope straight into the dispatcher (what IPC hands it) …
      const res = await dispatcher.dispatch(r.envelope);
      checkRejection(res, r.what);
      if (!res.ok && res.error.field) withField++;
      // … and the same params through the typed client of the direct transport.
      if (r.method) {
        perMethod.set(r.method, (perMethod.get(r.method) ?? 0) + 1);
        const params = (r.envelope as { params: unknown }).params;
        await assert.rejects(
          (api[r.method] as (p: unknown) => Promise<unknown>)(params),
          (e: unknown) => e instanceof ApiError && e.code === 'invalid-params' && e.message.startsWith(`invalid ${r.method} request: `),
          r.what,
        );
      }
    }
    assert.deepEqual([...calls], [], 'no malformed call reached the service or the store');
    await api.listRuns({});
    assert.equal(calls.get('service.listRuns'), 1, 'the spy sees a call that does reach the service');
    assert.deepEqual([...perMethod.keys()].sort(), [...METHOD_NAMES].sort(), 'every method was fuzzed');
    console.log(
      `# ${PAYLOADS} payloads; ${Math.min(...perMethod.values())}–${Math.max(...perMethod.values())} per method; ${withField} answers named the field`,
    );
    assert.ok(withField > PAYLOADS * 0.5, 'most answers name the bad field');
  });
});

test(`${PAYLOADS} malformed payloads over the WebSocket of a real server: all rejected, none reaches the service`, { timeout: 120_000 }, async () => {
  const rnd = seededRandom();
  console.log(`# seed ${rnd.seed}`);
  await withService(async (service, dispatcher) => {
    const server = await startAppServer({ dispatcher, port: 0 });
    const calls = spyOnService(service);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(server.token)}`);
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      const answers: WireResponse[] = [];
      ws.on('message', (data) => {
        const msg = decodeWire(data.toString()) as WireResponse | { event: string };
        if ('ok' in msg) answers.push(msg);
      });
      const sent: string[] = [];
      // Raw frames that are not even JSON requests.
      const raw = [
        '',
        'not json',
        '{',
        '[]',
        'null',
        '{"id":1,"method":"listRuns","params":{}',
        '\u0000\u0001',
        '{"$num":"NaN"}',
        JSON.stringify({ id: 1, method: 'getRun', params: { runId: { $num: 'NaN' } } }),
      ];
      for (const text of raw) {
        ws.send(text);
        sent.push(`raw ${JSON.stringify(text)}`);
      }
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
      sent.push('a binary frame');
      for (const r of requests(rnd, PAYLOADS)) {
        ws.send(encodeWire(r.envelope));
        sent.push(r.what);
      }
      const deadline = Date.now() + 60_000;
      while (answers.length < sent.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(answers.length, sent.length, 'one answer per message');
      // Answers to requests with a usable id come back in order of their ids; check every one.
      answers.forEach((a, i) => checkRejection(a, `message ${i}`));
      assert.deepEqual([...calls], [], 'no malformed call reached the service or the store');
      assert.equal(ws.readyState, WebSocket.OPEN, 'the connection survives malformed input');
      // And it still works for a valid call afterwards.
      ws.send(encodeWire({ id: 'after', method: 'listRuns', params: {} }));
      while (!answers.some((a) => a.id === 'after') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const after = answers.find((a) => a.id === 'after');
      assert.ok(after?.ok, 'a valid call after the fuzzing is answered');
      assert.equal(calls.get('service.listRuns'), 1, 'the spy sees a call that does reach the service');
      console.log(`# ${sent.length} messages over one WebSocket, all rejected`);
    } finally {
      ws.close();
      await server.close();
    }
  });
});

// ---- Payloads made without the contract's schemas ------------------------------------------
//
// From api-fields.ts, a hand-made description of what every field must be: every wrong value of
// every field once, each required field missing, unknown fields, non-object params, then
// RELIABILITY_API_INDEPENDENT (3000) random mixes of one to three wrong fields — against a
// service with real rows, so ids that exist and ids that do not are both sent. Each answer must
// be invalid-params, not-found or rejected (the contract's "conflict": understood but not
// possible now), naming one of the broken fields; after it every table's row count and the
// data folder's files (recursive, with sizes) must be as before, and nothing may appear outside
// the data folder. Well-formed requests that cannot be done with these rows (stop a finished
// run, train an image model on a table…) must be rejected the same way, and dataset names that
// look like paths out of the data folder must stay labels. Last, deletions that must succeed: dry
// runs change nothing, and deleting a dataset removes its row and cache folder only.

const INDEPENDENT_PAYLOADS = Number(process.env.RELIABILITY_API_INDEPENDENT ?? 3000);

/** One payload made from the hand-made description, and the answers it may get. */
interface Probe {
  method: string;
  params: unknown;
  /** The fields it breaks: the answer must name one of them (or a part of it: 'imageSize.0'); '' = the params as a whole. */
  fields: string[];
  codes: readonly ApiErrorCode[];
}

/** A small valid CSV (two classes, 40 rows) and one that is no dataset. */
function writeCsvs(outside: string): { goodCsv: string; badCsv: string } {
  mkdirSync(outside, { recursive: true });
  const goodCsv = path.join(outside, 'table.csv');
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 1.5 : -0.5},${i % 2 ? 'odd' : 'even'}`);
  writeFileSync(goodCsv, ['a,b,c,label', ...rows].join('\n') + '\n');
  const badCsv = path.join(outside, 'bad.csv');
  writeFileSync(badCsv, 'a,b,label\n');
  return { goodCsv, badCsv };
}

/** A service on <root>/home with real rows: two datasets, a completed and a stopped run, a completed and a stopped Auto-tune session. */
async function serviceWithRows(root: string): Promise<{ service: AutoBatchService; rows: Rows }> {
  const home = path.join(root, 'home');
  const outside = path.join(root, 'outside');
  const { goodCsv, badCsv } = writeCsvs(outside);
  const service = new AutoBatchService({ home });
  const images = await service.importDataset('sample:mnist', { name: 'digits', limit: 200 });
  // Imported from outside the data folder: a source may be any path.
  const table = await service.importDataset(goodCsv, { name: 'table' });
  const config = { model: 'mlp' as const, backend: 'cpu' as const, epochs: 1, batchSize: 16 };
  const run = await service.startTraining({ dataset: images.id, config, maxSteps: 2 }).done;
  assert.equal(run.status, 'completed');
  const stopping = service.startTraining({ dataset: images.id, config, maxSteps: 2 });
  service.stopRun(stopping.runId);
  await stopping.done;
  const tuning = await service.startTuning({ dataset: images.id, model: 'mlp', mode: 'quick', backend: 'cpu', plannedEpochs: 1 }).done;
  assert.equal(tuning.status, 'completed');
  const stoppingTuning = service.startTuning({ dataset: images.id, model: 'mlp', mode: 'quick', backend: 'cpu', plannedEpochs: 1 });
  service.stopTuning(stoppingTuning.sessionId);
  const stoppedTuning = await stoppingTuning.done;
  assert.equal(stoppedTuning.report, null);
  return {
    service,
    rows: {
      images: { id: images.id, name: images.name },
      table: { id: table.id, name: table.name },
      run: run.id,
      stoppedRun: stopping.runId,
      tuning: tuning.id,
      stoppedTuning: stoppedTuning.id,
      home: service.paths.home,
      outside,
      goodCsv,
      badCsv,
    },
  };
}

/** Every table's row count and every file and folder under `dir` (with sizes; the database's own files aside). */
class StateProbe {
  private readonly db: Database.Database;
  private readonly tables: string[];

  constructor(
    databaseFile: string,
    private readonly dir: string,
  ) {
    this.db = new Database(databaseFile, { readonly: true, fileMustExist: true });
    this.tables = (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    assert.ok(this.tables.length >= 5, `the store's tables: ${this.tables.join(', ')}`);
  }

  rowCounts(): Record<string, number> {
    return Object.fromEntries(this.tables.map((t) => [t, (this.db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n]));
  }

  take(): { rows: Record<string, number>; files: string[] } {
    return { rows: this.rowCounts(), files: listFiles(this.dir) };
  }

  close(): void {
    this.db.close();
  }
}

function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((rel) => {
      const st = statSync(path.join(dir, rel));
      return st.isDirectory() ? `${rel}/` : /autobatch\.db(-wal|-shm)?$/.test(rel) ? rel : `${rel} ${st.size}`;
    })
    .sort();
}

/** The parts of a state that changed: '' when none. */
function stateDiff(before: ReturnType<StateProbe['take']>, after: ReturnType<StateProbe['take']>): string {
  const out: string[] = [];
  for (const [t, n] of Object.entries(after.rows)) if (before.rows[t] !== n) out.push(`${t}: ${before.rows[t]} → ${n} rows`);
  const gone = before.files.filter((f) => !after.files.includes(f));
  const added = after.files.filter((f) => !before.files.includes(f));
  if (gone.length) out.push(`files gone: ${gone.slice(0, 5).join(', ')}`);
  if (added.length) out.push(`files added: ${added.slice(0, 5).join(', ')}`);
  return out.join('; ');
}

/** Sets `key` as an own, enumerable property ('__proto__' included). */
function withKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  return obj;
}

/** Sets a dotted field ('config.batchSize') of a copy of `base`; undefined deletes it. */
function setField(base: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const out = structuredClone(base);
  const [head, sub] = dotted.split('.') as [string, string | undefined];
  if (sub === undefined) {
    if (value === undefined) delete out[head];
    else withKey(out, head, value);
    return out;
  }
  const inner = (out[head] ?? {}) as Record<string, unknown>;
  if (value === undefined) delete inner[sub];
  else withKey(inner, sub, value);
  out[head] = inner;
  return out;
}

/** Every (dotted) field of a method with the spec that describes it. */
function fieldsOf(spec: MethodSpec): [string, FieldSpec][] {
  return Object.entries(spec.fields).flatMap(([name, f]) => [
    [name, f] as [string, FieldSpec],
    ...(f.kind.t === 'object' ? Object.entries(f.kind.fields).map(([sub, sf]) => [`${name}.${sub}`, sf] as [string, FieldSpec]) : []),
  ]);
}

/** What `codes` become for a call only the desktop app implements: well-formed params are answered 'unavailable' elsewhere. */
function codesFor(spec: MethodSpec, codes: readonly ApiErrorCode[]): readonly ApiErrorCode[] {
  return spec.desktopOnly ? [...new Set(codes.map((c) => (c === 'invalid-params' ? c : 'unavailable')))] : codes;
}

/** The base, with a right value for the object that a dotted field is in when the base has none (api-fields.ts `template`). */
function baseFor(spec: MethodSpec, base: Record<string, unknown>, field: string, rows: Rows): Record<string, unknown> {
  const head = field.split('.')[0]!;
  const kind = spec.fields[head]?.kind;
  if (!field.includes('.') || base[head] !== undefined || kind?.t !== 'object' || !kind.template) return base;
  return { ...base, [head]: kind.template(rows) };
}

/** Every wrong value of every field once, every required field missing, every extra field, params that are no object. */
function* everyWrongField(rows: Rows): Generator<Probe> {
  for (const [method, spec] of Object.entries(METHOD_SPECS)) {
    const base = spec.base(rows);
    for (const [field, f] of fieldsOf(spec)) {
      for (const w of wrongValues(f.kind, rows)) {
        if (w.value === null && f.nullable) continue;
        yield {
          method,
          params: setField(baseFor(spec, base, field, rows), field, w.value),
          fields: [w.at === undefined ? field : `${field}.${w.at}`],
          codes: codesFor(spec, w.codes),
        };
      }
      if (f.required) yield { method, params: setField(base, field, undefined), fields: [field], codes: ['invalid-params'] };
      if (f.unless) yield { method, params: setField(setField(base, field, undefined), f.unless, undefined), fields: [field], codes: ['invalid-params'] };
      if (f.kind.t === 'object')
        for (const extra of EXTRA_FIELDS)
          yield {
            method,
            params: setField(baseFor(spec, base, `${field}.${extra}`, rows), `${field}.${extra}`, 1),
            fields: [`${field}.${extra}`],
            codes: ['invalid-params'],
          };
    }
    for (const extra of EXTRA_FIELDS) yield { method, params: withKey(structuredClone(base), extra, 1), fields: [extra], codes: ['invalid-params'] };
    for (const value of NOT_OBJECTS) yield { method, params: value, fields: [''], codes: ['invalid-params'] };
  }
}

/** Random mixes: one to three wrong fields of a random call, sometimes an extra field too. */
function* randomWrongFields(rows: Rows, rnd: Rnd, count: number): Generator<Probe> {
  const methods = Object.keys(METHOD_SPECS).filter((m) => Object.keys(METHOD_SPECS[m]!.fields).length > 0);
  for (let made = 0; made < count; made++) {
    const method = rnd.pick(methods);
    const spec = METHOD_SPECS[method]!;
    let params = spec.base(rows);
    const fields: string[] = [];
    const codes = new Set<ApiErrorCode>();
    const all = fieldsOf(spec);
    for (let n = rnd.int(1, Math.min(3, all.length)); n > 0; n--) {
      const [field, f] = rnd.pick(all);
      if (fields.some((b) => b === field || field.startsWith(`${b}.`) || b.startsWith(`${field}.`))) continue;
      const w = rnd.pick(wrongValues(f.kind, rows).filter((v) => !(v.value === null && f.nullable)));
      params = setField(baseFor(spec, params, field, rows), field, w.value);
      fields.push(w.at === undefined ? field : `${field}.${w.at}`);
      for (const c of codesFor(spec, w.codes)) codes.add(c);
    }
    if (rnd.next() < 0.2) {
      const extra = rnd.pick(EXTRA_FIELDS);
      params = withKey(params, extra, rnd.pick([1, null, 'x', { a: 1 }]));
      fields.push(extra);
      codes.add('invalid-params');
    }
    yield { method, params, fields, codes: [...codes] };
  }
}

/** Why an answer to `probe` is wrong, or undefined. */
function answerProblem(res: WireResponse, probe: Probe): string | undefined {
  if (res.ok) return 'accepted';
  const { code, field, message } = res.error;
  if (!probe.codes.includes(code)) return `answered ${code}, expected ${probe.codes.join('/')}: ${message}`;
  if (code === 'unavailable') return undefined;
  if (probe.fields.includes('')) return /params/.test(message) ? undefined : `the message does not say the params are wrong: ${message}`;
  if (!field) return `no field named: ${message}`;
  if (!probe.fields.some((f) => field === f || field.startsWith(`${f}.`))) return `names ${field}, not ${probe.fields.join(' or ')}: ${message}`;
  if (!message.includes(field.split('.')[0]!)) return `the message does not name ${field}: ${message}`;
  return undefined;
}

function describeProbe(method: string, params: unknown): string {
  let text: string;
  try {
    text = encodeWire(params) ?? String(params);
  } catch {
    text = String(params);
  }
  return `${method}(${text.length > 300 ? `${text.slice(0, 300)}…` : text})`;
}

/** Where the path probes' names would land if a name were used as a path: nothing may appear there. */
function escapesOf(token: string, root: string): string[] {
  const places = [root, path.dirname(root), path.parse(root).root, os.homedir(), os.tmpdir(), process.cwd()];
  return places.map((dir) => path.join(dir, `escape-${token}`));
}

test('the hand-made description covers every API method and field', () => {
  assert.deepEqual(Object.keys(METHOD_SPECS).sort(), [...METHOD_NAMES].sort());
  for (const m of METHOD_NAMES) {
    // Only the field names are compared with the contract; what each field must be is the description's own.
    const shape = (API_METHODS[m].params as unknown as { shape: Record<string, unknown> }).shape;
    assert.deepEqual(Object.keys(METHOD_SPECS[m]!.fields).sort(), Object.keys(shape).sort(), `${m}'s fields`);
  }
});

test(
  `payloads from a hand-made description of every field, against real rows: rejected with the field named, nothing stored`,
  { timeout: 300_000 },
  async () => {
    const rnd = seededRandom();
    console.log(`# seed ${rnd.seed}`);
    const root = tempDir('autobatch-apifuzz-');
    const token = `${rnd.seed}-${process.pid}`;
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => crashes.push(err);
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    const started = Date.now();
    let service: AutoBatchService | undefined;
    let dispatcher: ApiDispatcher | undefined;
    let state: StateProbe | undefined;
    try {
      const made = await serviceWithRows(root);
      const rows = made.rows;
      service = made.service;
      const setupMs = Date.now() - started;
      dispatcher = new ApiDispatcher(service, { validateResults: true });
      state = new StateProbe(service.paths.database, rows.home);
      const outsideFiles = listFiles(rows.outside);
      const findings: string[] = [];
      const perCode = new Map<string, number>();
      let sent = 0;
      let before = state.take();

      const send = async (method: string, params: unknown): Promise<WireResponse> => {
        const res = await dispatcher!.dispatch({ id: ++sent, method, params });
        const key = res.ok ? 'ok' : res.error.code;
        perCode.set(key, (perCode.get(key) ?? 0) + 1);
        return res;
      };
      /** Sends a probe that must be rejected with no row or file changed. */
      const mustReject = async (probe: Probe) => {
        const res = await send(probe.method, probe.params);
        const problem = answerProblem(res, probe);
        const after = state!.take();
        const changed = stateDiff(before, after);
        if (problem || changed)
          findings.push(`${describeProbe(probe.method, probe.params)}: ${[problem, changed && `changed ${changed}`].filter(Boolean).join('; ')}`);
        before = after;
      };

      // 1. Wrong payloads.
      const probes = [...everyWrongField(rows), ...randomWrongFields(rows, rnd, INDEPENDENT_PAYLOADS)];
      for (const probe of probes) await mustReject(probe);

      // 2. Right requests that cannot be done with these rows: 'conflict' where the state forbids
      // them (not running, a name in use, no model yet), 'rejected' where what they name cannot be used.
      const conflicts: Probe[] = [
        { method: 'stopTraining', params: { runId: rows.run }, fields: ['runId'], codes: ['conflict'] },
        { method: 'stopTraining', params: { runId: rows.stoppedRun }, fields: ['runId'], codes: ['conflict'] },
        // A completed run has nothing to resume.
        { method: 'resumeTraining', params: { runId: rows.run }, fields: ['runId'], codes: ['conflict'] },
        { method: 'stopTuning', params: { sessionId: rows.tuning }, fields: ['sessionId'], codes: ['conflict'] },
        { method: 'stopTuning', params: { sessionId: rows.stoppedTuning }, fields: ['sessionId'], codes: ['conflict'] },
        { method: 'exportModel', params: { runId: rows.stoppedRun }, fields: ['runId'], codes: ['conflict'] },
        { method: 'startTraining', params: { fromTuning: rows.stoppedTuning, maxSteps: 1 }, fields: ['fromTuning'], codes: ['conflict'] },
        // An image model for a tabular dataset: the model or the dataset is wrong.
        {
          method: 'startTraining',
          params: { dataset: rows.table.id, config: { model: 'small', backend: 'cpu' }, maxSteps: 1 },
          fields: ['config.model', 'dataset'],
          codes: ['rejected'],
        },
        {
          method: 'startTuning',
          params: { ...METHOD_SPECS.startTuning!.base(rows), dataset: rows.table.name, model: 'small' },
          fields: ['model', 'dataset'],
          codes: ['rejected'],
        },
        { method: 'importDataset', params: { source: rows.goodCsv, name: rows.table.name }, fields: ['name'], codes: ['conflict'] },
        { method: 'importSample', params: { name: rows.images.name, limit: 100 }, fields: ['name'], codes: ['conflict'] },
        // Too few samples to keep 2 of each of the 10 classes; a label column the file does not have.
        { method: 'importSample', params: { limit: 10 }, fields: ['limit'], codes: ['rejected'] },
        { method: 'importDataset', params: { source: rows.goodCsv, labelColumn: 'no such column' }, fields: ['labelColumn'], codes: ['rejected'] },
        { method: 'importDataset', params: { source: rows.goodCsv, labelColumn: '9' }, fields: ['labelColumn'], codes: ['rejected'] },
      ];
      for (const probe of conflicts) await mustReject(probe);

      // 3. Dataset names that look like paths out of the data folder are only labels: each import
      // succeeds (or is refused for a name in use) and writes only its own folder in datasets/.
      const datasetsDir = service.paths.datasetsDir;
      const datasetsRel = path.relative(rows.home, datasetsDir);
      let pathNames = 0;
      for (const method of ['importDataset', 'importSample']) {
        for (const name of namePathProbes(rows, token)) {
          pathNames++;
          const params = { ...METHOD_SPECS[method]!.base(rows), name };
          const res = await send(method, params);
          const what = describeProbe(method, params);
          const problem = res.ok ? undefined : answerProblem(res, { method, params, fields: ['name'], codes: ['conflict'] });
          if (problem) findings.push(`${what}: ${problem}`);
          const after = state.take();
          const stray = after.files.filter((f) => !before.files.includes(f) && !f.startsWith(`${datasetsRel}${path.sep}`));
          if (stray.length) findings.push(`${what}: wrote outside ${datasetsRel}/: ${stray.slice(0, 5).join(', ')}`);
          const tables = Object.keys(after.rows).filter((t) => after.rows[t] !== before.rows[t]);
          if (tables.some((t) => t !== 'datasets')) findings.push(`${what}: changed the tables ${tables.join(', ')}`);
          if (res.ok) {
            const folder = service.getDataset((res.result as { id: number }).id).cacheDir;
            if (path.dirname(path.resolve(folder)) !== path.resolve(datasetsDir)) findings.push(`${what}: its folder ${folder} is not one of ${datasetsDir}`);
          }
          before = after;
        }
      }

      // 4. Deletions that succeed. A dry run changes nothing; deleting the table dataset removes
      // its row and its cache folder and nothing else — not the CSV it was imported from, which
      // the check of the folder beside the data folder below covers.
      let deletes = 0;
      for (const [method, params] of [
        ['deleteDataset', { dataset: rows.images.id, dryRun: true }],
        ['deleteRun', { runId: rows.run, dryRun: true }],
        ['deleteTuning', { sessionId: rows.tuning, dryRun: true }],
      ] as const) {
        deletes++;
        const res = await send(method, params);
        const after = state.take();
        const changed = stateDiff(before, after);
        if (!res.ok || !(res.result as { dryRun: boolean }).dryRun || changed)
          findings.push(`${describeProbe(method, params)}: ${res.ok ? `dry run changed ${changed || 'dryRun'}` : `refused: ${res.error.message}`}`);
        before = after;
      }
      {
        deletes++;
        const cache = path.relative(rows.home, service.getDataset(rows.table.id).cacheDir);
        const params = { dataset: rows.table.id };
        const res = await send('deleteDataset', params);
        const after = state.take();
        const what = describeProbe('deleteDataset', params);
        if (!res.ok) findings.push(`${what}: refused: ${res.error.message}`);
        const tables = Object.keys(after.rows).filter((t) => after.rows[t] !== before.rows[t]);
        if (tables.join() !== 'datasets' || after.rows.datasets !== before.rows.datasets! - 1) findings.push(`${what}: changed ${stateDiff(before, after)}`);
        const gone = before.files.filter((f) => !after.files.includes(f));
        const added = after.files.filter((f) => !before.files.includes(f));
        if (gone.length === 0 || gone.some((f) => !f.startsWith(cache)) || added.length)
          findings.push(`${what}: files ${stateDiff({ rows: after.rows, files: before.files }, after)} (its cache: ${cache})`);
        before = after;
      }

      const totalMs = Date.now() - started;
      console.log(
        `# ${sent} calls (${probes.length} wrong payloads, ${conflicts.length} conflicts, ${pathNames} path-like names, ${deletes} deletions); answers: ${[...perCode].map(([c, n]) => `${c} ${n}`).join(', ')}; setup ${(setupMs / 1000).toFixed(1)} s, all ${(totalMs / 1000).toFixed(1)} s`,
      );
      assert.deepEqual(findings.slice(0, 40), [], `${findings.length} findings`);
      // Nothing anywhere else: beside the data folder, at the escape targets.
      assert.deepEqual(listFiles(rows.outside), outsideFiles, 'nothing was written in the folder beside the data folder');
      assert.deepEqual(readdirSync(root).sort(), ['home', 'outside'], 'nothing was written next to the data folder');
      for (const p of escapesOf(token, root)) assert.ok(!existsSync(p), `nothing was written at ${p}`);
      assert.deepEqual(crashes, [], 'no uncaught exception or unhandled rejection');
    } finally {
      process.off('uncaughtException', onCrash);
      process.off('unhandledRejection', onCrash);
      state?.close();
      dispatcher?.close();
      await service?.close();
      removeDir(root);
    }
  },
);
