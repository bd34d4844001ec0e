// Augmentation through the service, in real trainer and probe processes: the level a run or a
// search stores (asked for, inherited from the search, else by the dataset's kind), a table
// refused before anything is stored, the same seed training the same with 'standard', the
// probes of a search training with its level, and "Train with this" taking it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createRng } from '../../src/shared/random.js';
import type { ProbeSession } from '../../src/shared/probe-protocol.js';
import { AutoBatchService } from '../../src/main/service/service.js';
import { UserError } from '../../src/main/service/errors.js';
import { forkSpawner, type TrainerSpawner } from '../../src/main/service/trainer-host.js';
import { idx } from '../unit/datasets/helpers.js';
import { tempHome } from './helpers.js';

/** A planned run of ten minutes: the search's time allowance (30 s Quick, 90 s Full) then cuts no probe on these small datasets, which is what these tests check; its trials take 6 s each (1 % of it). */
const TEN_MINUTES = 600;

/** Two classes of 16×16 RGB photos (red or blue dominant), `perClass` each. */
async function photos(root: string, perClass: number): Promise<string> {
  const rng = createRng(5);
  for (const [cls, hot] of [
    ['reds', 0],
    ['blues', 2],
  ] as const) {
    mkdirSync(path.join(root, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(16 * 16 * 3);
      for (let p = 0; p < px.length; p++) px[p] = Math.floor((p % 3 === hot ? 140 : 30) + rng() * 110);
      await sharp(px, { raw: { width: 16, height: 16, channels: 3 } })
        .png()
        .toFile(path.join(root, cls, `${i}.png`));
    }
  }
  return root;
}

/** An IDX pair of 24 8×8 digits-like images in two classes. */
function idxFolder(root: string): string {
  const n = 24;
  const rng = createRng(6);
  mkdirSync(root, { recursive: true });
  writeFileSync(
    path.join(root, 'train-images-idx3-ubyte'),
    idx(
      0x08,
      [n, 8, 8],
      Uint8Array.from({ length: n * 64 }, () => Math.floor(rng() * 256)),
    ),
  );
  writeFileSync(
    path.join(root, 'train-labels-idx1-ubyte'),
    idx(
      0x08,
      [n],
      Uint8Array.from({ length: n }, (_, i) => i % 2),
    ),
  );
  return root;
}

function csvFile(file: string): string {
  const rows = Array.from({ length: 40 }, (_, i) => `${(i % 2) + (i % 7) / 10},${(i % 5) / 3},${i % 2 ? 'a' : 'b'}`);
  writeFileSync(file, ['x,y,label', ...rows].join('\n'));
  return file;
}

/** A few steps on the cpu backend: enough to see what was stored and what was trained. */
const quick = { model: 'small', batchSize: 8, epochs: 1, learningRate: 3e-3, backend: 'cpu' } as const;

test(
  'a run stores light for image folders, none for IDX and the sample, what it asks for otherwise; a table with light is refused, nothing stored',
  { timeout: 300_000 },
  async () => {
    const home = tempHome();
    const service = new AutoBatchService({ home });
    try {
      const folder = await service.importDataset(await photos(path.join(home, 'photos'), 12), { imageSize: [16, 16], grayscale: false });
      const digits = await service.importDataset(idxFolder(path.join(home, 'digits')), {});
      const sample = await service.importDataset('sample:mnist', { name: 'mnist', limit: 200 });
      const table = await service.importDataset(csvFile(path.join(home, 'table.csv')), { labelColumn: 'label' });
      assert.deepEqual(
        [folder, digits, sample, table].map((d) => d.kind),
        ['image-folder', 'idx', 'mnist-sample', 'csv'],
      );

      const stored = async (dataset: number, config: object): Promise<string | undefined> => {
        const run = await service.startTraining({ dataset, config: { ...quick, ...config }, maxSteps: 2 }).done;
        assert.equal(run.status, 'completed', run.error ?? '');
        return run.config.augment;
      };
      assert.equal(await stored(folder.id, {}), 'light');
      assert.equal(await stored(folder.id, { augment: 'none' }), 'none');
      assert.equal(await stored(digits.id, { model: 'mlp' }), 'none');
      assert.equal(await stored(sample.id, {}), 'none');
      assert.equal(await stored(sample.id, { augment: 'standard' }), 'standard');

      const runsBefore = service.listRuns().length;
      const refused = (field: string) => (err: unknown) => {
        assert.ok(err instanceof UserError, String(err));
        assert.equal(err.field, field);
        assert.match(err.message, /augmentation "light" needs an image dataset; "table" has 2 features per row \(a table\): use --augment none/);
        return true;
      };
      assert.throws(() => service.startTraining({ dataset: table.id, config: { ...quick, model: 'mlp', augment: 'light' } }), refused('config.augment'));
      assert.throws(() => service.startTuning({ dataset: table.id, model: 'mlp', augment: 'light', backend: 'cpu' }), refused('augment'));
      assert.equal(service.listRuns().length, runsBefore);
      assert.equal(service.listTunings().length, 0);
      // The table trains without augmentation by default.
      assert.equal(await stored(table.id, { model: 'mlp' }), 'none');
    } finally {
      await service.close();
    }
  },
);

test("'standard' twice with the same seed gives the same losses; without augmentation they differ", { timeout: 300_000 }, async () => {
  const home = tempHome();
  const service = new AutoBatchService({ home });
  try {
    const folder = await service.importDataset(await photos(path.join(home, 'photos'), 16), { imageSize: [16, 16], grayscale: false });
    const losses = async (augment: 'none' | 'standard'): Promise<number[]> => {
      const { runId, done } = service.startTraining({ dataset: folder.id, config: { ...quick, epochs: 3, seed: 7, augment }, maxSteps: 6 });
      const run = await done;
      assert.equal(run.status, 'completed', run.error ?? '');
      return service.runSteps(runId).map((s) => s.loss);
    };
    const first = await losses('standard');
    const second = await losses('standard');
    const plain = await losses('none');
    assert.equal(first.length, 6);
    assert.deepEqual(second, first);
    assert.notDeepEqual(plain, first);
  } finally {
    await service.close();
  }
});

test("a search stores its level, its probes train with it, and 'Train with this' takes it unless the run names one", { timeout: 600_000 }, async () => {
  const home = tempHome();
  const sessions: ProbeSession[] = [];
  // The real trainer process, with the probe sessions it is handed kept for the test.
  const spawn: TrainerSpawner = () => {
    const child = forkSpawner();
    return {
      get pid() {
        return child.pid;
      },
      send: (msg) => {
        if (msg.type === 'start-probes') sessions.push(msg.session);
        child.send(msg);
      },
      kill: (signal) => child.kill(signal),
      onMessage: (cb) => child.onMessage(cb),
      onExit: (cb) => child.onExit(cb),
      stderrTail: () => child.stderrTail?.() ?? '',
      cpuSeconds: () => child.cpuSeconds?.() ?? Promise.resolve(undefined),
    };
  };
  const service = new AutoBatchService({ home, spawn });
  try {
    const folder = await service.importDataset(await photos(path.join(home, 'photos'), 40), { imageSize: [16, 16], grayscale: false });
    const { sessionId, done } = service.startTuning({
      dataset: folder.id,
      model: 'small',
      mode: 'quick',
      backend: 'cpu',
      augment: 'standard',
      budgetSeconds: TEN_MINUTES,
    });
    const t = await done;
    assert.equal(t.status, 'completed', t.error ?? '');
    assert.equal(t.request.augment, 'standard');
    assert.ok(sessions.length >= 1);
    assert.deepEqual(new Set(sessions.map((s) => s.augment)), new Set(['standard']));

    const inherited = await service.startTraining({ dataset: '', fromTuning: sessionId, config: {}, maxSteps: 2 }).done;
    assert.equal(inherited.status, 'completed', inherited.error ?? '');
    assert.equal(inherited.config.augment, 'standard');
    const named = await service.startTraining({ dataset: '', fromTuning: sessionId, config: { augment: 'none' }, maxSteps: 2 }).done;
    assert.equal(named.config.augment, 'none');

    // Without a level, a search on photos stores the dataset's default.
    const plain = service.startTuning({ dataset: folder.id, model: 'small', mode: 'quick', backend: 'cpu', budgetSeconds: TEN_MINUTES });
    service.stopTuning(plain.sessionId);
    await plain.done;
    assert.equal(service.getTuning(plain.sessionId).request.augment, 'light');
  } finally {
    await service.close();
  }
});
