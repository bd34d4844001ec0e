// One skip policy for every test that needs a part of the machine that npm cannot install.
//
// - A part that `.ci/run` installs (Chromium, a Vulkan driver, root…) is looked for by using it:
//   an executable that runs, an adapter that opens — never a path that merely exists. Where it
//   is missing, the test skips with one line naming the part and the command that installs it;
//   under CI=true it fails instead, since there `.ci/run` has installed everything.
// - Opt-in slow tests skip everywhere unless asked for.
// `scripts/run-tests.js` finds the parts once for a whole run (AUTOBATCH_TEST_PARTS) and prints a
// summary of every skipped group at the end (scripts/skip-summary-reporter.js).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE, packagedChromium, swiftshaderEnv } from './packaged-chromium.js';

export type PartName = 'chromium' | 'webgpu' | 'system-vulkan' | 'root' | 'tar' | 'torch';

interface PartInfo {
  /** What the part is, as a user would call it. */
  what: string;
  /** How to get it. */
  install: string;
}

const BACKPORTS_MESA =
  "on Debian 12, after adding bookworm-backports to apt's sources (.ci/run shows how): apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1";

export const PARTS: Record<PartName, PartInfo> = {
  chromium: { what: 'Chromium', install: 'npm install (brings @sparticuz/chromium), or apt-get install -y chromium, or set AUTOBATCH_CHROMIUM to a Chromium' },
  webgpu: { what: 'a WebGPU adapter (a Vulkan driver)', install: `npm install (brings SwiftShader with @sparticuz/chromium), or ${BACKPORTS_MESA}` },
  // SwiftShader from npm serves short WebGPU tests only: a 3-epoch run takes ~6 min on it, and
  // it binds 1 GiB at once, more than an out-of-memory test can fill cheaply.
  'system-vulkan': { what: "a system Vulkan driver (Mesa's lavapipe ≥ 24, or a GPU's)", install: BACKPORTS_MESA },
  root: { what: 'root, to mount a small tmpfs', install: 'run the tests as root (sudo npm test)' },
  tar: { what: 'the tar command', install: 'apt-get install -y tar' },
  torch: {
    what: 'a Python 3.8+ with PyTorch 1.13+',
    install:
      'apt-get install -y python3-torch (Debian), or pip install torch; AUTOBATCH_PYTHON names the interpreter if it is not python3 on PATH or /usr/bin/python3',
  },
};

/** A part that works (with what it is), or the reason it does not. */
export type Finding = { ok: true; detail: string } | { ok: false; reason: string };

export const PARTS_ENV = 'AUTOBATCH_TEST_PARTS';
/** Set by run-tests.js when Dawn in this run finds SwiftShader from the npm package, not the system's driver. */
export const SWIFTSHADER_ENV = 'AUTOBATCH_TEST_SWIFTSHADER';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function firstLine(text: string | undefined): string {
  return (
    (text ?? '')
      .trim()
      .split('\n')
      .find((l) => l.trim()) ?? ''
  );
}

/** The Chromium executables to try, in order: AUTOBATCH_CHROMIUM alone if set, else Debian's, then the npm package's. */
export function chromiumCandidates(env: NodeJS.ProcessEnv = process.env): Array<() => string | { error: string }> {
  if (env.AUTOBATCH_CHROMIUM) return [() => env.AUTOBATCH_CHROMIUM!];
  return [
    () => '/usr/bin/chromium',
    () => {
      const pkg = packagedChromium();
      return 'error' in pkg ? pkg : pkg.executable;
    },
  ];
}

/** Runs `exe --version`: a Chromium counts only if it starts. */
export function chromiumRuns(exe: string): Finding {
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) return { ok: false, reason: `${exe}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}` };
  const out = firstLine(r.stdout);
  if (r.status === 0 && /chrom/i.test(out)) return { ok: true, detail: `${exe} (${out})` };
  return { ok: false, reason: `${exe} did not run (exit ${r.status}${firstLine(r.stderr) ? `: ${firstLine(r.stderr)}` : ''})` };
}

