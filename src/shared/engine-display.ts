// How the two engines, the backend choices and the Python found for PyTorch read in plain words:
// one wording for the Settings screen and `autobatch settings`, which show the same Backends
// object. Pure (no DOM, no Node).
import type { BackendAvailability, Backends, PythonCandidate, PythonFinding } from './api/data.js';
import type { BackendChoice, Engine } from './run-types.js';

export const ENGINE_LABELS: Readonly<Record<Engine, string>> = { tfjs: 'tfjs (built in)', torch: 'PyTorch' };

const CHOICE_LABELS: Readonly<Record<BackendChoice, string>> = {
  auto: 'auto (the fastest that works)',
  'torch-cuda': 'torch-cuda (PyTorch on an NVIDIA GPU)',
  'torch-mps': 'torch-mps (PyTorch on Apple silicon)',
  tensorflow: 'tensorflow (tfjs-node: CUDA, else the CPU)',
  webgpu: 'webgpu (tfjs on the GPU through WebGPU)',
  'torch-cpu': 'torch-cpu (PyTorch on the CPU)',
  wasm: 'wasm (tfjs WebAssembly on the CPU)',
  cpu: 'cpu (tfjs in plain JavaScript, the slowest)',
};

/** A backend choice as menus list it: the name, then what it trains with and on. */
export function backendChoiceLabel(choice: BackendChoice): string {
  return CHOICE_LABELS[choice];
}

const SOURCE_LABELS: Readonly<Record<PythonCandidate['source'], string>> = {
  '--python': 'the --python flag',
  AUTOBATCH_PYTHON: 'AUTOBATCH_PYTHON',
  settings: 'Settings',
  PATH: 'PATH',
  system: 'the system Python',
};

/** Where a candidate came from, in words ('PATH', 'Settings', 'the --python flag'…). */
export function candidateSource(c: PythonCandidate): string {
  return SOURCE_LABELS[c.source];
}

/** "Python 3.11.2, torch 1.13.0a0"; a dash for what it did not report (it did not start, torch did not import). */
export function candidateVersions(c: Pick<PythonCandidate, 'pythonVersion' | 'torchVersion'>): string {
  return `Python ${c.pythonVersion ?? '—'}, torch ${c.torchVersion ?? '—'}`;
}

/** Why it was passed over, or that it is the one used. */
export function candidateVerdict(c: PythonCandidate): string {
  return c.rejected ?? 'used';
}

/** One line about the finding: the interpreter used with its versions, or that none has torch. */
export function pythonSummary(p: PythonFinding): string {
  if (p.executable === null) {
    const tried = p.candidates.length === 0 ? 'none was tried' : `${p.candidates.length} ${p.candidates.length === 1 ? 'interpreter' : 'interpreters'} tried`;
    return `No Python with PyTorch found (${tried}).`;
  }
  return `${p.executable}: ${candidateVersions(p)}`;
}

/** The rungs of the ladder the torch engine trains on, in ladder order. */
export function torchRungs(b: Backends): BackendAvailability[] {
  return b.backends.filter((r) => r.engine === 'torch');
}

/** What a rung would train on when available, else why not. */
export function rungDetail(r: BackendAvailability): string {
  return (r.available ? r.device : r.reason) ?? '';
}

/** The versions the torch rungs need (issue #15: torch-cpu and torch-cuda 1.13, torch-mps 2.0). */
export const TORCH_REQUIREMENT = 'torch 1.13 or later (2.0 for Apple MPS) on Python 3.8 or later';

export interface InstallStep {
  text: string;
  /** A command to type, shown as code. */
  command?: string;
}

/**
 * How to get a Python with torch the app finds. The last step names the interpreter: in the app
 * that is the "Python for PyTorch" field, on the command line `autobatch settings --python`.
 */
export function installSteps(where: 'app' | 'cli'): InstallStep[] {
  return [
    { text: 'On Debian or Ubuntu:', command: 'apt-get install -y python3-torch' },
    { text: 'Elsewhere, in the Python you use:', command: 'pip install torch' },
    where === 'app'
      ? { text: 'Or name a Python that has torch in “Python for PyTorch” below.' }
      : { text: 'Or name a Python that has torch:', command: 'autobatch settings --python /path/to/python3' },
  ];
}

/** The longest path the service takes (the contract's limit). */
export const PYTHON_PATH_MAX = 4096;

/**
 * Checks a typed interpreter path or command; the trimmed value, or a message naming the field.
 * Clearing is its own action, so an empty value is a mistake here, not a way to clear.
 */
export function parsePythonPath(text: string): { value: string } | { error: string } {
  const value = text.trim();
  if (value === '')
    return { error: 'Python for PyTorch: enter the path or command of a Python interpreter (e.g. /usr/bin/python3), or Clear to let the app look for one.' };
  if (value.length > PYTHON_PATH_MAX) return { error: `Python for PyTorch: at most ${PYTHON_PATH_MAX} characters (this one has ${value.length}).` };
  if (/[\r\n\0]/.test(value)) return { error: 'Python for PyTorch: one path or command on one line.' };
  return { value };
}
