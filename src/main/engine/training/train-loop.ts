// The training loop. It reports every step, but reads metrics back from the device only every
// ~100 ms (as one stacked tensor): a readback per step would force a device sync per step and
// stall a GPU pipeline. Step time and samples/s are therefore averages over each readback
// window — the honest figure, since without a sync a single step's time is only its enqueue time.
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, StepMetrics, TrainConfig } from '../../../shared/run-types.js';
import type { Evaluation, RunSummary } from '../../../shared/trainer-protocol.js';
import { createRng, shuffleInPlace } from '../../../shared/random.js';
import { type LoadedDataset, toFloatBatch } from '../datasets/index.js';
import { buildModel } from '../models/build-model.js';
import { createOptimizer, learningRateAt } from '../models/optimizer.js';
import { yieldToEventLoop } from '../util/event-loop.js';

export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    loss: number,
  ) {
    super(`the loss became ${loss} at step ${step}: training diverged (try a lower learning rate or a longer warm-up)`);
    this.name = 'TrainingDivergedError';
  }
}

export interface TrainLoopOptions {
  dataset: LoadedDataset;
  config: TrainConfig;
  /** Stop after this many steps in all (tests, probes). */
  maxSteps?: number;
  shouldStop(): boolean;
  onStep(step: StepMetrics): void;
  onEpoch(epoch: EpochMetrics): void;
  memoryBytes(): number;
  readbackIntervalMs?: number;
  /** Evaluate confusion matrix and misclassified samples at the end (costs one more pass). */
  evaluate?: boolean;
}

export interface TrainLoopResult {
  status: 'completed' | 'stopped';
  summary: RunSummary;
  model: tf.LayersModel;
  evaluation?: Evaluation;
}

interface PendingStep {
  step: number;
  epoch: number;
  size: number;
  learningRate: number;
  loss: tf.Scalar;
  accuracy: tf.Scalar;
}

/** Builds the batch tensors for the given sample indices (features normalised, labels one-hot). */
export function makeBatch(ds: LoadedDataset, indices: Uint32Array, scratch?: Float32Array): { x: tf.Tensor; labels: tf.Tensor1D; oneHot: tf.Tensor2D } {
  const n = indices.length;
  const features = toFloatBatch(ds, indices, scratch && scratch.length >= n * ds.sampleSize ? scratch.subarray(0, n * ds.sampleSize) : undefined);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = ds.y[indices[i]!]!;
  const x = tf.tensor(features, [n, ...ds.manifest.inputShape], 'float32');
  const labelTensor = tf.tensor1d(labels, 'int32');
  const oneHot = tf.oneHot(labelTensor, ds.manifest.classes.length).toFloat() as tf.Tensor2D;
  return { x, labels: labelTensor, oneHot };
}

