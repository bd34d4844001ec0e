// Compile-time checks of the Api type (the build fails if they break): calls without required
// params may be called bare, calls with required params may not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Api } from '../../../src/shared/api/index.js';

export async function typeChecks(api: Api): Promise<void> {
  await api.activeRuns();
  await api.listRuns();
  await api.listDatasets();
  await api.detectBackends();
  await api.getSettings();
  // @ts-expect-error runId is required
  await api.getRun();
  // @ts-expect-error dataset and model are required
  await api.startTuning();
  // @ts-expect-error unknown fields are refused by the type too
  await api.getRun({ runId: 1, bogus: true });
  const run = await api.getRun({ runId: 1 });
  const best: number | null = run.run.bestValAccuracy;
  void best;
}

test('the Api type checks compile', () => {
  assert.equal(typeof typeChecks, 'function');
});
