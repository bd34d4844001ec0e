// Checkpoints on the torch engine (src/shared/checkpoint.ts, python/autobatch_trainer/checkpoint.py):
// a run interrupted mid-epoch and resumed from its stop checkpoint, or resumed from an epoch's
// end, ends with the very weights of an uninterrupted run, each step reported once; a run keeps
// its two newest checkpoints and no partial write; a resume from a folder that is no checkpoint
// fails as bad-config, naming the folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { TrainerHost, type JobOutcome, type TrainerSpawner } from '../../src/main/service/trainer-host.js';
import { createPythonSpawner } from '../../src/main/service/python-trainer.js';
import { CHECKPOINT_FOLDER, CHECKPOINTS_KEPT, checkpointStateSchema, samplesDoneInEpoch } from '../../src/shared/checkpoint.js';
import { trainerMessageSchema, type TrainerMessage, type TrainJob } from '../../src/shared/trainer-protocol.js';
import type { StepMetrics, TrainConfig } from '../../src/shared/run-types.js';
import { sharedMnistDir, tempHome } from './helpers.js';
import { missing, torchPython } from '../support/parts.js';

const skip = missing('torch');

type CheckpointMessage = Extract<TrainerMessage, { type: 'checkpoint' }>;

interface Heard {
  outcome: JobOutcome;
  steps: StepMetrics[];
  checkpoints: CheckpointMessage[];
  /** For each checkpoint message, the highest step reported before it. */
  reportedBefore: number[];
}

/** Runs a job on torch-cpu (one thread), hearing every message the trainer sends, checkpoints included. */
async function train(job: TrainJob, onStep?: (host: TrainerHost, step: StepMetrics) => void): Promise<Heard> {
  const steps: StepMetrics[] = [];
  const checkpoints: CheckpointMessage[] = [];
  const reportedBefore: number[] = [];
  const spawnPython = createPythonSpawner({ python: torchPython(), threads: 1 });
  const spawn: TrainerSpawner = () => {
    const child = spawnPython();
    child.onMessage((raw) => {
      const parsed = trainerMessageSchema.safeParse(raw);
      if (!parsed.success) return; // the host reports it
      const msg = parsed.data;
      if (msg.type === 'metrics') steps.push(...msg.steps);
      if (msg.type === 'checkpoint') {
        checkpoints.push(msg);
        reportedBefore.push(steps.reduce((m, s) => Math.max(m, s.step), 0));
      }
    });
    return child;
  };
  const host = new TrainerHost(job, { spawn });
  host.on('metrics', (m) => m.steps.forEach((s) => onStep?.(host, s)));
  return { outcome: await host.done, steps, checkpoints, reportedBefore };
}

const BASE: TrainConfig = {
  model: 'small',
  batchSize: 32,
  epochs: 2,
  learningRate: 1e-3,
  optimizer: 'adam',
  momentum: 0.9,
  warmupSteps: 5,
  backend: 'torch-cpu',
  seed: 3,
};

function job(datasetDir: string, extra: Partial<TrainJob> = {}): TrainJob {
  return { kind: 'train', runId: 1, datasetDir, config: { ...BASE }, ...extra };
}

/** One MNIST sample import for the whole file. */
const datasetDir = sharedMnistDir(1000);

const NEVER = 86_400; // no timer checkpoint within a test

function weights(artifactDir: string): Buffer {
  return readFileSync(path.join(artifactDir, 'model', 'weights.bin'));
}

/** The checkpoints folder after a run: at most the newest two, no partial write, each state valid and of the torch engine. */
function assertTidy(dir: string): string[] {
  const names = readdirSync(dir);
  assert.deepEqual(
    names.filter((n) => n.startsWith('.partial-')),
    [],
    `partial writes left in ${dir}`,
  );
  const kept = names.filter((n) => CHECKPOINT_FOLDER.test(n)).sort();
  assert.ok(kept.length >= 1 && kept.length <= CHECKPOINTS_KEPT, `${dir} holds ${names.join(', ')}`);
  for (const name of kept) {
    const folder = path.join(dir, name);
    const state = checkpointStateSchema.parse(JSON.parse(readFileSync(path.join(folder, 'state.json'), 'utf8')));
    assert.equal(state.engine, 'torch');
    assert.equal(name, `step-${String(state.step).padStart(9, '0')}`);
    const order = statSync(path.join(folder, 'order.bin')).size;
    assert.ok(order > 0 && order % 4 === 0, `order.bin of ${name}: ${order} bytes`);
    for (const f of ['model.pt', 'optimizer.pt']) assert.ok(existsSync(path.join(folder, f)), `${name}/${f}`);
  }
  return kept;
}

function assertCompleted(r: Heard): void {
  assert.equal(r.outcome.status, 'completed', JSON.stringify(r.outcome));
}

/** Every checkpoint message came after the report of every step up to its own. */
function assertStepsBeforeCheckpoints(r: Heard): void {
  r.checkpoints.forEach((c, i) => assert.equal(r.reportedBefore[i], c.step, `steps reported before the checkpoint at step ${c.step}`));
}

