// How an import's problems are summed up, the same in every front end (CLI, app): how many
// problems there are and how many inputs they left out. The two counts differ: an empty class
// folder is a problem but no input, and one truncated IDX file leaves out many samples.
import type { DatasetKind, ImportProblem } from './dataset-types.js';

/** What one input left out is, by kind of dataset. */
const UNIT: Record<DatasetKind, string> = { 'image-folder': 'file', csv: 'row', idx: 'sample', 'mnist-sample': 'sample' };

const MORE = /^and (\d+) more problems? not listed$/;

/** The entry that closes a list cut short: it counts the problems not listed. */
export function moreProblems(omitted: number): ImportProblem {
  return { file: '', reason: `and ${omitted} more problem${omitted === 1 ? '' : 's'} not listed` };
}

/** How many problems a stored list stands for: its entries, with a closing moreProblems(n) counted as n. */
export function problemTotal(problems: readonly ImportProblem[]): number {
  const last = problems.at(-1);
  const more = last?.file === '' ? MORE.exec(last.reason) : null;
  return more ? problems.length - 1 + Number(more[1]) : problems.length;
}

function count(n: number, one: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : `${one}s`}`;
}

/** "4 problems found; 3 files were left out" ("1 problem found" when no input was left out). */
export function problemSummary(kind: DatasetKind, problems: number, leftOut: number): string {
  const found = `${count(problems, 'problem')} found`;
  if (leftOut === 0) return found;
  return `${found}; ${count(leftOut, UNIT[kind])} ${leftOut === 1 ? 'was' : 'were'} left out`;
}
