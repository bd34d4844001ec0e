// SIGKILL of trainer processes at random moments, ≥ 50 times in all: while training (before the
// backend is up, while loading the data, mid-epoch) and while tuning (during a probe, while a
// probe process starts). Every run ends 'interrupted' with the signal as its cause, every metric
// the service announced before the kill is in SQLite, every probe killed is a stored trial with
// its cause (or the session failed with it), and the next job after all that runs normally.
// RELIABILITY_SEED=<n> replays the same kill times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EpochMetrics, StepMetrics } from '../../src/shared/run-types.js';
import type { TrialRecord } from '../../src/shared/tuning-types.js';
import { removeDir, seededRandom, serviceWithSample, sleep, SpawnLog, waitFor, within } from './helpers.js';

/** A planned run of ten minutes: the search's time allowance (30 s Quick, 90 s Full) then cuts no probe on these small datasets, which is what these tests check; its trials take 6 s each (1 % of it). */
const TEN_MINUTES = 600;

const TRAIN_KILLS = Number(process.env.RELIABILITY_TRAIN_KILLS ?? 38);
const TUNE_KILLS = Number(process.env.RELIABILITY_TUNE_KILLS ?? 14);
const KILLS_PER_SESSION = 3;
/** Runs killed at once: two cores, and each trainer start is mostly one core's work. */
const CONCURRENT = 2;

test(`SIGKILL of the trainer ${TRAIN_KILLS} times at random moments of training`, { timeout: 240_000 }, async () => {
  const rnd = seededRandom();
  console.log(`# seed ${rnd.seed}`);
  const spawns = new SpawnLog();
  const { service, datasetId, home } = await serviceWithSample(300, spawns.spawn);
  const reported = new Map<number, { steps: StepMetrics[]; epochs: EpochMetrics[] }>();
  service.on('run-metrics', (e) => {
    const r = reported.get(e.runId) ?? { steps: [], epochs: [] };
    r.steps.push(...e.steps);
    r.epochs.push(...e.epochs);
    reported.set(e.runId, r);
  });
  const moments: number[] = [];
  const backendUp = new Set<number>();
  const batches = new Map<number, number>();
  service.on('run-backend', (e) => backendUp.add(e.runId));
  service.on('run-metrics', (e) => batches.set(e.runId, (batches.get(e.runId) ?? 0) + 1));
  try {
    const killOne = async (): Promise<void> => {
      const { runId, done } = service.startTraining({
        dataset: datasetId,
        // Many epochs so that no run finishes before its kill; validation twice per epoch so epoch rows exist early.
        config: { model: 'mlp', batchSize: 8, epochs: 1000, learningRate: 1e-3, backend: 'cpu' },
      });
      // Its process starts once the run's backend is resolved (at once here: an explicit tfjs choice).
      await waitFor(() => spawns.forRun(runId) !== undefined, 60_000);
      const entry = spawns.forRun(runId)!;
      // Random moments, tied to the run's progress so that a loaded machine does not shift them
      // all into the start-up: a quarter during start-up (0–800 ms after the start), a quarter
      // once the backend is up (loading the data, first steps), half mid-training (after 1–4
      // batches of metrics, while more are being written).
      const phase = rnd.next();
      const after = phase < 0.25 ? 0 : phase < 0.5 ? -1 : rnd.int(1, 4);
      const delay = phase < 0.25 ? rnd.int(0, 800) : rnd.int(0, 300);
      if (after === -1) await waitFor(() => backendUp.has(runId) || entry.exited, 60_000);
      else if (after > 0) await waitFor(() => (batches.get(runId) ?? 0) >= after || entry.exited, 60_000);
      moments.push(after);
      await sleep(delay);
      if (entry.exited) {
        const early = await done;
        assert.fail(`run ${runId}: the trainer ended by itself before its kill: ${early.status} ${early.error ?? ''}`);
      }
      entry.proc.kill('SIGKILL');
      const run = await within(done, 20_000, `run ${runId} ending after the kill`);
      assert.equal(run.status, 'interrupted', `run ${runId} killed at moment ${after}/${delay} ms: ${run.status} ${run.error ?? ''}`);
      assert.match(run.error ?? '', /killed \(SIGKILL\)/);
      const stored = new Set(service.runSteps(runId).map((s) => s.step));
      const said = reported.get(runId) ?? { steps: [], epochs: [] };
      for (const s of said.steps) assert.ok(stored.has(s.step), `run ${runId}: step ${s.step} was reported but not stored`);
      const storedEpochs = service.runEpochs(runId).length;
      assert.ok(storedEpochs >= said.epochs.length, `run ${runId}: ${said.epochs.length} epochs reported, ${storedEpochs} stored`);
      assert.equal(run.steps, said.steps.at(-1)?.step ?? 0, 'the summary counts the steps reported');
    };
    let left = TRAIN_KILLS;
    await Promise.all(
      Array.from({ length: CONCURRENT }, async () => {
        while (left > 0) {
          left--;
          await killOne();
        }
      }),
    );
    const withSteps = [...reported.values()].filter((r) => r.steps.length > 0).length;
    const startup = moments.filter((m) => m === 0).length;
    console.log(
      `# ${TRAIN_KILLS} kills: ${startup} in start-up, ${moments.filter((m) => m === -1).length} after the backend was up, ${moments.filter((m) => m > 0).length} mid-training; ${withSteps} runs had reported steps when killed`,
    );
    assert.ok(withSteps >= TRAIN_KILLS / 3, 'enough kills land mid-training');
    assert.ok(startup > 0, 'some kills land before training started');

    // The next job starts and ends normally.
    const next = service.startTraining({ dataset: datasetId, config: { model: 'mlp', batchSize: 16, epochs: 1, backend: 'cpu' }, maxSteps: 5 });
    const run = await within(next.done, 60_000, 'the run after the kills');
    assert.equal(run.status, 'completed', run.error ?? '');
    assert.equal(run.steps, 5);
    assert.deepEqual(service.listRuns({ status: 'running' }), []);
  } finally {
    await service.close();
    removeDir(home);
  }
});

