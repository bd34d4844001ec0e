// The measuring side of the batch-size search (docs/architecture.md §5.1): one session (dataset
// loaded once, model built once from the session's seed) and four probes. Every probe starts from
// the same initial weights with a fresh optimizer, runs inside its own engine scope, and restores
// the weights afterwards whether it succeeded or threw, so probes do not influence each other and a
// caught failure (an allocation that did not fit) leaves nothing allocated behind.
//
// Peak memory (the memory probe). The engine's figure is tf.profile's peakBytes: the largest
// live tensor byte count after any kernel of the step (forward, backward, optimizer update,
// optimizer state created on the first step). It is what this process held, so it includes the
// runner's copy of the initial weights (snapshotBytes, 4 bytes a parameter), which a training run
// would not hold: a small, conservative constant, and the same count the memory-capped test
// backend compares with its cap. It counts tensors, not allocations: outputs that share an
// input's buffer are counted again, and scratch memory inside kernels is not counted. Where the
// backend has its own counter it is reported as backendBytes. The engine's peak is also split in
// two phases, gradientBytes (forward and backward: grows with the batch) and updateBytes (the
// optimizer update: tfjs's Adam keeps about a dozen parameter-sized temporaries alive until it
// has updated every variable, a constant that dominates small models at small batches). The step
// needs m(B) = max(gradient(B), update(B)), each close to linear: a single line fitted to the
// overall peak at small batches can miss the slope entirely when the update phase dominates.
// Backend counters:
//   - webgpu: the buffer pool keeps freed buffers for reuse, so its allocated total is a
//     high-water mark. The probe releases the pool's free buffers first (after the queue has
//     drained) so that the total after the step is this step's own high-water mark: the GPU
//     buffers the step really needed, padding and uniform buffers included, aliases (reshapes)
//     counted once. That is peakBytes there (the engine's figure can be above or below it).
//   - wasm: the module's linear memory size (it never shrinks; it includes allocator slack and
//     kernel scratch), for comparison with the 4 GiB address space; peakBytes stays the engine's.
//   - cpu, tensorflow: the engine's figure only (V8's heap and TensorFlow's allocator are not
//     visible from here; the service reads NVML for CUDA).
import * as tf from '@tensorflow/tfjs';
import type { ModelKind, OptimizerKind } from '../../../shared/run-types.js';
import type { ProbeRequest, ProbeResult } from '../../../shared/probe-protocol.js';
import { createRng, shuffleInPlace } from '../../../shared/random.js';
import { NoiseScaleEstimator, noiseScaleTerms } from '../../../shared/tuner-math.js';
import { RANGE_TEST_SMOOTHING, SmoothedLoss } from '../../../shared/learning-rate-range.js';
import type { LoadedDataset } from '../datasets/index.js';
import { builtInNet, type TrainableNet } from '../models/trainable-net.js';
import { augmentBatch } from '../training/augment.js';
import type { AugmentLevel } from '../../../shared/fine-tuning.js';
import { createNetOptimizer, learningRateAt, type NetOptimizer } from '../models/optimizer.js';
import { evaluateSplit, makeBatch } from '../training/train-loop.js';
import { accumulateGradients } from '../training/accumulate.js';
import { microBatchGradientStats } from './gradient-noise.js';
import { currentWasmHeapBytes } from './probe-failure.js';
import { currentDeviceWatch, WebgpuScopeError } from '../backends/webgpu-device.js';
import { yieldToEventLoop } from '../util/event-loop.js';

export type MemoryResult = Extract<ProbeResult, { kind: 'memory' }>;
export type ThroughputResult = Extract<ProbeResult, { kind: 'throughput' }>;
export type NoiseResult = Extract<ProbeResult, { kind: 'noise' }>;
export type TrialResult = Extract<ProbeResult, { kind: 'trial' }>;
export type LearningRateResult = Extract<ProbeResult, { kind: 'learning-rate' }>;

