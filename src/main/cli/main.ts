// `autobatch`: the command line. It is one more client of the API (docs/architecture.md §3.2):
// every command calls the contract through the direct transport, so it validates, defaults and
// answers exactly as the app does. Every command takes --json (one document on stdout: the
// API's own shapes), shows progress on a terminal otherwise, and exits non-zero with a
// one-line reason.
import { Command, CommanderError } from 'commander';
import { ApiError, type Api } from '../../shared/api/index.js';
import { openAppCore, type AppCore } from '../service/app-core.js';
import { defaultHome } from '../store/index.js';
import { registerArchitecturesCommand } from './commands/architectures.js';
import { registerDatasetCommands } from './commands/datasets.js';
import { registerRunCommands } from './commands/runs.js';
import { registerRecipeCommands } from './commands/recipes.js';
import { registerTrainCommand } from './commands/train.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerTuneCommands } from './commands/tune.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSettingsCommand } from './commands/settings.js';
import { printJson } from './output.js';

/** A mistake in how the command was called that commander cannot see (flags needed together…). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Help of `--python <path>` on the commands that train, tune or serve: the interpreter the torch rungs try first. */
export const PYTHON_FLAG_HELP =
  'Python with PyTorch for the torch-* backends, tried before $AUTOBATCH_PYTHON, the settings, python3 on PATH and /usr/bin/python3';

export interface CliContext {
  /** The API, opened once on first use under --home / AUTOBATCH_HOME. */
  api(): Api;
  /**
   * The core itself, for `serve`, which puts the WebSocket transport in front of it and asks for
   * a warm trainer process; one-shot commands do not start a spare.
   */
  core(options?: { client?: 'browser'; warmTrainer?: boolean }): AppCore;
  json(cmd: Command): boolean;
}

function buildProgram(): { program: Command; close(): Promise<void> } {
  const program = new Command();
  let core: AppCore | undefined;
  // The running command's --python (read when the core opens, which is inside the action).
  let python: string | undefined;
  program
    .name('autobatch')
    .description('AutoBatch Studio: train classifiers on your own GPU, with an automatic batch-size search.')
    .option('--home <dir>', 'data folder (database, datasets, models); default: $AUTOBATCH_HOME or the app-data folder')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: () => {} }) // errors are printed once, by run() below
    .exitOverride()
    .hook('preAction', (_program, action) => {
      const value = (action.opts() as { python?: unknown }).python;
      if (typeof value === 'string' && action.name() !== 'settings') python = value;
    });

  const ctx: CliContext = {
    core(options = {}) {
      core ??= openAppCore({
        home: (program.opts().home as string | undefined) ?? defaultHome(),
        client: options.client ?? 'cli',
        ...(options.warmTrainer ? { warmTrainer: true } : {}),
        ...(python ? { python } : {}),
      });
      return core;
    },
    api() {
      return ctx.core().api;
    },
    json(cmd) {
      return Boolean(cmd.optsWithGlobals().json);
    },
  };
  registerDatasetCommands(program, ctx);
  registerArchitecturesCommand(program, ctx);
  registerTrainCommand(program, ctx);
  registerTuneCommands(program, ctx);
  registerRunCommands(program, ctx);
  registerRecipeCommands(program, ctx);
  registerDemoCommand(program, ctx);
  registerServeCommand(program, ctx);
  registerSettingsCommand(program, ctx);
  for (const cmd of allCommands(program)) {
    if (cmd !== program) cmd.exitOverride().configureOutput({ outputError: () => {} });
  }
  return {
    program,
    async close() {
      await core?.close();
    },
  };
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/**
 * One line that says what went wrong, for the user (not a stack trace). Whatever the service
 * refused arrives as the API's error, already in plain words: the one mapping from errors to
 * messages is the dispatcher's.
 */
export function describeFailure(err: unknown): { message: string; problems?: unknown[] } {
  if (err instanceof ApiError) return { message: err.message, ...(err.problems ? { problems: err.problems } : {}) };
  if (err instanceof Error) return { message: err.message.split('\n')[0]! };
  return { message: String(err) };
}

/**
 * A reader that went away (`autobatch runs list | head`) is not an error: stop quietly, as Unix
 * tools do on SIGPIPE, instead of crashing on an unhandled EPIPE.
 */
function quitWhenStdoutCloses(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`autobatch: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
}

export async function run(argv: string[]): Promise<number> {
  quitWhenStdoutCloses();
  const { program, close } = buildProgram();
  const wantsJson = argv.includes('--json');
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.help') {
        code = 0;
      } else {
        const message = err.message.replace(/^error: /, '');
        process.stderr.write(`autobatch: ${message}\n`);
        if (wantsJson) printJson({ error: message });
        code = 2;
      }
    } else {
      const { message, problems } = describeFailure(err);
      process.stderr.write(`autobatch: ${message}\n`);
      if (wantsJson) printJson({ error: message, ...(problems ? { problems } : {}) });
      code = 1;
    }
  } finally {
    try {
      await close();
    } catch (err) {
      process.stderr.write(`autobatch: ${describeFailure(err).message}\n`);
      code ||= 1;
    }
  }
  return code;
}