export async function runTrainingLoop(opts: TrainLoopOptions): Promise<TrainLoopResult> {
  const { dataset: ds, config } = opts;
  const classes = ds.manifest.classes.length;
  const model = buildModel(config.model, { inputShape: ds.manifest.inputShape, classes }, config.seed);
  const { optimizer, setLearningRate } = createOptimizer(config.optimizer, config.learningRate, config.momentum);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const rng = createRng(config.seed);
  const order = Uint32Array.from(ds.trainIndex);
  const stepsPerEpoch = Math.ceil(order.length / config.batchSize);
  const scratch = new Float32Array(config.batchSize * ds.sampleSize);
  const interval = opts.readbackIntervalMs ?? 100;

  const start = performance.now();
  let lastReadback = start;
  let lastReadbackTime = 0;
  let pending: PendingStep[] = [];
  let step = 0;
  let samplesSeen = 0;
  let epochLossSum = 0;
  let epochAccSum = 0;
  let epochSamples = 0;
  let bestVal: number | null = null;
  let finalVal: number | null = null;
  let epochsCompleted = 0;
  let stopped = false;

  // Extra validations within an epoch (validationsPerEpoch > 1) report the train loss so far.
  const validateEvery = Math.max(1, Math.ceil(stepsPerEpoch / (config.validationsPerEpoch ?? 1)));
  const validate = async (epoch: number) => {
    await flush();
    const val = await evaluateSplit(model, ds, ds.validationIndex, config.batchSize, false);
    // A model whose weights went non-finite predicts nothing useful: say so rather than go on.
    if (ds.validationIndex.length > 0 && !Number.isFinite(val.loss)) throw new TrainingDivergedError(step, val.loss);
    finalVal = val.accuracy;
    bestVal = bestVal === null ? val.accuracy : Math.max(bestVal, val.accuracy);
    opts.onEpoch({
      epoch,
      step,
      time: (performance.now() - start) / 1000,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      trainLoss: epochSamples ? epochLossSum / epochSamples : NaN,
      trainAccuracy: epochSamples ? epochAccSum / epochSamples : 0,
    });
    lastReadback = performance.now(); // validation time is not training time
  };

  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const packed = tf.stack(batch.flatMap((p) => [p.loss, p.accuracy]));
    const values = await packed.data();
    packed.dispose();
    for (const p of batch) {
      p.loss.dispose();
      p.accuracy.dispose();
    }
    const now = performance.now();
    const elapsedMs = Math.max(now - lastReadback, 1e-3);
    const windowSamples = batch.reduce((s, p) => s + p.size, 0);
    const memory = opts.memoryBytes();
    const t0 = lastReadbackTime;
    const dt = elapsedMs / 1000 / batch.length;
    batch.forEach((p, i) => {
      const loss = values[2 * i]!;
      const accuracy = values[2 * i + 1]!;
      if (!Number.isFinite(loss)) throw new TrainingDivergedError(p.step, loss);
      epochLossSum += loss * p.size;
      epochAccSum += accuracy * p.size;
      epochSamples += p.size;
      opts.onStep({
        step: p.step,
        epoch: p.epoch,
        time: t0 + dt * (i + 1),
        loss,
        accuracy,
        samplesPerSecond: (windowSamples / elapsedMs) * 1000,
        stepMs: elapsedMs / batch.length,
        memoryBytes: memory,
        learningRate: p.learningRate,
      });
    });
    lastReadback = now;
    lastReadbackTime = (now - start) / 1000;
  };

  try {
    outer: for (let epoch = 1; epoch <= config.epochs; epoch++) {
      shuffleInPlace(order, rng);
      epochLossSum = epochAccSum = epochSamples = 0;
      for (let b = 0; b < stepsPerEpoch; b++) {
        if (opts.shouldStop() || (opts.maxSteps !== undefined && step >= opts.maxSteps)) {
          stopped = opts.shouldStop();
          break outer;
        }
        const indices = order.subarray(b * config.batchSize, Math.min(order.length, (b + 1) * config.batchSize));
        step++;
        const lr = learningRateAt(step, config.learningRate, config.warmupSteps);
        setLearningRate(lr);
        const { x, labels, oneHot } = makeBatch(ds, indices, scratch);
        let accuracy: tf.Scalar | undefined;
        const loss = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.apply(x, { training: true }) as tf.Tensor2D;
            accuracy = tf.keep(tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
            return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
          }, variables);
          optimizer.applyGradients(grads);
          return value;
        });
        tf.dispose([x, labels, oneHot]);
        pending.push({ step, epoch, size: indices.length, learningRate: lr, loss, accuracy: accuracy! });
        samplesSeen += indices.length;
        if (performance.now() - lastReadback >= interval || pending.length >= 512) await flush();
        if ((b + 1) % validateEvery === 0 && b + 1 < stepsPerEpoch) await validate(epoch);
        await yieldToEventLoop();
      }
      await flush();
      await validate(epoch);
      epochsCompleted = epoch;
    }
    await flush();
  } catch (err) {
    for (const p of pending) tf.dispose([p.loss, p.accuracy]);
    model.dispose();
    optimizer.dispose();
    throw err;
  }

  const trainSeconds = (performance.now() - start) / 1000;
  let evaluation: Evaluation | undefined;
  if (opts.evaluate && !stopped && ds.validationIndex.length > 0) {
    evaluation = (await evaluateSplit(model, ds, ds.validationIndex, config.batchSize, true)).evaluation;
  }
  optimizer.dispose();
  return {
    status: stopped ? 'stopped' : 'completed',
    model,
    evaluation,
    summary: {
      steps: step,
      epochsCompleted,
      trainSeconds,
      samplesPerSecond: trainSeconds > 0 ? samplesSeen / trainSeconds : 0,
      bestValAccuracy: bestVal,
      finalValAccuracy: finalVal,
    },
  };
}

/** Mean loss and accuracy over a split; with details, the confusion matrix and the worst mistakes. */
export async function evaluateSplit(
  model: tf.LayersModel,
  ds: LoadedDataset,
  indices: Uint32Array,
  trainBatch: number,
  details: boolean,
): Promise<{ loss: number; accuracy: number; evaluation?: Evaluation }> {
  if (indices.length === 0) return { loss: NaN, accuracy: 0 };
  const k = ds.manifest.classes.length;
  const chunk = Math.min(Math.max(trainBatch, 256), 1024);
  let lossSum = 0;
  let correct = 0;
  const confusion = details ? Array.from({ length: k }, () => new Array<number>(k).fill(0)) : [];
  const wrong: Evaluation['misclassified'] = [];
  for (let i = 0; i < indices.length; i += chunk) {
    const part = indices.subarray(i, Math.min(indices.length, i + chunk));
    const { x, labels, oneHot } = makeBatch(ds, part);
    const [lossT, predT, confT] = tf.tidy(() => {
      const logits = model.apply(x, { training: false }) as tf.Tensor2D;
      const loss = tf.mul(tf.losses.softmaxCrossEntropy(oneHot, logits), part.length);
      const probs = tf.softmax(logits);
      return [loss, tf.argMax(probs, 1), tf.max(probs, 1)];
    });
    const [lossV, pred, conf] = await Promise.all([lossT!.data(), predT!.data(), confT!.data()]);
    tf.dispose([x, labels, oneHot, lossT!, predT!, confT!]);
    lossSum += lossV[0]!;
    for (let j = 0; j < part.length; j++) {
      const truth = ds.y[part[j]!]!;
      const p = pred[j]!;
      if (p === truth) correct++;
      if (details) {
        confusion[truth]![p]!++;
        if (p !== truth) wrong.push({ index: part[j]!, trueClass: truth, predictedClass: p, confidence: conf[j]! });
      }
    }
    await yieldToEventLoop();
  }
  const result = { loss: lossSum / indices.length, accuracy: correct / indices.length };
  if (!details) return result;
  wrong.sort((a, b) => b.confidence - a.confidence);
  return {
    ...result,
    evaluation: {
      classes: ds.manifest.classes,
      confusion,
      perClassAccuracy: confusion.map((row, c) => {
        const total = row.reduce((s, v) => s + v, 0);
        return total ? row[c]! / total : 0;
      }),
      misclassified: wrong.slice(0, 200),
    },
  };
}
