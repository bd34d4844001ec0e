// The runtime schema of the scale-out plan (src/shared/scale-out.ts), for the API that returns it
// (scaleOutPlan, and TuningDetail.scaleOutPlan). The plan's types are written out in scale-out.ts,
// which the recipe export shares; the checks at the bottom keep this schema and them in step.
import { z } from 'zod';
import { OPTIMIZERS } from './run-types.js';
import type { ScaleOutPlan, ScaleOutRow } from './scale-out.js';

const count = z.number().int().min(0);
const positive = z.number().int().min(1);

/** One row of the plan: K workers (ScaleOutRow). */
export const scaleOutRowSchema = z.strictObject({
  workers: positive,
  perWorkerBatch: positive,
  /** The per-worker micro-batch; equal to perWorkerBatch without accumulation. */
  microBatch: positive,
  globalBatch: positive,
  learningRate: z.number().positive(),
  /** Steps of the linear warm-up to learningRate. */
  warmupSteps: count,
  stepsPerEpoch: positive,
  /** Statistical efficiency of the global batch against the one-worker batch (≤ 1). */
  efficiency: z.number().positive(),
  /** Predicted time-to-target speed-up against one worker, communication not counted. */
  speedup: z.number().positive(),
  reason: z.string(),
});

/** What K = 1, 2, 4, 8 data-parallel workers should train with (ScaleOutPlan). */
export const scaleOutPlanSchema = z.strictObject({
  base: z.strictObject({ batchSize: positive, learningRate: z.number().positive(), optimizer: z.enum(OPTIMIZERS), warmupSteps: count }),
  noiseScale: z.number().nullable(),
  noiseScaleSource: z.enum(['late', 'forecast', 'early']).nullable(),
  memoryCeiling: count,
  epochs: positive,
  rows: z.array(scaleOutRowSchema),
  /** The assumptions, in sentences (no communication cost; the noise scale's source; the same device per worker). */
  assumptions: z.array(z.string()),
});

// The schema and the hand-written types must describe the same thing (a compile error otherwise).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const rowsAgree: Same<z.infer<typeof scaleOutRowSchema>, ScaleOutRow> = true;
const plansAgree: Same<z.infer<typeof scaleOutPlanSchema>, ScaleOutPlan> = true;
void rowsAgree;
void plansAgree;
