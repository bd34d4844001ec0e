// The training loop. It reports every step, but reads metrics back from the device only every
// ~100 ms (as one stacked tensor): a readback per step would force a device sync per step and
// stall a GPU pipeline. Step time and samples/s are therefore averages over each readback
// window — the honest figure, since without a sync a single step's time is only its enqueue time.
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, StepMetrics, TrainConfig } from '../../../shared/run-types.js';
import type { Evaluation, RunSummary } from '../../../shared/trainer-protocol.js';
import { createRng, rngAt, shuffleInPlace, type SeededRng } from '../../../shared/random.js';
import { CHECKPOINT_FORMAT, samplesDoneInEpoch, type CheckpointPlan, type CheckpointReason } from '../../../shared/checkpoint.js';
import { evalBatchOf } from '../../../shared/eval-batch.js';
import { microBatchOf } from '../../../shared/accumulation.js';
import { accumulateGradients } from './accumulate.js';
import { NoiseWindow, squaredNorm, type NoiseReport } from './noise-window.js';
import { measureEvery, measurementPasses } from '../../../shared/adaptive-batch.js';
import { type LoadedDataset, toFloatBatch } from '../datasets/index.js';
import { createNetOptimizer, learningRateAt, type NetOptimizer } from '../models/optimizer.js';
import { builtInNet, type TrainableNet } from '../models/trainable-net.js';
import { augmentBatch } from './augment.js';
import { yieldToEventLoop } from '../util/event-loop.js';
import { CheckpointError, readCheckpointOrder, readCheckpointState, writeCheckpointFolder } from './checkpoint-folder.js';
import { loadTfjsCheckpoint, tfjsCheckpointFiles } from './tfjs-checkpoint.js';
import { currentDeviceWatch } from '../backends/webgpu-device.js';

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
  /** The model to train (one assembled from a start model: models/start-model.ts); default: config.model built from scratch. */
  net?: TrainableNet;
  /** Stop after this many steps in all (tests, probes). */
  maxSteps?: number;
  shouldStop(): boolean;
  onStep(step: StepMetrics): void;
  onEpoch(epoch: EpochMetrics): void;
  memoryBytes(): number;
  readbackIntervalMs?: number;
  /** Evaluate confusion matrix and misclassified samples at the end (costs one more pass). */
  evaluate?: boolean;
  /** Write checkpoints there: at each epoch's end, every plan.everySeconds, and when the run ends early (a stop or the step limit). */
  checkpoints?: CheckpointPlan;
  /** Continue from this checkpoint folder: weights, optimizer state, data order, position, generator and metrics so far. */
  resumeFrom?: string;
  /** A checkpoint was written: every step before it has been reported (onStep) first. */
  onCheckpoint?(info: CheckpointInfo): void;
  /** An adaptive run (shared/adaptive-batch.ts): measure the noise scale now and then, report it every everySteps steps. */
  adaptive?: { everySteps: number };
  onNoise?(report: NoiseReport): void;
  /** A new batch to train with from the next step on (asked before each step). */
  takeBatchChange?(): BatchChange | undefined;
  /** A batch change took effect: the steps after `step` train at batchSize (every step before it reported first). */
  onBatchChanged?(change: { step: number; time: number; batchSize: number; learningRate: number }): void;
}

/** An adaptive run's new batch and rate, the rate reached by a linear ramp over rampSteps. */
export interface BatchChange {
  batchSize: number;
  learningRate: number;
  rampSteps: number;
}

/** One optimizer step's mean loss, accuracy and gradients, before they are applied. */
interface StepGradients {
  loss: tf.Scalar;
  accuracy: tf.Scalar;
  grads: tf.NamedTensorMap;
  /** A measured step's mean squared gradient norm over its passes (adaptive runs). */
  meanSquaredNorm?: tf.Scalar;
}

