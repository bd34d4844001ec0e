// `autobatch settings --backends` as text: an Engine column on the ladder, auto's concrete rung,
// and the PyTorch engine — the interpreter and the torch rungs' devices, or every candidate with
// its reason and how to install torch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendsLines, pytorchLines } from '../../../src/main/cli/backends-text.js';
import { withoutTorch, withTorch } from '../../support/backends-fixture.js';

test('the ladder has an Engine column, one row per rung in order, and auto names its rung', () => {
  const lines = backendsLines(withTorch);
  assert.match(lines[0]!, /^Backend\s+Engine\s+Status\s+Device or reason$/);
  const rows = lines.slice(1, 1 + withTorch.backends.length);
  assert.deepEqual(
    rows.map((l) => l.split(/\s{2,}/).slice(0, 3)),
    withTorch.backends.map((r) => [r.label, r.engine === 'torch' ? 'PyTorch' : 'tfjs (built in)', r.available ? 'available' : 'unavailable']),
  );
  assert.ok(lines.includes('Auto picks torch-cpu on CPU (PyTorch 1.13.0a0, 2 threads).'));
  assert.ok(lines.includes('  skipped torch-cuda: torch.cuda.is_available() is False (no CUDA device)'));
  assert.equal(lines.at(-1), 'Detected 2026-11-30T12:00:00.000Z.');
});

test('found: the interpreter, each torch rung with its device or reason, the candidates, no install steps', () => {
  const lines = pytorchLines(withTorch);
  assert.deepEqual(lines.slice(0, 5), [
    'PyTorch engine',
    '  /usr/bin/python3: Python 3.11.2, torch 1.13.0a0',
    '  torch-cuda: unavailable, torch.cuda.is_available() is False (no CUDA device)',
    '  torch-mps: unavailable, MPS needs torch 2.0 or later (this is 1.13.0a0)',
    '  torch-cpu: available, CPU (PyTorch 1.13.0a0, 2 threads)',
  ]);
  const text = lines.join('\n');
  assert.match(text, /python3\s+PATH\s+Python 3\.12\.1, torch —\s+No module named 'torch'/);
  assert.match(text, /\/usr\/bin\/python3\s+the system Python\s+Python 3\.11\.2, torch 1\.13\.0a0\s+used/);
  assert.doesNotMatch(text, /apt-get|pip install/);
});

test('not found: every candidate with its reason, then apt-get, pip and settings --python', () => {
  const text = pytorchLines(withoutTorch).join('\n');
  assert.match(text, /No Python with PyTorch found \(3 interpreters tried\)\./);
  assert.match(text, /\/opt\/py\/bin\/python\s+Settings\s+Python —, torch —\s+not found: \/opt\/py\/bin\/python/);
  assert.match(text, /Python 3\.7\.3 is older than 3\.8; torch 1\.12\.1 is older than 1\.13/);
  assert.match(text, /PyTorch needs torch 1\.13 or later \(2\.0 for Apple MPS\) on Python 3\.8 or later\. To get it:/);
  assert.match(text, /On Debian or Ubuntu: apt-get install -y python3-torch\n.*pip install torch\n.*autobatch settings --python \/path\/to\/python3$/);
});
