// Messages of a probe session: the batch-size search (service side) drives a trainer process
// that runs one measurement at a time and answers each. If the process dies on a probe (out of
// memory, a native crash), the search records that probe's trial with its cause, starts a new
// process with the same session, and goes on.
import { z } from 'zod';
import { BACKEND_CHOICES, OPTIMIZERS, RUN_MODELS } from './run-types.js';
import { AUGMENT_LEVELS } from './fine-tuning.js';
import { anyNumber } from './schemas.js';
import { preparedNetSchema } from './trainer-protocol.js';

/**
 * Where a memory probe's peakBytes comes from:
 * - tfjs-profile: tf.profile's peak of live tensor bytes during the step (tfjs, not webgpu);
 * - webgpu-buffers: the GPU buffers tfjs's webgpu pool held after the step (its high-water mark);
 * - cuda-peak: torch.cuda.max_memory_allocated over the step, after a reset;
 * - mps-allocated: torch.mps.current_allocated_memory after the step (MPS has no peak counter);
 * - cpu-peak-rss: the process's peak resident size over the step (Linux VmHWM after a reset
 *   through /proc/self/clear_refs), less the resident size before it;
 * - live-tensor-bytes: the peak of live tensor storage bytes during the step, counted by a
 *   dispatch mode (the CPU where VmHWM cannot be reset, and the capped test device).
 */
export const MEMORY_SOURCES = ['tfjs-profile', 'webgpu-buffers', 'cuda-peak', 'mps-allocated', 'cpu-peak-rss', 'live-tensor-bytes'] as const;
export type MemorySource = (typeof MEMORY_SOURCES)[number];

const probeSessionSchema = z.strictObject({
  kind: z.literal('probe-session'),
  datasetDir: z.string().min(1),
  /** 'imported' only with startModel. */
  model: z.enum(RUN_MODELS),
  optimizer: z.enum(OPTIMIZERS),
  backend: z.enum(BACKEND_CHOICES),
  seed: z.number().int().min(0),
  /** SGD momentum (ignored by Adam); 0.9 when absent, as in a training run. */
  momentum: z.number().min(0).lt(1).optional(),
  /** Augmentation in every training step, as the run will have it (default none). */
  augment: z.enum(AUGMENT_LEVELS).optional(),
  /** Probe a model assembled from this start model (its stored copy) instead of `model` from scratch. */
  startModel: z
    .strictObject({
      dir: z.string().min(1),
      unfreeze: z.number().int().min(0),
      /** The unfrozen blocks' rate over the probe's rate. */
      fineTuneRateFactor: z.number().positive(),
    })
    .optional(),
  /**
   * Tests only: wrap the backend so that any allocation taking the live tensor bytes above
   * this many fails like a real out-of-memory error.
   */
  memoryCapBytes: z.number().int().min(1).optional(),
  /** Torch rungs: the net to probe, prepared by the host as for a torch run (trainer-protocol.ts). */
  prepared: preparedNetSchema.optional(),
  /** Torch rungs: CPU threads the engine computes with (the wasm backend's setting). */
  threads: z.number().int().min(1).max(256).optional(),
});
export type ProbeSession = z.infer<typeof probeSessionSchema>;

const probeRequestSchema = z.discriminatedUnion('kind', [
  /** One training step at this batch; peak bytes the step needed. forwardOnly: one validation pass at this batch instead (the evaluation batch). */
  z.strictObject({ kind: z.literal('memory'), id: z.number().int(), batchSize: z.number().int().min(1), forwardOnly: z.boolean().optional() }),
  /**
   * Timed training steps after warm-up steps, with a device sync before each clock reading; with
   * microBatch below batchSize, each step accumulates the gradients of passes of that many samples.
   */
  z.strictObject({
    kind: z.literal('throughput'),
    id: z.number().int(),
    batchSize: z.number().int().min(1),
    warmupSteps: z.number().int().min(0),
    steps: z.number().int().min(1),
    microBatch: z.number().int().min(1).optional(),
  }),
  /**
   * Gradient noise scale: `steps` training steps at batch microBatch·k, each batch's gradient also
   * taken as k micro-batch gradients (docs/architecture.md §5.6). Training progresses with
   * learningRate.
   */
  z.strictObject({
    kind: z.literal('noise'),
    id: z.number().int(),
    microBatch: z.number().int().min(1),
    k: z.number().int().min(2),
    steps: z.number().int().min(1),
    /**
     * Plain training steps (at batch k·b) before measuring: the noise scale grows as training
     * proceeds (McCandlish et al.), so one measured at the very first steps undersells large batches.
     */
    pretrainSteps: z.number().int().min(0).optional(),
    /**
     * Measure in this many windows spread over the probe (the pre-training split between them),
     * each reporting its training loss and noise scale, so the tuner sees how the noise scale
     * grows as the loss falls and can extrapolate it to later in the run. Default 1.
     */
    windows: z.number().int().min(1).max(8).optional(),
    learningRate: z.number().positive(),
  }),
  /**
   * A learning-rate range test (Smith 2017): from the initial weights, one step at each rate of
   * a geometric ramp from minRate to maxRate, the training loss of each kept; it stops early once
   * the loss has clearly diverged (NaN, or stopFactor × the lowest smoothed loss).
   */
  z.strictObject({
    kind: z.literal('learning-rate'),
    id: z.number().int(),
    batchSize: z.number().int().min(1),
    minRate: z.number().positive(),
    maxRate: z.number().positive(),
    steps: z.number().int().min(4).max(1000),
    stopFactor: z.number().gt(1),
  }),
  /** A short run from the session's initial weights for a fixed wall time, then validation. */
  z.strictObject({
    kind: z.literal('trial'),
    id: z.number().int(),
    batchSize: z.number().int().min(1),
    learningRate: z.number().positive(),
    warmupSteps: z.number().int().min(0),
    seconds: z.number().positive(),
  }),
]);
export type ProbeRequest = z.infer<typeof probeRequestSchema>;