export interface ProbeRunnerOptions {
  dataset: LoadedDataset;
  /** The architecture from scratch, unless `net` is given. */
  model?: ModelKind;
  optimizer: OptimizerKind;
  seed: number;
  /** SGD momentum; default 0.9. */
  momentum?: number;
  /** Augmentation in every training step (default none), as the run will have it. */
  augment?: AugmentLevel;
  /** The model to probe when it is not `model` from scratch (a start model: models/start-model.ts). */
  net?: TrainableNet;
}

/** Timed chunks of a throughput probe (its result is the fastest). */
const THROUGHPUT_CHUNKS = 3;

/** Learning rate of the memory and throughput probes (their weights are thrown away). */
const MEASURE_LEARNING_RATE = 1e-3;
/** A trial runs at least this many steps, however short its time. */
export const MIN_TRIAL_STEPS = 5;
/** Trial losses are read back about this often (one stacked readback), as in the training loop. */
const READBACK_INTERVAL_MS = 100;
/**
 * A trial's validation loss is measured on at most this many samples: evaluating more took a
 * large share of a short trial, and the mean loss over this many moves between subsets by far
 * less than the 10 % that flags a trial (docs/benchmarks.md, the Auto-tune search).
 */
const TRIAL_VALIDATION_SAMPLES = 1000;
/** The batch staging buffer is kept between probes up to this many floats (64 MiB). */
const MAX_KEPT_SCRATCH = 16 * 1024 * 1024;

/**
 * Reads back a stack of per-step loss scalars with one sync and disposes them: how trials and
 * the range test read their losses (every ~100 ms, not every step).
 */
async function readStacked(losses: tf.Scalar[]): Promise<Float32Array> {
  if (losses.length === 0) return new Float32Array(0);
  const packed = tf.stack(losses);
  try {
    return (await packed.data()) as Float32Array;
  } finally {
    tf.dispose([packed, ...losses]);
  }
}

/** Sample indices for batches: the training split shuffled with the seed, reshuffled on each pass. */
export class BatchSampler {
  private readonly order: Uint32Array;
  private readonly rng: () => number;
  private pos = 0;

  constructor(trainIndex: Uint32Array, seed: number) {
    if (trainIndex.length === 0) throw new Error('the dataset has no training samples');
    this.order = Uint32Array.from(trainIndex);
    this.rng = createRng(seed);
    shuffleInPlace(this.order, this.rng);
  }

  /** The next n indices; a batch larger than the split repeats samples. */
  next(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      if (this.pos === this.order.length) {
        shuffleInPlace(this.order, this.rng);
        this.pos = 0;
      }
      out[i] = this.order[this.pos++]!;
    }
    return out;
  }
}

interface WebgpuInternals {
  bufferManager: { freeBuffers: Map<string, Array<{ size: number; destroy(): void }>>; numBytesAllocated: number; numFreeBuffers: number };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  device: { queue: { onSubmittedWorkDone(): Promise<unknown> } };
}

function webgpuInternals(): WebgpuInternals | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const b = tf.backend() as unknown as Partial<WebgpuInternals>;
  const methods = [b.ensureCommandEncoderReady, b.endComputePassEncoder, b.submitQueue];
  if (!(b.bufferManager?.freeBuffers instanceof Map) || methods.some((m) => typeof m !== 'function') || !b.device?.queue) return undefined;
  return b as WebgpuInternals;
}

/**
 * Destroys the webgpu buffer pool's free buffers once the queue has drained, so that its
 * allocated total afterwards counts only live buffers. The map's keys stay: tfjs stops
 * returning buffers to an empty map.
 */
async function releaseFreeGpuBuffers(b: WebgpuInternals): Promise<void> {
  // Submit whatever is recorded (as tfjs does before a readback), then wait for the queue.
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  b.submitQueue();
  await b.device.queue.onSubmittedWorkDone();
  const bm = b.bufferManager;
  for (const list of bm.freeBuffers.values()) {
    for (const buffer of list) {
      buffer.destroy();
      bm.numBytesAllocated -= buffer.size;
      bm.numFreeBuffers--;
    }
    list.length = 0;
  }
}

