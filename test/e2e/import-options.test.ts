// The Load-dataset form's image options, as a user drives them in a browser against
// `autobatch serve`: a size typed half-way is refused in the form, a pad smaller than the digits
// is refused by the service with its reason shown, and 32×32 pad RGB gives the sample as
// 32 × 32 × 3 with what was done said on the dataset's page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { closeSession, needsChromium, openSession, screenshot, type Served } from './harness.js';

let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  if (needsChromium) return;
  ({ served, browser, context, page } = await openSession({ viewport: { width: 1280, height: 900 }, timeoutMs: 20_000 }));
});

after(() => closeSession({ served, browser, context, page }));

async function openForm(): Promise<Locator> {
  await page.getByRole('button', { name: 'Load dataset', exact: true }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Load a dataset' });
  await dialog.waitFor();
  await dialog.getByText('Options', { exact: true }).click();
  return dialog;
}

test('Load dataset: the sample at 32×32, padded, in RGB', { skip: needsChromium, timeout: 180_000 }, async () => {
  await page.goto(served.url);
  await page.getByRole('link', { name: 'Datasets', exact: true }).click();
  const dialog = await openForm();
  await dialog.getByRole('spinbutton', { name: 'Sample limit' }).fill('200');
  const height = dialog.getByRole('spinbutton', { name: 'Image height' });
  const width = dialog.getByRole('spinbutton', { name: 'Image width' });
  const fit = dialog.getByRole('combobox', { name: 'Fit' });
  const colour = dialog.getByRole('combobox', { name: 'Colour' });
  assert.equal(await fit.inputValue(), 'resize');
  assert.equal(await colour.inputValue(), 'source');

  // Only one side: refused before anything is sent.
  await height.fill('32');
  await dialog.getByRole('button', { name: 'Use the MNIST sample' }).click();
  await dialog.getByRole('alert').getByText('Give both the image height and the image width, or neither.').waitFor();

  // By keyboard: Tab from the height to the width, then to Fit and Colour, chosen with the arrow keys.
  await height.focus();
  await page.keyboard.press('Tab');
  await page.keyboard.type('24');
  assert.equal(await width.inputValue(), '24');
  await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowDown');
  assert.equal(await fit.inputValue(), 'pad');
  await page.keyboard.press('Tab');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await colour.inputValue(), 'rgb');
  await height.fill('24');
  await screenshot(page, 'load-dataset-image-options');

  // 24×24 is smaller than the 28×28 digits: the service says so, naming the option.
  await dialog.getByRole('button', { name: 'Use the MNIST sample' }).click();
  await dialog
    .getByRole('alert')
    .getByText(/imageSize 24×24 is smaller than the sample images \(28×28×1\)/)
    // the message, and the same reason in the list of problems under it
    .first()
    .waitFor({ timeout: 60_000 });

  await height.fill('32');
  await width.fill('32');
  await dialog.getByRole('button', { name: 'Use the MNIST sample' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 60_000 });
  await page.getByText('32 × 32 × 3', { exact: true }).waitFor();
  await page.getByText('At import, the images were padded from 28×28 to 32×32 (centred on black); the grey channel copied into 3 (RGB).').waitFor();
  await screenshot(page, 'dataset-padded-rgb');
});