export interface CheckpointInfo {
  step: number;
  epoch: number;
  reason: CheckpointReason;
  dir: string;
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
  // toFloat makes a new tensor: the int32 one-hot it came from must not outlive the batch.
  const oneHot = tf.tidy(() => tf.oneHot(labelTensor, ds.manifest.classes.length).toFloat() as tf.Tensor2D);
  return { x, labels: labelTensor, oneHot };
}

/** config.model from scratch; a run that starts from a trained model must be given its net. */
function scratchNet(config: TrainConfig, ds: LoadedDataset): TrainableNet {
  if (config.startFrom || config.model === 'imported')
    throw new Error('a run that starts from a trained model needs the model assembled from it (TrainLoopOptions.net)');
  return builtInNet({ model: config.model, inputShape: ds.manifest.inputShape, classes: ds.manifest.classes.length, seed: config.seed });
}

export async function runTrainingLoop(opts: TrainLoopOptions): Promise<TrainLoopResult> {
  const run = new TrainingRun(opts);
  try {
    await run.train();
  } catch (err) {
    run.discard();
    throw err;
  }
  return run.finish();
}

/** One training run: the model, its optimizer, the shuffled order, and what has been read back so far. */
class TrainingRun {
  private readonly ds: LoadedDataset;
  private config: TrainConfig;
  private readonly net: TrainableNet;
  private readonly model: tf.LayersModel;
  private readonly optimizer: NetOptimizer;
  private rng: SeededRng;
  private order: Uint32Array;
  private stepsPerEpoch: number;
  private scratch: Float32Array;
  private readonly interval: number;
  /** Extra validations within an epoch (validationsPerEpoch > 1) report the train loss so far. */
  private validateEvery: number;
  /** An adaptive run's measurements since its last noise report. */
  private readonly noise = new NoiseWindow();
  /** After a batch change: the learning rate ramps from `from` to `to` over `steps` steps from `start`. */
  private rateRamp: { from: number; to: number; start: number; steps: number } | undefined;
  private start: number;
  private lastReadback: number;
  private lastReadbackTime = 0;
  private pending: PendingStep[] = [];
  private step = 0;
  private samplesSeen = 0;
  private epochLossSum = 0;
  private epochAccSum = 0;
  private epochSamples = 0;
  private bestVal: number | null = null;
  private finalVal: number | null = null;
  private epochsCompleted = 0;
  private stopped = false;
  /** Where the run stands in its epoch: for a checkpoint. */
  private epoch = 1;
  private batchInEpoch = 0;
  private samplesInEpoch = 0;
  /** The epoch the loop starts at (after a checkpoint's), and the position within it a mid-epoch checkpoint left. */
  private firstEpoch = 1;
  private resumeAt: { samples: number; batches: number; lossSum: number; accSum: number; epochSamples: number } | undefined;
  private lastCheckpointAt: number;
  /**
   * On webgpu, the device's error scopes: an allocation that does not fit throws nothing in
   * JavaScript (tfjs goes on with an invalid buffer and reads back zeros), so the steps between
   * two readbacks run inside scopes that the readback closes, and each validation pass inside its own.
   */
  private readonly gpu = tf.getBackend() === 'webgpu' ? currentDeviceWatch() : undefined;
  private gpuWindowOpen = false;

  constructor(private readonly opts: TrainLoopOptions) {
    const { dataset: ds, config } = opts;
    this.ds = ds;
    this.config = config;
    this.net = opts.net ?? scratchNet(config, ds);
    this.model = this.net.model;
    this.optimizer = createNetOptimizer(config.optimizer, config.learningRate, config.momentum, this.net.rateGroups);
    this.rng = createRng(config.seed);
    this.order = Uint32Array.from(ds.trainIndex);
    this.stepsPerEpoch = Math.ceil(this.order.length / config.batchSize);
    this.scratch = new Float32Array(config.batchSize * ds.sampleSize);
    this.interval = opts.readbackIntervalMs ?? 100;
    this.validateEvery = Math.max(1, Math.ceil(this.stepsPerEpoch / (config.validationsPerEpoch ?? 1)));
    this.start = performance.now();
    this.lastReadback = this.start;
    this.lastCheckpointAt = this.start;
    if (opts.resumeFrom) this.resume(opts.resumeFrom);
  }