/**
 * Runs `fn` (a tf.profile) with the active backend's kernel timer replaced by a synchronous one.
 * tf.profile times each kernel with `backend.time(f)`, an async function on every backend: a
 * kernel that throws (an allocation that does not fit) then rejects that timer promise, which
 * nobody awaits (an unhandled rejection, fatal in Node), and the engine fails on with a TypeError
 * instead. A timer that calls f directly lets the real error propagate. It also spares webgpu its
 * timestamp queries; the probe needs the byte counts, not the kernel times.
 */
async function withPlainKernelTimer<T>(fn: () => Promise<T>): Promise<T> {
  const backend = tf.backend() as { time: tf.KernelBackend['time'] };
  const own = Object.getOwnPropertyDescriptor(backend, 'time');
  backend.time = (f: () => void) => {
    const start = performance.now();
    f();
    return Promise.resolve({ kernelMs: performance.now() - start });
  };
  try {
    return await fn();
  } finally {
    if (own) Object.defineProperty(backend, 'time', own);
    else delete (backend as { time?: unknown }).time;
  }
}

export class ProbeRunner {
  readonly model: tf.LayersModel;
  private readonly net: TrainableNet;
  /** Steps taken by this runner: seeds the augmentation's draws. */
  private stepCount = 0;
  /** Bytes of the copy of the initial weights that the runner keeps. */
  readonly snapshotBytes: number;
  private readonly ds: LoadedDataset;
  private readonly weights: tf.Variable[];
  private readonly trainable: tf.Variable[];
  private readonly initial: tf.Tensor[];
  private scratch = new Float32Array(0);
  private busy = false;
  private disposed = false;

  constructor(private readonly opts: ProbeRunnerOptions) {
    this.ds = opts.dataset;
    const { inputShape, classes } = this.ds.manifest;
    if (!opts.net && !opts.model) throw new Error('a probe runner needs a model or a net');
    this.net = opts.net ?? builtInNet({ model: opts.model!, inputShape, classes: classes.length, seed: opts.seed });
    this.model = this.net.model;
    // Every weight, not only the trainable ones: a batch-norm layer's running mean and variance
    // move in training mode, and a probe that left them moved would hand its statistics to the
    // next (test/unit/tuner/probe-runner-batchnorm.test.ts).
    this.weights = this.model.weights.map((w) => w.read() as tf.Variable);
    this.trainable = this.net.trainable;
    this.initial = this.weights.map((v) => tf.keep(tf.clone(v)));
    this.snapshotBytes = this.initial.reduce((s, t) => s + t.size * tf.util.bytesPerElement(t.dtype as 'float32'), 0);
  }

  /** Runs one request of the probe protocol. Throws what the probe threw (after cleaning up). */
  run(request: ProbeRequest): Promise<ProbeResult> {
    switch (request.kind) {
      case 'memory':
        return request.forwardOnly ? this.forwardMemory(request.batchSize) : this.memory(request.batchSize);
      case 'throughput':
        return this.throughput(request.batchSize, request.warmupSteps, request.steps, request.microBatch);
      case 'noise':
        return this.noise(request.microBatch, request.k, request.steps, request.learningRate, request.pretrainSteps ?? 0, request.windows ?? 1);
      case 'learning-rate':
        return this.learningRateRange(request.batchSize, request.minRate, request.maxRate, request.steps, request.stopFactor);
      case 'trial':
        return this.trial(request.batchSize, request.learningRate, request.warmupSteps, request.seconds);
    }
  }

