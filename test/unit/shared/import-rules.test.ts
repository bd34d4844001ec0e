// The import rules of docs/architecture.md §2 are enforced by the lint step: each forbidden import
// fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
// These files exist only in the test: no TypeScript project holds them, so the type-aware rules
// (which need one) are off here; the import rules need no types.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    files: ['**/*.ts', '**/*.svelte'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
  },
});

async function restricted(file: string, source: string): Promise<boolean> {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  // A file that does not parse would pass every case vacuously.
  const fatal = result!.messages.find((m) => m.fatal);
  assert.equal(fatal, undefined, `${file} did not lint: ${fatal?.message}`);
  return result!.messages.some((m) => m.ruleId === 'no-restricted-imports');
}

const cases: [string, string, boolean][] = [
  ['src/shared/x.ts', "import fs from 'node:fs';", true],
  ['src/shared/x.ts', "import path from 'path';", true],
  ['src/shared/x.ts', "import * as tf from '@tensorflow/tfjs';", true],
  ['src/shared/x.ts', "import { z } from 'zod';", false],
  ['src/main/engine/x.ts', "import { openStore } from '../store/index.js';", true],
  ['src/main/engine/x.ts', "import { AutoBatchService } from '../service/service.js';", true],
  ['src/main/engine/x.ts', "import { app } from 'electron';", true],
  ['src/main/engine/x.ts', "import fs from 'node:fs';", false],
  ['src/main/service/x.ts', "import { app } from 'electron';", true],
  ['src/renderer/x.ts', "import fs from 'node:fs';", true],
  ['src/renderer/x.ts', "import { AutoBatchService } from '../main/service/service.js';", true],
  ['src/renderer/x.ts', "import { MODEL_KINDS } from '../shared/run-types.js';", false],
  ['src/renderer/x.svelte', '<script lang="ts">import fs from \'node:fs\'; void fs;</script>', true],
  ['src/renderer/x.svelte', '<script lang="ts">import { x } from \'../main/store/index.js\'; void x;</script>', true],
  ['src/renderer/x.svelte', '<script lang="ts">import { MODEL_KINDS } from \'../shared/run-types.js\'; void MODEL_KINDS;</script>', false],
  ['src/preload/x.ts', "import { openStore } from '../main/store/index.js';", true],
  ['src/preload/x.ts', "import { contextBridge } from 'electron';", false],
  ['src/main/server/x.ts', "import { app } from 'electron';", true],
  ['src/main/server/x.ts', "import { isAppUrl } from '../electron/security.js';", true],
  ['src/renderer/api/x.ts', "import { createApiClient } from '../../shared/api/index.js';", false],
  ['src/renderer/api/x.ts', "import { ApiDispatcher } from '../../main/service/api-dispatch.js';", true],
  ['test/unit/electron/x.ts', "import { isAppUrl } from '../../../src/main/electron/security.js';", false],
  ['test/unit/electron/x.ts', "import { app } from 'electron';", true],
  ['test/unit/electron/x.ts', "import '../../../src/main/electron/main.js';", true],
  ['test/unit/renderer/x.ts', "import { formatBytes } from '../../../src/renderer/lib/format.js';", false],
  ['test/unit/renderer/x.ts', "import { getApi } from '../../../src/renderer/api/index.js';", true],
  ['test/unit/renderer/x.ts', "import { app } from '../../../src/renderer/lib/app.svelte.js';", true],
  ['test/unit/store/x.ts', "import { formatBytes } from '../../../src/renderer/lib/format.js';", true],
  ['test/unit/api/x.ts', "import { isAppUrl } from '../../../src/main/electron/security.js';", true],
];

for (const [file, source, forbidden] of cases) {
  test(`${file}: ${source} is ${forbidden ? 'forbidden' : 'allowed'}`, async () => {
    // A .svelte file is markup: `{}` there would be an (empty, invalid) expression.
    assert.equal(await restricted(file, file.endsWith('.svelte') ? source : `${source}\nexport {};\n`), forbidden);
  });
}
