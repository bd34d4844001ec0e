// The last phase, the evaluation batch (issue 19): validation and a run's final evaluation run
// forward only, and a forward pass needs far less memory per sample than a training step (no
// gradients, no optimizer state), so they can take much larger chunks than the batch trained on,
// which makes validation faster. The search looks for the largest such chunk that fits, up to
// MAX_EVAL_BATCH or the validation split: at the top first, then at smaller powers of two, each
// checked by a real forward pass as validation makes it (a forward-memory probe).
//
// It runs last and is the first probe the allowance gives up: it speeds validation up, while the
// run's own batch always works as the evaluation batch (a training step at that batch fits, so a
// forward pass does too) and is what a run uses without one.
import { MAX_EVAL_BATCH } from '../../../shared/eval-batch.js';
import { formatBytes } from '../../../shared/format.js';
import type { SearchContext } from './context.js';
import type { MemoryPhase } from './memory.js';
import { validationSeconds } from './remaining.js';

/** Forward probes tried at most: the top, then up to two smaller powers of two. */
const MAX_FORWARD_PROBES = 3;

/** The evaluation batch to recommend, with the sentence that says how it was found; undefined when the search did not look. */
export async function findEvalBatch(s: SearchContext, memory: MemoryPhase): Promise<number | undefined> {
  if (s.validationCount === 0) return undefined;
  const top = Math.min(MAX_EVAL_BATCH, s.validationCount);
  const ceiling = memory.ceiling.ceiling;
  if (top <= ceiling) {
    s.reasons.push(
      `Validation runs forward only, ${top} samples at a time${top === s.validationCount ? ' (the whole validation split)' : ''}: a training step at that batch fits, so a forward pass does too.`,
    );
    return top;
  }
  const candidates = forwardCandidates(top, ceiling);
  const seconds = candidates.reduce((sum, b) => sum + forwardSeconds(s, b), 0);
  const granted = s.allowance.grant('eval-batch', [{ probe: 'eval-batch', seconds, minSeconds: forwardSeconds(s, candidates[0]!) }]);
  if (granted <= 0) {
    s.reasons.push(`The evaluation batch was not measured (no time was left for it): runs validate at their batch size, which always fits.`);
    return undefined;
  }
  const failed: { batch: number; peakBytes: number | undefined }[] = [];
  for (const b of candidates) {
    // The first was granted; each smaller one while the allowance still has room for it.
    if (failed.length > 0 && s.allowance.left() < forwardSeconds(s, b)) break;
    s.progress('memory', b, `checking that validation fits ${b} samples at a time`);
    const { answer } = await s.probe('forward-memory', b, null, (p) => p.memory({ batchSize: b, forwardOnly: true }));
    // In a run, the optimizer's state lives beside the validation pass: counted as the update
    // phase's floor (weights, gradients, optimizer state and the update's temporaries), which
    // overstates it, so an evaluation batch that fits here fits in the run.
    const peakBytes = answer.ok && answer.result.kind === 'memory' ? answer.result.peakBytes + memory.model.updateFloor : undefined;
    if (peakBytes !== undefined && peakBytes <= s.budget.bytes) {
      s.reasons.push(
        `Validation runs forward only, ${b} samples at a time: a forward pass at ${b}, with the optimizer's state beside it, needs at most ${formatBytes(peakBytes)} of the ${formatBytes(s.budget.bytes)} budget${
          failed.length
            ? ` (${failed.map((f) => f.batch).join(' and ')} did not fit)`
            : b === top && top === s.validationCount
              ? ' (the whole validation split)'
              : ''
        }.`,
      );
      return b;
    }
    failed.push({ batch: b, peakBytes });
  }
  s.reasons.push(
    `Validation runs forward only at ${ceiling}, the largest training batch that fits: a forward pass at ${failed.map((f) => f.batch).join(' or ')} did not fit the ${formatBytes(s.budget.bytes)} budget.`,
  );
  return ceiling;
}

/** The batches to try, largest first: the top, then powers of two below it and above the training ceiling. */
export function forwardCandidates(top: number, ceiling: number): number[] {
  const out = [top];
  for (let b = 2 ** Math.floor(Math.log2(top - 1)); b > ceiling && out.length < MAX_FORWARD_PROBES; b /= 2) out.push(b);
  return out;
}

/** Seconds of one forward probe at batch b: a validation pass's speed (about 3× training's per sample), and the probe's overhead. */
function forwardSeconds(s: SearchContext, b: number): number {
  return (validationSeconds(s, b) * b) / Math.max(1, s.validationCount) + s.estimate.overhead;
}
