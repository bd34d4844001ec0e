import { after } from 'node:test';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AutoBatchService } from '../../src/main/service/service.js';

export function tempHome(prefix = 'autobatch-it-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A service on a fresh data folder with the MNIST sample (limited) imported. */
export async function serviceWithMnist(limit = 2000): Promise<{ service: AutoBatchService; datasetId: number; home: string }> {
  const home = tempHome();
  const service = new AutoBatchService({ home });
  const ds = await service.importDataset('sample:mnist', { name: 'mnist', limit });
  return { service, datasetId: ds.id, home };
}

/**
 * One MNIST sample import shared by a whole test file (its service closed after the file): the
 * cached dataset folder that trainer jobs read.
 */
export function sharedMnistDir(limit: number): () => Promise<string> {
  let shared: Promise<{ dir: string; close: () => Promise<void> }> | undefined;
  after(async () => {
    if (shared) await (await shared).close();
  });
  return async () => {
    shared ??= serviceWithMnist(limit).then(({ service, datasetId }) => ({ dir: service.getDataset(datasetId).cacheDir, close: () => service.close() }));
    return (await shared).dir;
  };
}
