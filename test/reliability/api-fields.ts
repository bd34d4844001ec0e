// What every field of every API call must be, written by hand from what the service does with
// it — NOT read from the contract's zod schemas (src/shared/api), so that the payloads made from
// it can find a check those schemas lack. fuzz-api.test.ts makes wrong payloads from this
// description and sends them to a service with real rows.
//
// Kept to plain data: a field's kind says what a right value is; `wrongValues` lists values that
// are wrong for that kind (other types, NaN, ±Infinity, out of range, huge, very long strings),
// values that are well formed but name no existing row, and, for fields whose value ends up in a
// file name, values that try to leave the data folder.
import type { ApiErrorCode } from '../../src/shared/api/index.js';

export type Entity = 'dataset' | 'run' | 'tuning session';

export type FieldKind =
  /** A positive integer id of an existing row. */
  | { t: 'id'; of: Entity }
  /** A dataset by id or by name (names are 1–100 characters). */
  | { t: 'datasetRef' }
  /** An integer from min to max. */
  | { t: 'int'; min: number; max: number }
  /** A finite number: > gt, ≥ min, ≤ max, < lt (those given). */
  | { t: 'num'; gt?: number; min?: number; max?: number; lt?: number }
  /** One of these strings, exactly. */
  | { t: 'enum'; of: readonly string[] }
  | { t: 'bool' }
  /** Free text of min to max characters that is never used as a path. */
  | { t: 'text'; min: number; max: number }
  /** A new dataset's name: 1–100 characters once trimmed; it becomes part of a folder name, which must stay inside the data folder. */
  | { t: 'name' }
  /** A file or folder to import from anywhere on the serving machine (read, never written). */
  | { t: 'source' }
  /** Another file the import may read from anywhere (IDX labels); importers that need none ignore it, so only its type is fuzzed. */
  | { t: 'path' }
  /** [height, width], integers from 4 to 512. */
  | { t: 'size' }
  /** 1 to max ids of existing rows. */
  | { t: 'ids'; of: Entity; max: number }
  /** An object of these fields; `template`: a right value that its fields' probes start from when the base has none. */
  | { t: 'object'; fields: Fields; template?: (rows: Rows) => Record<string, unknown> };

export interface FieldSpec {
  kind: FieldKind;
  required?: boolean;
  /** null is a right value (it clears a setting). */
  nullable?: boolean;
  /** Required unless this other field is given. */
  unless?: string;
}
export type Fields = Record<string, FieldSpec>;

/** The real rows the fuzzing service holds, and paths around its data folder. */
export interface Rows {
  /** The MNIST sample (images). */
  images: { id: number; name: string };
  /** A small CSV imported from outside the data folder (tabular: image models refuse it). */
  table: { id: number; name: string };
  /** A completed run with a saved model. */
  run: number;
  /** A run stopped before it saved a model. */
  stoppedRun: number;
  /** A completed Auto-tune session (it has a recommendation). */
  tuning: number;
  /** An Auto-tune session stopped before it had one. */
  stoppedTuning: number;
  home: string;
  /** A folder beside the data folder: nothing may be written there. */
  outside: string;
  /** A valid CSV in `outside`. */
  goodCsv: string;
  /** A CSV in `outside` that is not a dataset. */
  badCsv: string;
}

export interface MethodSpec {
  fields: Fields;
  /** A right example (never sent as is): the fuzzer breaks one to three fields of it. */
  base: (rows: Rows) => Record<string, unknown>;
  /** Only the Electron shell implements it: elsewhere well-formed params are answered 'unavailable'. */
  desktopOnly?: boolean;
}

const req = (kind: FieldKind): FieldSpec => ({ kind, required: true });
const opt = (kind: FieldKind): FieldSpec => ({ kind });