const memoryResultSchema = z.strictObject({
  kind: z.literal('memory'),
  /** The figure to fit m(B) on: backendBytes on webgpu (what the device allocated), engineBytes elsewhere. */
  peakBytes: z.number().min(0),
  /** Wall time of the (profiled, first) step, sync included: an upper bound on a step's time. */
  stepMs: z.number().min(0),
  /** tf.profile's peak of live tensor bytes during the step (the probe's copy of the initial weights included). */
  engineBytes: z.number().min(0),
  /**
   * engineBytes split by phase: the peak through the forward and backward passes (activations,
   * gradients: grows with the batch) and during the optimizer update (about constant; tfjs's Adam
   * holds ~a dozen parameter-sized temporaries at once). engineBytes is the larger; the step's
   * memory is max(gradient line, update line), which one line through small-batch peaks can miss.
   */
  gradientBytes: z.number().min(0).optional(),
  updateBytes: z.number().min(0).optional(),
  /**
   * The backend's own count, where it has one. webgpu: bytes of GPU buffers its buffer pool
   * holds after the step, the pool's free buffers released before it (the step's high-water mark;
   * shared buffers counted once, so it can be below engineBytes).
   * wasm: the module's linear memory size (it only grows; includes allocator slack and kernel
   * scratch; compare with the 4 GiB limit).
   */
  backendBytes: z.number().min(0).optional(),
  /** What peakBytes is (MEMORY_SOURCES); absent in results from before the torch engine probed (tfjs-profile or webgpu-buffers). */
  memorySource: z.enum(MEMORY_SOURCES).optional(),
});
const throughputResultSchema = z.strictObject({
  kind: z.literal('throughput'),
  secondsPerStep: z.number().min(0),
  samplesPerSecond: z.number().min(0),
  /** The step accumulated passes of this many samples (the request's microBatch). */
  microBatch: z.number().int().min(1).optional(),
});
const noiseResultSchema = z.strictObject({
  kind: z.literal('noise'),
  /** Moving averages over the probe's steps; either can be ≤ 0 or NaN on too few steps. */
  gradSq: anyNumber,
  traceSigma: anyNumber,
  /** tr Σ / |G|²: +Infinity when |G|² ≤ 0 (signal lost in noise), NaN without data. */
  noiseScale: anyNumber,
  steps: z.number().int(),
  /** One entry per measuring window, in order: samples trained before its end, mean loss, estimates. */
  windows: z
    .array(z.strictObject({ samples: z.number().int().min(0), loss: anyNumber, gradSq: anyNumber, traceSigma: anyNumber, noiseScale: anyNumber }))
    .optional(),
});
const learningRateResultSchema = z.strictObject({
  kind: z.literal('learning-rate'),
  /** The rate of each step taken and its training loss (NaN/±Infinity where it diverged). */
  rates: z.array(z.number().positive()),
  losses: z.array(anyNumber),
});
const trialResultSchema = z.strictObject({
  kind: z.literal('trial'),
  steps: z.number().int(),
  samples: z.number().int(),
  /** Training loss per step; a trial stops at the first NaN/±Infinity loss, which is kept as the last. */
  losses: z.array(anyNumber),
  /** NaN when the trial diverged (then not evaluated) or there is no validation split. */
  valLoss: anyNumber,
  valAccuracy: z.number(),
});
const probeResultSchema = z.discriminatedUnion('kind', [
  memoryResultSchema,
  throughputResultSchema,
  noiseResultSchema,
  learningRateResultSchema,
  trialResultSchema,
]);
export type ProbeResult = z.infer<typeof probeResultSchema>;

/** Host → trainer, after the session's 'start-probes'. */
export const probeHostMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start-probes'), session: probeSessionSchema }),
  z.strictObject({ type: z.literal('probe'), request: probeRequestSchema }),
  z.strictObject({ type: z.literal('end') }),
]);
export type ProbeHostMessage = z.infer<typeof probeHostMessageSchema>;

/** Trainer → host answers (besides ready, heartbeat and backend of the trainer protocol). */
export const probeTrainerMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('probe-result'), id: z.number().int(), result: probeResultSchema }),
  /** The probe failed and everything it allocated was released (e.g. a caught allocation failure). */
  z.strictObject({
    type: z.literal('probe-failed'),
    id: z.number().int(),
    cause: z.enum(['oom', 'diverged', 'error']),
    message: z.string(),
    /**
     * The backend is dead (a wasm abort, a lost GPU device): the process exits (code 1) right
     * after this message; start a new one for the next probe. Absent: the process is fine.
     */
    fatal: z.boolean().optional(),
  }),
]);
export type ProbeTrainerMessage = z.infer<typeof probeTrainerMessageSchema>;
