// Which backend a run trains on, decided by the host before any trainer starts (issue 15): the
// full ladder interleaves the torch rungs (the user's PyTorch) with tfjs's, in BACKEND_CHOICES
// order — torch-cuda, torch-mps, tensorflow (CUDA), webgpu, torch-cpu, tensorflow (CPU), wasm,
// cpu. `auto` takes the first available rung, and every rung above it is kept as a skip with its
// reason; an explicit torch choice is checked here, an explicit tfjs choice by its trainer (as
// before). Detection is lazy — the rungs are looked at in ladder order only as far as needed —
// and cached: in memory for the service, and on disk in the data folder (DETECTION_FILE), so a
// one-shot CLI command does not pay for the probes each time.
//
// The cache is dropped when Settings asks for a fresh detection (refresh), when anything the
// answer depends on differs — the app's version, --python, AUTOBATCH_PYTHON, Settings'
// pythonPath, PATH, the platform — and after DETECTION_MAX_AGE_MS (a day: a driver or a torch
// installed since is then seen without a refresh, and a run never waits on the probes twice a day).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { PythonFinding } from '../../shared/api/index.js';
import { isTorchBackend, type BackendChoice, type BackendSkip, type ConcreteBackend, type Engine, type TorchBackend } from '../../shared/run-types.js';
import { backendReportSchema, backendSkipSchema } from '../../shared/schemas.js';
import type { DetectOutcome } from '../engine/backends/detect-protocol.js';
import { BACKEND_LADDER } from '../engine/backends/select-backend.js';
import {
  createEnvironmentProbe,
  describeNoPython,
  findPython,
  MIN_TORCH,
  pythonCandidates,
  readEnvironment,
  type EnvironmentProbe,
  type ProbeResult,
  type PythonEnvironment,
  type PythonSearch,
} from './python-discovery.js';

export const DETECTION_FILE = 'backend-detection.json';
export const DETECTION_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface LadderRung {
  label: string;
  choice: ConcreteBackend;
  engine: Engine;
}

const TORCH_RUNGS: Record<TorchBackend, LadderRung> = {
  'torch-cuda': { label: 'torch-cuda (PyTorch, CUDA)', choice: 'torch-cuda', engine: 'torch' },
  'torch-mps': { label: 'torch-mps (PyTorch, Apple MPS)', choice: 'torch-mps', engine: 'torch' },
  'torch-cpu': { label: 'torch-cpu (PyTorch, CPU)', choice: 'torch-cpu', engine: 'torch' },
};

/** The whole ladder in `auto`'s order; the tfjs rungs keep select-backend's labels. */
export const FULL_LADDER: readonly LadderRung[] = BACKEND_LADDER.flatMap((r): LadderRung[] => {
  const tfjs: LadderRung = { ...r, engine: 'tfjs' };
  if (r === BACKEND_LADDER[0]) return [TORCH_RUNGS['torch-cuda'], TORCH_RUNGS['torch-mps'], tfjs];
  if (r.label === 'tensorflow (CPU, tfjs-node)') return [TORCH_RUNGS['torch-cpu'], tfjs];
  return [tfjs];
});

/** One rung's state: available (with its device), or why not. */
export type RungStatus = { available: true; device: string } | { available: false; reason: string };

export type Resolution =
  | {
      ok: true;
      rung: ConcreteBackend;
      /** The rungs above it that were skipped, and why (empty for an explicit choice). */
      skipped: BackendSkip[];
      /** The interpreter for a torch rung (absolute path); null for tfjs. */
      python: string | null;
      /** What detection said the device is; null where the trainer is left to say (an explicit tfjs choice). */
      device: string | null;
    }
  | { ok: false; message: string; skipped: BackendSkip[] };

/** Runs backend-detect's throw-away process for one tfjs choice. */
export type TfjsDetector = (choice: BackendChoice) => Promise<DetectOutcome>;

export interface ResolverOptions {
  /** The data folder: the cache file lives there. */
  home: string;
  appVersion: string;
  /** Where to look for Python now (--python, AUTOBATCH_PYTHON, Settings, PATH): read at each use. */
  search(): PythonSearch;
  detectTfjs: TfjsDetector;
  probe?: EnvironmentProbe;
  maxAgeMs?: number;
  now?: () => number;
}

