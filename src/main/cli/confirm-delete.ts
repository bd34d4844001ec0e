// Deleting from the command line: a dry run says what goes with it (the same sentences as the
// app's dialog), then the user confirms on the terminal — or passes --yes, as a script must.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { deleteConsequences, deletedText, deleteQuestion, targetLabel, type DeleteTarget } from '../../shared/api/deletion-text.js';
import type { Deletion } from '../../shared/api/index.js';
import { UsageError, type CliContext } from './main.js';
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

export interface DeleteCommandSpec<A> {
  /** What it deletes, for --help. */
  description: string;
  /** The argument: its name in the usage line, its help, and how it is parsed. */
  argument: [name: string, help: string, parse?: (value: string) => A];
  /** From the argument: what is deleted (for the sentences) and the API call that deletes it. */
  resolve(api: ReturnType<CliContext['api']>, value: A): Promise<Omit<DeleteCall, 'yes' | 'json'>>;
}

/** `<parent> delete <ref> [--yes] [--json]`: the same command for datasets, runs and tuning sessions. */
export function addDeleteCommand<A>(parent: Command, ctx: CliContext, spec: DeleteCommandSpec<A>): void {
  const [name, help, parse] = spec.argument;
  parent
    .command('delete')
    .description(`${spec.description} (asks first on a terminal)`)
    .argument(name, help, parse)
    .option('--yes', 'delete without asking')
    .option('--json', 'print one JSON document (what was deleted)')
    .action(async (value: A, opts: { yes?: boolean }, cmd: Command) => {
      const call = await spec.resolve(ctx.api(), value);
      await confirmAndDelete({ ...call, yes: Boolean(opts.yes), json: ctx.json(cmd) });
    });
}
