// The Chromium that ships inside an npm package (@sparticuz/chromium, a devDependency), for
// machines with only Node and npm: its brotli-packed headless Chromium, and beside it
// SwiftShader (a Vulkan driver on the CPU) with a Vulkan loader, which also serve Dawn.
//
// The package unpacks into os.tmpdir() itself; it is run in a child process whose TMPDIR is a
// staging folder, which is then renamed into node_modules/.cache, so one unpacking serves every
// later run and two test processes never see a half-written copy.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE = '@sparticuz/chromium';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface PackagedChromium {
  folder: string;
  executable: string;
  /** The SwiftShader Vulkan driver's manifest; its loader (libvulkan.so.1) lies beside it. */
  swiftshaderIcd: string;
}

/** The installed package's version (its exports hide package.json, so it is found from the entry up). */
function packageVersion(): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(createRequire(path.join(repoRoot, 'package.json')).resolve(PACKAGE));
  } catch {
    return undefined;
  }
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === PACKAGE) return manifest.version;
    } catch {
      // no package.json at this level: look further up
    }
  }
  return undefined;
}

function cacheRoot(): string {
  const inModules = path.join(repoRoot, 'node_modules', '.cache');
  try {
    mkdirSync(inModules, { recursive: true });
    return inModules;
  } catch {
    return os.tmpdir();
  }
}

function describe(folder: string): PackagedChromium {
  return { folder, executable: path.join(folder, 'chromium'), swiftshaderIcd: path.join(folder, 'vk_swiftshader_icd.json') };
}

const UNPACK = `import Chromium from '${PACKAGE}'; process.stdout.write(await Chromium.executablePath());`;

/**
 * The unpacked files (unpacking them on first use: ~2 s), or why there are none: the package is
 * not installed (an install with --omit=dev), or it does not unpack on this machine.
 */
export function packagedChromium(): PackagedChromium | { error: string } {
  const version = packageVersion();
  if (!version) return { error: `${PACKAGE} is not installed (npm install adds it: it is a devDependency)` };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { error: `${PACKAGE} ships Chromium for Linux x64 only, not ${process.platform} ${process.arch}` };
  const root = cacheRoot();
  const folder = path.join(root, `autobatch-chromium-${version}`);
  if (existsSync(path.join(folder, 'chromium'))) return describe(folder);
  const staging = mkdtempSync(path.join(root, `autobatch-chromium-${version}-unpacking-`));
  try {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', UNPACK], {
      cwd: repoRoot,
      env: { ...process.env, TMPDIR: staging },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (run.status !== 0 || !existsSync(path.join(staging, 'chromium'))) {
      const why = (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n')[0];
      return { error: `${PACKAGE} ${version} did not unpack: ${why}` };
    }
    try {
      renameSync(staging, folder);
    } catch {
      // Another process unpacked it first: theirs is complete, ours is dropped below.
      if (!existsSync(path.join(folder, 'chromium'))) throw new Error(`could not move the unpacked ${PACKAGE} to ${folder}`);
    }
    return describe(folder);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The environment that makes Dawn (in a process started with it) find SwiftShader. */
export function swiftshaderEnv(pkg: PackagedChromium, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    LD_LIBRARY_PATH: [pkg.folder, env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    // The loader reads VK_DRIVER_FILES (1.3.207+) and the older VK_ICD_FILENAMES.
    VK_DRIVER_FILES: pkg.swiftshaderIcd,
    VK_ICD_FILENAMES: pkg.swiftshaderIcd,
  };
}
