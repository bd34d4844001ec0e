// Metrics under load, through the real path (API → service → trainer process → store):
//
//  1. Does writing 1 000 000 metric points during a run slow its training? Training throughput
//     (the trainer's own samples/s, start-up excluded) of the same run alone and with a writer
//     that appends 1M points to another run in the same database, on the service's event loop
//     through a second connection of its own (the store is the service's; this benchmark
//     measures the store, so it opens it too), paced to finish within the run (as a long run's stream would arrive; the
//     default 1 500 steps make a run of ~30 s here, so ~30 000 points a second). Rounds run
//     alone-then-loaded and loaded-then-alone in turn to cancel drift; the ratio of the medians
//     is printed. Goal: < 5 %.
//  2. Does a long run's chart open in under a second? getRun through the API dispatcher (every
//     series, each down-sampled to 1 000 points) and one series query, on a run holding 1M
//     points (166 667 steps × 6 step metrics), and on a run whose loss series alone has 1M points.
//
//   npm run bench:metrics-load -- [--model small] [--backend wasm] [--batch 32] [--steps 300]
//       [--rounds 2] [--points 1000000] [--json out.json]
import os from 'node:os';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { formatBytes } from '../src/shared/format.js';
import type { BackendChoice, ModelKind, StepMetrics } from '../src/shared/run-types.js';
import { runToEnd } from '../src/shared/api/index.js';
import { openStore } from '../src/main/store/index.js';
import { yieldToEventLoop } from '../src/main/engine/util/event-loop.js';
import { benchCore } from './harness.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'small' },
    backend: { type: 'string', default: 'wasm' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '1500' },
    rounds: { type: 'string', default: '2' },
    points: { type: 'string', default: '1000000' },
    samples: { type: 'string', default: '3000' },
    json: { type: 'string' },
  },
});
const POINTS = Number(args.points);
const STEP_NAMES = 6; // loss, accuracy, samples_per_s, step_ms, memory_bytes, lr
const BATCH_STEPS = 500; // steps per append (3 000 points): what a busy run's batched stream looks like

const bench = benchCore('metrics-load');
const { api, log, run } = bench;
/** The same database as the service's, on a connection of this benchmark's own (opened once the service made it). */
let storeConnection: ReturnType<typeof openStore> | undefined;
const store = () => (storeConnection ??= openStore(bench.home, { recoverInterrupted: false }));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function fakeSteps(from: number, count: number): StepMetrics[] {
  return Array.from({ length: count }, (_, i) => {
    const step = from + i;
    return {
      step,
      epoch: 1 + Math.floor(step / 1000),
      time: step * 0.01,
      loss: 2 / Math.sqrt(step),
      accuracy: 1 - 1 / Math.sqrt(step),
      samplesPerSecond: 3000 + (step % 97),
      stepMs: 10 + (step % 7),
      memoryBytes: 1e6 + step,
      learningRate: 1e-3,
    };
  });
}

/** Appends `points` step-metric points to a new run of `datasetId`, spread over `seconds`; resolves with the write time. */
async function writer(datasetId: number, points: number, seconds: number): Promise<{ runId: number; writeMs: number; wallMs: number }> {
  const rec = store().runs.create({
    datasetId,
    config: { model: 'mlp', batchSize: 32, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'cpu', seed: 1 },
  });
  const steps = Math.ceil(points / STEP_NAMES);
  const batches = Math.ceil(steps / BATCH_STEPS);
  const interval = (seconds * 1000) / batches;
  const t0 = performance.now();
  let writeMs = 0;
  for (let b = 0; b < batches; b++) {
    const due = t0 + b * interval;
    const now = performance.now();
    if (due > now) await sleep(due - now);
    else await yieldToEventLoop(); // never starve the trainer's messages
    const w0 = performance.now();
    store().metrics.appendSteps(rec.id, fakeSteps(1 + b * BATCH_STEPS, Math.min(BATCH_STEPS, steps - b * BATCH_STEPS)));
    writeMs += performance.now() - w0;
  }
  return { runId: rec.id, writeMs, wallMs: performance.now() - t0 };
}

async function train(datasetId: number): Promise<{ samplesPerSecond: number; seconds: number }> {
  const { run: r } = await runToEnd(api, () =>
    api.startTraining({
      dataset: datasetId,
      config: { model: args.model as ModelKind, backend: args.backend as BackendChoice, batchSize: Number(args.batch), epochs: 1000 },
      maxSteps: Number(args.steps),
    }),
  );
  if (r.status !== 'completed' || !r.samplesPerSecond || !r.trainSeconds) throw new Error(`run ${r.id} ended ${r.status}: ${r.error ?? ''}`);
  return { samplesPerSecond: r.samplesPerSecond, seconds: r.trainSeconds };
}

