// Where the Python trainer package (python/autobatch_trainer) is: beside the compiled app in a
// checkout or an npm install, under the app's resources in a packaged Electron app (electron-
// builder copies python/ there as an extra resource).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = 'autobatch_trainer';

/** The folder to put on PYTHONPATH (it holds autobatch_trainer/); throws when the package is missing. */
export function pythonPackageRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  const candidates = [
    // dist/src/main/service → the repository (or installed package) root.
    path.resolve(here, '../../../../python'),
    ...(resources ? [path.join(resources, 'python')] : []),
  ];
  const found = candidates.find((dir) => existsSync(path.join(dir, PACKAGE, '__main__.py')));
  if (!found) throw new Error(`the Python trainer package ${PACKAGE} is missing (looked in ${candidates.join(', ')}); reinstall AutoBatch Studio`);
  return found;
}

/** The environment for a Python process of the package: PYTHONPATH led by the package root, UTF-8 I/O, no .pyc beside the package. */
export function pythonEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const root = pythonPackageRoot();
  return {
    ...base,
    PYTHONPATH: [root, base.PYTHONPATH].filter(Boolean).join(path.delimiter),
    PYTHONIOENCODING: 'utf-8',
    // A packaged app's resources may be read-only; compiled bytecode is not worth a failed write.
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
  };
}
