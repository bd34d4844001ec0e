// Fuzzing every API call: ≥ 10 000 malformed payloads through the direct transport (what IPC and
// the CLI use) and ≥ 10 000 over a WebSocket of a real `serve` server, plus malformed envelopes
// and frames. Each must be answered with an error and a message (naming the field for bad
// params), and none may reach the service: every method of the service and of its store's
// repositories is counted, and the count must stay 0. RELIABILITY_SEED=<n> replays a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  type MethodName,
  type WireResponse,
} from '../../src/shared/api/index.js';
import { ApiDispatcher } from '../../src/main/service/api-dispatch.js';
import { createDirectApi } from '../../src/main/service/api-direct.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { startAppServer } from '../../src/main/server/app-server.js';
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
    grayscale: true,
    skipBad: true,
    validationFraction: 0.2,
    seed: 1,
    limit: 100,
  },
  importSample: { sample: 'mnist', name: 'n', limit: 100 },
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
  startTraining: {
    dataset: 1,
    fromTuning: 1,
    config: { model: 'mlp', batchSize: 32, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'cpu', seed: 1 },
    maxSteps: 5,
  },
  stopTraining: { runId: 1 },
  activeRuns: {},
  listRuns: { dataset: 1, model: 'mlp', status: 'completed' },
  getRun: { runId: 1, maxPoints: 100, misclassifiedLimit: 10 },
  compareRuns: { runIds: [1, 2], metric: 'loss', maxPoints: 100 },
  exportRunCsv: { runId: 1 },
  exportModel: { runId: 1 },
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
        const fn = (proto as Record<string, unknown>)[name];
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
  wrap(service, 'service');
  for (const repo of ['datasets', 'runs', 'metrics', 'artifacts', 'tuning'] as const) wrap(service.store[repo], `store.${repo}`);
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