const MODELS = ['small', 'large', 'mlp', 'resnet-8', 'resnet-14', 'resnet-20', 'resnet-18', 'mobilenet-0.35', 'mobilenet-0.5', 'mobilenet-1.0'];
const OPTIMIZERS = ['adam', 'sgd'];
const BACKENDS = ['auto', 'torch-cuda', 'torch-mps', 'tensorflow', 'webgpu', 'torch-cpu', 'wasm', 'cpu'];
const RUN_STATES = ['queued', 'running', 'completed', 'stopped', 'failed', 'interrupted'];
const SEED: FieldKind = { t: 'int', min: 0, max: 2 ** 31 - 1 };
const MAX_POINTS: FieldKind = { t: 'int', min: 10, max: 100_000 };
const BUDGET: FieldKind = { t: 'num', gt: 0, max: 2 ** 50 };
const LEARNING_RATE: FieldKind = { t: 'num', gt: 0, max: 10 };

const IMPORT_OPTIONS: Fields = {
  name: opt({ t: 'name' }),
  importId: opt({ t: 'text', min: 1, max: 100 }),
  labelColumn: opt({ t: 'text', min: 1, max: 200 }),
  imageSize: opt({ t: 'size' }),
  imageFit: opt({ t: 'enum', of: ['resize', 'pad'] }),
  grayscale: opt({ t: 'bool' }),
  skipBad: opt({ t: 'bool' }),
  validationFraction: opt({ t: 'num', gt: 0, lt: 1 }),
  seed: opt(SEED),
  limit: opt({ t: 'int', min: 10, max: 10_000_000 }),
};

const TRAIN_CONFIG: Fields = {
  model: opt({ t: 'enum', of: MODELS }),
  batchSize: opt({ t: 'int', min: 1, max: 2 ** 20 }),
  epochs: opt({ t: 'int', min: 1, max: 100_000 }),
  learningRate: opt(LEARNING_RATE),
  optimizer: opt({ t: 'enum', of: OPTIMIZERS }),
  momentum: opt({ t: 'num', min: 0, lt: 1 }),
  warmupSteps: opt({ t: 'int', min: 0, max: 10_000_000 }),
  backend: opt({ t: 'enum', of: BACKENDS }),
  seed: opt(SEED),
  validationsPerEpoch: opt({ t: 'int', min: 1, max: 20 }),
  evalBatchSize: opt({ t: 'int', min: 1, max: 65536 }),
  augment: opt({ t: 'enum', of: ['none', 'light', 'standard'] }),
};

/** Where a run or a search starts from: a run id, a folder, a model.json or an address (any of which may be wrong). */
const START_FROM: Fields = {
  source: req({ t: 'source' }),
  unfreeze: opt({ t: 'int', min: 0, max: 1000 }),
  fineTuneLearningRate: opt({ t: 'num', gt: 0, max: 10 }),
};