/** The first Chromium that runs, or every candidate's reason. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): { executable: string; detail: string } | { reason: string } {
  const reasons: string[] = [];
  for (const candidate of chromiumCandidates(env)) {
    const exe = candidate();
    if (typeof exe !== 'string') {
      reasons.push(exe.error);
      continue;
    }
    const found = chromiumRuns(exe);
    if (found.ok) return { executable: exe, detail: found.detail };
    reasons.push(found.reason);
  }
  return { reason: reasons.join('; ') };
}

// Runs in a child process so that a driver that crashes or hangs takes only the probe with it.
const WEBGPU_PROBE = `
process.env.XDG_RUNTIME_DIR ??= '/tmp';
const mod = await import('webgpu');
Object.assign(globalThis, mod.globals);
const adapter = await mod.create([]).requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) { console.log(JSON.stringify({ ok: false, reason: 'Dawn found no adapter (no Vulkan driver, or none that Dawn accepts)' })); process.exit(0); }
const device = await adapter.requestDevice();
const i = adapter.info;
console.log(JSON.stringify({ ok: true, detail: i.description || [i.vendor, i.device].filter(Boolean).join(' ') || 'unknown adapter' }));
device.destroy();
process.exit(0);
`;

/** Opens a WebGPU adapter and a device on it, in a child process with `env`. */
export function probeWebgpu(env: NodeJS.ProcessEnv = process.env): Finding {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', WEBGPU_PROBE], { cwd: repoRoot, env, encoding: 'utf8', timeout: 60_000 });
  const line = r.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (line) return JSON.parse(line) as Finding;
  return { ok: false, reason: `the WebGPU probe failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}): ${firstLine(r.stderr)}` };
}