  /** One full training step at batch B inside tf.profile: its peak bytes and its wall time. */
  memory(batchSize: number): Promise<MemoryResult> {
    return this.isolated(MEASURE_LEARNING_RATE, async (opt) => {
      const indices = this.sampler().next(batchSize);
      const gpu = webgpuInternals();
      if (gpu) await releaseFreeGpuBuffers(gpu);
      const t0 = performance.now();
      let split = -1;
      const profile = await withPlainKernelTimer(() =>
        tf.profile(async () => {
          const loss = this.step(opt, indices, () => (split = tf.engine().state.activeProfile.kernels.length));
          await loss.data();
          loss.dispose();
        }),
      );
      const stepMs = performance.now() - t0;
      const engineBytes = profile.peakBytes;
      const peakOf = (from: number, to: number) => Math.max(0, ...profile.kernels.slice(from, to).map((k) => k.totalBytesSnapshot));
      const phases = split > 0 && split < profile.kernels.length ? { gradientBytes: peakOf(0, split), updateBytes: peakOf(split, profile.kernels.length) } : {};
      let backendBytes: number | undefined;
      let peakBytes = engineBytes;
      if (gpu) {
        backendBytes = gpu.bufferManager.numBytesAllocated;
        peakBytes = backendBytes;
      } else {
        backendBytes = currentWasmHeapBytes();
      }
      return { kind: 'memory', peakBytes, stepMs, engineBytes, ...phases, ...(backendBytes !== undefined ? { backendBytes } : {}) };
    });
  }

  /**
   * One forward-only pass at batch B, exactly as validation makes it (evaluateSplit with B as its
   * chunk), inside tf.profile: its peak bytes and wall time, for the evaluation batch (issue 19).
   * The peak is read as the training step's is (the backend's count on webgpu).
   */
  forwardMemory(batchSize: number): Promise<MemoryResult> {
    return this.isolated(MEASURE_LEARNING_RATE, async () => {
      const indices = this.sampler().next(batchSize);
      const gpu = webgpuInternals();
      if (gpu) await releaseFreeGpuBuffers(gpu);
      const t0 = performance.now();
      const profile = await withPlainKernelTimer(() =>
        tf.profile(async () => {
          await evaluateSplit(this.model, this.ds, indices, batchSize, false);
        }),
      );
      const stepMs = performance.now() - t0;
      const engineBytes = profile.peakBytes;
      const backendBytes = gpu ? gpu.bufferManager.numBytesAllocated : currentWasmHeapBytes();
      const peakBytes = gpu ? backendBytes! : engineBytes;
      return { kind: 'memory', peakBytes, stepMs, engineBytes, ...(backendBytes !== undefined ? { backendBytes } : {}) };
    });
  }

  /**
   * Warm-up steps, then `steps` timed steps in three chunks; the result is the fastest chunk's
   * time per step, because whatever else runs on the machine (or a garbage collection) can only
   * slow a chunk down, never speed it up. Each chunk's clock is read only after a readback of
   * its last loss (which waits for every queued step), so async backends are timed honestly.
   */
  throughput(batchSize: number, warmupSteps: number, steps: number, microBatch?: number): Promise<ThroughputResult> {
    return this.isolated(MEASURE_LEARNING_RATE, async (opt) => {
      const sampler = this.sampler();
      let last: tf.Scalar | undefined;
      const run = async (n: number) => {
        for (let i = 0; i < n; i++) {
          const loss = this.step(opt, sampler.next(batchSize), undefined, microBatch);
          last?.dispose();
          last = loss;
          await yieldToEventLoop();
        }
      };
      await run(warmupSteps);
      await this.sync(last);
      const chunk = Math.max(1, Math.floor(steps / THROUGHPUT_CHUNKS));
      let best = Infinity;
      for (let done = 0; done < steps;) {
        const n = Math.min(chunk, steps - done);
        const t0 = performance.now();
        await run(n);
        await last!.data();
        best = Math.min(best, Math.max((performance.now() - t0) / 1000, 1e-9) / n);
        done += n;
      }
      last!.dispose();
      return { kind: 'throughput', secondsPerStep: best, samplesPerSecond: batchSize / best, ...(microBatch && microBatch < batchSize ? { microBatch } : {}) };
    });
  }

