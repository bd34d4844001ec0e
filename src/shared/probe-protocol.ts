// Messages of a probe session: the batch-size search (service side) drives a trainer process
// that runs one measurement at a time and answers each. If the process dies on a probe (out of
// memory, a native crash), the search records that probe's trial with its cause, starts a new
// process with the same session, and goes on.
import { z } from 'zod';
import { BACKEND_CHOICES, MODEL_KINDS, OPTIMIZERS } from './run-types.js';

export const probeSessionSchema = z.strictObject({
  kind: z.literal('probe-session'),
  datasetDir: z.string().min(1),
  model: z.enum(MODEL_KINDS),
  optimizer: z.enum(OPTIMIZERS),
  backend: z.enum(BACKEND_CHOICES),
  seed: z.number().int().min(0),
  /**
   * Tests only: wrap the backend so that any allocation taking the live tensor bytes above
   * this many fails like a real out-of-memory error.
   */
  memoryCapBytes: z.number().int().min(1).optional(),
});
export type ProbeSession = z.infer<typeof probeSessionSchema>;

export const probeRequestSchema = z.discriminatedUnion('kind', [
  /** One training step at this batch; peak bytes the step needed. */
  z.strictObject({ kind: z.literal('memory'), id: z.number().int(), batchSize: z.number().int().min(1) }),
  /** Timed training steps after warm-up steps, with a device sync before each clock reading. */
  z.strictObject({
    kind: z.literal('throughput'),
    id: z.number().int(),
    batchSize: z.number().int().min(1),
    warmupSteps: z.number().int().min(0),
    steps: z.number().int().min(1),
  }),
  /**
   * Gradient noise scale: `steps` training steps at batch microBatch·k, each batch's gradient
   * also taken as k micro-batch gradients (DESIGN §5.4). Training progresses with learningRate.
   */
  z.strictObject({
    kind: z.literal('noise'),
    id: z.number().int(),
    microBatch: z.number().int().min(1),
    k: z.number().int().min(2),
    steps: z.number().int().min(1),
    learningRate: z.number().positive(),
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

export const memoryResultSchema = z.strictObject({ kind: z.literal('memory'), peakBytes: z.number().min(0), stepMs: z.number().min(0) });
export const throughputResultSchema = z.strictObject({
  kind: z.literal('throughput'),
  secondsPerStep: z.number().min(0),
  samplesPerSecond: z.number().min(0),
});
export const noiseResultSchema = z.strictObject({
  kind: z.literal('noise'),
  gradSq: z.number(),
  traceSigma: z.number(),
  noiseScale: z.number(),
  steps: z.number().int(),
});
export const trialResultSchema = z.strictObject({
  kind: z.literal('trial'),
  steps: z.number().int(),
  samples: z.number().int(),
  /** Training loss per step (NaN kept: the trial may have diverged). */
  losses: z.array(z.number().or(z.nan())),
  valLoss: z.number().or(z.nan()),
  valAccuracy: z.number(),
});
export const probeResultSchema = z.discriminatedUnion('kind', [memoryResultSchema, throughputResultSchema, noiseResultSchema, trialResultSchema]);
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
  /** The probe failed but the process is fine (e.g. a caught allocation failure). */
  z.strictObject({ type: z.literal('probe-failed'), id: z.number().int(), cause: z.enum(['oom', 'diverged', 'error']), message: z.string() }),
]);
export type ProbeTrainerMessage = z.infer<typeof probeTrainerMessageSchema>;
