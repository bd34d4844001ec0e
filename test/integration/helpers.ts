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
