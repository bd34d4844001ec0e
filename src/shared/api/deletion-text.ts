// What a deletion says, in the app's dialogs and on the command line alike: the question, what
// goes with it (from a dry run's counts) and, afterwards, what was deleted. Pure; unit-tested.
import type { Deletion } from './data.js';
import { formatBytes, plural } from '../format.js';

export type DeleteTarget = { kind: 'dataset'; id: number; name: string } | { kind: 'run'; id: number } | { kind: 'tuning'; id: number };

/** 'dataset "mnist"', 'run 4', 'tuning session 3'. */
export function targetLabel(t: DeleteTarget): string {
  if (t.kind === 'dataset') return `dataset "${t.name}"`;
  return t.kind === 'run' ? `run ${t.id}` : `tuning session ${t.id}`;
}

export function deleteQuestion(t: DeleteTarget): string {
  return `Delete ${targetLabel(t)}?`;
}

/** "4", "4 and 7", "4, 7 and 9". */
function idList(ids: readonly number[]): string {
  return ids.length <= 1 ? ids.join('') : `${ids.slice(0, -1).join(', ')} and ${ids.at(-1)}`;
}

/** The sentences that say what goes with it, what stays, and the space freed. */
export function deleteConsequences(t: DeleteTarget, d: Deletion): string[] {
  const out: string[] = [];
  const kept = d.unlinkedRunIds;
  if (t.kind === 'dataset') {
    const runs = d.runs === 1 ? 'run (with its model and metrics)' : `${plural(d.runs, 'run')} (with their models and metrics)`;
    const tunings = d.tunings === 1 ? 'tuning session' : plural(d.tunings, 'tuning session');
    if (d.runs && d.tunings) out.push(`Its ${runs} and ${tunings} are deleted too.`);
    else if (d.runs) out.push(`Its ${runs} ${d.runs === 1 ? 'is' : 'are'} deleted too.`);
    else if (d.tunings) out.push(`Its ${tunings} ${d.tunings === 1 ? 'is' : 'are'} deleted too.`);
    else out.push('It has no runs or tuning sessions.');
    if (kept.length)
      out.push(
        kept.length === 1
          ? `Run ${kept[0]} of another dataset, trained with one of its tuning sessions, is kept.`
          : `Runs ${idList(kept)} of other datasets, trained with its tuning sessions, are kept.`,
      );
    out.push('The files it was imported from are not touched.');
  } else if (t.kind === 'run') {
    const metrics = plural(d.metricRows, 'stored metric value');
    if (d.metricRows && d.artifacts) out.push(`Its ${metrics} and its model are deleted too.`);
    else if (d.metricRows) out.push(`Its ${metrics} ${d.metricRows === 1 ? 'is' : 'are'} deleted too.`);
    else if (d.artifacts) out.push('Its model is deleted too.');
    else out.push('It has no stored metrics or model.');
  } else {
    out.push(d.trials ? `Its ${plural(d.trials, 'measurement')} ${d.trials === 1 ? 'is' : 'are'} deleted too.` : 'It has no measurements.');
    if (kept.length)
      out.push(
        kept.length === 1
          ? `Run ${kept[0]}, trained with its recommendation, is kept (its settings say what it trained with).`
          : `Runs ${idList(kept)}, trained with its recommendation, are kept (their settings say what they trained with).`,
      );
  }
  if (d.bytes > 0) out.push(`${formatBytes(d.bytes)} ${d.bytes === 1 ? 'is' : 'are'} freed.`);
  return out;
}

/** One line for after the deletion. */
export function deletedText(t: DeleteTarget, d: Deletion): string {
  const parts: string[] = [];
  if (d.runs && t.kind !== 'run') parts.push(plural(d.runs, 'run'));
  if (d.tunings && t.kind !== 'tuning') parts.push(plural(d.tunings, 'tuning session'));
  let text = `Deleted ${targetLabel(t)}`;
  if (parts.length) text += ` with its ${parts.join(' and ')}`;
  if (d.bytes > 0) text += `; ${formatBytes(d.bytes)} freed`;
  text += '.';
  if (d.leftOver.length)
    text += ` ${plural(d.leftOver.length, 'file')} could not be removed yet; AutoBatch Studio removes ${d.leftOver.length === 1 ? 'it' : 'them'} when it next starts.`;
  return text;
}
