// Which backends work on this machine, and why the others do not (the Settings page). Each
// choice is tried in a throw-away process (detect-entry.ts): starting a backend changes the
// process for good, and a native crash must not take the app with it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backends, BackendAvailability } from '../../shared/api/index.js';
import type { BackendChoice } from '../../shared/run-types.js';
import { parseDetectOutput, type DetectOutcome } from '../engine/backends/detect-protocol.js';
import { deviceMemoryBudget } from '../engine/backends/memory-budget.js';
import { BACKEND_LADDER } from '../engine/backends/select-backend.js';

const DETECT_ENTRY = fileURLToPath(new URL('../engine/backends/detect-entry.js', import.meta.url));

/** Runs a Node entry script with arguments; the Electron shell passes one over utilityProcess. */
export type EntryRunner = (entry: string, args: string[], timeoutMs: number) => Promise<{ stdout: string; stderr: string; code: number | null }>;

export const nodeEntryRunner: EntryRunner = (entry, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(process.execPath, [entry, ...args], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : err ? null : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), code });
    });
  });

const DETECT_TIMEOUT_MS = 60_000;

async function tryChoice(run: EntryRunner, choice: BackendChoice): Promise<DetectOutcome> {
  const { stdout, stderr, code } = await run(DETECT_ENTRY, [choice], DETECT_TIMEOUT_MS);
  const outcome = parseDetectOutput(stdout);
  if (outcome) return outcome;
  const tail = stderr.trim().split('\n').slice(-1)[0] ?? '';
  return {
    ok: false,
    message: `the detection process ended without an answer (exit ${code ?? 'by signal or timeout'})${tail ? `: ${tail}` : ''}`,
    skipped: [],
  };
}

/** Folds the per-choice outcomes into one line per rung of the ladder. */
function ladderAvailability(outcomes: ReadonlyMap<Exclude<BackendChoice, 'auto'>, DetectOutcome>): BackendAvailability[] {
  return BACKEND_LADDER.map(({ label, choice }) => {
    const rung = { label, choice, engine: 'tfjs' as const };
    const outcome = outcomes.get(rung.choice);
    if (!outcome) return { ...rung, available: false, device: null, reason: 'not checked' };
    const skip = (outcome.ok ? outcome.report.skipped : outcome.skipped).find((s) => s.backend === rung.label);
    if (skip) return { ...rung, available: false, device: null, reason: skip.reason };
    if (!outcome.ok) return { ...rung, available: false, device: null, reason: outcome.message };
    // The choice started on this rung if every rung of the same choice before it was skipped.
    const sameChoice = BACKEND_LADDER.filter((r) => r.choice === rung.choice);
    const startedHere = sameChoice.find((r) => !outcome.report.skipped.some((s) => s.backend === r.label))?.label === rung.label;
    if (startedHere) return { ...rung, available: true, device: outcome.report.device, reason: null };
    return { ...rung, available: false, device: null, reason: `not tried: the ${rung.choice} choice starts on an earlier rung (${outcome.report.device})` };
  });
}

export async function detectBackends(run: EntryRunner = nodeEntryRunner): Promise<Backends> {
  const choices = [...new Set(BACKEND_LADDER.map((r) => r.choice))];
  // Two at a time: each loads tfjs (and maybe Dawn), and small machines have few cores.
  const outcomes = new Map<Exclude<BackendChoice, 'auto'>, DetectOutcome>();
  const queue: BackendChoice[] = ['auto', ...choices];
  let auto: DetectOutcome | undefined;
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const outcome = await tryChoice(run, c);
      if (c === 'auto') auto = outcome;
      else outcomes.set(c, outcome);
    }
  };
  await Promise.all([worker(), worker()]);
  const autoReport = auto?.ok ? auto.report : null;
  return {
    backends: ladderAvailability(outcomes),
    auto: autoReport,
    memoryBudget: autoReport ? deviceMemoryBudget(autoReport) : null,
    python: { executable: null, pythonVersion: null, torchVersion: null, candidates: [] },
    detectedAt: new Date().toISOString(),
  };
}
