// Training throughput (samples/s) of the app's models per backend and batch size, through the
// real path (API → service → trainer process → backend), against the PyTorch peer on the same data,
// the same batches and the same thread count, in one run. Prints each ratio.
//
//   npm run bench:throughput -- [--backends wasm,torch-cpu,webgpu,cpu] [--models small,large,resnet-20,mobilenet-0.5]
//       [--batches 32,64,256] [--samples 4000] [--threads 2] [--peer bench/peer_torch.py]
//       [--python /usr/bin/python3] [--device cpu|cuda] [--peer-epochs 1] [--json out.json]
//       [--source sample:mnist | <IDX folder>] [--webgpu-steps 24] [--inputs resnet-20=32x32x3:pad]
//       [--augment none|light|standard] [--augment-levels none,light,standard] [--augment-rounds 2] [--rounds 3]
//       [--peer-malloc app|default]
//
// --source: where the MNIST sample comes from (the GPU check bundle carries it as an IDX folder,
// without the `mnist` package). --webgpu-steps: steps per webgpu run, whatever the batch (runs
// take as many epochs as that needs). --peer-epochs: epochs per batch size for the peer (a GPU
// peer needs several at large batches for a steady figure).
//
// --augment: the augmentation every run trains with (default none; the peer has none). What it
// costs: --augment-levels runs each level in turn at every backend, model and batch (interleaved,
// so that a machine's drift falls on all levels alike), --augment-rounds times, and prints each
// level's best samples/s and the median over the rounds of its ratio to the first level (none)
// in the same round (runs next to each other in time, paired); the peer is not run then.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runToEnd } from '../src/shared/api/index.js';
import { importDataset } from '../src/main/engine/datasets/index.js';
import { benchCore, exportForPeer, importSource } from './harness.js';
import type { BackendChoice, ModelKind } from '../src/shared/run-types.js';
import { trainableParameters } from '../src/shared/model-families.js';
import { AUGMENT_LEVELS, type AugmentLevel } from '../src/shared/fine-tuning.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm,torch-cpu,webgpu,cpu' },
    models: { type: 'string', default: 'small,large,resnet-20,mobilenet-0.5' },
    batches: { type: 'string', default: '32,64,256' },
    samples: { type: 'string', default: '4000' },
    threads: { type: 'string', default: String(Math.min(2, os.cpus().length)) },
    peer: { type: 'string', default: path.join(root, 'bench/peer_torch.py') },
    python: { type: 'string', default: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3' },
    device: { type: 'string', default: 'cpu' },
    'cpu-samples': { type: 'string', default: '256' },
    'webgpu-steps': { type: 'string', default: '24' },
    'peer-epochs': { type: 'string', default: '1' },
    source: { type: 'string', default: 'sample:mnist' },
    json: { type: 'string' },
    inputs: { type: 'string' },
    augment: { type: 'string', default: 'none' },
    'augment-levels': { type: 'string' },
    'augment-rounds': { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    'peer-malloc': { type: 'string', default: 'app' },
  },
});

/**
 * --peer-malloc: 'app' runs the peer with the glibc malloc settings the app's torch trainer sets
 * on itself (python/autobatch_trainer/allocator.py), so that the ratio measures the engine and not
 * the allocator; 'default' runs it as a PyTorch user does (glibc's defaults, whose large blocks
 * page-fault in again every step).
 */
const PEER_MALLOC_ENV: Record<string, NodeJS.ProcessEnv> = {
  app: { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '18446744073709551615', MALLOC_TOP_PAD_: String(64 << 20) },
  default: {},
};
const peerMallocEnv = PEER_MALLOC_ENV[args['peer-malloc']];
if (!peerMallocEnv) throw new Error(`--peer-malloc: expected app or default, got "${args['peer-malloc']}"`);

