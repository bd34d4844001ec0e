import { Command } from 'commander';
import { FIRST_RUN } from '../../../shared/api/index.js';
import { BACKEND_CHOICES } from '../../../shared/run-types.js';
import { followRun } from '../follow.js';
import { PYTHON_FLAG_HELP, type CliContext } from '../main.js';
import { printLine } from '../output.js';
import { oneOf, wholeNumber } from '../parse-flags.js';
import { reportRun } from './train.js';

/** The app's main job on the bundled sample, in one command: import MNIST once, then train. */
export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(`import the bundled MNIST sample (once) and train the ${FIRST_RUN.model} CNN on it`)
    .option('--epochs <n>', 'epochs', wholeNumber(1, 100), FIRST_RUN.epochs)
    .option('--batch-size <n>', 'samples per step', wholeNumber(1, 1 << 16), FIRST_RUN.batchSize)
    .option('--backend <name>', `compute backend: ${BACKEND_CHOICES.join(', ')} (default: the settings' backend, else auto)`, oneOf(BACKEND_CHOICES))
    .option('--python <path>', PYTHON_FLAG_HELP)
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const json = ctx.json(cmd);
      const api = ctx.api();
      let dataset = (await api.listDatasets()).find((d) => d.kind === 'mnist-sample');
      if (!dataset) {
        if (!json) printLine('Importing the bundled MNIST sample (10 000 digits)…');
        dataset = await api.importSample({ sample: 'mnist', name: 'mnist' });
      }
      if (!json) printLine(`Training the small CNN on "${dataset.name}" (${dataset.trainCount} train / ${dataset.validationCount} validation samples)…`);
      const datasetId = dataset.id;
      const detail = await followRun(
        api,
        () =>
          api.startTraining({
            dataset: datasetId,
            config: {
              model: FIRST_RUN.model,
              batchSize: opts.batchSize as number,
              epochs: opts.epochs as number,
              learningRate: FIRST_RUN.learningRate,
              optimizer: 'adam',
              ...(opts.backend !== undefined ? { backend: opts.backend as (typeof BACKEND_CHOICES)[number] } : {}),
            },
          }),
        json,
      );
      reportRun(detail, json);
      if (!json) printLine(`Review it with: autobatch runs show ${detail.run.id}`);
    });
}