  /**
   * The gradient noise scale (docs/architecture.md §5.6): `steps` steps at batch k·b, each batch's
   * gradient also taken as k micro-batch gradients; |G|² and tr Σ per step go into moving averages
   * whose span is the probe's length. The mean gradient is applied at `learningRate`, so training
   * moves on as it would. With several windows, the plain pre-training steps are split between them
   * and each window reports its own mean loss and estimates (the overall figures are the last
   * window's: the latest point of training).
   */
  noise(microBatch: number, k: number, steps: number, learningRate: number, pretrainSteps = 0, windows = 1): Promise<NoiseResult> {
    return this.isolated(learningRate, async (opt) => {
      const sampler = this.sampler();
      const batch = microBatch * k;
      const perWindow = Math.max(1, Math.round(steps / windows));
      const report: NonNullable<NoiseResult['windows']> = [];
      let trained = 0;
      for (let w = 0; w < windows; w++) {
        const pre = Math.round((pretrainSteps * (w + 1)) / windows) - Math.round((pretrainSteps * w) / windows);
        for (let s = 0; s < pre; s++) {
          this.step(opt, sampler.next(batch)).dispose();
          trained += batch;
          await yieldToEventLoop();
        }
        const estimator = new NoiseScaleEstimator(Math.min(0.99, Math.max(0, 1 - 2 / (perWindow + 1))));
        let lossSum = 0;
        for (let s = 0; s < perWindow; s++) {
          const batches = Array.from({ length: k }, () => makeBatch(this.ds, sampler.next(microBatch)));
          let stats: tf.Tensor1D;
          const features: tf.Tensor[] = [];
          try {
            for (const b of batches) features.push(tf.tidy(() => this.inputsOf(b.x)));
            const r = microBatchGradientStats(k, (i) => this.lossOf(features[i]!, batches[i]!.oneHot), this.trainable);
            opt.applyGradients(r.meanGrads);
            tf.dispose(Object.values(r.meanGrads));
            stats = r.stats;
          } finally {
            for (const b of batches) tf.dispose([b.x, b.labels, b.oneHot]);
            tf.dispose(features);
          }
          const values = await stats.data();
          stats.dispose();
          const terms = noiseScaleTerms(values[0]!, values[1]!, k, microBatch);
          estimator.add(terms.gradSq, terms.traceSigma);
          lossSum += values[2]!;
          trained += batch;
          await yieldToEventLoop();
        }
        report.push({
          samples: trained,
          loss: lossSum / perWindow,
          gradSq: estimator.gradSq,
          traceSigma: estimator.traceSigma,
          noiseScale: estimator.noiseScale,
        });
      }
      const last = report[report.length - 1]!;
      return { kind: 'noise', gradSq: last.gradSq, traceSigma: last.traceSigma, noiseScale: last.noiseScale, steps: perWindow * windows, windows: report };
    });
  }

  /**
   * The learning-rate range test: step i of n trains at minRate·(maxRate/minRate)^(i/(n−1)).
   * Losses are read back in stacks (one sync per ~100 ms, as in a trial); the test stops at the
   * first read-back that shows a non-finite loss or a smoothed loss stopFactor × its lowest, since
   * every later, larger rate only diverges further.
   */
  learningRateRange(batchSize: number, minRate: number, maxRate: number, steps: number, stopFactor: number): Promise<LearningRateResult> {
    return this.isolated(minRate, async (opt) => {
      const sampler = this.sampler();
      const rates: number[] = [];
      const losses: number[] = [];
      const smooth = new SmoothedLoss(RANGE_TEST_SMOOTHING);
      let pending: tf.Scalar[] = [];
      let stop = false;
      const readBack = async () => {
        const values = await readStacked(pending);
        pending = [];
        for (const v of values) {
          losses.push(v);
          if (!Number.isFinite(v) || smooth.add(v) > stopFactor * smooth.lowest) stop = true;
        }
      };
      let lastReadback = performance.now();
      for (let i = 0; i < steps && !stop; i++) {
        const rate = minRate * (maxRate / minRate) ** (i / Math.max(1, steps - 1));
        opt.setLearningRate(rate);
        rates.push(rate);
        pending.push(this.step(opt, sampler.next(batchSize)));
        if (performance.now() - lastReadback >= READBACK_INTERVAL_MS || pending.length >= 16) {
          await readBack();
          lastReadback = performance.now();
        }
        await yieldToEventLoop();
      }
      await readBack();
      return { kind: 'learning-rate', rates: rates.slice(0, losses.length), losses };
    });
  }