async function timeIt(fn: () => unknown, reps = 5): Promise<{ median: number; max: number }> {
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { median: median(ms), max: Math.max(...ms) };
}

run(async () => {
  log(`machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${formatBytes(os.totalmem())}, Node ${process.version}`);
  const ds = await api.importSample({ sample: 'mnist', name: 'mnist', limit: Number(args.samples) });
  log(`warm-up run (${args.model}, ${args.backend}, batch ${args.batch}, ${args.steps} steps)…`);
  const warm = await train(ds.id);
  log(`  ${warm.samplesPerSecond.toFixed(0)} samples/s over ${warm.seconds.toFixed(1)} s`);

  const alone: number[] = [];
  const loaded: number[] = [];
  const writes: { writeMs: number; wallMs: number; runId: number }[] = [];
  for (let r = 0; r < Number(args.rounds); r++) {
    const runAlone = async () => {
      const a = await train(ds.id);
      alone.push(a.samplesPerSecond);
      log(`round ${r + 1}: alone ${a.samplesPerSecond.toFixed(0)} samples/s`);
    };
    const runLoaded = async () => {
      // The writer finishes its 1M points within ~90 % of the run's expected training time
      // (the warm-up run's; the trainer's start-up comes on top).
      const training = train(ds.id);
      const w = await writer(ds.id, POINTS, warm.seconds * 0.9);
      const b = await training;
      loaded.push(b.samplesPerSecond);
      writes.push(w);
      log(
        `round ${r + 1}: with ${POINTS} points written ${b.samplesPerSecond.toFixed(0)} samples/s (writes took ${(w.writeMs / 1000).toFixed(1)} s of ${(w.wallMs / 1000).toFixed(1)} s; training ${b.seconds.toFixed(1)} s)`,
      );
    };
    if (r % 2 === 0) {
      await runAlone();
      await runLoaded();
    } else {
      await runLoaded();
      await runAlone();
    }
  }
  const ratio = median(loaded) / median(alone);

  // ---- charts of a long run ----
  const longRun = writes[0]!.runId;
  const stored = store().metrics.count(longRun);
  const getRun = await timeIt(() => api.getRun({ runId: longRun, maxPoints: 1000 }));
  const series = await timeIt(() => store().metrics.series(longRun, 'loss', 1000));

  // A run whose loss series alone holds 1M points (written straight into the table).
  const single = store().runs.create({
    datasetId: ds.id,
    config: { model: 'mlp', batchSize: 32, epochs: 1, learningRate: 1e-3, optimizer: 'adam', momentum: 0.9, warmupSteps: 0, backend: 'cpu', seed: 1 },
  });
  const db = new Database(store().paths.database);
  const ins = db.prepare('INSERT INTO metrics (run_id, step, epoch, time, name, value) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let s = 1; s <= POINTS; s++) ins.run(single.id, s, 1 + Math.floor(s / 1000), s * 0.01, 'loss', 2 / Math.sqrt(s));
  })();
  db.close();
  const getRunSingle = await timeIt(() => api.getRun({ runId: single.id, maxPoints: 1000 }));
  const seriesSingle = await timeIt(() => store().metrics.series(single.id, 'loss', 1000));
  store().close();

  const rows = [
    ['training alone (median samples/s)', median(alone).toFixed(0)],
    [`training while ${POINTS} points are written (median samples/s)`, median(loaded).toFixed(0)],
    ['ratio loaded / alone', ratio.toFixed(3)],
    ['slowdown', `${((1 - ratio) * 100).toFixed(1)} %  (goal < 5 %)`],
    [`getRun, all series ≤1000 points, run of ${stored} points (ms median / max)`, `${getRun.median.toFixed(0)} / ${getRun.max.toFixed(0)}`],
    [`series('loss', 1000) of that run, ${Math.ceil(POINTS / STEP_NAMES)} points (ms)`, `${series.median.toFixed(0)} / ${series.max.toFixed(0)}`],
    [`getRun, run whose loss series has ${POINTS} points (ms)`, `${getRunSingle.median.toFixed(0)} / ${getRunSingle.max.toFixed(0)}`],
    [`series('loss', 1000) over ${POINTS} points (ms)`, `${seriesSingle.median.toFixed(0)} / ${seriesSingle.max.toFixed(0)}  (goal < 1000)`],
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  for (const [k, v] of rows) console.log(`${k!.padEnd(width)}  ${v}`);
  if (args.json)
    writeFileSync(path.resolve(args.json), JSON.stringify({ alone, loaded, ratio, writes, getRun, series, getRunSingle, seriesSingle, args }, null, 1));
  if (ratio < 0.95 || seriesSingle.max >= 1000 || getRunSingle.max >= 1000) process.exitCode = 1;
});
