// Auto-tune on a run that starts from a trained model: the frozen backbone runs outside the
// gradient tape, so a training step holds far less per sample, and under the same memory the
// search finds a larger ceiling than for the same architecture trained whole. Real trainer
// processes on the memory-capped test backend (wasm), the MNIST sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceWithMnist } from './helpers.js';

test('a frozen backbone raises the memory ceiling Auto-tune finds under the same cap', { timeout: 600_000 }, async (t) => {
  const { service, datasetId } = await serviceWithMnist(10_000);
  try {
    const first = service.startTraining({
      dataset: datasetId,
      config: { model: 'small', batchSize: 32, epochs: 1, learningRate: 2e-3, seed: 1, backend: 'wasm' },
      maxSteps: 4,
    });
    assert.equal((await first.done).status, 'completed');
    // Small enough that the whole small CNN stops well below the steps-per-epoch cap (400 here).
    const cap = 12 << 20;
    const settings = { dataset: datasetId, mode: 'quick' as const, backend: 'wasm' as const, plannedEpochs: 1, searchLearningRate: false, memoryCapBytes: cap };
    const whole = await service.startTuning({ ...settings, model: 'small' }).done;
    assert.equal(whole.status, 'completed', whole.error ?? '');
    const startFrom = await service.loadStartModel({ source: String(first.runId) });
    const frozen = await service.startTuning({ ...settings, startFrom }).done;
    assert.equal(frozen.status, 'completed', frozen.error ?? '');
    assert.equal(frozen.request.startFrom?.unfreeze, 0);

    const ceiling = (t: typeof whole) => t.report!.recommendation.memoryCeiling;
    assert.ok(ceiling(whole) < 400, `the whole model's ceiling ${ceiling(whole)} should be set by the cap`);
    assert.ok(ceiling(frozen) >= 2 * ceiling(whole), `frozen backbone: ceiling ${ceiling(frozen)}, whole model ${ceiling(whole)}`);
    // Per sample, read off the measured memory curve: the slope between its smallest and largest batch.
    const slope = (s: typeof whole) => {
      const points = s.report!.curves.filter((p) => p.memoryBytes !== undefined).sort((a, b) => a.batchSize - b.batchSize);
      const [a, b] = [points[0]!, points.at(-1)!];
      return (b.memoryBytes! - a.memoryBytes!) / (b.batchSize - a.batchSize);
    };
    t.diagnostic(
      `ceiling: whole ${ceiling(whole)}, frozen backbone ${ceiling(frozen)}; bytes per sample: whole ${slope(whole).toFixed(0)}, frozen ${slope(frozen).toFixed(0)}`,
    );
    assert.ok(slope(frozen) < slope(whole) / 2, `bytes per sample: frozen ${slope(frozen)}, whole ${slope(whole)}`);
  } finally {
    await service.close();
  }
});
