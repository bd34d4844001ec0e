import { Command, InvalidArgumentError } from 'commander';
import type { Settings } from '../../../shared/api/index.js';
import { BACKEND_CHOICES } from '../../../shared/run-types.js';
import type { CliContext } from '../main.js';
import { formatBytes } from '../../../shared/format.js';
import { printJson, printLine } from '../output.js';
import { byteSize, oneOf } from '../parse-flags.js';

/** A memory budget, or "device" for none of the user's own (the device's budget applies). */
function budgetFlag(value: string): number | 'device' {
  if (value.trim().toLowerCase() === 'device') return 'device';
  try {
    return byteSize(value);
  } catch (err) {
    throw new InvalidArgumentError(`${(err as Error).message.replace(/^expected /, 'expected "device" or ')}`);
  }
}

/** An interpreter's path or command, or "default" for none of the user's own. */
function pythonFlag(value: string): string {
  const v = value.trim();
  if (!v) throw new InvalidArgumentError('expected a path to a Python interpreter, or "default"');
  return v.toLowerCase() === 'default' ? 'default' : v;
}

function printSettings(s: Settings): void {
  printLine(`Data folder     ${s.dataFolder}`);
  printLine(`Backend         ${s.backend} (new runs and searches that name none)`);
  printLine(`Python          ${s.pythonPath ?? 'not set: --python, $AUTOBATCH_PYTHON, python3 on PATH, /usr/bin/python3'} (torch-* backends)`);
  printLine(`Memory budget   ${s.memoryBudgetBytes === null ? "the device's" : formatBytes(s.memoryBudgetBytes)} (Auto-tune)`);
  printLine(`Version         ${s.version}`);
}

/** `autobatch settings`: the same settings as the app's Settings screen, shown or changed. */
export function registerSettingsCommand(program: Command, ctx: CliContext): void {
  program
    .command('settings')
    .description("show the settings the app and the command line share, or change them (the app's Settings screen)")
    .option('--backend <name>', `backend for runs and searches that name none: ${BACKEND_CHOICES.join(', ')}`, oneOf(BACKEND_CHOICES))
    .option('--memory-budget <size>', 'memory Auto-tune may use, e.g. 2GiB, or "device" for the device\'s own', budgetFlag)
    .option(
      '--python <path>',
      'Python with PyTorch for the torch-* backends (tried after --python and $AUTOBATCH_PYTHON), or "default" to look on PATH',
      pythonFlag,
    )
    .option('--json', 'print one JSON document')
    .action(async (opts, cmd: Command) => {
      const api = ctx.api();
      const changes = {
        ...(opts.backend !== undefined ? { backend: opts.backend as (typeof BACKEND_CHOICES)[number] } : {}),
        ...(opts.python !== undefined ? { pythonPath: opts.python === 'default' ? null : (opts.python as string) } : {}),
        ...(opts.memoryBudget !== undefined ? { memoryBudgetBytes: opts.memoryBudget === 'device' ? null : (opts.memoryBudget as number) } : {}),
      };
      const s = Object.keys(changes).length ? await api.updateSettings(changes) : await api.getSettings();
      if (ctx.json(cmd)) return printJson(s);
      printSettings(s);
    });
}
