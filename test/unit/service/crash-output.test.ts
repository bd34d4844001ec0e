// A crashed trainer's output: V8 says "heap out of memory" and then prints a native stack long
// enough to push that line out of any tail. The line is kept, so the run fails as oom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { looksLikeOutOfMemory } from '../../../src/shared/failure-text.js';
import { CrashOutput } from '../../../src/main/service/crash-output.js';

const OOM = 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory';
const stack = (n: number) => Array.from({ length: n }, (_, i) => ` ${i}: 0x${(0x195e376 + i).toString(16)}  [/usr/bin/node]`).join('\n');

test('the out-of-memory line survives a stack trace longer than the tail', () => {
  const out = new CrashOutput();
  out.keep(Buffer.from('tfjs: some warning\n'));
  out.keep(Buffer.from(`<--- Last few GCs --->\n${OOM}\n`));
  out.keep(Buffer.from(stack(400)));
  const text = out.text();
  assert.ok(text.startsWith(`${OOM}\n…\n`), text.slice(0, 200));
  assert.ok(looksLikeOutOfMemory(text));
  assert.ok(text.endsWith('[/usr/bin/node]'), 'the end of the output is kept too');
  assert.ok(text.length < 4000 + OOM.length + 10);
});

test('a crash without an out-of-memory line is told by its tail alone; the line is not repeated when the tail holds it', () => {
  const plain = new CrashOutput();
  plain.keep('Segmentation fault\n');
  plain.keep(stack(3));
  assert.equal(plain.text(), `Segmentation fault\n${stack(3)}`);
  assert.equal(looksLikeOutOfMemory(plain.text()), false);
  const short = new CrashOutput();
  short.keep(`${OOM}\n${stack(2)}`);
  assert.equal(short.text(), `${OOM}\n${stack(2)}`);
});

test('an out-of-memory line split between two chunks, with chunks of the other stream in between, is still found', () => {
  const out = new CrashOutput();
  const stderr = out.stream();
  const stdout = out.stream();
  stderr('<--- Last few GCs --->\n' + OOM.slice(0, 50));
  stdout('tfjs: a warning\n');
  stderr(`${OOM.slice(50)}\n`);
  stderr(stack(400));
  assert.ok(out.text().startsWith(`${OOM}\n…\n`), out.text().slice(0, 200));
});
