// Training throughput (samples/s) of the reference CNNs per backend and batch size, through the
// real path (API → service → trainer process → backend), against the PyTorch peer on the same data,
// the same batches and the same thread count, in one run. Prints each ratio.
//
//   npm run bench:throughput -- [--backends wasm,webgpu,cpu] [--models small,large]
//       [--batches 32,64,256] [--samples 4000] [--threads 2] [--peer bench/peer_torch.py]
//       [--python /usr/bin/python3] [--device cpu|cuda] [--peer-epochs 1] [--json out.json]
//       [--source sample:mnist | <IDX folder>] [--webgpu-steps 24]
//
// --source: where the MNIST sample comes from (the GPU check bundle carries it as an IDX folder,
// without the `mnist` package). --webgpu-steps: steps per webgpu run, whatever the batch (runs
// take as many epochs as that needs). --peer-epochs: epochs per batch size for the peer (a GPU
// peer needs several at large batches for a steady figure).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runToEnd } from '../src/shared/api/index.js';
import { importDataset, loadDataset, toFloatBatch } from '../src/main/engine/datasets/index.js';
import { benchCore, importSource } from './harness.js';
import type { BackendChoice, ModelKind } from '../src/shared/run-types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: args } = parseArgs({
  options: {
    backends: { type: 'string', default: 'wasm,webgpu,cpu' },
    models: { type: 'string', default: 'small,large' },
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
  },
});

const backends = args.backends.split(',') as BackendChoice[];
const models = args.models.split(',') as ModelKind[];
const batches = args.batches.split(',').map(Number);
const samples = Number(args.samples);

interface Row {
  who: string;
  device: string;
  model: ModelKind;
  batch: number;
  samplesPerSecond: number | null;
  note?: string;
}

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

async function main(): Promise<void> {
  log(`Importing MNIST sample (${samples} training samples) from ${args.source}…`);
  // 25 % extra so the validation split is not taken out of the training samples.
  const options = { name: 'bench-mnist', limit: Math.min(10_000, Math.round(samples / 0.8)), validationFraction: 0.2 };
  const ds = await importSource(api, args.source, options);
  const trainCount = ds.trainCount;

  // The same samples and split for the peer: the same import, in a folder of the bench's own.
  const peerDir = path.join(bench.home, 'peer-data');
  const peerCache = path.join(bench.home, 'peer-cache');
  await importDataset(args.source, options, peerCache);
  exportForPeer(peerCache, peerDir);

  for (const backend of backends) {
    for (const model of models) {
      for (const batch of batches) {
        // The pure-JS cpu backend and WebGPU on a software adapter are far slower than wasm
        // (docs/benchmarks.md): a few steps say enough about their steady rate.
        const epoch = Math.ceil(trainCount / batch);
        const maxSteps =
          backend === 'cpu' ? Math.max(3, Math.ceil(Number(args['cpu-samples']) / batch)) : backend === 'webgpu' ? Number(args['webgpu-steps']) : epoch;
        // Large batches on a GPU: an epoch is a handful of steps, too few for a steady rate.
        const epochs = Math.max(1, Math.ceil(maxSteps / epoch));
        const { run } = await runToEnd(api, () =>
          api.startTraining({
            dataset: ds.id,
            config: { model, batchSize: batch, epochs, learningRate: 1e-3, optimizer: 'adam', backend },
            maxSteps,
          }),
        );
        if (run.status !== 'completed') {
          rows.push({ who: backend, device: run.device ?? '—', model, batch, samplesPerSecond: null, note: run.error ?? run.status });
          log(`${backend} ${model} b${batch}: ${run.status} ${run.error ?? ''}`);
          saveJson(trainCount);
          continue;
        }
        const sps = await steadyThroughput(run.id, batch);
        rows.push({ who: run.backend ?? backend, device: run.device ?? '—', model, batch, samplesPerSecond: sps });
        log(`${backend} ${model} b${batch}: ${sps?.toFixed(1)} samples/s on ${run.device}`);
        saveJson(trainCount);
      }
    }
  }

  for (const model of models) {
    runPeer(peerDir, model);
    saveJson(trainCount);
  }
  printTable();
  saveJson(trainCount);
}

/** Writes the rows so far (after each run too: a run cut short by a time limit keeps what it measured). */
function saveJson(trainCount: number): void {
  if (args.json)
    writeFileSync(
      args.json,
      JSON.stringify(
        { date: new Date().toISOString(), host: os.hostname(), cpus: os.cpus()[0]?.model, threads: Number(args.threads), samples: trainCount, rows },
        null,
        2,
      ),
    );
}

function exportForPeer(cacheDir: string, dir: string): void {
  const ld = loadDataset(cacheDir);
  mkdirSync(dir, { recursive: true });
  const [h, w, c] = ld.manifest.inputShape as [number, number, number];
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ shape: [h, w, c], classes: ld.manifest.classes.length }));
  for (const [split, idx] of [
    ['train', ld.trainIndex],
    ['test', ld.validationIndex],
  ] as const) {
    const x = toFloatBatch(ld, idx);
    writeFileSync(path.join(dir, `${split}.x`), Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    writeFileSync(
      path.join(dir, `${split}.y`),
      Uint8Array.from(idx, (i) => ld.y[i]!),
    );
  }
}

function runPeer(dataDir: string, model: ModelKind): void {
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
    },
  );
  if (r.status !== 0) {
    log(`peer (${model}) failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    for (const b of batches)
      rows.push({ who: 'torch', device: args.device, model, batch: b, samplesPerSecond: null, note: 'peer unavailable (apt-get install python3-torch)' });
    return;
  }
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const j = JSON.parse(line) as { peer: string; device: string; threads: number; batch_size: number; samples_per_s: number };
    rows.push({ who: 'torch', device: `${j.peer} ${j.device}, ${j.threads} threads`, model, batch: j.batch_size, samplesPerSecond: j.samples_per_s });
    log(`torch ${model} b${j.batch_size}: ${j.samples_per_s} samples/s`);
  }
}

function printTable(): void {
  const out: string[] = [];
  out.push(`Training throughput, samples/s (MNIST sample, ${samples} samples, Adam; peer on ${args.threads} threads)`);
  out.push(['model', 'batch', 'backend', 'samples/s', 'vs torch', 'device'].map((h, i) => h.padEnd([6, 6, 10, 10, 9, 0][i]!)).join(' '));
  for (const r of rows.filter((x) => x.who !== 'torch')) {
    const peer = rows.find((p) => p.who === 'torch' && p.model === r.model && p.batch === r.batch)?.samplesPerSecond;
    const ratio = r.samplesPerSecond && peer ? `${(r.samplesPerSecond / peer).toFixed(2)}×` : '—';
    out.push(
      [
        r.model.padEnd(6),
        String(r.batch).padEnd(6),
        r.who.padEnd(10),
        (r.samplesPerSecond?.toFixed(1) ?? r.note ?? '—').padEnd(10),
        ratio.padEnd(9),
        r.device,
      ].join(' '),
    );
  }
  for (const r of rows.filter((x) => x.who === 'torch')) {
    out.push(
      [
        r.model.padEnd(6),
        String(r.batch).padEnd(6),
        'torch'.padEnd(10),
        (r.samplesPerSecond?.toFixed(1) ?? r.note ?? '—').padEnd(10),
        '1.00×'.padEnd(9),
        r.device,
      ].join(' '),
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

bench.run(main);