test(
  'a torch run stopped mid-epoch and resumed from its stop checkpoint, or resumed from an epoch’s end, ends with the weights of an uninterrupted run',
  { skip, timeout: 900_000 },
  async (t) => {
    const dir = await datasetDir();
    const home = tempHome('autobatch-torch-ckpt-');
    const at = (name: string) => path.join(home, name);

    // Uninterrupted: a checkpoint at each epoch's end.
    const full = await train(job(dir, { artifactDir: at('full-art'), checkpoints: { dir: at('full-ckpt'), everySeconds: NEVER } }));
    assertCompleted(full);
    const total = full.steps.length;
    const perEpoch = full.steps.filter((s) => s.epoch === 1).length;
    assert.ok(perEpoch >= 4 && total === 2 * perEpoch, `${perEpoch} steps per epoch, ${total} in all`);
    assert.deepEqual(
      full.steps.map((s) => s.step),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.deepEqual(
      full.checkpoints.map((c) => [c.reason, c.step, c.epoch]),
      [
        ['epoch', perEpoch, 1],
        ['epoch', total, 2],
      ],
    );
    assertStepsBeforeCheckpoints(full);
    assert.deepEqual(assertTidy(at('full-ckpt')), [`step-${String(perEpoch).padStart(9, '0')}`, `step-${String(total).padStart(9, '0')}`]);

    // Interrupted in the middle of epoch 1 (maxSteps), then resumed from the stop checkpoint.
    const cut = Math.floor(perEpoch / 2);
    const first = await train(job(dir, { maxSteps: cut, checkpoints: { dir: at('cut-ckpt'), everySeconds: NEVER } }));
    assertCompleted(first);
    const stop = first.checkpoints.at(-1);
    assert.ok(stop, 'a checkpoint when the run ended early');
    assert.deepEqual([stop.reason, stop.step, stop.epoch], ['stop', cut, 1]);
    assert.equal(stop.dir, path.join(at('cut-ckpt'), `step-${String(cut).padStart(9, '0')}`));
    assertStepsBeforeCheckpoints(first);
    const stopState = checkpointStateSchema.parse(JSON.parse(readFileSync(path.join(stop.dir, 'state.json'), 'utf8')));
    assert.equal(stopState.batchInEpoch, cut);
    assert.equal(samplesDoneInEpoch(stopState), cut * BASE.batchSize);
    assert.equal(stopState.samplesSeen, cut * BASE.batchSize);

    const second = await train(
      job(dir, { artifactDir: at('resumed-art'), checkpoints: { dir: at('cut-ckpt'), everySeconds: NEVER }, resume: { checkpointDir: stop.dir } }),
    );
    assertCompleted(second);
    assertStepsBeforeCheckpoints(second);
    const reported = [...first.steps, ...second.steps].map((s) => s.step);
    assert.deepEqual(
      reported,
      Array.from({ length: total }, (_, i) => i + 1),
      'each step reported once, in order, by one of the two attempts',
    );
    assert.ok(second.steps[0]!.time >= first.steps.at(-1)!.time, 'the resumed run’s time axis carries on');
    if (second.outcome.status === 'completed') {
      assert.equal(second.outcome.summary?.steps, total);
      assert.equal(second.outcome.summary?.epochsCompleted, 2);
    }
    assert.ok(weights(at('resumed-art')).equals(weights(at('full-art'))), 'stopped and resumed: the same weights, bit for bit');
    assertTidy(at('cut-ckpt'));

    // Resumed from the end of epoch 1 (the uninterrupted run's first checkpoint).
    const fromEpoch = await train(
      job(dir, { artifactDir: at('epoch-art'), resume: { checkpointDir: path.join(at('full-ckpt'), `step-${String(perEpoch).padStart(9, '0')}`) } }),
    );
    assertCompleted(fromEpoch);
    assert.deepEqual(
      fromEpoch.steps.map((s) => s.step),
      Array.from({ length: perEpoch }, (_, i) => perEpoch + i + 1),
    );
    assert.ok(weights(at('epoch-art')).equals(weights(at('full-art'))), 'resumed at an epoch’s end: the same weights, bit for bit');
    t.diagnostic(`${total} steps; cut at step ${cut}`);
  },
);

test("a stopped torch run writes a 'stop' checkpoint at its last step and still ends as 'stopped'", { skip, timeout: 300_000 }, async () => {
  const dir = await datasetDir();
  const ckpt = path.join(tempHome('autobatch-torch-ckpt-stop-'), 'checkpoints');
  const r = await train(job(dir, { config: { ...BASE, epochs: 50 }, checkpoints: { dir: ckpt, everySeconds: NEVER } }), (host, s) => {
    if (s.step >= 5) host.stop();
  });
  assert.equal(r.outcome.status, 'stopped', JSON.stringify(r.outcome));
  assert.ok(r.outcome.status === 'stopped' && r.outcome.summary, 'the trainer sent its own stopped message');
  const last = r.checkpoints.at(-1);
  assert.ok(last && last.reason === 'stop', JSON.stringify(r.checkpoints));
  assert.equal(last.step, r.outcome.summary.steps);
  assert.equal(last.step, r.steps.at(-1)!.step);
  assertStepsBeforeCheckpoints(r);
  assertTidy(ckpt);
});

test('a torch run resumed from a folder that holds no checkpoint fails as bad-config, naming the folder', { skip, timeout: 300_000 }, async () => {
  const dir = await datasetDir();
  const home = tempHome('autobatch-torch-ckpt-bad-');
  const absent = path.join(home, 'step-000000007');
  const empty = path.join(home, 'empty');
  mkdirSync(empty);
  for (const folder of [absent, empty]) {
    const r = await train(job(dir, { resume: { checkpointDir: folder } }));
    assert.equal(r.outcome.status, 'failed', JSON.stringify(r.outcome));
    if (r.outcome.status !== 'failed') continue;
    assert.equal(r.outcome.cause, 'bad-config', r.outcome.message);
    assert.ok(r.outcome.message.includes(folder), r.outcome.message);
    assert.equal(r.steps.length, 0);
  }
});
