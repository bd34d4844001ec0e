// A throw-away process that tries one backend choice and prints the outcome on one marked line
// of stdout. Backends are per process (and Dawn keeps its process alive while it holds a GPU
// object), so the Settings page's detection runs each choice in a process of its own.
import { BackendUnavailableError, selectBackend } from './select-backend.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../../shared/run-types.js';
import { DETECT_MARKER } from './detect-protocol.js';

const choice = process.argv[2] as BackendChoice;
if (!BACKEND_CHOICES.includes(choice)) {
  process.stdout.write(`${DETECT_MARKER}${JSON.stringify({ ok: false, message: `unknown backend choice ${String(choice)}`, skipped: [] })}\n`);
  process.exit(2);
}
try {
  const report = await selectBackend(choice);
  process.stdout.write(`${DETECT_MARKER}${JSON.stringify({ ok: true, report })}\n`);
} catch (err) {
  const skipped = err instanceof BackendUnavailableError ? err.skipped : [];
  process.stdout.write(`${DETECT_MARKER}${JSON.stringify({ ok: false, message: (err as Error).message, skipped })}\n`);
}
process.exit(0);
