// The parts a machine with only Node and npm gets from the npm registry (test/support): the
// headless Chromium that @sparticuz/chromium ships runs and renders a page through Playwright,
// and the SwiftShader beside it gives Dawn a WebGPU adapter. CI has Debian's Chromium and Mesa,
// so without these tests the fallbacks a newcomer's `npm test` relies on would go unchecked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { packagedChromium, swiftshaderEnv, type PackagedChromium } from '../support/packaged-chromium.js';
import { chromiumRuns, probeWebgpu } from '../support/parts.js';

const skip =
  process.platform === 'linux' && process.arch === 'x64'
    ? false
    : `@sparticuz/chromium ships Chromium for Linux x64 only, not ${process.platform} ${process.arch}`;

function unpacked(): PackagedChromium {
  const pkg = packagedChromium();
  assert.ok(!('error' in pkg), 'error' in pkg ? pkg.error : '');
  return pkg;
}

test('the npm package’s Chromium runs and renders a page', { skip, timeout: 120_000 }, async () => {
  const pkg = unpacked();
  const runs = chromiumRuns(pkg.executable);
  assert.ok(runs.ok && /Chromium 143\./.test(runs.detail), JSON.stringify(runs));
  const browser = await chromium.launch({
    executablePath: pkg.executable,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    headless: true,
  });
  try {
    const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    await page.setContent(
      '<main><button aria-label="Go">Go</button><p id="n"></p></main><script>document.getElementById("n").textContent = new Intl.NumberFormat(navigator.language).format(12345.5)</script>',
    );
    assert.equal(await page.getByRole('button', { name: 'Go' }).count(), 1);
    assert.equal(await page.textContent('#n'), '12,345.5');
  } finally {
    await browser.close();
  }
});

test('the SwiftShader it ships opens a WebGPU adapter and device in Dawn', { skip, timeout: 120_000 }, () => {
  const pkg = unpacked();
  // No system driver may answer instead: only the package's manifest is offered to the loader.
  const found = probeWebgpu({ ...process.env, ...swiftshaderEnv(pkg) });
  assert.ok(found.ok && /swiftshader/i.test(found.detail), JSON.stringify(found));
});
