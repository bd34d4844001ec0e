// The skip policy (test/support/parts.ts) and its summary (scripts/skip-summary-reporter.js): a
// missing part skips with one line naming it and its install command outside CI and fails under
// CI=true; opt-in tests skip everywhere; a part counts only if it runs; the summary groups
// skips by reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromiumRuns, findChromium, missing, optIn, PARTS, skipLine, type PartName } from '../../support/parts.js';
import { summariseSkips, type RunnerEvent } from '../../support/skip-summary-reporter.js';

const absent = { ok: false as const, reason: 'not here' };
const present = { ok: true as const, detail: 'here' };

test('a missing part skips outside CI with one line naming it and how to install it', () => {
  for (const part of Object.keys(PARTS) as PartName[]) {
    const line = missing(part, {}, absent);
    assert.equal(line, skipLine(part));
    assert.ok(typeof line === 'string' && !line.includes('\n'));
    assert.ok(line.startsWith(`needs ${PARTS[part].what}: `) && line.length > `needs ${PARTS[part].what}: `.length + 10, line);
  }
  assert.match(skipLine('chromium'), /apt-get install -y chromium/);
  assert.match(skipLine('system-vulkan'), /mesa-vulkan-drivers/);
});

test('under CI=true a missing part fails, naming it and why it is missing', () => {
  for (const ci of ['true', '1', 'TRUE']) {
    assert.throws(
      () => missing('chromium', { CI: ci }, absent),
      (err: Error) => /CI=true/.test(err.message) && err.message.includes(PARTS.chromium.what) && /not here/.test(err.message),
    );
  }
  assert.equal(missing('chromium', { CI: 'true' }, present), false);
  assert.equal(missing('root', {}, present), false);
  assert.equal(missing('root', { CI: 'false' }, absent), skipLine('root'));
});

test('opt-in tests skip everywhere, CI included, unless asked for', () => {
  assert.match(optIn('AUTOBATCH_SLOW_X', 'slow', {}) as string, /^opt-in \(slow\): set AUTOBATCH_SLOW_X=1$/);
  assert.ok(optIn('AUTOBATCH_SLOW_X', 'slow', { CI: 'true' }));
  assert.equal(optIn('AUTOBATCH_SLOW_X', 'slow', { AUTOBATCH_SLOW_X: '1' }), false);
});

test('a Chromium counts only if it runs, not because its path exists', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autobatch-parts-'));
  try {
    const broken = path.join(dir, 'chromium');
    writeFileSync(broken, '#!/bin/sh\necho "error while loading shared libraries: libnss3.so" >&2\nexit 127\n');
    chmodSync(broken, 0o755);
    const r = chromiumRuns(broken);
    assert.ok(!r.ok && /exit 127/.test(r.reason) && /libnss3/.test(r.reason), JSON.stringify(r));
    assert.equal(chromiumRuns(path.join(dir, 'none')).ok, false);
    const fake = path.join(dir, 'fake-chromium');
    writeFileSync(fake, '#!/bin/sh\necho "Chromium 999.0"\n');
    chmodSync(fake, 0o755);
    assert.deepEqual(chromiumRuns(fake), { ok: true, detail: `${fake} (Chromium 999.0)` });
    // AUTOBATCH_CHROMIUM names the only candidate: no silent fallback to another browser.
    const only = findChromium({ AUTOBATCH_CHROMIUM: broken });
    assert.ok('reason' in only && only.reason.includes(broken) && !only.reason.includes('/usr/bin/chromium'), JSON.stringify(only));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the summary groups skipped tests by reason, most first, and ignores tests left out by a name filter', () => {
  const ev = (name: string, skip: string | undefined, file = '/r/dist/test/e2e/app.test.js', type?: string): RunnerEvent => ({
    type: 'test:pass',
    data: { name, skip, file, details: type ? { type } : {} },
  });
  const lines = summariseSkips([
    ev('a', 'needs Chromium: npm install'),
    ev('b', 'needs Chromium: npm install'),
    ev('c', 'opt-in (slow): set X=1', '/r/dist/test/integration/w.test.js'),
    ev('d', undefined),
    ev('e', 'test name does not match pattern'),
    ev('suite', 'needs Chromium: npm install', '/r/dist/test/e2e/app.test.js', 'suite'),
    { type: 'test:diagnostic', data: { name: 'x' } },
  ]);
  assert.deepEqual(lines, [
    'Skipped: 3 tests, in 2 groups',
    '- 2 × needs Chromium: npm install',
    '    in test/e2e/app.test.js',
    '- 1 × opt-in (slow): set X=1',
    '    in test/integration/w.test.js',
  ]);
  assert.deepEqual(summariseSkips([ev('d', undefined)]), []);
});
