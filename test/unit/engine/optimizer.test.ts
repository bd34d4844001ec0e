import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createOptimizer, learningRateAt } from '../../../src/main/engine/models/optimizer.js';

test('warm-up ramps linearly to the base rate, then holds it', () => {
  assert.equal(learningRateAt(1, 0.1, 10), 0.01);
  assert.ok(Math.abs(learningRateAt(5, 0.1, 10) - 0.05) < 1e-12);
  assert.equal(learningRateAt(10, 0.1, 10), 0.1);
  assert.equal(learningRateAt(11, 0.1, 10), 0.1);
  assert.equal(learningRateAt(1, 0.1, 0), 0.1);
});

for (const kind of ['adam', 'sgd'] as const) {
  test(`${kind}: a changed learning rate changes the next update`, async () => {
    await tf.setBackend('cpu');
    const run = (rate: number) => {
      const v = tf.variable(tf.scalar(1));
      const { optimizer, setLearningRate } = createOptimizer(kind, 1, 0.9);
      setLearningRate(rate);
      optimizer.minimize(() => tf.square(v) as tf.Scalar);
      const moved = 1 - v.dataSync()[0]!;
      v.dispose();
      optimizer.dispose();
      return moved;
    };
    const small = run(0.01);
    const big = run(0.1);
    assert.ok(small > 0 && big > 0);
    assert.ok(Math.abs(big / small - 10) < 1e-3, `update scales with the rate: ${small} vs ${big}`);
  });
}