  /**
   * A short run from the initial weights for `seconds` of wall time (at least MIN_TRIAL_STEPS
   * steps; the clock starts after the first step, which compiles the kernels on GPU backends)
   * with a linear warm-up, every step's loss kept (read back in stacks about every 100 ms),
   * then validation loss and accuracy. A NaN/±Infinity loss ends the trial: it is the
   * last loss reported, and validation is skipped (NaN, 0).
   */
  trial(batchSize: number, learningRate: number, warmupSteps: number, seconds: number): Promise<TrialResult> {
    return this.isolated(learningRate, async (opt) => {
      const sampler = this.sampler();
      const losses: number[] = [];
      let pending: tf.Scalar[] = [];
      let diverged = false;
      const readBack = async () => {
        const batch = pending;
        pending = [];
        for (const v of await readStacked(batch)) {
          if (diverged) break;
          losses.push(v);
          if (!Number.isFinite(v)) diverged = true;
        }
      };
      let start = performance.now();
      let lastReadback = start;
      let step = 0;
      while (!diverged) {
        const now = performance.now();
        if (step >= MIN_TRIAL_STEPS && now - start >= seconds * 1000) break;
        step++;
        opt.setLearningRate(learningRateAt(step, learningRate, warmupSteps));
        pending.push(this.step(opt, sampler.next(batchSize)));
        if (step === 1 || now - lastReadback >= READBACK_INTERVAL_MS || pending.length >= 256) {
          await readBack();
          lastReadback = performance.now();
          // The clock starts once the first step is done: compiling kernels is not training time.
          if (step === 1) start = lastReadback;
        }
        await yieldToEventLoop();
      }
      await readBack();
      let valLoss = NaN;
      let valAccuracy = 0;
      if (!diverged) ({ loss: valLoss, accuracy: valAccuracy } = await evaluateSplit(this.model, this.ds, this.trialValidation(), batchSize, false));
      return { kind: 'trial', steps: losses.length, samples: losses.length * batchSize, losses, valLoss, valAccuracy };
    });
  }

  /** The model's weights now, as plain arrays (tests: a probe must leave them as they were). */
  async weightValues(): Promise<Float32Array[]> {
    return Promise.all(this.weights.map(async (v) => (await v.data()) as Float32Array));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(this.initial);
    this.net.disposeParts();
    this.model.dispose();
  }

  /**
   * The validation samples a trial is judged on: every k-th, at most TRIAL_VALIDATION_SAMPLES. The
   * index is sorted by sample number, and sources are often grouped by class, so a stride keeps
   * the classes' shares where a prefix would not. Every trial uses the same ones.
   */
  private trialValidation(): Uint32Array {
    const all = this.ds.validationIndex;
    const stride = Math.ceil(all.length / TRIAL_VALIDATION_SAMPLES);
    return stride <= 1 ? all : all.filter((_, i) => i % stride === 0);
  }

  /** Sets the weights back to the initial ones (variables then share the snapshot's buffers). */
  private restore(): void {
    this.weights.forEach((v, i) => v.assign(this.initial[i]!));
  }

  private sampler(): BatchSampler {
    return new BatchSampler(this.ds.trainIndex, this.opts.seed);
  }

