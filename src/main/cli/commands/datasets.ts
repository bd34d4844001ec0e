import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Command } from 'commander';
import type { DatasetDetail } from '../../../shared/api/index.js';
import { IMAGE_FITS, type ImageFit } from '../../../shared/dataset-types.js';
import { describeImageTransform } from '../../../shared/image-transform.js';
import { problemSummary, problemTotal } from '../../../shared/problem-summary.js';
import { addDeleteCommand } from '../confirm-delete.js';
import { UsageError, type CliContext } from '../main.js';
import { createProgress, printJson, printLine, printTable } from '../output.js';
import { imageSize, oneOf, positiveNumber, wholeNumber } from '../parse-flags.js';

/** The bundled sample, as the command line names it. */
const SAMPLE_SOURCE = 'sample:mnist';

function importCommand(datasets: Command, ctx: CliContext): void {
  datasets
    .command('import')
    .description(
      'import a dataset once into the cached, tensor-ready form: an image folder (one subfolder per class), a CSV file, an IDX images+labels pair, or sample:mnist',
    )
    .argument('<path>', 'folder or file to import, or sample:mnist for the bundled 10 000 MNIST digits')
    .option('--name <name>', 'name to list it under (default: from the path)')
    .option('--label-column <column>', 'CSV: label column, by header name or 0-based index')
    .option('--image-size <HxW>', 'images (folders, IDX, sample:mnist): change every image to this size, e.g. 32x32', imageSize)
    .option(
      '--image-fit <fit>',
      'how --image-size is reached: resize (stretch, the default) or pad (centre on black; IDX and sample:mnist are not scaled, so HxW must be at least their size; image folders are scaled to fit inside, aspect kept)',
      oneOf(IMAGE_FITS),
    )
    .option('--grayscale', 'images: one grey channel')
    .option('--rgb', 'images: three colour channels (a grey channel is copied into three)')
    .option('--labels <file>', 'IDX: the labels file, when it is not beside the images file')
    .option('--skip-bad', 'leave out bad files or rows (and say how many) instead of failing the import')
    .option('--limit <n>', 'keep at most n samples (stratified)', wholeNumber(2))
    .option('--validation-split <fraction>', 'share of each class kept for validation (default 0.2)', positiveNumber(1))
    .option('--seed <n>', 'seed of the split (default 42)', wholeNumber(0, 2 ** 31 - 1))
    .option('--json', 'print one JSON document')
    .action(async (source: string, opts, cmd: Command) => {
      if (opts.grayscale && opts.rgb) throw new UsageError('choose either --grayscale or --rgb, not both');
      const json = ctx.json(cmd);
      const api = ctx.api();
      const importId = randomUUID();
      const progress = createProgress('Importing', { json });
      const off = api.on('import-progress', (p) => {
        if (p.importId === importId) progress.update(p.done, p.total, { phase: p.phase });
      });
      const options = {
        importId,
        ...(opts.name !== undefined ? { name: opts.name as string } : {}),
        ...(opts.labelColumn !== undefined ? { labelColumn: opts.labelColumn as string } : {}),
        ...(opts.imageSize !== undefined ? { imageSize: opts.imageSize as [number, number] } : {}),
        ...(opts.imageFit !== undefined ? { imageFit: opts.imageFit as ImageFit } : {}),
        ...(opts.grayscale || opts.rgb ? { grayscale: Boolean(opts.grayscale) } : {}),
        ...(opts.labels !== undefined ? { labelsPath: path.resolve(opts.labels as string) } : {}),
        // The command line fails on bad inputs unless told to leave them out (the app lists them).
        skipBad: Boolean(opts.skipBad),
        ...(opts.limit !== undefined ? { limit: opts.limit as number } : {}),
        ...(opts.validationSplit !== undefined ? { validationFraction: opts.validationSplit as number } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed as number } : {}),
      };
      let dataset: DatasetDetail;
      try {
        dataset =
          source === SAMPLE_SOURCE
            ? await api.importSample({ sample: 'mnist', ...options })
            : await api.importDataset({ source: path.resolve(source), ...options });
      } finally {
        off();
        progress.stop();
      }
      if (json) return printJson(dataset);
      printDataset(dataset);
    });
}

