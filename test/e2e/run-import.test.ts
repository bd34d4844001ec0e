// Issue 21 in a browser against `autobatch serve`: "Import distributed run…" on the Runs screen
// uploads a recipe's metrics file; an unfinished one is refused in place with
// the reason and stored as an interrupted run on request; the run is listed as imported, and its
// page tells where it trained and the plan it came from.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { closeSession, needsChromium, openSession, repoRoot, screenshot, type Served, tempDir, unnamedControls } from './harness.js';

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  if (needsChromium) return;
  ({ served, browser, context, page } = await openSession({ viewport: { width: 1280, height: 1000 }, timeoutMs: 30_000 }));
});

after(() => closeSession({ served, browser, context, page }));

/** A table of 40 rows imported through the CLI; the metrics file written for its split, classes and content hash, without its end line. */
function unfinishedMetricsFile(): string {
  const dir = tempDir('autobatch-e2e-ddp-');
  const csv = path.join(dir, 'table.csv');
  writeFileSync(csv, ['a,b,label', ...Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2 ? 'odd' : 'even'}`)].join('\n') + '\n');
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'autobatch.js'), 'datasets', 'import', csv, '--name', 'table', '--json'], {
    env: { ...process.env, AUTOBATCH_HOME: served.home },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const db = new Database(path.join(served.home, 'autobatch.db'), { readonly: true });
  const hash = (db.prepare("SELECT content_hash AS h FROM datasets WHERE name = 'table'").get() as { h: string }).h;
  db.close();
  const [start, ...rest] = readFileSync(path.join(repoRoot, 'test', 'fixtures', 'recipe-metrics', 'no-end.jsonl'), 'utf8')
    .trimEnd()
    .split('\n');
  const s = JSON.parse(start!) as { origin: { kind: string; id: number }; dataset: { contentHash: string | null } };
  // The tuning it was planned from is not in this data folder: the content hash finds the dataset.
  s.origin = { ...s.origin, kind: 'tuning', id: 3 };
  s.dataset.contentHash = hash;
  const file = path.join(dir, 'metrics.jsonl');
  writeFileSync(file, [JSON.stringify(s), ...rest].join('\n') + '\n');
  return file;
}

test(
  'Runs: import a distributed run from the keyboard; an unfinished file is stored as an interrupted run on request',
  { skip: needsChromium, timeout: 120_000 },
  async () => {
    const file = unfinishedMetricsFile();
    await page.goto(`${served.url}#/runs`);
    const importButton = page.getByRole('button', { name: 'Import distributed run…' });
    await importButton.focus();
    assert.equal(await page.locator(':focus').innerText(), 'Import distributed run…');
    assert.match(await importButton.getAttribute('aria-describedby').then((id) => page.locator(`#${id}`).innerText()), /metrics\.jsonl/);
    // The button opens this input's file chooser (headless Chromium shows none): the file is given to it.
    await page.getByLabel('Metrics file to upload').setInputFiles(file);

    const alert = page.getByRole('alert');
    // Named as the user knows the file, not by the server's copy of the upload.
    await alert
      .getByText(new RegExp(`${path.basename(file).replace('.', '\\.')} \\(uploaded\\), line 7: no "end" line after this one: the run looks unfinished`))
      .waitFor();
    const store = page.getByRole('button', { name: 'Store what it has as an interrupted run' });
    await store.focus();
    await page.keyboard.press('Enter');
    const status = page.getByRole('status').filter({ hasText: 'Imported as' });
    await status.getByText(/PyTorch DDP, 2 workers, gloo on CPU, PyTorch 2\.1\.0 — from the plan of tuning 3/).waitFor();
    assert.equal(await alert.count(), 0);

    const history = page.getByRole('region', { name: 'Run history' });
    const row = history.getByRole('row').filter({ has: page.getByRole('link', { name: 'Run 1', exact: true }) });
    await row.getByText('pytorch-ddp ×2').waitFor();
    await row.getByText('interrupted').waitFor();
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, 'runs-imported');

    await status.getByRole('link', { name: 'run 1' }).click();
    await page
      .getByLabel('Trained elsewhere')
      .getByText(/PyTorch DDP, 2 workers, gloo on CPU, PyTorch 2\.1\.0 — from the plan of tuning 3 \(stored without its end line\)/)
      .waitFor();
    const made = page.getByRole('region', { name: 'How this model was made' });
    await made.getByText(/from the plan of tuning 3/).waitFor();
    await made.getByText('(not stored here)').waitFor();
    await made.getByText(`${path.basename(file)} (uploaded)`, { exact: false }).waitFor();
    assert.deepEqual(await unnamedControls(page), []);
    await screenshot(page, 'run-imported');
  },
);