  /** Takes up where a checkpoint left off: the next step is the one after its step, on the same data order. */
  private resume(dir: string): void {
    const state = readCheckpointState(dir);
    if (state.engine !== 'tfjs')
      throw new CheckpointError(`the checkpoint in ${dir} was written by the ${state.engine} engine: a run resumes on its own engine`);
    loadTfjsCheckpoint(dir, this.model, this.optimizer);
    this.order = readCheckpointOrder(dir, this.ds.trainIndex.length);
    this.rng = rngAt(state.rngState);
    this.step = state.step;
    this.samplesSeen = state.samplesSeen;
    this.epochsCompleted = state.epochsCompleted;
    this.bestVal = state.bestValAccuracy;
    this.finalVal = state.finalValAccuracy;
    const done = samplesDoneInEpoch(state);
    if (done >= this.order.length) {
      this.firstEpoch = state.epoch + 1;
    } else {
      this.firstEpoch = state.epoch;
      // Batches done count at the batch now trained with (validationsPerEpoch's schedule).
      const batches = state.batchSize === this.config.batchSize ? state.batchInEpoch : Math.round(done / this.config.batchSize);
      this.resumeAt = { samples: done, batches, lossSum: state.epochLossSum, accSum: state.epochAccSum, epochSamples: state.epochSamples };
    }
    // The time axis goes on from the checkpoint's.
    const now = performance.now();
    this.start = now - state.trainSeconds * 1000;
    this.lastReadback = this.lastCheckpointAt = now;
    this.lastReadbackTime = state.trainSeconds;
  }

  /** Every epoch, until the end, a stop or the step limit; the last steps read back. */
  async train(): Promise<void> {
    for (let epoch = this.firstEpoch; epoch <= this.config.epochs; epoch++) {
      if (!(await this.runEpoch(epoch))) {
        await this.checkpoint('stop');
        break;
      }
      this.epochsCompleted = epoch;
      await this.checkpoint('epoch');
    }
    await this.flush();
  }

  /** Writes a checkpoint of where the run stands (after reading back every pending step). */
  private async checkpoint(reason: CheckpointReason): Promise<void> {
    const plan = this.opts.checkpoints;
    // Before the first step there is nothing a checkpoint would keep.
    if (!plan || this.step === 0) return;
    await this.flush();
    const files = await tfjsCheckpointFiles(this.model, this.optimizer);
    const dir = writeCheckpointFolder(
      plan.dir,
      {
        format: CHECKPOINT_FORMAT,
        engine: 'tfjs',
        step: this.step,
        epoch: this.epoch,
        batchInEpoch: this.batchInEpoch,
        samplesInEpoch: this.samplesInEpoch,
        epochsCompleted: this.epochsCompleted,
        trainSeconds: (performance.now() - this.start) / 1000,
        samplesSeen: this.samplesSeen,
        epochLossSum: this.epochLossSum,
        epochAccSum: this.epochAccSum,
        epochSamples: this.epochSamples,
        bestValAccuracy: this.bestVal,
        finalValAccuracy: this.finalVal,
        rngState: this.rng.state(),
        batchSize: this.config.batchSize,
        reason,
        writtenAt: new Date().toISOString(),
      },
      this.order,
      files,
    );
    this.lastCheckpointAt = this.lastReadback = performance.now(); // writing is not training time
    this.opts.onCheckpoint?.({ step: this.step, epoch: this.epoch, reason, dir });
  }

