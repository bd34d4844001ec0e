// The palette of src/renderer/styles/app.css: text colours keep WCAG AA's 4.5:1 on the
// backgrounds they sit on, in both themes, and the dark palette written twice (for a system in
// dark mode, and for a user who picked dark) is the same both times. axe-core checks the screens
// themselves in the end-to-end tests; this names the colour pair when one is changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const css = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../src/renderer/styles/app.css'), 'utf8');

/** The custom properties declared in the first rule whose selector starts with `selector`. */
function block(selector: string): Record<string, string> {
  const start = css.indexOf(`${selector} {`);
  assert.ok(start >= 0, `no rule ${selector} in app.css`);
  const body = css.slice(start, css.indexOf('}', start));
  return Object.fromEntries([...body.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

function luminance(hex: string): number {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  assert.ok(m, `${hex} is not a #rrggbb colour`);
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(m[1]!.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const light = block(':root');
const systemDark = block(":root:not([data-theme='light'])");
const pickedDark = block(":root[data-theme='dark']");

test('contrast ratios as WCAG defines them', () => {
  assert.equal(contrast('#000000', '#ffffff').toFixed(2), '21.00');
  assert.equal(contrast('#2f6fdb', '#e5eefc').toFixed(2), '4.07'); // the navigation link, before
});

test('the dark palette is the same whether the system or the user chose it', () => {
  assert.ok(Object.keys(pickedDark).length >= 20);
  assert.deepEqual(systemDark, pickedDark);
});

for (const [theme, p] of [
  ['light', light],
  ['dark', pickedDark],
] as const) {
  test(`${theme}: every text colour has 4.5:1 on the backgrounds it is shown on`, () => {
    const low: string[] = [];
    const check = (fg: string, bg: string) => {
      const r = contrast(p[fg]!, p[bg]!);
      if (r < 4.5) low.push(`${fg} ${p[fg]} on ${bg} ${p[bg]}: ${r.toFixed(2)}:1`);
    };
    for (const fg of ['--text', '--text-muted', '--accent', '--ok', '--warn', '--bad']) {
      for (const bg of ['--bg', '--surface', '--surface-2']) check(fg, bg);
    }
    // Badges, notices and the current navigation link: a colour on its own soft tint.
    for (const name of ['accent', 'ok', 'warn', 'bad']) check(`--${name}`, `--${name}-soft`);
    check('--text-muted', '--accent-soft');
    check('--accent-text', '--accent');
    assert.deepEqual(low, []);
  });
}
