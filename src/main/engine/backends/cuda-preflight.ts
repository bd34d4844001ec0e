// Checks, before loading @tensorflow/tfjs-node-gpu, that the CUDA and cuDNN libraries its
// libtensorflow was built against can be found. Loading it without them does not fail: it
// prints warnings and quietly runs on the CPU, which is the wrong thing to tell a user.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';

interface RequiredLibrary {
  /** The name the dynamic linker looks for. */
  soname: string;
  what: string;
  /**
   * Lowest version that works, where the soname alone does not say it: CUDA 11.0 and 11.2 both
   * ship libcudart.so.11.0, cuDNN 8.0 and 8.1 both libcudnn.so.8. Read from the file the soname
   * resolves to (libcudnn.so.8 → libcudnn.so.8.0.5), as installers name it.
   */
  minVersion?: string;
}

/** What libtensorflow 2.9.1 (inside tfjs-node-gpu 4.x) needs: CUDA 11.2 and cuDNN 8.1. */
export const TFJS_NODE_GPU_REQUIREMENTS: { cuda: string; cudnn: string; libraries: readonly RequiredLibrary[] } = {
  cuda: '11.2',
  cudnn: '8.1',
  libraries: [
    { soname: 'libcuda.so.1', what: 'the NVIDIA driver' },
    { soname: 'libcudart.so.11.0', what: 'the CUDA 11.2 runtime', minVersion: '11.2' },
    { soname: 'libcublas.so.11', what: 'cuBLAS of CUDA 11' },
    { soname: 'libcublasLt.so.11', what: 'cuBLASLt of CUDA 11' },
    { soname: 'libcufft.so.10', what: 'cuFFT of CUDA 11' },
    { soname: 'libcurand.so.10', what: 'cuRAND of CUDA 11' },
    { soname: 'libcusolver.so.11', what: 'cuSOLVER of CUDA 11' },
    { soname: 'libcusparse.so.11', what: 'cuSPARSE of CUDA 11' },
    { soname: 'libcudnn.so.8', what: 'cuDNN 8.1 or a later 8.x', minVersion: '8.1' },
  ],
};

interface CudaPreflightResult {
  ok: boolean;
  /** One entry per missing library: "libcudnn.so.8 not found (cuDNN 8 …)". */
  missing: string[];
  /** Where each library was found. */
  found: Record<string, string>;
}

interface CudaPreflightOptions {
  /** Folders to search, in order; default: LD_LIBRARY_PATH, the CUDA folders, the system's. */
  searchDirs?: string[];
  /** Also ask the dynamic linker's cache (`ldconfig -p`); default true on Linux. */
  useLdconfig?: boolean;
}

const DEFAULT_DIRS = ['/usr/local/cuda/lib64', '/usr/local/cuda-11.2/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/nvidia/lib64'];

function defaultSearchDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.LD_LIBRARY_PATH ?? '').split(path.delimiter).filter(Boolean);
  return [...fromEnv, ...DEFAULT_DIRS];
}

function ldconfigCache(): Map<string, string> {
  const cache = new Map<string, string>();
  try {
    const out = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    for (const line of out.split('\n')) {
      const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
      if (m && !cache.has(m[1]!)) cache.set(m[1]!, m[2]!);
    }
  } catch {
    // No ldconfig (macOS, Windows, minimal containers): the folder search still answers.
  }
  return cache;
}

export function cudaPreflight(options: CudaPreflightOptions = {}): CudaPreflightResult {
  if (process.platform !== 'linux' && process.platform !== 'win32') {
    return { ok: false, missing: [`CUDA is not available on ${process.platform}`], found: {} };
  }
  const dirs = options.searchDirs ?? defaultSearchDirs();
  const cache = (options.useLdconfig ?? !options.searchDirs) ? ldconfigCache() : new Map<string, string>();
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const lib of TFJS_NODE_GPU_REQUIREMENTS.libraries) {
    const hit = dirs.map((d) => path.join(d, lib.soname)).find((p) => existsSync(p)) ?? cache.get(lib.soname);
    if (hit) {
      const version = lib.minVersion ? installedVersion(hit, lib.soname) : undefined;
      if (version && lib.minVersion && compareVersions(version, lib.minVersion) < 0) {
        missing.push(`${lib.soname} is version ${version} (${hit}); needs ${lib.minVersion} or later (${lib.what})`);
        continue;
      }
      found[lib.soname] = hit;
      continue;
    }
    const other = otherVersions(dirs, lib.soname);
    missing.push(`${lib.soname} not found (${lib.what})${other.length ? `; ${other.join(', ')} is there, the wrong version` : ''}`);
  }
  return { ok: missing.length === 0, missing, found };
}

/** One line for the user: every missing library with what it is; without a driver, the rest by name only. */
export function describePreflight(result: CudaPreflightResult): string {
  if (result.ok) return 'all CUDA and cuDNN libraries found';
  const [first, ...rest] = result.missing;
  if (first?.startsWith('libcuda.so.1 ') && rest.length) {
    return `${first}; also missing: ${rest.map((m) => m.split(' ')[0]).join(', ')}`;
  }
  return result.missing.join('; ');
}

/** Other versions of the same library, e.g. libcudart.so.12 where .so.11.0 is needed. */
function otherVersions(dirs: string[], soname: string): string[] {
  const stem = soname.slice(0, soname.indexOf('.so') + 3);
  const seen = new Set<string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith(stem + '.') && n !== soname) seen.add(n);
  }
  return [...seen].sort().slice(0, 3);
}

/**
 * The full version of a library from the name of the file its soname resolves to, e.g.
 * libcudnn.so.8 → libcudnn.so.8.0.5 gives '8.0.5'; undefined where the name says no more than the
 * soname (then the version cannot be told and is taken to be right).
 */
export function installedVersion(file: string, soname: string): string | undefined {
  let real: string;
  try {
    real = path.basename(realpathSync(file));
  } catch {
    return undefined;
  }
  const stem = soname.slice(0, soname.indexOf('.so') + 3);
  if (!real.startsWith(stem + '.')) return undefined;
  const version = real.slice(stem.length + 1);
  if (!/^\d+(\.\d+)+$/.test(version) || version === soname.slice(stem.length + 1)) return undefined;
  return version;
}

/** Compares dotted version numbers: negative if a < b, 0 if equal, positive if a > b. */
export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
