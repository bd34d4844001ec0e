// What the training tests read of a service's runs: the saved model's weights (to compare a
// resumed run with an uninterrupted one byte for byte) and the pid of a run's trainer (to kill it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AutoBatchService } from '../../src/main/service/service.js';

/** The trained model's weights file of a completed run. */
export function savedWeights(service: AutoBatchService, runId: number): Buffer {
  const { model } = service.runFiles(runId);
  assert.ok(model, `run ${runId} saved its model`);
  return readFileSync(path.join(path.dirname(model.path), 'model', 'weights.bin'));
}

/** The process id of the trainer an active run trains in (the service keeps it private). */
export function trainerPid(service: AutoBatchService, runId: number): number {
  return (service as unknown as { active: Map<number, { host: { pid: number } }> }).active.get(runId)!.host.pid;
}