  /** One epoch's steps, then its validation; false when it ended early (stopped, or out of steps). */
  private async runEpoch(epoch: number): Promise<boolean> {
    const resume = this.resumeAt;
    this.resumeAt = undefined;
    this.epoch = epoch;
    if (resume) {
      // A mid-epoch checkpoint: the same order, from the sample it had reached.
      this.epochLossSum = resume.lossSum;
      this.epochAccSum = resume.accSum;
      this.epochSamples = resume.epochSamples;
    } else {
      shuffleInPlace(this.order, this.rng);
      this.epochLossSum = this.epochAccSum = this.epochSamples = 0;
    }
    const n = this.order.length;
    this.batchInEpoch = resume?.batches ?? 0;
    this.samplesInEpoch = resume?.samples ?? 0;
    while (this.samplesInEpoch < n) {
      if (this.shouldEnd()) return false;
      await this.applyBatchChange();
      const { batchSize } = this.config;
      const pos = this.samplesInEpoch;
      this.trainStep(epoch, this.order.subarray(pos, Math.min(n, pos + batchSize)));
      this.batchInEpoch++;
      this.samplesInEpoch = Math.min(n, pos + batchSize);
      if (performance.now() - this.lastReadback >= this.interval || this.pending.length >= 512) await this.flush();
      const adaptive = this.opts.adaptive;
      if (adaptive && this.step % adaptive.everySteps === 0) await this.reportNoise();
      if (this.batchInEpoch % this.validateEvery === 0 && this.samplesInEpoch < n) await this.validate(epoch);
      const plan = this.opts.checkpoints;
      if (plan && this.samplesInEpoch < n && performance.now() - this.lastCheckpointAt >= plan.everySeconds * 1000) await this.checkpoint('timer');
      await yieldToEventLoop();
    }
    await this.flush();
    await this.validate(epoch);
    return true;
  }

  /** A stop was asked for (then the run is 'stopped'), or the step limit is reached. */
  private shouldEnd(): boolean {
    const stop = this.opts.shouldStop();
    if (!stop && (this.opts.maxSteps === undefined || this.step < this.opts.maxSteps)) return false;
    this.stopped = stop;
    return true;
  }

  /** One optimizer step on these samples, its loss and accuracy left on the device. */
  private trainStep(epoch: number, indices: Uint32Array): void {
    if (this.gpu && !this.gpuWindowOpen) {
      this.gpu.begin();
      this.gpuWindowOpen = true;
    }
    this.step++;
    const lr = this.rateAt(this.step);
    this.optimizer.setLearningRate(lr);
    const { x, labels, oneHot } = makeBatch(this.ds, indices, this.scratch);
    const n = indices.length;
    const micro = microBatchOf(this.config);
    const adaptive = this.opts.adaptive;
    // An adaptive run's measured step: equal passes (its micro-batches, or halves) give the noise scale's terms.
    const measure = adaptive && this.step % measureEvery(adaptive.everySteps) === 0 ? measurementPasses(n, micro) : undefined;
    const passSize = measure?.size ?? micro;
    const { loss, accuracy } = tf.tidy(() => {
      // The whole batch's inputs are augmented at once (its draws do not depend on the split).
      const augmented = augmentBatch(x, this.config.augment ?? 'none', this.config.seed, this.step, this.ds.manifest.normalization);
      const step =
        passSize >= n ? this.gradients(augmented, labels, oneHot) : this.accumulatedGradients(augmented, labels, oneHot, passSize, measure !== undefined);
      if (measure && step.meanSquaredNorm) this.noise.add(step.meanSquaredNorm, squaredNorm(step.grads), measure.passes, measure.size);
      this.optimizer.applyGradients(step.grads);
      return { loss: step.loss, accuracy: step.accuracy };
    });
    tf.dispose([x, labels, oneHot]);
    this.pending.push({ step: this.step, epoch, size: indices.length, learningRate: lr, loss, accuracy });
    this.samplesSeen += indices.length;
  }

