// `npm run bench:tuner -- --pytorch-user`: Auto-tune Quick and Full (search included, then the
// recommendation trained to the target) against a PyTorch user at the usual defaults
// (bench/peer_time_to_target.py: batch 32, Adam 1e-3, the same threads), seed-major.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importDataset } from '../../src/main/engine/datasets/index.js';
import { runToEnd, tuningToEnd } from '../../src/shared/api/index.js';
import type { BackendChoice, ModelKind } from '../../src/shared/run-types.js';
import { exportForPeer, type Bench, type ImageImportOptions } from '../harness.js';
import { median } from './grid.js';

export interface PytorchUserOptions {
  datasetId: number;
  trainCount: number;
  source: string;
  samples: number;
  image: ImageImportOptions;
  model: ModelKind;
  backend: BackendChoice;
  target: number;
  maxEpochs: number;
  validationsPerEpoch: number;
  seeds: number;
  threads: string;
  python: string;
  json?: string | undefined;
}

/** Trains one setting with one seed, stopped at the first validation at or above the target: its training seconds (Infinity if never). */
export async function trainToTarget(
  bench: Bench,
  o: Pick<PytorchUserOptions, 'datasetId' | 'model' | 'maxEpochs' | 'backend' | 'validationsPerEpoch' | 'target'>,
  batchSize: number,
  learningRate: number,
  warmupSteps: number,
  seed: number,
): Promise<number> {
  let hit: number | undefined;
  await runToEnd(
    bench.api,
    () =>
      bench.api.startTraining({
        dataset: o.datasetId,
        config: {
          model: o.model,
          batchSize,
          learningRate,
          warmupSteps,
          epochs: o.maxEpochs,
          backend: o.backend,
          optimizer: 'adam',
          seed,
          validationsPerEpoch: o.validationsPerEpoch,
        },
      }),
    {
      metrics: (e) => {
        const reached = hit === undefined ? e.epochs.find((x) => x.valAccuracy >= o.target) : undefined;
        if (!reached) return;
        hit = reached.time;
        bench.api.stopTraining({ runId: e.runId }).catch(() => {}); // it may have ended meanwhile
      },
    },
  );
  return hit ?? Infinity;
}

/** The bare PyTorch user at 32 @ 1e-3 on the peer's copy of the data: training seconds to the target (Infinity if never). */
function pytorchUser(bench: Bench, o: PytorchUserOptions, dataDir: string, seed: number): number {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../bench/peer_time_to_target.py');
  const r = spawnSync(
    o.python,
    [
      script,
      ...['--data', dataDir, '--model', o.model, '--batch-size', '32', '--lr', '1e-3', '--target', String(o.target)],
      ...['--max-epochs', String(o.maxEpochs), '--validations-per-epoch', String(o.validationsPerEpoch), '--threads', o.threads, '--seed', String(seed)],
    ],
    { encoding: 'utf8', timeout: 3_600_000 },
  );
  if (r.status !== 0)
    throw new Error(
      `the PyTorch user's run failed (is PyTorch installed? apt-get install python3-torch): ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`,
    );
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { reached: boolean; seconds?: number; epoch?: number };
  bench.log(
    `PyTorch user, batch 32 @ 1e-3, seed ${seed}: ${j.reached ? `${j.seconds!.toFixed(1)} s (epoch ${j.epoch})` : `not reached in ${o.maxEpochs} epochs`}`,
  );
  return j.reached ? j.seconds! : Infinity;
}

/** For each seed in turn: Quick and Full with that seed, their picks trained with it, then the PyTorch user with it. */
export async function againstPytorchUser(bench: Bench, o: PytorchUserOptions): Promise<void> {
  const { api, log } = bench;
  const peerCache = path.join(bench.home, 'peer-cache');
  const peerDir = path.join(bench.home, 'peer-data');
  await importDataset(o.source, { name: 'bench-mnist', limit: o.samples, ...o.image }, peerCache);
  exportForPeer(peerCache, peerDir);
  const times: Record<'quick' | 'full' | 'user', number[]> = { quick: [], full: [], user: [] };
  const picks: Record<'quick' | 'full', string[]> = { quick: [], full: [] };
  for (let seed = 1; seed <= o.seeds; seed++) {
    for (const mode of ['quick', 'full'] as const) {
      const t = await tuningToEnd(api, () => api.startTuning({ dataset: o.datasetId, model: o.model, mode, backend: o.backend, seed }));
      if (!t.report) throw new Error(`tuning failed: ${t.error}`);
      const rec = t.report.recommendation;
      picks[mode].push(
        `${rec.batchSize} @ ${rec.learningRate.toPrecision(2)} (search ${t.report.searchSeconds.toFixed(1)} s, ${t.rung ?? t.backend} on ${t.device})`,
      );
      const trained = await trainToTarget(bench, o, rec.batchSize, rec.learningRate, rec.warmupSteps, seed);
      times[mode].push(t.report.searchSeconds + trained);
      log(`tuner ${mode}, seed ${seed}: ${picks[mode].at(-1)} → ${times[mode].at(-1)!.toFixed(1)} s with the search`);
    }
    times.user.push(pytorchUser(bench, o, peerDir, seed));
  }
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'not reached');
  const user = median(times.user);
  const out = [
    `Time to ${(o.target * 100).toFixed(1)} % validation accuracy, ${o.model}, ${o.trainCount} training samples, app on ${o.backend}, ${o.threads} threads, median of ${o.seeds} seed(s), ${o.validationsPerEpoch} validations an epoch`,
    `PyTorch user (batch 32, Adam 1e-3): ${fmt(user)} s [${times.user.map(fmt).join(', ')}]`,
  ];
  for (const mode of ['quick', 'full'] as const) {
    const t = median(times[mode]);
    out.push(
      `Auto-tune ${mode} (search included): ${fmt(t)} s [${times[mode].map(fmt).join(', ')}] = ${Number.isFinite(t) && Number.isFinite(user) ? `${(t / user).toFixed(2)}×` : '—'} the PyTorch user; picks: ${picks[mode].join('; ')}`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
  if (o.json)
    writeFileSync(
      o.json,
      JSON.stringify(
        { date: new Date().toISOString(), target: o.target, backend: o.backend, model: o.model, threads: Number(o.threads), times, picks },
        null,
        2,
      ),
    );
}
