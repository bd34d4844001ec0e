// Importing a distributed run's metrics in the UI (ImportRunForm.svelte). Pure.
import { PARTIAL_HINT } from '../../shared/recipe-metrics-read.js';

/** Whether a refusal is of an unfinished file (no end line, a cut-off last line), which `partial` stores as an interrupted run. */
export function looksUnfinished(message: string): boolean {
  return message.includes(PARTIAL_HINT);
}