const backends = args.backends.split(',') as BackendChoice[];
const models = args.models.split(',') as ModelKind[];
const batches = args.batches.split(',').map(Number);
const samples = Number(args.samples);
const augmentLevels = (args['augment-levels'] ?? args.augment).split(',').map((level) => {
  if (!(AUGMENT_LEVELS as readonly string[]).includes(level)) throw new Error(`--augment: expected ${AUGMENT_LEVELS.join(', ')}, got "${level}"`);
  return level as AugmentLevel;
});
/** Levels compared with one another (--augment-levels): their cost, not the peer. */
const comparingLevels = args['augment-levels'] !== undefined;
const augmentRounds = Number(args['augment-rounds']);
if (!Number.isInteger(augmentRounds) || augmentRounds < 1) throw new Error(`--augment-rounds: expected a whole number ≥ 1, got "${args['augment-rounds']}"`);
/**
 * --rounds: the whole comparison this many times, model by model (the app's runs at each batch,
 * then the peer's), so that the machine's drift falls on both alike; the table gives each
 * figure's median and the median of the rounds' paired ratios. This 2-core VM's PyTorch swung up
 * to 2× between identical epochs, so one round says little about an overhead of a few per cent.
 */
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a whole number ≥ 1, got "${args.rounds}"`);
if (rounds > 1 && args['augment-levels'] !== undefined) throw new Error('--rounds compares with the peer; --augment-levels has its own --augment-rounds');

interface Row {
  who: string;
  device: string;
  model: ModelKind;
  batch: number;
  /** The input the model was built for. */
  input: string;
  /** Trainable parameters: the app's (model-families.ts) or the peer's own count. */
  parameters: number;
  samplesPerSecond: number | null;
  /** The app's runs: the augmentation they trained with (the peer has none). */
  augment?: AugmentLevel;
  /** --augment-rounds: which round (0-based). */
  round?: number;
  /** --rounds: which pass of the whole comparison (0-based). */
  pass: number;
  note?: string;
}

/** The pass being measured (--rounds). */
let pass = 0;

// The wasm backend uses the same thread count as the peer (trainer processes inherit this).
process.env.AUTOBATCH_WASM_THREADS = args.threads;
const bench = benchCore('throughput');
const { api, log } = bench;
const rows: Row[] = [];

/** Steady-state samples/s from the stored steps: the first readback window (compilation, warm-up) is left out. */
async function steadyThroughput(runId: number, batchSize: number): Promise<number | null> {
  // Every step (no run here has more than the series' cap): its time and the trainer's samples/s.
  const steps = (await api.getRun({ runId, maxPoints: 100_000, misclassifiedLimit: 0 })).series.samples_per_s;
  if (steps.length < 3) return null;
  const firstWindowEnd = steps.findIndex((s, i) => i > 0 && s.value !== steps[0]!.value);
  const from = Math.max(1, firstWindowEnd);
  const seen = steps.slice(from);
  if (seen.length < 2) return steps[steps.length - 1]!.value;
  const t0 = steps[from - 1]!.time;
  const t1 = steps[steps.length - 1]!.time;
  return (seen.length * batchSize) / Math.max(t1 - t0, 1e-9);
}

/** The input each model is measured at: the MNIST sample as it is for the plain CNNs; for the
 *  families, the sizes the issue names (resnet-20 at 32×32 RGB: the digits padded, LeNet's
 *  convention; mobilenet-0.5 at 64×64 RGB: resized). `--inputs model=HxWxC[:pad|:resize],…` overrides. */
const DEFAULT_INPUTS: Partial<Record<ModelKind, InputSpec>> = {
  'resnet-8': { size: [32, 32], channels: 3, fit: 'pad' },
  'resnet-14': { size: [32, 32], channels: 3, fit: 'pad' },
  'resnet-20': { size: [32, 32], channels: 3, fit: 'pad' },
  'resnet-18': { size: [64, 64], channels: 3, fit: 'resize' },
  'mobilenet-0.35': { size: [64, 64], channels: 3, fit: 'resize' },
  'mobilenet-0.5': { size: [64, 64], channels: 3, fit: 'resize' },
  'mobilenet-1.0': { size: [64, 64], channels: 3, fit: 'resize' },
};

interface InputSpec {
  size: [number, number];
  channels: 1 | 3;
  fit: 'pad' | 'resize';
}

function inputFor(model: ModelKind): InputSpec | undefined {
  for (const item of (args.inputs ?? '').split(',').filter(Boolean)) {
    const m = /^([a-z0-9.-]+)=(\d+)x(\d+)x([13])(?::(pad|resize))?$/.exec(item.trim());
    if (!m) throw new Error(`--inputs: "${item}" is not model=HxWxC[:pad|:resize], e.g. resnet-20=32x32x3:pad`);
    if (m[1] === model) return { size: [Number(m[2]), Number(m[3])], channels: Number(m[4]) as 1 | 3, fit: (m[5] ?? 'resize') as 'pad' | 'resize' };
  }
  return DEFAULT_INPUTS[model];
}

const inputLabel = (spec: InputSpec | undefined) =>
  spec ? `${spec.size[0]}×${spec.size[1]}×${spec.channels}${spec.fit === 'pad' ? ' padded' : ''}` : 'as imported';

interface Prepared {
  datasetId: number;
  trainCount: number;
  peerDir: string;
  inputShape: number[];
  classes: number;
}

/** Imports the sample once per input spec, for the app and (the same samples and split) for the peer. */
async function prepare(spec: InputSpec | undefined, cache: Map<string, Prepared>): Promise<Prepared> {
  const key = inputLabel(spec);
  const known = cache.get(key);
  if (known) return known;
  // 25 % extra so the validation split is not taken out of the training samples.
  const options = {
    name: `bench-mnist-${cache.size}`,
    limit: Math.min(10_000, Math.round(samples / 0.8)),
    validationFraction: 0.2,
    ...(spec ? { imageSize: spec.size, grayscale: spec.channels === 1, imageFit: spec.fit } : {}),
  };
  log(`Importing MNIST sample (${samples} training samples, ${key}) from ${args.source}…`);
  const ds = await importSource(api, args.source, options);
  const peerDir = path.join(bench.home, `peer-data-${cache.size}`);
  const peerCache = path.join(bench.home, `peer-cache-${cache.size}`);
  await importDataset(args.source, options, peerCache);
  const manifest = exportForPeer(peerCache, peerDir);
  const prepared = { datasetId: ds.id, trainCount: ds.trainCount, peerDir, ...manifest };
  cache.set(key, prepared);
  return prepared;
}

async function main(): Promise<void> {
  const inputs = new Map<string, Prepared>();
  let trainCount = 0;
  for (pass = 0; pass < rounds; pass++) {
    for (const model of models) {
      const data = await prepare(inputFor(model), inputs);
      trainCount = data.trainCount;
      for (const backend of backends)
        for (const batch of batches)
          for (let round = 0; round < augmentRounds; round++) for (const level of augmentLevels) await measure(backend, model, batch, data, level, round);
      if (!comparingLevels) runPeer(data, model);
      saveJson(trainCount);
    }
  }
  if (comparingLevels) log('peer not run: --augment-levels compares the levels with one another');
  printTable();
  if (comparingLevels) printAugmentTable();
  saveJson(trainCount);
}

async function measure(backend: BackendChoice, model: ModelKind, batch: number, data: Prepared, augment: AugmentLevel, round: number): Promise<void> {
  // The pure-JS cpu backend and WebGPU on a software adapter are far slower than wasm
  // (docs/benchmarks.md): a few steps say enough about their steady rate.
  const epoch = Math.ceil(data.trainCount / batch);
  const maxSteps =
    backend === 'cpu' ? Math.max(3, Math.ceil(Number(args['cpu-samples']) / batch)) : backend === 'webgpu' ? Number(args['webgpu-steps']) : epoch;
  // Large batches on a GPU: an epoch is a handful of steps, too few for a steady rate.
  const epochs = Math.max(1, Math.ceil(maxSteps / epoch));
  const base = { model, batch, input: inputLabel(inputFor(model)), parameters: trainableParameters(model, data.inputShape, data.classes), augment, round };
  const { run } = await runToEnd(api, () =>
    api.startTraining({
      dataset: data.datasetId,
      config: { model, batchSize: batch, epochs, learningRate: 1e-3, optimizer: 'adam', backend, augment },
      maxSteps,
    }),
  );
  if (run.status !== 'completed') {
    rows.push({ ...base, pass, who: backend, device: run.device ?? '—', samplesPerSecond: null, note: run.error ?? run.status });
    log(`${backend} ${model} b${batch} augment ${augment}: ${run.status} ${run.error ?? ''}`);
  } else {
    const sps = await steadyThroughput(run.id, batch);
    // The rung names the engine too: 'torch-cpu' (the app's torch engine) is not 'torch' (the bare peer).
    rows.push({ ...base, pass, who: run.rung ?? run.backend ?? backend, device: run.device ?? '—', samplesPerSecond: sps });
    log(`${backend} ${model} b${batch} augment ${augment}: ${sps?.toFixed(1)} samples/s on ${run.device}`);
  }
  saveJson(data.trainCount);
}

/** Writes the rows so far (after each run too: a run cut short by a time limit keeps what it measured). */
function saveJson(trainCount: number): void {
  if (args.json)
    writeFileSync(
      args.json,
      JSON.stringify(
        {
          date: new Date().toISOString(),
          host: os.hostname(),
          cpus: os.cpus()[0]?.model,
          threads: Number(args.threads),
          samples: trainCount,
          augmentLevels,
          augmentRounds,
          rounds,
          rows,
        },
        null,
        2,
      ),
    );
}

function runPeer(data: Prepared, model: ModelKind): void {
  const dataDir = data.peerDir;
  const base = { model, input: inputLabel(inputFor(model)) };
  if (model === 'mlp') return;
  if (!existsSync(args.peer)) {
    log(`peer: ${args.peer} not found`);
    return;
  }
  const r = spawnSync(
    args.python,
    [
      args.peer,
      '--data',
      dataDir,
      '--model',
      model,
      '--batch-sizes',
      batches.join(','),
      '--epochs',
      args['peer-epochs'],
      '--threads',
      args.threads,
      '--device',
      args.device,
    ],
    {
      encoding: 'utf8',
      timeout: 3_600_000,
      env: { ...process.env, ...peerMallocEnv },
    },
  );
  if (r.status !== 0) {
    log(`peer (${model}) failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    for (const b of batches)
      rows.push({
        ...base,
        pass,
        who: 'torch',
        device: args.device,
        batch: b,
        parameters: 0,
        samplesPerSecond: null,
        note: 'peer unavailable (apt-get install python3-torch)',
      });
    return;
  }
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const j = JSON.parse(line) as {
      peer: string;
      device: string;
      threads: number;
      batch_size: number;
      samples_per_s: number;
      trainable_parameters: number;
      test_accuracy: number;
      epochs: number;
    };
    const device = `${j.peer} ${j.device}, ${j.threads} threads, malloc ${args['peer-malloc']}`;
    rows.push({ ...base, pass, who: 'torch', device, batch: j.batch_size, parameters: j.trainable_parameters, samplesPerSecond: j.samples_per_s });
    const ours = trainableParameters(model, data.inputShape, data.classes);
    // Unequal models make the ratio meaningless: say so loudly rather than print it quietly.
    if (j.trainable_parameters !== ours) log(`WARNING: torch ${model} has ${j.trainable_parameters} trainable parameters, the app's ${ours}`);
    log(`torch ${model} b${j.batch_size}: ${j.samples_per_s} samples/s (validation accuracy ${j.test_accuracy} after ${j.epochs} epoch(s) at lr 1e-3)`);
  }
}