function listCommand(datasets: Command, ctx: CliContext): void {
  datasets
    .command('list')
    .description('list imported datasets')
    .option('--json', 'print one JSON document')
    .action(async (_opts, cmd: Command) => {
      const list = await ctx.api().listDatasets();
      if (ctx.json(cmd)) return printJson(list);
      if (list.length === 0) return printLine('No datasets yet. Try: autobatch datasets import sample:mnist');
      printTable(
        ['ID', 'NAME', 'KIND', 'SAMPLES', 'CLASSES', 'SHAPE', 'SKIPPED'],
        list.map((d) => [d.id, d.name, d.kind, d.count, d.classCount, d.inputShape.join('×'), d.skipped]),
      );
    });
}

function showCommand(datasets: Command, ctx: CliContext): void {
  datasets
    .command('show')
    .description('show one dataset: classes, counts, split and problems')
    .argument('<dataset>', 'id or name')
    .option('--json', 'print one JSON document')
    .action(async (ref: string, _opts, cmd: Command) => {
      const d = await ctx.api().getDataset({ dataset: datasetRef(ref), previewsPerClass: 0 });
      if (ctx.json(cmd)) return printJson(d);
      printDataset(d);
    });
}

function deleteCommand(datasets: Command, ctx: CliContext): void {
  addDeleteCommand(datasets, ctx, {
    description: 'delete a dataset with its runs and tuning sessions (the files it was imported from are not touched)',
    argument: ['<dataset>', 'id or name'],
    resolve: async (api, ref: string) => {
      const { id, name } = await api.getDataset({ dataset: datasetRef(ref), previewsPerClass: 0 });
      return { target: { kind: 'dataset', id, name }, call: (dryRun) => api.deleteDataset({ dataset: id, dryRun }) };
    },
  });
}

export function registerDatasetCommands(program: Command, ctx: CliContext): void {
  const datasets = program.command('datasets').description('import, inspect and delete datasets');
  importCommand(datasets, ctx);
  listCommand(datasets, ctx);
  showCommand(datasets, ctx);
  deleteCommand(datasets, ctx);
}

/** A dataset as the command line names it: an id when it is all digits, else a name. */
export function datasetRef(ref: string): string | number {
  return /^\d+$/.test(ref) && Number(ref) >= 1 ? Number(ref) : ref;
}

function printDataset(d: DatasetDetail): void {
  printLine(`Dataset ${d.id} "${d.name}" (${d.kind}) from ${d.source}`);
  printLine(`  ${d.count} samples of shape ${d.inputShape.join('×')}, ${d.classCount} classes`);
  if (d.imageTransform) printLine(`  images: ${describeImageTransform(d.imageTransform, d.inputShape)}`);
  printLine(`  split: ${d.split.trainCount} train / ${d.split.validationCount} validation (seed ${d.split.seed})`);
  printTable(
    ['  CLASS', 'COUNT'],
    d.classes.map((c) => [`  ${c.name}`, c.count]),
  );
  for (const line of problemLines(d)) printLine(line);
}

/** The problems of an import: a summary whose counts agree with the list below it, then the first 20. */
export function problemLines(d: Pick<DatasetDetail, 'kind' | 'problems' | 'skipped'>): string[] {
  if (d.problems.length === 0) return [];
  const total = problemTotal(d.problems);
  const shown = d.problems.slice(0, 20);
  const lines = [`  ${problemSummary(d.kind, total, d.skipped)}:`];
  for (const p of shown) lines.push(`    ${p.file}${p.row ? `:${p.row}` : ''}: ${p.reason}`);
  if (total > shown.length) lines.push(`    … and ${(total - shown.length).toLocaleString('en-US')} more (see --json)`);
  return lines;
}
