// What happened to a run besides its metrics, stored with it and shown on its page and charts:
// a resume from a checkpoint (the steps after it that the earlier attempt had done are kept
// apart, never mixed into the series), for out-of-memory recovery a batch stepped down, and in an
// adaptive run a batch changed by its measured noise scale.
import { z } from 'zod';
import { CHECKPOINT_REASONS } from './checkpoint.js';
import { RUN_STATUSES, type RunStatus } from './run-types.js';

/** The statuses a run can be resumed from (with a checkpoint): the store, the service, the CLI and the run page ask this. */
export const RESUMABLE_STATUSES = ['stopped', 'interrupted', 'failed'] as const satisfies readonly RunStatus[];

export function isResumableStatus(status: RunStatus): boolean {
  return (RESUMABLE_STATUSES as readonly RunStatus[]).includes(status);
}

const common = {
  /** The step the run went on from (the checkpoint's). */
  step: z.number().int().min(0),
  /** The run's training seconds at that step (its charts' time axis). */
  time: z.number().min(0),
  /** The attempt that starts here (the first run is attempt 1). */
  attempt: z.number().int().min(2),
  createdAt: z.string(),
};

export const runEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('resumed'),
    ...common,
    /** Why the checkpoint was written: an epoch's end, the timer, or the stop. */
    checkpoint: z.enum(CHECKPOINT_REASONS),
    /** How the attempt before ended. */
    previousStatus: z.enum(RUN_STATUSES),
    /** Steps the attempt before had done after the checkpoint: kept apart, redone by this one. */
    discardedSteps: z.number().int().min(0),
  }),
  z.strictObject({
    kind: z.literal('batch-reduced'),
    ...common,
    /** The checkpoint it went on from; null: none was written yet, so it started again from step 0. */
    checkpoint: z.enum(CHECKPOINT_REASONS).nullable(),
    discardedSteps: z.number().int().min(0),
    fromBatch: z.number().int().min(1),
    toBatch: z.number().int().min(1),
    /**
     * Which batch was stepped down: the training batch (the rate scaled with it), the evaluation
     * batch, or — in a run that accumulates gradients — the micro-batch (the effective batch and
     * its rate kept).
     */
    batch: z.enum(['training', 'evaluation', 'micro']),
    fromRate: z.number().gt(0),
    toRate: z.number().gt(0),
    /** Where the out-of-memory struck ('training step' or 'validation') and the engine's message. */
    cause: z.string(),
  }),
  /** An adaptive run changed its batch (shared/adaptive-batch.ts), from `step` on, in the same attempt. */
  z.strictObject({
    kind: z.literal('batch-adapted'),
    step: z.number().int().min(0),
    time: z.number().min(0),
    /** The attempt it happened in. */
    attempt: z.number().int().min(1),
    createdAt: z.string(),
    fromBatch: z.number().int().min(1),
    toBatch: z.number().int().min(1),
    fromRate: z.number().gt(0),
    toRate: z.number().gt(0),
    /** The gradient noise scale the run measured over the steps before. */
    noiseScale: z.number(),
    /** The predicted goodput gain (0.12 = 12 %). */
    gain: z.number(),
    /** Steps of the ramp from the old learning rate to the new. */
    rampSteps: z.number().int().min(0),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;

type BatchReduced = Extract<RunEvent, { kind: 'batch-reduced' }>;

const rateText = (r: number) => String(Number(r.toPrecision(3)));

/** What an out-of-memory step-down changed, in words (the run page and the CLI). */
export function batchChangeText(e: BatchReduced): string {
  if (e.batch === 'evaluation') return `the evaluation batch ${e.fromBatch} → ${e.toBatch}`;
  if (e.batch === 'micro') return `micro-batch ${e.fromBatch} → ${e.toBatch} (the effective batch and its learning rate kept)`;
  return `batch ${e.fromBatch} → ${e.toBatch} and learning rate ${rateText(e.fromRate)} → ${rateText(e.toRate)}`;
}

/** The same change as a chart mark's short label. */
export function batchChangeLabel(e: BatchReduced): string {
  const which = e.batch === 'evaluation' ? 'eval batch' : e.batch === 'micro' ? 'micro-batch' : 'batch';
  return `${which} ${e.fromBatch}→${e.toBatch}`;
}

/** An adaptive change in words (the run page and the CLI). */
export function batchAdaptedText(e: Extract<RunEvent, { kind: 'batch-adapted' }>): string {
  return `At step ${e.step.toLocaleString('en-US')} the measured noise scale (${Math.round(e.noiseScale).toLocaleString('en-US')}) made batch ${e.toBatch} ${Math.round(e.gain * 100)} % better in predicted goodput: batch ${e.fromBatch} → ${e.toBatch}, learning rate ${rateText(e.fromRate)} → ${rateText(e.toRate)} over ${e.rampSteps} steps.`;
}