export const METHOD_SPECS: Record<string, MethodSpec> = {
  listDatasets: { fields: {}, base: () => ({}) },
  getDataset: {
    fields: { dataset: req({ t: 'datasetRef' }), previewsPerClass: opt({ t: 'int', min: 0, max: 32 }) },
    base: (r) => ({ dataset: r.images.id, previewsPerClass: 2 }),
  },
  importDataset: {
    fields: { source: req({ t: 'source' }), labelsPath: { kind: { t: 'path' } }, ...IMPORT_OPTIONS },
    base: (r) => ({
      source: r.goodCsv,
      name: 'fresh',
      importId: 'imp-1',
      labelColumn: 'label',
      // No image options: a CSV file refuses them (importSample's base has them).
      skipBad: true,
      validationFraction: 0.25,
      seed: 3,
      limit: 40,
    }),
  },
  importSample: {
    fields: { sample: opt({ t: 'enum', of: ['mnist'] }), ...IMPORT_OPTIONS },
    base: () => ({
      sample: 'mnist',
      name: 'fresh',
      importId: 'imp-2',
      imageSize: [32, 32],
      imageFit: 'pad',
      grayscale: true,
      skipBad: true,
      validationFraction: 0.25,
      seed: 3,
      limit: 100,
    }),
  },
  listArchitectures: { fields: { dataset: opt({ t: 'datasetRef' }) }, base: (r) => ({ dataset: r.table.name }) },
  // A delete that is wrongly accepted is a finding twice over (accepted, rows changed); its base
  // is a dry run all the same, so that such a bug could not delete the rows later probes use.
  deleteDataset: { fields: { dataset: req({ t: 'datasetRef' }), dryRun: opt({ t: 'bool' }) }, base: (r) => ({ dataset: r.table.id, dryRun: true }) },
  startTuning: {
    fields: {
      dataset: req({ t: 'datasetRef' }),
      model: { kind: { t: 'enum', of: MODELS }, unless: 'startFrom' },
      startFrom: opt({ t: 'object', fields: START_FROM, template: (r) => ({ source: String(r.run) }) }),
      mode: opt({ t: 'enum', of: ['quick', 'full'] }),
      backend: opt({ t: 'enum', of: BACKENDS }),
      optimizer: opt({ t: 'enum', of: OPTIMIZERS }),
      memoryBudgetBytes: opt(BUDGET),
      plannedEpochs: opt({ t: 'int', min: 1, max: 100_000 }),
      // The planned run's time, up to a year.
      budgetSeconds: opt({ t: 'num', gt: 0, max: 365 * 24 * 3600 }),
      reuseKnown: opt({ t: 'bool' }),
      baseBatchSize: opt({ t: 'int', min: 1, max: 65_536 }),
      baseLearningRate: opt(LEARNING_RATE),
      searchLearningRate: opt({ t: 'bool' }),
      seed: opt(SEED),
      augment: opt({ t: 'enum', of: ['none', 'light', 'standard'] }),
    },
    base: (r) => ({
      dataset: r.images.id,
      model: 'mlp',
      mode: 'quick',
      backend: 'cpu',
      optimizer: 'adam',
      memoryBudgetBytes: 2 ** 30,
      plannedEpochs: 1,
      baseBatchSize: 16,
      baseLearningRate: 1e-3,
      searchLearningRate: false,
      seed: 1,
    }),
  },
  stopTuning: { fields: { sessionId: req({ t: 'id', of: 'tuning session' }) }, base: (r) => ({ sessionId: r.tuning }) },
  getTuning: { fields: { sessionId: req({ t: 'id', of: 'tuning session' }) }, base: (r) => ({ sessionId: r.tuning }) },
  deleteTuning: {
    fields: { sessionId: req({ t: 'id', of: 'tuning session' }), dryRun: opt({ t: 'bool' }) },
    base: (r) => ({ sessionId: r.stoppedTuning, dryRun: true }),
  },
  checkTuning: {
    fields: {
      sessionId: req({ t: 'id', of: 'tuning session' }),
      dataset: opt({ t: 'datasetRef' }),
      config: opt({
        t: 'object',
        fields: {
          model: opt({ t: 'enum', of: MODELS }),
          augment: opt({ t: 'enum', of: ['none', 'light', 'standard'] }),
          backend: opt({ t: 'enum', of: BACKENDS }),
        },
      }),
    },
    base: (r) => ({ sessionId: r.tuning, dataset: r.images.id, config: { model: 'mlp', augment: 'none', backend: 'cpu' } }),
  },
  scaleOutPlan: {
    fields: { kind: req({ t: 'enum', of: ['run', 'tuning'] }), id: req({ t: 'id', of: 'run' }) },
    base: (r) => ({ kind: 'run', id: r.run }),
  },
  listTunings: {
    fields: { dataset: opt({ t: 'datasetRef' }), status: opt({ t: 'enum', of: ['running', 'completed', 'failed', 'stopped', 'interrupted'] }) },
    base: (r) => ({ dataset: r.images.name, status: 'completed' }),
  },
  tuningTrialRows: { fields: { sessionId: opt({ t: 'id', of: 'tuning session' }) }, base: (r) => ({ sessionId: r.tuning }) },
  exportTuningCsv: { fields: { sessionId: opt({ t: 'id', of: 'tuning session' }) }, base: (r) => ({ sessionId: r.tuning }) },
  startTraining: {
    fields: {
      dataset: { kind: { t: 'datasetRef' }, unless: 'fromTuning' },
      fromTuning: opt({ t: 'id', of: 'tuning session' }),
      config: opt({ t: 'object', fields: TRAIN_CONFIG }),
      startFrom: opt({ t: 'object', fields: START_FROM, template: (r) => ({ source: String(r.run) }) }),
      maxSteps: opt({ t: 'int', min: 1, max: Number.MAX_SAFE_INTEGER }),
    },
    base: (r) => ({
      dataset: r.images.id,
      fromTuning: r.tuning,
      config: {
        model: 'mlp',
        batchSize: 16,
        epochs: 1,
        learningRate: 1e-3,
        optimizer: 'sgd',
        momentum: 0.9,
        warmupSteps: 0,
        backend: 'cpu',
        seed: 1,
        validationsPerEpoch: 1,
      },
      maxSteps: 2,
    }),
  },
  stopTraining: { fields: { runId: req({ t: 'id', of: 'run' }) }, base: (r) => ({ runId: r.run }) },
  resumeTraining: { fields: { runId: req({ t: 'id', of: 'run' }) }, base: (r) => ({ runId: r.run }) },
  activeRuns: { fields: {}, base: () => ({}) },
  listRuns: {
    fields: { dataset: opt({ t: 'datasetRef' }), model: opt({ t: 'enum', of: MODELS }), status: opt({ t: 'enum', of: RUN_STATES }) },
    base: (r) => ({ dataset: r.images.id, model: 'mlp', status: 'completed' }),
  },
  getRun: {
    fields: { runId: req({ t: 'id', of: 'run' }), maxPoints: opt(MAX_POINTS), misclassifiedLimit: opt({ t: 'int', min: 0, max: 500 }) },
    base: (r) => ({ runId: r.run, maxPoints: 50, misclassifiedLimit: 4 }),
  },
  compareRuns: {
    fields: {
      runIds: req({ t: 'ids', of: 'run', max: 20 }),
      metric: req({
        t: 'enum',
        of: ['loss', 'accuracy', 'samples_per_s', 'step_ms', 'memory_bytes', 'lr', 'val_loss', 'val_accuracy', 'epoch_loss', 'epoch_accuracy'],
      }),
      maxPoints: opt(MAX_POINTS),
    },
    base: (r) => ({ runIds: [r.run, r.stoppedRun], metric: 'loss', maxPoints: 50 }),
  },
  exportRunCsv: { fields: { runId: req({ t: 'id', of: 'run' }) }, base: (r) => ({ runId: r.run }) },
  exportModel: { fields: { runId: req({ t: 'id', of: 'run' }) }, base: (r) => ({ runId: r.run }) },
  exportRecipe: {
    fields: {
      source: req({ t: 'object', fields: { kind: req({ t: 'enum', of: ['run', 'tuning'] }), id: req({ t: 'id', of: 'run' }) } }),
      engine: opt({ t: 'enum', of: ['pytorch-ddp'] }),
      // One of 1, 2, 4, 8: the wrong values of 1…8 (0, 9, fractions, other types) are wrong here too.
      workers: req({ t: 'int', min: 1, max: 8 }),
      withWeights: opt({ t: 'bool' }),
      out: req({ t: 'path' }),
    },
    base: (r) => ({ source: { kind: 'run', id: r.run }, workers: 2, withWeights: false, out: `${r.home}/recipe-fuzz` }),
  },
  deleteRun: { fields: { runId: req({ t: 'id', of: 'run' }), dryRun: opt({ t: 'bool' }) }, base: (r) => ({ runId: r.stoppedRun, dryRun: true }) },
  // A CSV is no metrics file: every probe is refused ('rejected'), and nothing stored changes.
  importRunMetrics: {
    fields: { path: req({ t: 'source' }), partial: opt({ t: 'bool' }), fileName: opt({ t: 'text', min: 1, max: 255 }) },
    base: (r) => ({ path: r.goodCsv, partial: true }),
  },
  getSettings: { fields: {}, base: () => ({}) },
  updateSettings: {
    fields: {
      memoryBudgetBytes: { kind: BUDGET, nullable: true },
      backend: opt({ t: 'enum', of: BACKENDS }),
      pythonPath: { kind: { t: 'text', min: 1, max: 4096 }, nullable: true },
      checkpointMinutes: opt({ t: 'num', min: 1, max: 1440 }),
      adaptiveEverySteps: opt({ t: 'int', min: 10, max: 100_000 }),
      adaptiveMinSteps: opt({ t: 'int', min: 0, max: 10_000_000 }),
    },
    base: () => ({ memoryBudgetBytes: 2 ** 30, backend: 'cpu', pythonPath: null, checkpointMinutes: 5, adaptiveEverySteps: 200, adaptiveMinSteps: 500 }),
  },
  detectBackends: { fields: { refresh: opt({ t: 'bool' }) }, base: () => ({ refresh: false }) },
  chooseFolder: { fields: { title: opt({ t: 'text', min: 0, max: 200 }) }, base: () => ({ title: 'Pick' }), desktopOnly: true },
  chooseFile: { fields: { title: opt({ t: 'text', min: 0, max: 200 }) }, base: () => ({ title: 'Pick' }), desktopOnly: true },
  saveExport: {
    fields: { runId: req({ t: 'id', of: 'run' }), kind: req({ t: 'enum', of: ['csv', 'model'] }) },
    base: (r) => ({ runId: r.run, kind: 'csv' }),
    desktopOnly: true,
  },
};

