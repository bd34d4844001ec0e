// Issue 20 in a browser against `autobatch serve`: a tuning measured under another app version is
// stale — the Tune screen says what changed beside "Train with this" (which it describes), and
// "Tune again", pressed from the keyboard, repeats the search, which is then up to date; one
// stored before fingerprints were kept reads "fingerprint unknown" in Past searches.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { closeSession, describedBy, needsChromium, openSession, repoRoot, screenshot, type Served } from './harness.js';

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;

/** The CLI on serve's data folder (its settings train on wasm). */
function cli(...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'autobatch.js'), ...args, '--json'], {
    env: { ...process.env, AUTOBATCH_HOME: served.home },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function sql(statement: string, ...params: unknown[]): void {
  const db = new Database(path.join(served.home, 'autobatch.db'));
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

before(async () => {
  if (needsChromium) return;
  ({ served, browser, context, page } = await openSession({ viewport: { width: 1280, height: 1000 }, timeoutMs: 30_000 }));
});

after(() => closeSession({ served, browser, context, page }));

test('Tune: a stale tuning says what changed, and Tune again measures afresh', { skip: needsChromium, timeout: 300_000 }, async () => {
  cli('datasets', 'import', 'sample:mnist', '--limit', '300');
  const tune = () => cli('tune', '--dataset', 'mnist', '--model', 'mlp', '--no-lr-search').id as number;
  const stale = tune();
  const old = tune();
  // As if measured by an older app; and one stored before fingerprints were kept.
  sql("UPDATE tuning_sessions SET fingerprint = json_set(fingerprint, '$.appVersion', '0.0.1') WHERE id = ?", stale);
  sql('UPDATE tuning_sessions SET fingerprint = NULL WHERE id = ?', old);

  await page.goto(`${served.url}#/tune/${stale}`);
  const warning = page.locator('#stale-warning');
  await warning.getByText(/^The app is now version \d+\.\d+\.\d+, was 0\.0\.1\.$/).waitFor();
  const train = page.getByRole('button', { name: 'Train with this', exact: true });
  assert.match(await describedBy(page, train), /Stale: This tuning may no longer hold: one thing it measured has changed since\./);

  const past = page.getByRole('region', { name: 'Past searches' });
  const row = (id: number) => past.getByRole('listitem').filter({ has: page.getByRole('link', { name: `Search ${id}`, exact: true }) });
  await row(stale).getByText('stale', { exact: true }).waitFor();
  await row(stale)
    .getByText(/the app is now version .*, was 0\.0\.1/)
    .waitFor();
  await row(old).getByText('fingerprint unknown', { exact: true }).waitFor();
  await screenshot(page, 'tune-stale');

  // From the keyboard: the button is reached and pressed without a mouse.
  const again = page.getByRole('button', { name: `Tune again: repeat search ${stale} on this machine now` });
  await again.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/tune\/\d+$/);
  await page.waitForURL((url) => Number(/#\/tune\/(\d+)$/.exec(url.hash)?.[1]) > old);
  const fresh = Number(/#\/tune\/(\d+)$/.exec(page.url())![1]);
  // Listed up to date once its search has ended (the list is read again at each search's end).
  await row(fresh).getByText('up to date', { exact: true }).waitFor({ timeout: 150_000 });
  await train.waitFor();
  assert.equal(await warning.count(), 0);
  // Measured afresh: the search ran (trials stored), no earlier findings stood in.
  const detail = cli('tunings', 'show', String(fresh));
  assert.equal((detail.request as { reuseKnown?: boolean }).reuseKnown, false);
  assert.ok((detail.trials as unknown[]).length > 0);
});
