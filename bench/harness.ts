// What every benchmark shares: the app's core on a throw-away data folder, reached through the
// API like any client (its events unthrottled, so a run can be stopped the moment it reaches a
// target), progress on stderr (the table goes to stdout), and clean-up however the run ends.
import os from 'node:os';
import path from 'node:path';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadDataset, toFloatBatch } from '../src/main/engine/datasets/index.js';
import type { Api } from '../src/shared/api/index.js';
import { openAppCore, type AppCore } from '../src/main/service/app-core.js';
import { imageSize } from '../src/main/cli/parse-flags.js';

export interface Bench {
  api: Api;
  /** The core itself, for what the API does not offer (a bare probe session). */
  core: AppCore;
  /** The throw-away data folder. */
  home: string;
  log(text: string): void;
  run(main: () => Promise<void>): void;
}

export function benchCore(name: string): Bench {
  const home = path.join(os.tmpdir(), `autobatch-bench-${name}-${process.pid}`);
  // warmTrainer: as in the app, a started trainer process waits for the next job.
  const core = openAppCore({ home, client: 'cli', warmTrainer: true, coalescer: { intervalMs: 0, maxStepsPerFlush: Number.MAX_SAFE_INTEGER } });
  return {
    api: core.api,
    core,
    home,
    log: (text) => process.stderr.write(text + '\n'),
    run(main) {
      main()
        .catch((err) => {
          process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
          process.exitCode = 1;
        })
        .finally(async () => {
          await core.close();
          rmSync(home, { recursive: true, force: true });
        });
    },
  };
}

/** How images are reshaped on import (the import's own options): size, resize or pad, grey or RGB. */
export interface ImageImportOptions {
  imageSize?: [number, number];
  imageFit?: 'resize' | 'pad';
  grayscale?: boolean;
}

/** The benches' --image-size HxW, --image-fit resize|pad and --rgb flags, as import options. */
export function imageImportOptions(flags: {
  'image-size'?: string | undefined;
  'image-fit'?: string | undefined;
  rgb?: boolean | undefined;
}): ImageImportOptions {
  const fit = flags['image-fit'];
  if (fit !== undefined && fit !== 'resize' && fit !== 'pad') throw new Error(`--image-fit: expected resize or pad, got "${fit}"`);
  return {
    ...(flags['image-size'] !== undefined ? { imageSize: imageSize(flags['image-size']) } : {}),
    ...(fit !== undefined ? { imageFit: fit } : {}),
    ...(flags.rgb ? { grayscale: false } : {}),
  };
}

/** The bundled sample (`sample:mnist`) or a folder or file to import, through the API. */
export function importSource(api: Api, source: string, options: { name: string; limit?: number; validationFraction?: number } & ImageImportOptions) {
  return source === 'sample:mnist' ? api.importSample({ sample: 'mnist', ...options }) : api.importDataset({ source: path.resolve(source), ...options });
}

/**
 * Writes a dataset cache's samples in the peer's plain format (bench/peer_torch.py): meta.json,
 * train.x/.y and test.x/.y (the validation split), features as the app normalises them (float32 NHWC).
 */
export function exportForPeer(cacheDir: string, dir: string): { inputShape: number[]; classes: number } {
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
  return { inputShape: ld.manifest.inputShape, classes: ld.manifest.classes.length };
}