/** Root counts only if it can really mount (a container may deny it even to root). */
function probeRoot(): Finding {
  if (process.platform !== 'linux') return { ok: false, reason: `tmpfs mounts are Linux only, not ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not running as root' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autobatch-mount-probe-'));
  try {
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) return { ok: false, reason: `mount -t tmpfs failed: ${firstLine(r.stderr) || r.error?.message || `exit ${r.status}`}` };
    spawnSync('umount', ['-l', dir]);
    return { ok: true, detail: 'root, and a tmpfs mounts' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function probeTar(): Finding {
  const r = spawnSync('tar', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? { ok: true, detail: firstLine(r.stdout) } : { ok: false, reason: `tar did not run: ${r.error?.message ?? `exit ${r.status}`}` };
}

/** The Python interpreters a torch test may use, in the app's order (AUTOBATCH_PYTHON, PATH, the system's). */
function pythonCandidates(env: NodeJS.ProcessEnv): string[] {
  return [...new Set([env.AUTOBATCH_PYTHON, 'python3', 'python', '/usr/bin/python3'].filter((c): c is string => Boolean(c)))];
}

/** The first interpreter that imports torch at 1.13 or later (the torch-cpu rung's minimum). */
export function probeTorch(env: NodeJS.ProcessEnv = process.env): Finding {
  const reasons: string[] = [];
  const script = 'import sys, torch; print(sys.version.split()[0], torch.__version__)';
  for (const python of pythonCandidates(env)) {
    const r = spawnSync(python, ['-c', script], { encoding: 'utf8', timeout: 60_000, env });
    const [py, torch] = firstLine(r.stdout).split(' ');
    if (r.status !== 0 || !py || !torch) {
      reasons.push(
        `${python}: ${r.error ? ((r.error as NodeJS.ErrnoException).code ?? r.error.message) : firstLine(r.stderr.split('\n').reverse().join('\n')) || `exit ${r.status}`}`,
      );
      continue;
    }
    const [major, minor] = torch.split('.').map((p) => parseInt(p, 10));
    if ((major ?? 0) > 1 || ((major ?? 0) === 1 && (minor ?? 0) >= 13)) return { ok: true, detail: `${python} (Python ${py}, torch ${torch})` };
    reasons.push(`${python}: torch ${torch} is older than 1.13`);
  }
  return { ok: false, reason: reasons.join('; ') };
}

/** The interpreter the torch part found (tests that run Python use it); throws where there is none. */
export function torchPython(env: NodeJS.ProcessEnv = process.env): string {
  const found = findPart('torch', env);
  if (!found.ok) throw new Error(found.reason);
  return found.detail.split(' (')[0]!;
}

function probe(part: PartName, env: NodeJS.ProcessEnv): Finding {
  switch (part) {
    case 'chromium': {
      const c = findChromium(env);
      return 'reason' in c ? { ok: false, reason: c.reason } : { ok: true, detail: c.detail };
    }
    case 'webgpu':
      return probeWebgpu(env);
    case 'system-vulkan': {
      if (env[SWIFTSHADER_ENV]) return { ok: false, reason: 'this run has only the npm package’s SwiftShader' };
      return probeWebgpu(env);
    }
    case 'root':
      return probeRoot();
    case 'tar':
      return probeTar();
    case 'torch':
      return probeTorch(env);
  }
}

const found = new Map<PartName, Finding>();

/** Whether `part` works here: from run-tests.js's findings when it started this run, else probed now (once per process). */
export function findPart(part: PartName, env: NodeJS.ProcessEnv = process.env): Finding {
  const known = found.get(part);
  if (known) return known;
  let finding: Finding | undefined;
  try {
    finding = (JSON.parse(env[PARTS_ENV] ?? '{}') as Partial<Record<PartName, Finding>>)[part];
  } catch {
    finding = undefined;
  }
  finding ??= probe(part, env);
  found.set(part, finding);
  return finding;
}

export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.CI ?? '');
}

/** The one line a skip says: the part, and how to install it. */
export function skipLine(part: PartName): string {
  return `needs ${PARTS[part].what}: ${PARTS[part].install}`;
}

/**
 * For a test's `skip` option: false where `part` works; else the skip line. Under CI=true a
 * missing part throws instead (the test file fails), naming the part and why it is missing.
 */
export function missing(part: PartName, env: NodeJS.ProcessEnv = process.env, finding: Finding = findPart(part, env)): string | false {
  if (finding.ok) return false;
  if (isCi(env)) throw new Error(`CI=true, and this test ${skipLine(part)} — missing here: ${finding.reason}`);
  return skipLine(part);
}

/** For opt-in tests: false when `variable` is set to 1, else the line that says how to opt in. Skips under CI too. */
export function optIn(variable: string, why: string, env: NodeJS.ProcessEnv = process.env): string | false {
  return env[variable] === '1' ? false : `opt-in (${why}): set ${variable}=1`;
}

/**
 * Finds every part once for a whole test run, and the environment the run's processes need:
 * where the system has no Vulkan driver that Dawn accepts, the npm package's SwiftShader (a
 * Vulkan driver on the CPU) serves the WebGPU tests, slowly.
 */
export function partsForRun(env: NodeJS.ProcessEnv = process.env): { env: NodeJS.ProcessEnv; findings: Record<PartName, Finding> } {
  const runEnv: NodeJS.ProcessEnv = { ...env };
  const system = probeWebgpu(runEnv);
  let webgpu = system;
  if (!system.ok) {
    const pkg = packagedChromium();
    if ('error' in pkg) {
      webgpu = { ok: false, reason: `${system.reason}; ${pkg.error}` };
    } else {
      const withSwiftshader = { ...runEnv, ...swiftshaderEnv(pkg, runEnv) };
      const sw = probeWebgpu(withSwiftshader);
      if (sw.ok) {
        Object.assign(runEnv, swiftshaderEnv(pkg, runEnv), { [SWIFTSHADER_ENV]: '1' });
        webgpu = { ok: true, detail: `${sw.detail}, from ${PACKAGE}` };
      } else {
        webgpu = { ok: false, reason: `${system.reason}; SwiftShader from ${PACKAGE}: ${sw.reason}` };
      }
    }
  }
  const findings: Record<PartName, Finding> = {
    chromium: probe('chromium', runEnv),
    webgpu,
    'system-vulkan': system,
    root: probeRoot(),
    tar: probeTar(),
    torch: probeTorch(runEnv),
  };
  runEnv[PARTS_ENV] = JSON.stringify(findings);
  return { env: runEnv, findings };
}