function printTable(): void {
  const widths = [15, 16, 6, 10, 9, 11, 9, 19];
  const line = (cells: string[]) => cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c)).join(' ');
  const across = rounds > 1 ? `median of ${rounds} rounds; vs torch: median of the rounds' paired ratios` : 'one round';
  const out = [`Training throughput, samples/s (MNIST sample, ${samples} samples, Adam; peer on ${args.threads} threads, without augmentation; ${across})`];
  out.push(line(['model', 'input', 'batch', 'backend', 'augment', 'samples/s', 'vs torch', 'params app/torch', 'device']));
  const keyOf = (r: Row) => `${r.who}\t${r.model}\t${r.batch}\t${r.augment ?? 'none'}\t${r.round ?? 0}`;
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(keyOf(r), [...(groups.get(keyOf(r)) ?? []), r]);
  const peerIn = (r: Row) => rows.find((p) => p.who === 'torch' && p.model === r.model && p.batch === r.batch && p.pass === r.pass);
  const ordered = [...groups.values()].sort((a, b) => Number(a[0]!.who === 'torch') - Number(b[0]!.who === 'torch'));
  for (const group of ordered) {
    const r = group[0]!;
    const measured = group.flatMap((g) => (g.samplesPerSecond === null ? [] : [g.samplesPerSecond]));
    const sps = median(measured);
    const ratios = group.flatMap((g) => {
      const peer = peerIn(g);
      return g.samplesPerSecond && peer?.samplesPerSecond ? [g.samplesPerSecond / peer.samplesPerSecond] : [];
    });
    const ratio = r.who === 'torch' ? '1.00×' : ratios.length ? `${median(ratios)!.toFixed(2)}×` : '—';
    const params = `${r.parameters}/${peerIn(r)?.parameters || '—'}`;
    out.push(line([r.model, r.input, String(r.batch), r.who, r.augment ?? 'none', sps?.toFixed(1) ?? r.note ?? '—', ratio, params, r.device]));
  }
  process.stdout.write(out.join('\n') + '\n');
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * --augment-levels: at every backend, model and batch, each level's best samples/s over the
 * rounds, and the median over the rounds of its ratio to the first level measured in the same
 * round (paired: the runs of a round are next to each other in time).
 */
