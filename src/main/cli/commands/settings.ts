import { Command, InvalidArgumentError, Option } from 'commander';
import type { Settings } from '../../../shared/api/index.js';
import { parsePythonPath } from '../../../shared/engine-display.js';
import { BACKEND_CHOICES } from '../../../shared/run-types.js';
import type { CliContext } from '../main.js';
import { formatBytes } from '../../../shared/format.js';
import { backendsLines } from '../backends-text.js';
import { printJson, printLine } from '../output.js';
import { byteSize, oneOf, wholeNumber } from '../parse-flags.js';
import { ADAPTIVE_LIMITS } from '../../../shared/adaptive-batch.js';

/** A memory budget, or "device" for none of the user's own (the device's budget applies). */
function budgetFlag(value: string): number | 'device' {
  if (value.trim().toLowerCase() === 'device') return 'device';
  try {
    return byteSize(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message.replace(/^expected /, 'expected "device" or ')}`);
  }
}

/** An interpreter's path or command, checked as the Settings screen checks it. */
function pythonFlag(value: string): string {
  if (value.trim() === '')
    throw new InvalidArgumentError('expected the path or command of a Python interpreter, e.g. /usr/bin/python3 (--clear-python clears it)');
  const parsed = parsePythonPath(value);
  if ('error' in parsed) throw new InvalidArgumentError(parsed.error.replace(/^Python for PyTorch: /, ''));
  return parsed.value;
}

function minutesFlag(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !(n >= 1 && n <= 1440)) throw new InvalidArgumentError('expected minutes from 1 to 1440, e.g. 5');
  return n;
}

function printSettings(s: Settings): void {
  printLine(`Data folder     ${s.dataFolder}`);
  printLine(`Backend         ${s.backend} (new runs and searches that name none)`);
  printLine(`Memory budget   ${s.memoryBudgetBytes === null ? "the device's" : formatBytes(s.memoryBudgetBytes)} (Auto-tune)`);
  printLine(`Python          ${s.pythonPath ?? 'not set: PATH, then /usr/bin/python3'} (PyTorch engine; --python and AUTOBATCH_PYTHON come first)`);
  printLine(`Checkpoints     every ${s.checkpointMinutes} min of training, at each epoch's end and at a stop (train --resume)`);
  printLine(`Adaptive batch  a window of ${s.adaptiveEverySteps} steps, a change at most every ${s.adaptiveMinSteps} steps (train --adaptive)`);
  printLine(`Version         ${s.version}`);
}

interface SettingsFlags {
  backend?: (typeof BACKEND_CHOICES)[number];
  memoryBudget?: number | 'device';
  python?: string;
  clearPython?: boolean;
  checkpointMinutes?: number;
  adaptiveEvery?: number;
  adaptiveMinSteps?: number;
  backends?: boolean;
}

function changesOf(opts: SettingsFlags): {
  backend?: SettingsFlags['backend'];
  memoryBudgetBytes?: number | null;
  pythonPath?: string | null;
  checkpointMinutes?: number;
  adaptiveEverySteps?: number;
  adaptiveMinSteps?: number;
} {
  return {
    ...(opts.adaptiveEvery !== undefined ? { adaptiveEverySteps: opts.adaptiveEvery } : {}),
    ...(opts.adaptiveMinSteps !== undefined ? { adaptiveMinSteps: opts.adaptiveMinSteps } : {}),
    ...(opts.checkpointMinutes !== undefined ? { checkpointMinutes: opts.checkpointMinutes } : {}),
    ...(opts.backend !== undefined ? { backend: opts.backend } : {}),
    ...(opts.memoryBudget !== undefined ? { memoryBudgetBytes: opts.memoryBudget === 'device' ? null : opts.memoryBudget } : {}),
    ...(opts.python !== undefined ? { pythonPath: opts.python } : {}),
    ...(opts.clearPython ? { pythonPath: null } : {}),
  };
}

/** `autobatch settings`: the same settings as the app's Settings screen, shown or changed. */
export function registerSettingsCommand(program: Command, ctx: CliContext): void {
  program
    .command('settings')
    .description("show the settings the app and the command line share, or change them (the app's Settings screen)")
    .option('--backend <name>', `backend for runs and searches that name none: ${BACKEND_CHOICES.join(', ')}`, oneOf(BACKEND_CHOICES))
    .option('--memory-budget <size>', 'memory Auto-tune may use, e.g. 2GiB, or "device" for the device\'s own', budgetFlag)
    .addOption(
      new Option('--python <path>', 'the Python with PyTorch for the torch backends (after --python and AUTOBATCH_PYTHON, before PATH)')
        .argParser(pythonFlag)
        .conflicts('clearPython'),
    )
    .option('--clear-python', 'forget the Python set with --python: look on PATH, then /usr/bin/python3')
    .option('--checkpoint-minutes <n>', "a run's checkpoint every n minutes of training (1–1440), besides each epoch's end and a stop", minutesFlag)
    .option(
      '--adaptive-every <steps>',
      `an adaptive run measures its noise scale over windows of this many steps and may change its batch at each window's end (${ADAPTIVE_LIMITS.everySteps.min}–${ADAPTIVE_LIMITS.everySteps.max})`,
      wholeNumber(ADAPTIVE_LIMITS.everySteps.min, ADAPTIVE_LIMITS.everySteps.max),
    )
    .option(
      '--adaptive-min-steps <steps>',
      'an adaptive run changes its batch at most once every this many steps',
      wholeNumber(ADAPTIVE_LIMITS.minStepsBetween.min, ADAPTIVE_LIMITS.minStepsBetween.max),
    )
    .option(
      '--backends',
      'also detect the compute backends (a few seconds) and list them with their engine, and the Python and torch found; implied by --python and --clear-python in text output',
    )
    .option('--json', 'print one JSON document (with --backends: {settings, backends})')
    .action(async (opts: SettingsFlags, cmd: Command) => {
      const api = ctx.api();
      const changes = changesOf(opts);
      const s = Object.keys(changes).length ? await api.updateSettings(changes) : await api.getSettings();
      const pythonChanged = changes.pythonPath !== undefined;
      const json = ctx.json(cmd);
      // Someone who just named a Python wants to know whether it has torch: the text output shows the finding.
      if (!opts.backends && !(pythonChanged && !json)) return json ? printJson(s) : printSettings(s);
      // The finding depends on the Python setting: a cached detection from before the change would be stale.
      const backends = await api.detectBackends({ refresh: pythonChanged });
      if (json) return printJson({ settings: s, backends });
      printSettings(s);
      printLine();
      for (const line of backendsLines(backends)) printLine(line);
    });
}