/** A wrong value for a field, with the answers it may get. */
export interface WrongValue {
  value: unknown;
  /** invalid-params for a malformed value; not-found (or rejected, for an import source) for a well-formed one that names nothing. */
  codes: readonly ApiErrorCode[];
  /** The part of the field the answer must name, when not the field as a whole (a list's item: '1'). */
  at?: string;
}

const INVALID: readonly ApiErrorCode[] = ['invalid-params'];
const MISSING: readonly ApiErrorCode[] = ['not-found'];
/** A file that is not there or is not a dataset: nothing to find (not-found) or nothing to import (rejected). */
const NO_DATASET_THERE: readonly ApiErrorCode[] = ['not-found', 'rejected'];

const invalid = (values: readonly unknown[]): WrongValue[] => values.map((value) => ({ value, codes: INVALID }));

const NOT_NUMBERS: readonly unknown[] = [null, true, false, '1', '', 'NaN', 'Infinity', [], [1], {}, { valueOf: 1 }, 10n, new Date(0)];
const NOT_STRINGS: readonly unknown[] = [null, false, 0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, [], ['a'], {}, { length: 1 }, 10n];
const NOT_BOOLEANS: readonly unknown[] = [null, 0, 1, Number.NaN, 'true', 'false', 'yes', '', [], [true], {}];
const NON_FINITE: readonly number[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
const HUGE: readonly number[] = [2 ** 53, 2 ** 64, 1e308, Number.MAX_VALUE, -(2 ** 53), -1e308];
/** Very long: 100 000 characters. */
const LONG = 'x'.repeat(100_000);

/** Values that are wrong for `kind`, each with the answers it may get. */
export function wrongValues(kind: FieldKind, rows: Rows): WrongValue[] {
  switch (kind.t) {
    case 'id':
      return [
        ...invalid([...NOT_NUMBERS, ...NON_FINITE, ...HUGE, 0, -0, -1, 0.5, 1.5, -1e-9, String(rows.run)]),
        // Well formed, but no such row.
        ...[999_999, 2 ** 31, 2 ** 53 - 1].map((value) => ({ value, codes: MISSING })),
      ];
    case 'datasetRef':
      return [
        ...invalid([null, true, [], [rows.images.id], {}, ...NON_FINITE, ...HUGE, 0, -1, 1.5, '', LONG]),
        // A name longer than any dataset's: either refused as malformed or not found.
        { value: 'n'.repeat(150), codes: ['invalid-params', 'not-found'] },
        // Well formed, but no such dataset (a ref is looked up by id or name, never opened as a path).
        ...[999_999, '999999', 'no such dataset', ' ' + rows.images.name, '../../etc/passwd', rows.outside, rows.goodCsv].map((value) => ({
          value,
          codes: MISSING,
        })),
      ];
    case 'int': {
      const values: unknown[] = [
        ...NOT_NUMBERS,
        ...NON_FINITE,
        ...HUGE.filter((h) => h > kind.max || h < kind.min),
        kind.min - 1,
        kind.min + 0.5,
        kind.min - 0.5,
      ];
      if (kind.max < 2 ** 53) values.push(kind.max + 1, kind.max * 10);
      if (kind.min > -1) values.push(-1);
      return invalid(values);
    }
    case 'num': {
      const values: unknown[] = [...NOT_NUMBERS, ...NON_FINITE, -1e308];
      if (kind.gt !== undefined) values.push(kind.gt, -0, kind.gt - 1);
      if (kind.min !== undefined) values.push(kind.min - 1e-9, kind.min - 1);
      if (kind.max !== undefined) values.push(kind.max * 1.0001, kind.max + 1, 1e308);
      if (kind.lt !== undefined) values.push(kind.lt, kind.lt + 1, 1e308);
      return invalid(values);
    }
    case 'enum':
      return invalid([...NOT_STRINGS, '', 'bogus', kind.of[0]!.toUpperCase(), ` ${kind.of[0]}`, `${kind.of[0]}\u0000`, LONG, '__proto__', 'constructor']);
    case 'bool':
      return invalid(NOT_BOOLEANS);
    case 'text':
      return invalid([...NOT_STRINGS, ...(kind.min > 0 ? [''] : []), 't'.repeat(kind.max + 1), LONG]);
    case 'name':
      // Path-like names are right (a name is only a label): see NAME_PATH_PROBES.
      return invalid([...NOT_STRINGS, '', '   ', '\t\n', 'n'.repeat(101), LONG]);
    case 'path':
      return invalid([...NOT_STRINGS, '', LONG]);
    case 'source':
      return [
        ...invalid(NOT_STRINGS),
        { value: '', codes: ['invalid-params', 'not-found', 'rejected'] },
        // Longer than any path a file system takes.
        { value: LONG, codes: ['invalid-params', 'not-found', 'rejected'] },
        // Any path may be named; these hold no dataset.
        ...[
          `${rows.outside}/no-such-file.csv`,
          '/no/such/folder/anywhere',
          'relative/../../no-such-file.csv',
          '~/no-such-autobatch-file.csv',
          `${rows.home}/autobatch.db`,
          rows.badCsv,
          'a\u0000b.csv',
          `${rows.outside}/${'d'.repeat(300)}.csv`,
        ].map((value) => ({ value, codes: NO_DATASET_THERE })),
      ];
    case 'size':
      return [
        ...invalid([null, 28, '28x28', {}, { 0: 28, 1: 28 }, [], [28], [28, 28, 28], ['28', '28'], [null, 28]]),
        // One bad side: the answer names the array or the side.
        ...[
          [3, 28],
          [28, 513],
          [28.5, 28],
          [Number.NaN, 28],
          [28, Number.POSITIVE_INFINITY],
          [-28, 28],
          [1e308, 28],
          [0, 0],
        ].map((value) => ({ value, codes: INVALID })),
      ];
    case 'ids':
      return [
        ...invalid([
          null,
          rows.run,
          String(rows.run),
          {},
          [],
          new Array(kind.max + 1).fill(rows.run),
          new Array(10_000).fill(rows.run),
          [0],
          [Number.NaN],
          [1.5],
          [String(rows.run)],
          [rows.run, null],
          [-1],
          [2 ** 53],
        ]),
        { value: [999_999], codes: MISSING, at: '0' },
        { value: [rows.run, 999_999], codes: MISSING, at: '1' },
      ];
    case 'object':
      return invalid([null, 'config', 1, true, [], [{}]]);
  }
}

/** Field names no call has: typos, attempts to slip something in, prototype keys. */
export const EXTRA_FIELDS: readonly string[] = [
  'bogus',
  'runID',
  'Dataset',
  'home',
  'dataFolder',
  'path',
  'file',
  'isAdmin',
  'constructor',
  'toString',
  '__proto__',
  'x'.repeat(300),
];

/** Params that are not an object at all (null and undefined are taken as no params). */
export const NOT_OBJECTS: readonly unknown[] = [42, 'params', true, [], [{}], Number.NaN];

/**
 * Right values of a `name` field that look like paths leaving the data folder. The name is only
 * a label: the import must succeed (or be refused for a name in use), and its folder must be
 * inside the data folder. `token` makes each escape target unique so a write there can be seen.
 */
export function namePathProbes(rows: Rows, token: string): string[] {
  return [`../../escape-${token}`, `${rows.outside}/escape-${token}`, `~/escape-${token}`, `..\\..\\escape-${token}`, `a/../../../../escape-${token}`, '..'];
}
