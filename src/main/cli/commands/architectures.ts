// `autobatch architectures`: the models the app trains, with their trainable parameters at a
// dataset's input (or at the reference input) and whether they fit it. --json prints the API's
// ArchitectureList, exact counts included.
import type { Command } from 'commander';
import type { ArchitectureList } from '../../../shared/api/index.js';
import { formatCount, formatInputShape, plural } from '../../../shared/format.js';
import type { CliContext } from '../main.js';
import { printJson, printLine, printTable } from '../output.js';
import { datasetRef } from './datasets.js';

/** "32×32×3 → 10 classes", or "13 features → 3 classes" for a table. */
function inputText(list: Pick<ArchitectureList, 'inputShape' | 'classes'>): string {
  return `${formatInputShape(list.inputShape)} → ${plural(list.classes, 'class', 'classes')}`;
}

function printArchitectures(list: ArchitectureList): void {
  printLine(
    list.dataset
      ? `Trainable parameters at dataset ${list.dataset.id} "${list.dataset.name}": ${inputText(list)}`
      : `Trainable parameters at the reference input ${inputText(list)} (--dataset counts them at a dataset's)`,
  );
  const withFits = list.dataset !== null;
  printTable(
    ['MODEL', 'FAMILY', 'PARAMETERS', 'BATCH NORM', ...(withFits ? ['FITS'] : []), 'DESCRIPTION'],
    list.models.map((a) => [
      a.model,
      a.family,
      formatCount(a.trainableParameters),
      a.batchNorm ? `yes, batch ≥ ${a.minimumBatch}` : 'no',
      ...(withFits ? [a.fits ? 'yes' : 'no'] : []),
      a.description,
    ]),
  );
  const unfit = list.models.filter((a) => !a.fits);
  if (unfit.length > 0) printLine();
  for (const a of unfit) printLine(`${a.model} does not fit: ${a.problem}`);
}

export function registerArchitecturesCommand(program: Command, ctx: CliContext): void {
  program
    .command('architectures')
    .description("list the models: family, trainable parameters, batch-norm floor, and whether each fits a dataset's input")
    .option('--dataset <dataset>', "count parameters at this dataset's input and classes, and say which models fit it (id or name)")
    .option('--json', 'print one JSON document (exact parameter counts)')
    .action(async (opts, cmd: Command) => {
      const list = await ctx.api().listArchitectures(opts.dataset !== undefined ? { dataset: datasetRef(opts.dataset as string) } : {});
      if (ctx.json(cmd)) return printJson(list);
      printArchitectures(list);
    });
}
