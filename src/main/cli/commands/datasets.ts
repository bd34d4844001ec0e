import { Command } from 'commander';
import { problemSummary, problemTotal } from '../../../shared/problem-summary.js';
import type { DatasetRecord } from '../../store/index.js';
import type { CliContext } from '../main.js';
import { createProgress, printJson, printLine, printTable } from '../output.js';
import { imageSize, positiveNumber, wholeNumber } from '../parse-flags.js';

function datasetJson(d: DatasetRecord) {
  const m = d.manifest;
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    source: d.source,
    inputShape: m.inputShape,
    classes: m.classes,
    counts: Object.fromEntries(m.classes.map((c, i) => [c, m.classCounts[i] ?? 0])),
    sampleCount: m.count,
    split: m.split,
    skipped: m.skipped,
    problems: m.problems,
    createdAt: d.createdAt,
  };
}

export function registerDatasetCommands(program: Command, ctx: CliContext): void {
  const datasets = program.command('datasets').description('import and inspect datasets');

  datasets
    .command('import')
    .description(
      'import a dataset once into the cached, tensor-ready form: an image folder (one subfolder per class), a CSV file, an IDX images+labels pair, or sample:mnist',
    )
    .argument('<path>', 'folder or file to import, or sample:mnist for the bundled 10 000 MNIST digits')
    .option('--name <name>', 'name to list it under (default: from the path)')
    .option('--label-column <column>', 'CSV: label column, by header name or 0-based index')
    .option('--image-size <HxW>', 'image folders: resize every image to this size, e.g. 64x64', imageSize)
    .option('--grayscale', 'image folders: one grey channel')
    .option('--rgb', 'image folders: three colour channels')
    .option('--labels <file>', 'IDX: the labels file, when it is not beside the images file')
    .option('--skip-bad', 'leave out bad files or rows (and say how many) instead of failing the import')
    .option('--limit <n>', 'keep at most n samples (stratified)', wholeNumber(2))
    .option('--validation-split <fraction>', 'share of each class kept for validation (default 0.2)', positiveNumber(1))
    .option('--seed <n>', 'seed of the split (default 42)', wholeNumber(0, 2 ** 31 - 1))
    .option('--json', 'print one JSON document')
    .action(async (source: string, opts, cmd: Command) => {
      if (opts.grayscale && opts.rgb) throw new Error('choose either --grayscale or --rgb, not both');
      const json = ctx.json(cmd);
      const progress = createProgress('Importing', { json });
      let record: DatasetRecord;
      try {
        record = await ctx.service().importDataset(
          source,
          {
            name: opts.name,
            labelColumn: opts.labelColumn,
            imageSize: opts.imageSize,
            grayscale: opts.grayscale ? true : opts.rgb ? false : undefined,
            labelsPath: opts.labels,
            skipBad: Boolean(opts.skipBad),
            limit: opts.limit,
            validationFraction: opts.validationSplit,
            seed: opts.seed,
          },
          (p) => progress.update(p.done, p.total, { phase: p.phase }),
        );
      } finally {
        progress.stop();
      }
      if (json) return printJson(datasetJson(record));
      printDataset(record);
    });

  datasets
    .command('list')
    .description('list imported datasets')
    .option('--json', 'print one JSON document')
    .action((_opts, cmd: Command) => {
      const list = ctx.service().listDatasets();
      if (ctx.json(cmd)) return printJson(list.map(datasetJson));
      if (list.length === 0) return printLine('No datasets yet. Try: autobatch datasets import sample:mnist');
      printTable(
        ['ID', 'NAME', 'KIND', 'SAMPLES', 'CLASSES', 'SHAPE', 'SKIPPED'],
        list.map((d) => [d.id, d.name, d.kind, d.manifest.count, d.manifest.classes.length, d.manifest.inputShape.join('×'), d.manifest.skipped]),
      );
    });

  datasets
    .command('show')
    .description('show one dataset: classes, counts, split and problems')
    .argument('<dataset>', 'id or name')
    .option('--json', 'print one JSON document')
    .action((ref: string, _opts, cmd: Command) => {
      const d = ctx.service().getDataset(ref);
      if (ctx.json(cmd)) return printJson(datasetJson(d));
      printDataset(d);
    });
}

function printDataset(d: DatasetRecord): void {
  const m = d.manifest;
  printLine(`Dataset ${d.id} "${d.name}" (${d.kind}) from ${d.source}`);
  printLine(`  ${m.count} samples of shape ${m.inputShape.join('×')}, ${m.classes.length} classes`);
  printLine(`  split: ${m.split.trainCount} train / ${m.split.validationCount} validation (seed ${m.split.seed})`);
  printTable(
    ['  CLASS', 'COUNT'],
    m.classes.map((c, i) => [`  ${c}`, m.classCounts[i] ?? 0]),
  );
  for (const line of problemLines(d)) printLine(line);
}

/** The problems of an import: a summary whose counts agree with the list below it, then the first 20. */
export function problemLines(d: Pick<DatasetRecord, 'kind' | 'manifest'>): string[] {
  const m = d.manifest;
  if (m.problems.length === 0) return [];
  const total = problemTotal(m.problems);
  const shown = m.problems.slice(0, 20);
  const lines = [`  ${problemSummary(d.kind, total, m.skipped)}:`];
  for (const p of shown) lines.push(`    ${p.file}${p.row ? `:${p.row}` : ''}: ${p.reason}`);
  if (total > shown.length) lines.push(`    … and ${(total - shown.length).toLocaleString('en-US')} more (see --json)`);
  return lines;
}