  /** Mean loss, accuracy and gradients of one pass over these samples. */
  private gradients(x: tf.Tensor, labels: tf.Tensor, oneHot: tf.Tensor): StepGradients {
    // The frozen part (if any) runs here, outside the tape: nothing of it is kept for a backward pass.
    const features = this.net.frozen(x);
    let accuracy: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = this.net.trained(features);
      // Kept: variableGrads tidies what its function makes besides the loss (the caller disposes it).
      accuracy = tf.keep(tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar);
      return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
    }, this.net.trainable);
    return { loss: value, accuracy: accuracy!, grads };
  }

  /**
   * The same mean loss, accuracy and gradients as one pass, from passes of `micro` samples
   * (accumulate.ts); `measured`: with the mean of the passes' squared gradient norms too.
   */
  private accumulatedGradients(x: tf.Tensor, labels: tf.Tensor, oneHot: tf.Tensor, micro: number, measured = false): StepGradients {
    const r = accumulateGradients(x.shape[0]!, micro, (start, size) => {
      const part = this.gradients(x.slice(start, size), labels.slice(start, size), oneHot.slice(start, size));
      return { values: [part.loss, part.accuracy, ...(measured ? [squaredNorm(part.grads)] : [])], grads: part.grads };
    });
    return { loss: r.values[0]!, accuracy: r.values[1]!, grads: r.grads, ...(measured ? { meanSquaredNorm: r.values[2]! } : {}) };
  }

  /** The learning rate at a step: the warm-up's, or after a batch change the ramp to the new rate. */
  private rateAt(step: number): number {
    const r = this.rateRamp;
    if (!r) return learningRateAt(step, this.config.learningRate, this.config.warmupSteps);
    return r.from + (r.to - r.from) * Math.min(1, (step - r.start) / Math.max(1, r.steps));
  }

  /** An adaptive run's new batch, when the host sent one: from the next step on, every step before it reported. */
  private async applyBatchChange(): Promise<void> {
    const change = this.opts.takeBatchChange?.();
    if (!change || change.batchSize === this.config.batchSize) return;
    await this.flush();
    this.rateRamp = { from: this.rateAt(this.step), to: change.learningRate, start: this.step, steps: change.rampSteps };
    this.config = { ...this.config, batchSize: change.batchSize, learningRate: change.learningRate };
    if (this.scratch.length < change.batchSize * this.ds.sampleSize) this.scratch = new Float32Array(change.batchSize * this.ds.sampleSize);
    this.stepsPerEpoch = Math.ceil(this.order.length / change.batchSize);
    this.validateEvery = Math.max(1, Math.ceil(this.stepsPerEpoch / (this.config.validationsPerEpoch ?? 1)));
    this.opts.onBatchChanged?.({ step: this.step, time: this.lastReadbackTime, batchSize: change.batchSize, learningRate: change.learningRate });
  }

  /** An adaptive run's noise scale over the window that ends at this step (one readback). */
  private async reportNoise(): Promise<void> {
    const report = await this.noise.report(this.step);
    if (report) this.opts.onNoise?.(report);
  }

  /** Reads the pending steps' metrics back in one transfer and reports them, averaged over the window. */
  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const packed = tf.stack(batch.flatMap((p) => [p.loss, p.accuracy]));
    const values = await packed.data();
    packed.dispose();
    if (this.gpuWindowOpen) {
      this.gpuWindowOpen = false;
      // Throws when a step's GPU work failed: its loss and accuracy were read from invalid buffers.
      await this.gpu!.end();
    }
    for (const p of batch) {
      p.loss.dispose();
      p.accuracy.dispose();
    }
    const now = performance.now();
    this.reportSteps(batch, values, now);
    this.lastReadback = now;
    this.lastReadbackTime = (now - this.start) / 1000;
  }

  private reportSteps(batch: PendingStep[], values: ArrayLike<number>, now: number): void {
    const elapsedMs = Math.max(now - this.lastReadback, 1e-3);
    const windowSamples = batch.reduce((s, p) => s + p.size, 0);
    const memory = this.opts.memoryBytes();
    const t0 = this.lastReadbackTime;
    const dt = elapsedMs / 1000 / batch.length;
    batch.forEach((p, i) => {
      const loss = values[2 * i]!;
      const accuracy = values[2 * i + 1]!;
      if (!Number.isFinite(loss)) throw new TrainingDivergedError(p.step, loss);
      this.epochLossSum += loss * p.size;
      this.epochAccSum += accuracy * p.size;
      this.epochSamples += p.size;
      this.opts.onStep({
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
  }

  /** Validation loss and accuracy now, reported with the epoch's train loss so far. */
  private async validate(epoch: number): Promise<void> {
    await this.flush();
    const { ds } = this;
    const val = await this.evaluate(false);
    // A model whose weights went non-finite predicts nothing useful: say so rather than go on.
    if (ds.validationIndex.length > 0 && !Number.isFinite(val.loss)) throw new TrainingDivergedError(this.step, val.loss);
    this.finalVal = val.accuracy;
    this.bestVal = this.bestVal === null ? val.accuracy : Math.max(this.bestVal, val.accuracy);
    this.opts.onEpoch({
      epoch,
      step: this.step,
      time: (performance.now() - this.start) / 1000,
      valLoss: val.loss,
      valAccuracy: val.accuracy,
      trainLoss: this.epochSamples ? this.epochLossSum / this.epochSamples : NaN,
      trainAccuracy: this.epochSamples ? this.epochAccSum / this.epochSamples : 0,
    });
    this.lastReadback = performance.now(); // validation time is not training time
  }

  /** A forward pass over the validation split at the evaluation batch, inside the device's error scopes on webgpu. */
  private async evaluate(details: boolean): ReturnType<typeof evaluateSplit> {
    const { ds } = this;
    const pass = () => evaluateSplit(this.model, ds, ds.validationIndex, evalBatchOf(this.config), details);
    try {
      return this.gpu ? await this.gpu.run(pass) : await pass();
    } catch (err) {
      // Out of memory here is the evaluation batch's, not the training batch's (the service steps down the one that failed).
      throw Object.assign(err instanceof Error ? err : new Error(String(err)), { phase: 'validation' as const });
    }
  }

  /** After a failure: everything the run holds on the device. */
  discard(): void {
    for (const p of this.pending) tf.dispose([p.loss, p.accuracy]);
    this.noise.dispose();
    this.net.disposeParts();
    this.model.dispose();
    this.optimizer.dispose();
  }

  /** The summary (and, when asked for, the evaluation); the model is the caller's. */
  async finish(): Promise<TrainLoopResult> {
    const trainSeconds = (performance.now() - this.start) / 1000;
    const { ds, stopped } = this;
    let evaluation: Evaluation | undefined;
    if (this.opts.evaluate && !stopped && ds.validationIndex.length > 0) {
      evaluation = (await this.evaluate(true)).evaluation;
    }
    this.optimizer.dispose();
    this.net.disposeParts();
    this.noise.dispose();
    return {
      status: stopped ? 'stopped' : 'completed',
      model: this.model,
      evaluation,
      summary: {
        steps: this.step,
        epochsCompleted: this.epochsCompleted,
        trainSeconds,
        samplesPerSecond: trainSeconds > 0 ? this.samplesSeen / trainSeconds : 0,
        bestValAccuracy: this.bestVal,
        finalValAccuracy: this.finalVal,
      },
    };
  }
}

/** Mean loss and accuracy over a split, forward only, `chunk` samples at a time; with details, the confusion matrix and the worst mistakes. */
export async function evaluateSplit(
  model: tf.LayersModel,
  ds: LoadedDataset,
  indices: Uint32Array,
  chunk: number,
  details: boolean,
): Promise<{ loss: number; accuracy: number; evaluation?: Evaluation }> {
  if (indices.length === 0) return { loss: NaN, accuracy: 0 };
  const k = ds.manifest.classes.length;
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
