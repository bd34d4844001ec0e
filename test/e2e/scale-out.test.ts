// Issue 21 in a browser against `autobatch serve`: after a real Full search (the MLP on 1 000
// MNIST digits), the Tune screen's "Scaling out" section holds the plan's table (captioned, one
// row per worker count, each row header described by its reason), the reasons behind a
// keyboard-operable disclosure and the assumptions as a list; a run trained with the tuning shows
// its own plan. The section's picture is docs/screenshots/tuning-scale-out.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ScaleOutAnswer, TuningDetail } from '../../src/shared/api/index.js';
import { closeSession, needsChromium, openSession, repoRoot, screenshot, type Served } from './harness.js';

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;

/** The CLI on serve's data folder (its settings train on wasm), as JSON. */
function cli<T>(...args: string[]): T {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'autobatch.js'), ...args, '--json'], {
    env: { ...process.env, AUTOBATCH_HOME: served.home },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

before(async () => {
  if (needsChromium) return;
  ({ served, browser, context, page } = await openSession({ viewport: { width: 1280, height: 1000 }, timeoutMs: 30_000 }));
});

after(() => closeSession({ served, browser, context, page }));

test('Tune and Runs: the scale-out plan as a table with its reasons and assumptions', { skip: needsChromium, timeout: 300_000 }, async () => {
  cli('datasets', 'import', 'sample:mnist', '--limit', '1000');
  // A ten-minute planned run leaves the Full search time for the noise scale and its re-measurement.
  const t = cli<TuningDetail>('tune', '--dataset', 'mnist', '--model', 'mlp', '--mode', 'full', '--epochs', '5', '--budget', '10m');
  const plan = t.scaleOutPlan!;

  await page.goto(`${served.url}#/tune/${t.id}`);
  const section = page.getByRole('region', { name: 'Scaling out', exact: true });
  const table = section.getByRole('table', { name: /What 1, 2, 4 and 8 workers train with/ });
  await table.waitFor();
  const rows = table.locator('tbody tr');
  assert.equal(await rows.count(), 4);
  for (const [i, r] of plan.rows.entries()) {
    const cells = (await rows.nth(i).locator('th, td').allInnerTexts()).map((c) => c.trim());
    assert.equal(cells[0], String(r.workers));
    assert.match(cells[1]!, new RegExp(`^${r.perWorkerBatch}`));
    assert.equal(cells[2], String(r.globalBatch));
    assert.equal(cells[6], `${r.speedup.toLocaleString('en-US', { maximumFractionDigits: 2 })}×`);
    // Each row's header is described by why its batch was chosen (in the closed disclosure: its text, not what is drawn).
    const describer = await rows.nth(i).getByRole('rowheader').getAttribute('aria-describedby');
    assert.equal((await page.locator(`[id="${describer}"]`).textContent())?.trim(), r.reason);
  }
  const assumptions = section.getByRole('list', { name: 'Assumptions' }).getByRole('listitem');
  assert.deepEqual(await assumptions.allInnerTexts(), plan.assumptions);
  await section.getByText(/communication is not counted/).waitFor();

  // The reasons open from the keyboard.
  const why = section.getByText("Why each row's batch", { exact: true });
  await why.focus();
  await page.keyboard.press('Enter');
  await section.getByText(plan.rows[3]!.reason, { exact: true }).waitFor();
  await why.blur(); // no focus ring in the picture
  await screenshot(page, 'tuning-scale-out', section);

  // A run trained with the tuning: its own plan on its page (the tuning's report below does not repeat it).
  const run = cli<{ id: number }>('train', '--from-tuning', String(t.id), '--epochs', '1', '--max-steps', '2');
  const runPlan = cli<ScaleOutAnswer>('runs', 'plan', String(run.id));
  await page.goto(`${served.url}#/runs/${run.id}`);
  const runSection = page.getByRole('region', { name: 'Scaling out', exact: true });
  await runSection.getByText(`tuning ${t.id}'s measurements`, { exact: false }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Scaling out' }).count(), 1);
  assert.deepEqual(await runSection.getByRole('list', { name: 'Assumptions' }).getByRole('listitem').allInnerTexts(), runPlan.plan.assumptions);
});
