// SIGKILL of the host process (the one that owns the service and the database) mid-run: at the
// next open the database passes PRAGMA integrity_check, the run is 'interrupted' with every
// step stored before the kill, its orphaned trainer has gone, and a new run works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { AutoBatchService } from '../../src/main/service/service.js';
import { DATABASE_FILE } from '../../src/main/store/index.js';
import { removeDir, seededRandom, sleep, tempDir, within } from './helpers.js';
import { HostProcess, type HostLine } from './host-process.js';

const ROUNDS = 3;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(`kill -9 of the host process mid-run, ${ROUNDS} times: the database is intact and the run interrupted`, { timeout: 180_000 }, async () => {
  const rnd = seededRandom();
  console.log(`# seed ${rnd.seed}`);
  const home = tempDir();
  try {
    const setup = new AutoBatchService({ home });
    await setup.importDataset('sample:mnist', { name: 'mnist', limit: 300 });
    await setup.close();

    for (let round = 0; round < ROUNDS; round++) {
      const host = new HostProcess(home);
      const first = await host.waitLine((l) => l.type === 'metrics', 60_000, 'the host starting a run');
      const { runId, trainerPid, hostPid } = first as Required<HostLine>;
      // Let it write metrics for a random while: the kill lands between or during transactions.
      await sleep(rnd.int(0, 1500));
      process.kill(hostPid, 'SIGKILL');
      await host.exit;
      // The orphaned trainer notices its host is gone and ends itself.
      for (let i = 0; i < 100 && alive(trainerPid); i++) await sleep(100);
      assert.ok(!alive(trainerPid), `the trainer ${trainerPid} outlived its host`);

      const db = new Database(`${home}/${DATABASE_FILE}`, { readonly: true });
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      db.close();

      const service = new AutoBatchService({ home });
      try {
        assert.ok(service.recoveredRuns.includes(runId), `run ${runId} was recovered at open (${service.recoveredRuns.join(',')})`);
        const run = service.getRun(runId);
        assert.equal(run.status, 'interrupted');
        assert.ok((run.error ?? '').length > 0);
        const steps = service.runSteps(runId);
        assert.ok(steps.length > 0, 'the steps stored before the kill are there');
        assert.deepEqual(
          steps.map((s) => s.step),
          steps.map((_, i) => i + 1),
          'steps 1..n, no holes',
        );
        const next = service.startTraining({ dataset: 'mnist', config: { model: 'mlp', batchSize: 16, epochs: 1, backend: 'cpu' }, maxSteps: 3 });
        const rec = await within(next.done, 60_000, 'a run after the kill');
        assert.equal(rec.status, 'completed', rec.error ?? '');
      } finally {
        await service.close();
      }
    }
  } finally {
    removeDir(home);
  }
});
