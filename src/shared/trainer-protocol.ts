// The typed message protocol between the host (service) and a trainer process. One trainer
// process runs one job; the host starts it, may ask it to stop, and hears its events.
import { z } from 'zod';
import { backendReportSchema, epochMetricsSchema, stepMetricsSchema, trainConfigSchema } from './schemas.js';
import { tuningOriginSchema } from './model-export.js';
import { CHECKPOINT_REASONS, checkpointPlanSchema } from './checkpoint.js';

/**
 * The torch engine's starting point, prepared by a Node process from the same tfjs net a tfjs
 * trainer would build (src/main/engine/trainer/torch-prep-entry.ts): the whole model in the tfjs
 * layers format (its initial weights), and which layers train at which rate factor (layers in no
 * group are frozen: inference mode, no gradients). The host writes it into a torch run's job and a
 * torch probe session before they reach Python.
 */
export const preparedNetSchema = z.strictObject({
  modelDir: z.string().min(1),
  groups: z.array(z.strictObject({ layers: z.array(z.string().min(1)), rateFactor: z.number().finite().gt(0) })).min(1),
});
export type PreparedNet = z.infer<typeof preparedNetSchema>;

const trainJobSchema = z.strictObject({
  kind: z.literal('train'),
  runId: z.number().int().min(1),
  /** Cached dataset folder (see DatasetManifest). */
  datasetDir: z.string().min(1),
  config: trainConfigSchema,
  /** Folder to save the trained model and its evaluation into; none: nothing is saved. */
  artifactDir: z.string().min(1).optional(),
  /** Stop after this many steps (tests, probes). */
  maxSteps: z.number().int().min(1).optional(),
  /** The stored copy of config.startFrom's model (a folder with model.json); required with it. */
  startModelDir: z.string().min(1).optional(),
  /** The tuning session the run trains with, for the saved model's metadata (madeWith.tuning). */
  tuning: tuningOriginSchema.optional(),
  /**
   * The torch engine's starting point, prepared by a Node process from the same tfjs net a tfjs
   * run would build (src/main/engine/trainer/torch-prep-entry.ts): the whole model in the tfjs
   * layers format (its initial weights), and which layers train at which rate factor (layers in
   * no group are frozen: inference mode, no gradients). Required on torch-* backends.
   */
  prepared: preparedNetSchema.optional(),
  /** CPU threads the engine computes with (the wasm backend's setting); absent: the engine's default. */
  threads: z.number().int().min(1).max(256).optional(),
  /** Tests only: train on the memory-capped test backend (allocations above this many bytes fail as out of memory). */
  memoryCapBytes: z.number().int().min(1).optional(),
  /** Write checkpoints (src/shared/checkpoint.ts) there: at each epoch's end, every everySeconds, and at a stop. */
  checkpoints: checkpointPlanSchema.optional(),
  /** Continue the run from this checkpoint folder (its weights, optimizer state, data order and position). */
  resume: z.strictObject({ checkpointDir: z.string().min(1) }).optional(),
  /**
   * An adaptive run (shared/adaptive-batch.ts): measure the noise scale from the run's own steps
   * and report it every `everySteps` steps ('noise'); the host answers with 'set-batch' when the
   * batch should change.
   */
  adaptive: z.strictObject({ everySteps: z.number().int().min(2).max(1_000_000) }).optional(),
});
export type TrainJob = z.infer<typeof trainJobSchema>;

export const hostMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start'), job: trainJobSchema }),
  z.strictObject({ type: z.literal('stop') }),
  /** An adaptive run's new batch: from the next step on, its rate reached by a linear ramp over rampSteps. */
  z.strictObject({
    type: z.literal('set-batch'),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(1 << 20),
    learningRate: z.number().gt(0).max(10),
    rampSteps: z.number().int().min(0).max(1_000_000),
  }),
]);
export type HostMessage = z.infer<typeof hostMessageSchema>;

export const evaluationSchema = z.strictObject({
  classes: z.array(z.string()),
  /** confusion[true][predicted] counts over the validation split. */
  confusion: z.array(z.array(z.number().int().min(0))),
  perClassAccuracy: z.array(z.number()),
  /** Validation samples the model got wrong, most confident first. */
  misclassified: z.array(
    z.strictObject({ index: z.number().int().min(0), trueClass: z.number().int(), predictedClass: z.number().int(), confidence: z.number() }),
  ),
});
export type Evaluation = z.infer<typeof evaluationSchema>;

const runSummarySchema = z.strictObject({
  steps: z.number().int().min(0),
  epochsCompleted: z.number().int().min(0),
  trainSeconds: z.number().min(0),
  samplesPerSecond: z.number().min(0),
  bestValAccuracy: z.number().nullable(),
  finalValAccuracy: z.number().nullable(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

const FAILURE_CAUSES = ['oom', 'diverged', 'backend', 'dataset', 'bad-config', 'error'] as const;
export type FailureCause = (typeof FAILURE_CAUSES)[number];
export const FAILURE_PHASES = ['training', 'validation'] as const;
export type FailurePhase = (typeof FAILURE_PHASES)[number];

export const trainerMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), pid: z.number().int() }),
  z.strictObject({ type: z.literal('heartbeat'), time: z.number() }),
  z.strictObject({ type: z.literal('backend'), report: backendReportSchema }),
  /** A checkpoint was written (and the older ones beyond the last two removed). */
  z.strictObject({
    type: z.literal('checkpoint'),
    step: z.number().int().min(0),
    epoch: z.number().int().min(1),
    reason: z.enum(CHECKPOINT_REASONS),
    dir: z.string(),
  }),
  /**
   * An adaptive run's noise scale over the last window, from `measurements` measured steps (the
   * means of the two-batch terms); -1 when |G|² came out not above 0 (too noisy to say).
   */
  z.strictObject({
    type: z.literal('noise'),
    step: z.number().int().min(0),
    gradSq: z.number(),
    traceSigma: z.number(),
    noiseScale: z.number(),
    measurements: z.number().int().min(1),
  }),
  /** A set-batch took effect: the steps after `step` train at batchSize. */
  z.strictObject({
    type: z.literal('batch-changed'),
    step: z.number().int().min(0),
    time: z.number().min(0),
    batchSize: z.number().int().min(1),
    learningRate: z.number().gt(0),
  }),
  /** Every step and epoch since the last such message (sent at most ~10 times a second). */
  z.strictObject({ type: z.literal('metrics'), steps: z.array(stepMetricsSchema), epochs: z.array(epochMetricsSchema) }),
  z.strictObject({
    type: z.literal('done'),
    status: z.enum(['completed', 'stopped']),
    summary: runSummarySchema,
    artifact: z.strictObject({ path: z.string(), bytes: z.number().int().min(0) }).optional(),
    evaluation: evaluationSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('failed'),
    cause: z.enum(FAILURE_CAUSES),
    message: z.string(),
    summary: runSummarySchema.optional(),
    /** Where it failed: a validation pass (the evaluation batch's doing) or a training step (absent: not known). */
    phase: z.enum(FAILURE_PHASES).optional(),
  }),
]);
export type TrainerMessage = z.infer<typeof trainerMessageSchema>;
