// Finding the Python with PyTorch that the torch rungs train with (issue 15). The candidates, in
// order: --python, AUTOBATCH_PYTHON, the Settings' pythonPath, python3 and python on PATH, then
// /usr/bin/python3; each is asked what it has by running `python -m autobatch_trainer.environment`
// (python/autobatch_trainer/environment.py) with the app's package on PYTHONPATH. The first whose
// Python and torch are recent enough for the rung wins; every one passed over keeps its reason
// (the first python3 on PATH is often a virtualenv or pyenv shim without torch). Nothing here
// throws: a missing file, a crash, a hang or a stray print is a reason like any other.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { PythonCandidate, PythonFinding } from '../../shared/api/index.js';

export type PythonSource = PythonCandidate['source'];

/** Where the candidates come from, besides PATH and the system's Python. */
export interface PythonSearch {
  /** `--python` on the command line. */
  flag?: string | undefined;
  /** The AUTOBATCH_PYTHON environment variable. */
  env?: string | undefined;
  /** Settings → pythonPath. */
  settings?: string | null | undefined;
  /** The PATH to look python3 and python up on (default: this process's). */
  pathEnv?: string | undefined;
}

/** A (major, minor) pair: versions compare by these two only ('1.13.0a0' is 1.13). */
export type MajorMinor = readonly [number, number];

export const MIN_PYTHON: MajorMinor = [3, 8];
/** The least torch each torch rung needs (MPS training works from 2.0). */
export const MIN_TORCH = { 'torch-cuda': [1, 13], 'torch-mps': [2, 0], 'torch-cpu': [1, 13] } as const satisfies Record<string, MajorMinor>;

const SYSTEM_PYTHON = '/usr/bin/python3';
const PROBE_TIMEOUT_MS = 30_000;

/** What environment.py prints. */
const environmentSchema = z.object({
  python: z.string(),
  executable: z.string(),
  torch: z.string().nullable(),
  torchError: z.string().nullable(),
  cuda: z.object({ available: z.boolean(), device: z.string().nullable(), reason: z.string().nullable() }),
  mps: z.object({ available: z.boolean(), reason: z.string().nullable() }),
  cpuThreads: z.number().int().nullable(),
});
export type PythonEnvironment = z.infer<typeof environmentSchema>;

/** One candidate, looked up: its command, where it came from, and the file it runs (null: not found). */
export interface Candidate {
  command: string;
  source: PythonSource;
  resolved: string | null;
}

/** What asking one candidate gave: its environment, or why it could not tell. */
export type ProbeResult = { ok: true; environment: PythonEnvironment } | { ok: false; reason: string };

/** Runs one interpreter's environment probe (tests pass fakes). */
export type EnvironmentProbe = (executable: string) => Promise<ProbeResult>;

/** (major, minor) of a version string, or null when it does not start with two numbers. */
export function majorMinor(version: string): MajorMinor | null {
  const m = /^\s*(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** Whether `version` is at or above `min`, comparing (major, minor) only. */
export function versionAtLeast(version: string, min: MajorMinor): boolean {
  const v = majorMinor(version);
  if (!v) return false;
  return v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);
}

export function formatMajorMinor(v: MajorMinor): string {
  return `${v[0]}.${v[1]}`;
}

// ---- the package on PYTHONPATH ----------------------------------------------------------------

/**
 * The folder that holds autobatch_trainer/: electron-builder's extraResources put it at
 * <resources>/python in a packaged app; from the compiled tree (dist/src/main/service) it is the
 * repository's python/.
 */
export function pythonPackageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  const places = [...(resources ? [path.join(resources, 'python')] : []), path.resolve(here, '../../../../python'), path.resolve(here, '../../../python')];
  return places.find((p) => existsSync(path.join(p, 'autobatch_trainer', '__init__.py'))) ?? places[places.length - 2]!;
}

/** The environment a Python of the torch engine runs with: the app's package first on PYTHONPATH. */
export function pythonProcessEnv(base: NodeJS.ProcessEnv = process.env, root: string = pythonPackageRoot()): NodeJS.ProcessEnv {
  const pythonPath = [root, ...(base.PYTHONPATH ? [base.PYTHONPATH] : [])].join(path.delimiter);
  // Unbuffered UTF-8 output (the probe's answer is one line; the trainer's crash text is read
  // from it), and no bytecode written beside a packaged app's read-only package.
  return { ...base, PYTHONPATH: pythonPath, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' };
}

// ---- candidates --------------------------------------------------------------------------------

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A command as the shell would find it: a path as given, a bare name on PATH. */
function lookUp(command: string, pathEnv: string): string | null {
  if (command.includes('/') || command.includes('\\')) return isExecutableFile(command) ? path.resolve(command) : null;
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const dir of pathEnv.split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const file = path.join(dir, command + ext);
      if (isExecutableFile(file)) return file;
    }
  }
  return null;
}

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * The candidates in the order tried, each looked up; one interpreter reached twice (a symlink,
 * AUTOBATCH_PYTHON naming /usr/bin/python3) is kept at its first place only.
 */
