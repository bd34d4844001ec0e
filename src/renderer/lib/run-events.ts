// A run's events in words and as chart marks (the run page; the CLI words them in
// src/main/cli/commands/train.ts, both with shared/run-events.ts's words for a step-down).
import { CHECKPOINT_REASON_TEXT, type CheckpointReason } from '../../shared/checkpoint.js';
import { batchAdaptedText, batchChangeLabel, batchChangeText, type RunEvent } from '../../shared/run-events.js';
import { plural } from '../../shared/format.js';

/** A step marked on the training charts: a resume, an out-of-memory step-down. */
export interface StepMark {
  step: number;
  label: string;
}

/** One sentence for an event. */
export function eventText(e: RunEvent): string {
  if (e.kind === 'batch-adapted') return batchAdaptedText(e);
  const redone = e.discardedSteps ? `; ${plural(e.discardedSteps, 'step')} after it redone` : '';
  const from = e.checkpoint
    ? `step ${e.step.toLocaleString('en-US')} (the ${CHECKPOINT_REASON_TEXT[e.checkpoint]} checkpoint)`
    : 'the start (no checkpoint yet)';
  if (e.kind === 'resumed') return `Attempt ${e.attempt} resumed at ${from} after the run ${e.previousStatus}${redone}.`;
  return `Out of memory (${e.cause}): attempt ${e.attempt} resumed at ${from} with ${batchChangeText(e)}${redone}.`;
}

/** The charts' marks: where each attempt began. */
export function eventMarks(events: readonly RunEvent[]): StepMark[] {
  return events.map((e) => ({
    step: e.step,
    label: e.kind === 'resumed' ? `resumed (${e.attempt})` : e.kind === 'batch-adapted' ? `adapted ${e.fromBatch}→${e.toBatch}` : batchChangeLabel(e),
  }));
}

/** "the epoch-end checkpoint at step 40" */
export function resumeLabel(c: { step: number; reason: CheckpointReason }): string {
  return `${CHECKPOINT_REASON_TEXT[c.reason]} checkpoint at step ${c.step.toLocaleString('en-US')}`;
}
