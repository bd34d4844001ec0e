// Runtime schemas of training runs and their metrics, so every message that crosses a process or
// network boundary is checked before it is believed. They are the definitions: the types of
// run-types.ts (TrainConfig, BackendReport, StepMetrics …) are inferred from them.
import { z } from 'zod';
import { BACKEND_CHOICES, OPTIMIZERS, RUN_MODELS } from './run-types.js';
import { AUGMENT_LEVELS, startFromSchema } from './fine-tuning.js';

const finite = z.number().finite();
/** Any number, NaN and ±Infinity included (zod's number() rejects them). */
export const anyNumber = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });

/** A training run's settings (TrainConfig). */
export const trainConfigSchema = z.strictObject({
  model: z.enum(RUN_MODELS),
  batchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 20),
  /**
   * Validation and the final evaluation run forward only, this many samples at a time; absent:
   * the training batch (a forward pass needs less memory than the training step the run already
   * makes, so it cannot be the step that runs out). Auto-tune measures the largest that fits.
   */
  evalBatchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 16)
    .optional(),
  /**
   * Gradient accumulation (shared/accumulation.ts): batchSize is the effective batch, trained in
   * passes of this many samples whose gradients add up before each optimizer step; absent or not
   * smaller: one pass of batchSize.
   */
  microBatchSize: z
    .number()
    .int()
    .min(1)
    .max(1 << 20)
    .optional(),
  epochs: z.number().int().min(1).max(100_000),
  learningRate: finite.gt(0).max(10),
  optimizer: z.enum(OPTIMIZERS),
  /** SGD momentum; ignored by Adam. */
  momentum: finite.min(0).lt(1),
  /** Steps of linear learning-rate warm-up from ~0 to learningRate. */
  warmupSteps: z.number().int().min(0).max(10_000_000),
  backend: z.enum(BACKEND_CHOICES),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  /**
   * Adapt the batch during training (shared/adaptive-batch.ts): the noise scale measured from the
   * run's own gradients, the batch changed when the tuning's throughput predicts a goodput gain.
   */
  adaptive: z.boolean().optional(),
  /** Validate this many times per epoch (default 1, at its end): finer validation curves. */
  validationsPerEpoch: z.number().int().min(1).max(20).optional(),
  /** Augmentation of every training batch (shared/fine-tuning.ts); absent: none (runs stored before it existed). */
  augment: z.enum(AUGMENT_LEVELS).optional(),
  /**
   * The trained model this run starts from (its backbone, with a new classifier); absent: `model`
   * from scratch. With it, `model` names the start model's architecture where this app made it.
   */
  startFrom: startFromSchema.optional(),
});

/** Why a backend of the ladder was not used (BackendSkip). */
export const backendSkipSchema = z.strictObject({ backend: z.string(), reason: z.string() });

/** The backend a process trains on, and the rungs of the ladder it skipped (BackendReport). */
export const backendReportSchema = z.strictObject({
  /** Backend name actually in use: tfjs's 'tensorflow', 'webgpu', 'wasm', 'cpu'; 'torch' for PyTorch. */
  name: z.string(),
  /**
   * The concrete choice that trains on exactly this backend ('torch-cpu', 'wasm'…), which `auto`
   * resolved to: a later run that must use the same backend ("Train with this") names it.
   * Absent in reports stored before the torch engine existed.
   */
  rung: z.enum(BACKEND_CHOICES).exclude(['auto']).optional(),
  /** Human-readable device, e.g. 'NVIDIA H100 (Vulkan)', 'CPU, WebAssembly SIMD, 2 threads'. */
  device: z.string(),
  /** Each higher rung that was skipped, and why. */
  skipped: z.array(backendSkipSchema),
});

/** One optimisation step, as the trainer reports it (StepMetrics). */
export const stepMetricsSchema = z.strictObject({
  /** Global step, 1-based. */
  step: z.number().int().min(1),
  /** 1-based. */
  epoch: z.number().int().min(1),
  /** Seconds since the run started training. */
  time: finite.min(0),
  // Loss may legitimately be NaN/Infinity when training diverges: the record must keep it.
  loss: anyNumber,
  accuracy: finite,
  samplesPerSecond: finite.min(0),
  stepMs: finite.min(0),
  memoryBytes: finite.min(0),
  learningRate: finite.min(0),
});

/** Validation at the end of an epoch (EpochMetrics). */
export const epochMetricsSchema = z.strictObject({
  epoch: z.number().int().min(1),
  step: z.number().int().min(0),
  time: finite.min(0),
  valLoss: anyNumber,
  valAccuracy: finite,
  trainLoss: anyNumber,
  trainAccuracy: finite,
});