export function pythonCandidates(search: PythonSearch): Candidate[] {
  const pathEnv = search.pathEnv ?? process.env.PATH ?? '';
  const wanted: { command: string; source: PythonSource }[] = [
    ...(search.flag ? [{ command: search.flag, source: '--python' as const }] : []),
    ...(search.env ? [{ command: search.env, source: 'AUTOBATCH_PYTHON' as const }] : []),
    ...(search.settings ? [{ command: search.settings, source: 'settings' as const }] : []),
    { command: 'python3', source: 'PATH' },
    { command: 'python', source: 'PATH' },
    { command: SYSTEM_PYTHON, source: 'system' },
  ];
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const w of wanted) {
    const found = lookUp(w.command, pathEnv);
    const key = found ? realPath(found) : `${w.source}:${w.command}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...w, resolved: found });
  }
  return out;
}

// ---- asking one interpreter ------------------------------------------------------------------

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  ).slice(0, 300);
}

/** An environment as stored or received, checked (null: not one). */
export function readEnvironment(raw: unknown): PythonEnvironment | null {
  const parsed = environmentSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Reads the probe's answer: the last line of stdout that is a JSON environment (a library may print before it). */
export function parseEnvironment(stdout: string): PythonEnvironment | null {
  const lines = stdout.split('\n').filter((l) => l.trim().startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      const environment = readEnvironment(JSON.parse(line));
      if (environment) return environment;
    } catch {
      // not this line
    }
  }
  return null;
}

/** The real probe: `<python> -m autobatch_trainer.environment`, with a time limit. */
export function createEnvironmentProbe(options: { root?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): EnvironmentProbe {
  const env = pythonProcessEnv(options.env ?? process.env, options.root ?? pythonPackageRoot());
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  return (executable) =>
    new Promise((resolve) => {
      execFile(
        executable,
        ['-m', 'autobatch_trainer.environment'],
        { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true },
        (err, stdout, stderr) => {
          const environment = parseEnvironment(String(stdout));
          if (environment) return resolve({ ok: true, environment });
          resolve({ ok: false, reason: probeFailure(err, String(stdout), String(stderr), timeoutMs) });
        },
      );
    });
}

function probeFailure(err: (Error & { code?: unknown; killed?: boolean; signal?: unknown }) | null, stdout: string, stderr: string, timeoutMs: number): string {
  if (err?.killed) return `did not answer within ${Math.round(timeoutMs / 1000)} s (killed)`;
  if (err && typeof err.code === 'string') return `could not be started (${err.code})`;
  const tail = lastLine(stderr);
  if (err && typeof err.signal === 'string') return `crashed (${err.signal})${tail ? `: ${tail}` : ''}`;
  if (err && typeof err.code === 'number') return `exited with code ${err.code}${tail ? `: ${tail}` : ''}`;
  const out = lastLine(stdout);
  return `printed no environment report${out ? ` (its output ends: ${out.slice(0, 120)})` : ''}`;
}

// ---- choosing ----------------------------------------------------------------------------------

/** Why this candidate cannot serve a rung needing torch `minTorch` (null: it can). */
export function rejection(candidate: Candidate, result: ProbeResult | undefined, minTorch: MajorMinor): string | null {
  if (!candidate.resolved) {
    return candidate.source === 'PATH' ? `not found on PATH` : `not found, or not an executable file`;
  }
  if (!result) return 'not asked';
  if (!result.ok) return result.reason;
  const env = result.environment;
  if (!versionAtLeast(env.python, MIN_PYTHON)) return `Python ${env.python} is older than ${formatMajorMinor(MIN_PYTHON)}`;
  if (env.torch === null) return `torch does not import: ${env.torchError ?? 'unknown error'}`;
  if (!versionAtLeast(env.torch, minTorch)) return `torch ${env.torch} is older than ${formatMajorMinor(minTorch)}`;
  return null;
}

/**
 * Asks the candidates in order (probing each at most once: `probed` keeps the answers, keyed by
 * the resolved file) until one serves torch `minTorch`; every candidate asked is in the finding.
 */
export async function findPython(
  candidates: readonly Candidate[],
  minTorch: MajorMinor,
  probe: EnvironmentProbe,
  probed: Map<string, ProbeResult>,
): Promise<{ finding: PythonFinding; environment: PythonEnvironment | null }> {
  const listed: PythonCandidate[] = [];
  for (const c of candidates) {
    let result = c.resolved ? probed.get(c.resolved) : undefined;
    if (c.resolved && !result) {
      result = await probe(c.resolved);
      probed.set(c.resolved, result);
    }
    const env = result?.ok ? result.environment : null;
    const rejected = rejection(c, result, minTorch);
    listed.push({ command: c.command, source: c.source, pythonVersion: env?.python ?? null, torchVersion: env?.torch ?? null, rejected });
    if (rejected === null && env) {
      // The resolved file, not the interpreter's own sys.executable: a virtualenv's python is a
      // symlink whose target would lose the environment's packages.
      return { finding: { executable: c.resolved, pythonVersion: env.python, torchVersion: env.torch, candidates: listed }, environment: env };
    }
  }
  return { finding: { executable: null, pythonVersion: null, torchVersion: null, candidates: listed }, environment: null };
}

/** One line that says why no candidate served (for a rung's skip reason). */
export function describeNoPython(finding: PythonFinding, minTorch: MajorMinor): string {
  const why = finding.candidates.map((c) => `${c.command}: ${c.rejected ?? 'usable'}`).join('; ');
  return `no Python ${formatMajorMinor(MIN_PYTHON)}+ with torch ${formatMajorMinor(minTorch)}+ found (${why || 'no candidates'})`;
}