const cacheFileSchema = z.object({
  key: z.string(),
  savedAt: z.number(),
  probes: z.record(z.string(), z.union([z.object({ ok: z.literal(true), environment: z.unknown() }), z.object({ ok: z.literal(false), reason: z.string() })])),
  tfjsAuto: z
    .union([
      z.strictObject({ ok: z.literal(true), report: backendReportSchema }),
      z.strictObject({ ok: z.literal(false), message: z.string(), skipped: z.array(backendSkipSchema) }),
    ])
    .optional(),
});

interface CacheState {
  key: string;
  savedAt: number;
  /** Each interpreter asked, by resolved file. */
  probes: Map<string, ProbeResult>;
  tfjsAuto?: DetectOutcome;
  /** In flight, so two runs starting together share one detection process. */
  tfjsPending?: Promise<DetectOutcome>;
  torchPending?: Promise<unknown>;
}

export class BackendResolver {
  private state: CacheState | undefined;
  private readonly file: string;
  private readonly probe: EnvironmentProbe;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ResolverOptions) {
    this.file = path.join(options.home, DETECTION_FILE);
    this.probe = options.probe ?? createEnvironmentProbe();
    this.maxAgeMs = options.maxAgeMs ?? DETECTION_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Forgets every cached answer, here and on disk (Settings' refresh). */
  invalidate(): void {
    this.state = { key: this.key(), savedAt: this.now(), probes: new Map() };
    this.save();
  }

  /** The concrete rung for a choice, from cached detection (probing what is missing). */
  async resolve(choice: BackendChoice): Promise<Resolution> {
    if (choice === 'auto') return this.resolveAuto();
    if (!isTorchBackend(choice)) return { ok: true, rung: choice, skipped: [], python: null, device: null };
    const rung = TORCH_RUNGS[choice];
    const status = await this.rungStatus(rung);
    if (!status.available) {
      const skipped = [{ backend: rung.label, reason: status.reason }];
      return { ok: false, message: `backend ${choice} is not available: ${rung.label}: ${status.reason}`, skipped };
    }
    return { ok: true, rung: choice, skipped: [], python: (await this.torch(choice)).finding.executable, device: status.device };
  }

  private async resolveAuto(): Promise<Resolution> {
    const skipped: BackendSkip[] = [];
    for (const rung of FULL_LADDER) {
      const status = await this.rungStatus(rung);
      if (status.available) {
        const python = rung.engine === 'torch' ? (await this.torch(rung.choice as TorchBackend)).finding.executable : null;
        return { ok: true, rung: rung.choice, skipped, python, device: status.device };
      }
      skipped.push({ backend: rung.label, reason: status.reason });
    }
    return { ok: false, message: `no backend is available: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`, skipped };
  }

  /** One rung's state as `auto` sees it (software WebGPU counts as unavailable, as in the trainer). */
  async rungStatus(rung: LadderRung): Promise<RungStatus> {
    if (rung.engine === 'torch') return torchRungStatus(rung.choice as TorchBackend, await this.torch(rung.choice as TorchBackend));
    return tfjsRungStatus(rung, await this.tfjsAuto());
  }

  /** The Python that serves a torch rung (the first with torch at the rung's minimum), and its environment. */
  async torch(rung: TorchBackend): Promise<{ finding: PythonFinding; environment: PythonEnvironment | null }> {
    const state = this.current();
    // One probing at a time: two runs starting together must not ask each interpreter twice.
    while (state.torchPending) await state.torchPending.catch(() => undefined);
    const before = state.probes.size;
    const pending = findPython(pythonCandidates(this.options.search()), MIN_TORCH[rung], this.probe, state.probes);
    state.torchPending = pending;
    try {
      return await pending;
    } finally {
      state.torchPending = undefined;
      if (state.probes.size !== before) this.save();
    }
  }

  /** What tfjs's own `auto` does on this machine (one throw-away process, cached). */
  async tfjsAuto(): Promise<DetectOutcome> {
    const state = this.current();
    if (state.tfjsAuto) return state.tfjsAuto;
    state.tfjsPending ??= this.options.detectTfjs('auto').then((outcome) => {
      state.tfjsAuto = outcome;
      state.tfjsPending = undefined;
      if (this.state === state) this.save();
      return outcome;
    });
    return state.tfjsPending;
  }

  /** Settings' detection ran tfjs's `auto` anyway: keep its answer. */
  rememberTfjsAuto(outcome: DetectOutcome): void {
    this.current().tfjsAuto = outcome;
    this.save();
  }

  /** What the answers depend on besides the machine itself. */
  private key(): string {
    const s = this.options.search();
    return JSON.stringify({
      app: this.options.appVersion,
      flag: s.flag ?? null,
      env: s.env ?? null,
      settings: s.settings ?? null,
      path: s.pathEnv ?? process.env.PATH ?? '',
      platform: `${process.platform}-${process.arch}`,
    });
  }

  /** The cache for the current key: memory, else the file, else empty. */
  private current(): CacheState {
    const key = this.key();
    const fresh = (s: { key: string; savedAt: number }) => s.key === key && this.now() - s.savedAt <= this.maxAgeMs && s.savedAt <= this.now();
    if (this.state && fresh(this.state)) return this.state;
    this.state = this.load(key, fresh) ?? { key, savedAt: this.now(), probes: new Map() };
    return this.state;
  }

  private load(key: string, fresh: (s: { key: string; savedAt: number }) => boolean): CacheState | undefined {
    if (!existsSync(this.file)) return undefined;
    try {
      const parsed = cacheFileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (!parsed.success || parsed.data.key !== key || !fresh(parsed.data)) return undefined;
      const probes = new Map<string, ProbeResult>();
      for (const [file, result] of Object.entries(parsed.data.probes)) {
        if (!result.ok) probes.set(file, result);
        else {
          // An environment that no longer reads (an older app's file) is asked again.
          const env = readEnvironment(result.environment);
          if (env) probes.set(file, { ok: true, environment: env });
        }
      }
      return { key, savedAt: parsed.data.savedAt, probes, ...(parsed.data.tfjsAuto ? { tfjsAuto: parsed.data.tfjsAuto } : {}) };
    } catch {
      return undefined;
    }
  }

  /** Writes the cache beside the database (a failed write only costs a later probe). */
  private save(): void {
    const s = this.state;
    if (!s) return;
    const body = { key: s.key, savedAt: s.savedAt, probes: Object.fromEntries(s.probes), ...(s.tfjsAuto ? { tfjsAuto: s.tfjsAuto } : {}) };
    try {
      const tmp = `${this.file}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n');
      renameSync(tmp, this.file);
    } catch {
      // a read-only data folder: the memory cache still serves this process
    }
  }
}

/** A torch rung's state from the Python that serves it. */
export function torchRungStatus(
  rung: TorchBackend,
  found: { finding: PythonFinding; environment: PythonEnvironment | null },
  platform: NodeJS.Platform = process.platform,
): RungStatus {
  // Said first: no Python or torch version would change it.
  if (rung === 'torch-mps' && platform !== 'darwin') return { available: false, reason: `Apple MPS exists only on macOS (this is ${platform})` };
  const env = found.environment;
  if (!env) return { available: false, reason: describeNoPython(found.finding, MIN_TORCH[rung]) };
  const torch = `PyTorch ${env.torch}`;
  if (rung === 'torch-cpu') return { available: true, device: `CPU (${torch}, Python ${env.python})` };
  if (rung === 'torch-cuda') {
    return env.cuda.available
      ? { available: true, device: `${env.cuda.device ?? 'CUDA GPU'} (CUDA, ${torch})` }
      : { available: false, reason: env.cuda.reason ?? 'CUDA is not available' };
  }
  return env.mps.available ? { available: true, device: `Apple GPU (MPS, ${torch})` } : { available: false, reason: env.mps.reason ?? 'MPS is not available' };
}

/** The tfjs rung tfjs's `auto` started on: the first of its ladder it did not skip. */
export function tfjsStartedLabel(outcome: DetectOutcome): string | undefined {
  if (!outcome.ok) return undefined;
  return BACKEND_LADDER.find((r) => !outcome.report.skipped.some((s) => s.backend === r.label))?.label;
}

/** A tfjs rung's state as tfjs's `auto` found it. */
export function tfjsRungStatus(rung: LadderRung, auto: DetectOutcome): RungStatus {
  const skips = auto.ok ? auto.report.skipped : auto.skipped;
  const skip = skips.find((s) => s.backend === rung.label);
  if (skip) return { available: false, reason: skip.reason };
  if (!auto.ok) return { available: false, reason: auto.message };
  if (tfjsStartedLabel(auto) === rung.label) return { available: true, device: auto.report.device };
  return { available: false, reason: `not tried: tfjs's auto starts on an earlier rung (${auto.report.device})` };
}
