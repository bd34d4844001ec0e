// Deleting from the command line: a dry run says what goes with it (the same sentences as the
// app's dialog), then the user confirms on the terminal — or passes --yes, as a script must.
import { createInterface } from 'node:readline/promises';
import { deleteConsequences, deletedText, deleteQuestion, targetLabel, type DeleteTarget } from '../../shared/api/deletion-text.js';
import type { Deletion } from '../../shared/api/index.js';
import { UsageError } from './main.js';
import { printJson, printLine } from './output.js';

export interface DeleteCall {
  target: DeleteTarget;
  /** The API call, as a dry run (counts only) or for real. */
  call(dryRun: boolean): Promise<Deletion>;
  /** --yes: delete without asking. */
  yes: boolean;
  json: boolean;
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Deletes after a dry run and a confirmation; prints what was deleted (the API's Deletion with --json). */
export async function confirmAndDelete({ target, call, yes, json }: DeleteCall): Promise<void> {
  if (!yes) {
    // Nothing to ask on (a script, a pipe): say how to delete without asking rather than hang.
    if (!process.stdin.isTTY) throw new UsageError(`not deleting ${targetLabel(target)} without --yes (there is no terminal to ask on)`);
    const dry = await call(true);
    if (dry.inUse) throw new UsageError(dry.inUse);
    for (const line of deleteConsequences(target, dry)) process.stderr.write(`${line}\n`);
    if (!(await askOnTerminal(deleteQuestion(target)))) {
      process.stderr.write('Nothing deleted.\n');
      return;
    }
  }
  const done = await call(false);
  if (json) printJson(done);
  else printLine(deletedText(target, done));
}