test(`SIGKILL of probe processes ${TUNE_KILLS} times at random moments of tuning`, { timeout: 240_000 }, async () => {
  const rnd = seededRandom();
  console.log(`# seed ${rnd.seed}`);
  const spawns = new SpawnLog();
  // 2000 digits: batches up to 80 are searched, so a session runs long enough to be hit several times.
  const { service, datasetId, home } = await serviceWithSample(2000, spawns.spawn);
  let kills = 0;
  let asTrial = 0;
  let asSessionFailure = 0;
  let sessions = 0;
  try {
    while (kills < TUNE_KILLS && sessions < 3 * TUNE_KILLS) {
      sessions++;
      const trials: TrialRecord[] = [];
      const { sessionId, done } = service.startTuning({ dataset: datasetId, model: 'mlp', mode: 'quick', backend: 'cpu', budgetSeconds: TEN_MINUTES });
      const onTrial = (e: { sessionId: number; trial: TrialRecord }) => e.sessionId === sessionId && trials.push(e.trial);
      service.on('tune-trial', onTrial);
      let ended = false;
      void done.then(() => (ended = true));
      const killedAt: number[] = []; // trial count when each kill was sent
      let progressEvents = 0;
      const onProgress = (p: { sessionId: number }) => p.sessionId === sessionId && progressEvents++;
      service.on('tune-progress', onProgress);
      for (let k = 0; k < KILLS_PER_SESSION && !ended && kills < TUNE_KILLS; k++) {
        // Mostly while a probe runs (just after the search announced it); sometimes while the
        // probe process starts up.
        if (rnd.next() < 0.8) {
          const seen = progressEvents;
          await waitFor(() => progressEvents > seen || ended, 60_000);
          await sleep(rnd.int(0, 150));
        } else {
          await sleep(rnd.int(0, 800));
        }
        const proc = spawns.newestAlive();
        if (!proc || ended) continue;
        killedAt.push(trials.length);
        proc.kill('SIGKILL');
        kills++;
        // Wait for the kill to be seen (a trial or the end) before the next one.
        const seen = trials.length;
        for (let i = 0; i < 200 && trials.length === seen && !ended; i++) await sleep(50);
      }
      if (!ended) service.stopTuning(sessionId);
      const rec = await within(done, 60_000, `tuning session ${sessionId} ending`);
      service.off('tune-trial', onTrial);
      service.off('tune-progress', onProgress);
      assert.ok(['stopped', 'failed', 'completed'].includes(rec.status), `session ${sessionId}: ${rec.status}`);
      if (rec.status === 'failed') assert.ok((rec.error ?? '').length > 0, 'a failed session says why');
      // Every trial announced is stored, the same.
      const stored = service.tuningTrials(sessionId);
      assert.deepEqual(
        stored.map((t) => [t.seq, t.status, t.cause]),
        trials.map((t) => [t.seq, t.status, t.cause]),
      );
      // Each kill is either the first trial after it (ended by the kill, with its cause) or the
      // session's failure (a kill while the probe process was starting up).
      for (const at of killedAt) {
        const t = stored[at];
        if (t && t.status !== 'ok' && /killed \(SIGKILL\)/.test(t.cause ?? '')) asTrial++;
        else if (rec.status === 'failed' && /SIGKILL/.test(rec.error ?? '')) asSessionFailure++;
        else assert.fail(`session ${sessionId}: a kill at trial ${at} left no trace (trial: ${JSON.stringify(t)}, session ${rec.status}: ${rec.error ?? ''})`);
      }
    }
    console.log(`# ${kills} probe kills in ${sessions} sessions: ${asTrial} ended a trial, ${asSessionFailure} failed a session while starting`);
    assert.equal(kills, TUNE_KILLS);

    // The next job after all that: a training run.
    const next = service.startTraining({ dataset: datasetId, config: { model: 'mlp', batchSize: 16, epochs: 1, backend: 'cpu' }, maxSteps: 5 });
    const run = await within(next.done, 60_000, 'the run after the kills');
    assert.equal(run.status, 'completed', run.error ?? '');
  } finally {
    await service.close();
    removeDir(home);
  }
});