  /**
   * Runs a probe in its own engine scope with a fresh optimizer; whatever happens, every tensor it
   * left undisposed is released, the optimizer's state is disposed and the weights are restored.
   */
  private async isolated<T>(learningRate: number, body: (opt: NetOptimizer) => Promise<T>): Promise<T> {
    if (this.disposed) throw new Error('the probe runner has been disposed');
    if (this.busy) throw new Error('another probe is running');
    this.busy = true;
    const engine = tf.engine();
    engine.startScope('probe');
    let opt: NetOptimizer | undefined;
    // On webgpu the probe runs inside the device's error scopes: an allocation that did not fit
    // throws nothing by itself (see webgpu-device.ts), the scopes turn it into an error here.
    const watch = tf.getBackend() === 'webgpu' ? currentDeviceWatch() : undefined;
    let gpuFailed = false;
    try {
      opt = createNetOptimizer(this.opts.optimizer, learningRate, this.opts.momentum ?? 0.9, this.net.rateGroups);
      const created = opt;
      return watch ? await watch.run(() => body(created)) : await body(opt);
    } catch (err) {
      gpuFailed = err instanceof WebgpuScopeError;
      throw err;
    } finally {
      // tf.profile leaves profiling on when its query throws.
      engine.state.profiling = false;
      engine.endScope();
      try {
        opt?.dispose();
      } finally {
        this.restore();
        this.busy = false;
        if (this.scratch.length > MAX_KEPT_SCRATCH) this.scratch = new Float32Array(0);
      }
      // The failed probe's buffers went back to tfjs's pool, some of them invalid (never
      // allocated): destroy the pool's free buffers so that no later probe reuses one.
      const gpu = gpuFailed ? webgpuInternals() : undefined;
      if (gpu) await releaseFreeGpuBuffers(gpu).catch(() => undefined);
    }
  }

  /** What the trained part takes for this batch: augmented as the run will be, through the frozen part. */
  private inputsOf(x: tf.Tensor): tf.Tensor {
    return this.net.frozen(this.augmented(x));
  }

  /** The batch as a training step sees it: augmented with this step's draws (each call is a new step). */
  private augmented(x: tf.Tensor): tf.Tensor {
    this.stepCount++;
    return augmentBatch(x, this.opts.augment ?? 'none', this.opts.seed, this.stepCount, this.ds.manifest.normalization);
  }

  /** The training loss of features from inputsOf. */
  private lossOf(features: tf.Tensor, oneHot: tf.Tensor2D): tf.Scalar {
    const logits = this.net.trained(features);
    return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
  }

  /**
   * One training step (forward, backward, update) on these samples; returns its loss. With
   * `micro` below the batch, the step accumulates the gradients of passes of that many samples
   * (a run's micro-batches: accumulate.ts).
   */
  private step(opt: NetOptimizer, indices: Uint32Array, beforeUpdate?: () => void, micro = indices.length): tf.Scalar {
    const need = indices.length * this.ds.sampleSize;
    if (this.scratch.length < need) this.scratch = new Float32Array(need);
    const { x, labels, oneHot } = makeBatch(this.ds, indices, this.scratch);
    try {
      return tf.tidy(() => {
        const n = indices.length;
        const passOf = (features: tf.Tensor, hot: tf.Tensor2D) => {
          const { value, grads } = tf.variableGrads(() => this.lossOf(features, hot), this.trainable);
          return { values: [value], grads };
        };
        const inputs = micro < n ? this.augmented(x) : undefined;
        const step =
          inputs === undefined
            ? passOf(this.inputsOf(x), oneHot)
            : accumulateGradients(n, micro, (start, size) => passOf(this.net.frozen(inputs.slice(start, size)), oneHot.slice(start, size)));
        beforeUpdate?.();
        opt.applyGradients(step.grads);
        return step.values[0]!;
      });
    } finally {
      tf.dispose([x, labels, oneHot]);
    }
  }

  /** Waits for the device: reads back `t`, or a new one-element tensor. */
  private async sync(t?: tf.Tensor): Promise<void> {
    if (t && !t.isDisposed) {
      await t.data();
      return;
    }
    const one = tf.zeros([1]);
    await one.data();
    one.dispose();
  }
}
