import { Command } from 'commander';
import { BACKEND_CHOICES } from '../../../shared/run-types.js';
import type { CliContext } from '../main.js';
import { printJson, printLine } from '../output.js';
import { oneOf, wholeNumber } from '../parse-flags.js';
import { followTraining, printRunSummary, runJson } from './train.js';

/** The app's main job on the bundled sample, in one command: import MNIST once, then train. */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('import the bundled MNIST sample (once) and train the small CNN on it')
    .option('--epochs <n>', 'epochs', wholeNumber(1, 100), 3)
    .option('--batch-size <n>', 'samples per step', wholeNumber(1, 1 << 16), 64)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')}`, oneOf(BACKEND_CHOICES), 'auto')
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const json = ctx.json(cmd);
      const service = ctx.service();
      let dataset = service.listDatasets().find((d) => d.kind === 'mnist-sample');
      if (!dataset) {
        if (!json) printLine('Importing the bundled MNIST sample (10 000 digits)…');
        dataset = await service.importDataset('sample:mnist', { name: 'mnist' });
      }
      if (!json)
        printLine(
          `Training the small CNN on "${dataset.name}" (${dataset.manifest.split.trainCount} train / ${dataset.manifest.split.validationCount} validation samples)…`,
        );
      const run = await followTraining(
        service,
        String(dataset.id),
        { model: 'small', batchSize: opts.batchSize, epochs: opts.epochs, learningRate: 1e-3, optimizer: 'adam', backend: opts.backend },
        json,
      );
      if (json) return printJson(runJson(run));
      printRunSummary(run);
      printLine(`Review it with: autobatch runs show ${run.id}`);
    });
}