function printAugmentTable(): void {
  const [reference] = augmentLevels;
  const header = ['model', 'input', 'batch', 'backend', ...augmentLevels.flatMap((l, i) => (i === 0 ? [l] : [l, `÷ ${reference}`]))];
  const out = [
    `\nAugmentation cost: best samples/s of ${augmentRounds} round(s); ÷ ${reference}: median of the rounds' paired ratios (levels interleaved at each batch)`,
    header.join('\t'),
  ];
  const app = rows.filter((r) => r.who !== 'torch' && r.samplesPerSecond !== null);
  const keyOf = (r: Row) => `${r.who}\t${r.model}\t${r.input}\t${r.batch}`;
  for (const key of new Set(app.map(keyOf))) {
    const [who, model, input, batch] = key.split('\t') as [string, string, string, string];
    const at = (level: AugmentLevel) => app.filter((r) => keyOf(r) === key && r.augment === level);
    const references = at(reference!);
    const cells = augmentLevels.flatMap((level, i) => {
      const seen = at(level);
      const best = seen.length ? Math.max(...seen.map((r) => r.samplesPerSecond!)).toFixed(1) : '—';
      if (i === 0) return [best];
      const ratios = seen.flatMap((r) => {
        const base = references.find((b) => b.round === r.round);
        return base ? [r.samplesPerSecond! / base.samplesPerSecond!] : [];
      });
      const ratio = median(ratios);
      return [best, ratio === null ? '—' : `${ratio.toFixed(2)}×`];
    });
    out.push([model, input, batch, who, ...cells].join('\t'));
  }
  process.stdout.write(out.join('\n') + '\n');
}

bench.run(main);
