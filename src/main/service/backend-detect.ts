// Which backends work on this machine, and why the others do not (the Settings page). Each
// choice is tried in a throw-away process (detect-entry.ts): starting a backend changes the
// process for good, and a native crash must not take the app with it.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backends, BackendAvailability } from '../../shared/api/index.js';
import { isTorchBackend, type BackendChoice, type BackendReport, type BackendSkip } from '../../shared/run-types.js';
import { FULL_LADDER, type BackendResolver } from './backend-resolver.js';
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

/** Runs the detection process for one tfjs choice (the resolver asks for `auto` this way). */
export async function tryChoice(run: EntryRunner, choice: BackendChoice): Promise<DetectOutcome> {
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

/** Folds the per-choice outcomes into one line per tfjs rung of the ladder. */
function tfjsAvailability(outcomes: ReadonlyMap<Exclude<BackendChoice, 'auto'>, DetectOutcome>): BackendAvailability[] {
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

/**
 * Every rung of the full ladder (docs/architecture.md §4): each tfjs choice in a process of its
 * own, the torch rungs from the Python found by discovery (the resolver's cache, which this
 * refreshes), and what `auto` resolves to, with every rung it skipped.
 */
export async function detectBackends(run: EntryRunner = nodeEntryRunner, resolver?: BackendResolver): Promise<Backends> {
  const choices = [...new Set(BACKEND_LADDER.map((r) => r.choice))];
  // Two at a time: each loads tfjs (and maybe Dawn), and small machines have few cores. The torch
  // probe (one Python importing torch) runs beside them.
  const outcomes = new Map<Exclude<BackendChoice, 'auto'>, DetectOutcome>();
  const queue: BackendChoice[] = ['auto', ...choices];
  let auto: DetectOutcome | undefined;
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const outcome = await tryChoice(run, c);
      if (c === 'auto') {
        auto = outcome;
        resolver?.rememberTfjsAuto(outcome);
      } else outcomes.set(c, outcome);
    }
  };
  const torch = resolver ? torchAvailability(resolver) : undefined;
  await Promise.all([worker(), worker(), torch]);
  const tfjs = tfjsAvailability(outcomes);
  const torchRungs = (await torch) ?? new Map<string, BackendAvailability>();
  const backends = FULL_LADDER.map(
    (r) =>
      (r.engine === 'torch' ? torchRungs.get(r.label) : tfjs.find((t) => t.label === r.label)) ?? {
        label: r.label,
        choice: r.choice,
        engine: r.engine,
        available: false,
        device: null,
        reason: 'not checked',
      },
  );
  const autoReport = resolver ? await resolvedAutoReport(resolver, auto) : auto?.ok ? auto.report : null;
  return {
    backends,
    auto: autoReport,
    memoryBudget: autoReport ? deviceMemoryBudget(autoReport) : null,
    python: resolver ? (await resolver.torch('torch-cpu')).finding : { executable: null, pythonVersion: null, torchVersion: null, candidates: [] },
    detectedAt: new Date().toISOString(),
  };
}

async function torchAvailability(resolver: BackendResolver): Promise<Map<string, BackendAvailability>> {
  const out = new Map<string, BackendAvailability>();
  for (const rung of FULL_LADDER.filter((r) => r.engine === 'torch')) {
    const status = await resolver.rungStatus(rung);
    out.set(rung.label, {
      label: rung.label,
      choice: rung.choice,
      engine: 'torch',
      available: status.available,
      device: status.available ? status.device : null,
      reason: status.available ? null : status.reason,
    });
  }
  return out;
}

/** What `auto` trains on: the resolver's rung, as a backend report with every skip. */
async function resolvedAutoReport(resolver: BackendResolver, tfjsAuto: DetectOutcome | undefined): Promise<BackendReport | null> {
  const r = await resolver.resolve('auto');
  if (!r.ok) return null;
  if (isTorchBackend(r.rung)) return { name: 'torch', rung: r.rung, device: r.device ?? r.rung, skipped: r.skipped };
  if (!tfjsAuto?.ok) return null;
  return { ...tfjsAuto.report, rung: r.rung, skipped: mergeSkips(r.skipped, tfjsAuto.report.skipped) };
}

/** The host's skips, then the trainer's own that the host had not already listed. */
export function mergeSkips(host: readonly BackendSkip[], trainer: readonly BackendSkip[]): BackendSkip[] {
  return [...host, ...trainer.filter((t) => !host.some((h) => h.backend === t.backend))];
}
