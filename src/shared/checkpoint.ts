// A run's checkpoint, as both engines write and read it (docs/architecture.md §5.12): a folder
// `step-<step>` under the run's checkpoints folder holding
// - state.json: where the run stood (checkpointStateSchema below), written last;
// - order.bin: the epoch's sample order (uint32, little-endian), so the data order carries on;
// - the engine's own files: tfjs `tensors.json` + `tensors.bin` (weights and optimizer state),
//   torch `model.pt` + `optimizer.pt`.
// A checkpoint is written into a `.partial-…` folder and renamed into place, so a kill during the
// write leaves the previous checkpoint whole; the last two are kept.
import { z } from 'zod';

export const CHECKPOINT_FORMAT = 1;
/** How many finished checkpoints a run keeps (the newest ones). */
export const CHECKPOINTS_KEPT = 2;
/** Every how many seconds of training a run writes a checkpoint besides each epoch's end (the default of the setting). */
export const DEFAULT_CHECKPOINT_SECONDS = 300;

export const CHECKPOINT_REASONS = ['epoch', 'timer', 'stop'] as const;
export type CheckpointReason = (typeof CHECKPOINT_REASONS)[number];
/** How the UI and the CLI name a checkpoint by its reason ("the epoch-end checkpoint"). */
export const CHECKPOINT_REASON_TEXT: Record<CheckpointReason, string> = { epoch: 'epoch-end', timer: 'timed', stop: 'stop' };

export const checkpointStateSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  engine: z.enum(['tfjs', 'torch']),
  /** Optimizer steps done. */
  step: z.number().int().min(0),
  /** The epoch whose order order.bin holds (1-based). */
  epoch: z.number().int().min(1),
  /** Batches of that epoch done; the steps per epoch when the epoch (and its validation) is done. */
  batchInEpoch: z.number().int().min(0),
  /**
   * Samples of that epoch done. It differs from batchInEpoch × batchSize only in a run resumed
   * mid-epoch with another batch (after out-of-memory); absent: batchInEpoch × batchSize.
   */
  samplesInEpoch: z.number().int().min(0).optional(),
  epochsCompleted: z.number().int().min(0),
  /** Training seconds so far (validation included, as the run's time axis counts them). */
  trainSeconds: z.number().min(0),
  samplesSeen: z.number().int().min(0),
  /** The epoch's running train-loss and accuracy sums (for its epoch metrics). */
  epochLossSum: z.number(),
  epochAccSum: z.number(),
  epochSamples: z.number().int().min(0),
  bestValAccuracy: z.number().nullable(),
  finalValAccuracy: z.number().nullable(),
  /** The seeded shuffle generator's state after the epoch's shuffle (src/shared/random.ts). */
  rngState: z.number().int().min(0).max(0xffffffff),
  /** The batch the run trained with when it wrote this (a resume after out-of-memory may change it). */
  batchSize: z.number().int().min(1),
  reason: z.enum(CHECKPOINT_REASONS),
  /** ISO time of the write. */
  writtenAt: z.string(),
});
export type CheckpointState = z.infer<typeof checkpointStateSchema>;

/** Where a run's job writes checkpoints, and how often besides each epoch's end. */
export const checkpointPlanSchema = z.strictObject({
  dir: z.string().min(1),
  /** At least 0.1 s (tests); the setting's minutes in the app. */
  everySeconds: z.number().min(0.1).max(86_400),
});
export type CheckpointPlan = z.infer<typeof checkpointPlanSchema>;

/** The folder name of the checkpoint at a step (zero-padded, so names sort by step). */
export function checkpointFolderName(step: number): string {
  return `step-${String(step).padStart(9, '0')}`;
}

export const CHECKPOINT_FOLDER = /^step-(\d{9,})$/;

/** Samples of the checkpoint's epoch done. */
export function samplesDoneInEpoch(state: Pick<CheckpointState, 'batchInEpoch' | 'batchSize' | 'samplesInEpoch'>): number {
  return state.samplesInEpoch ?? state.batchInEpoch * state.batchSize;
}
