// Prints the WebGPU adapter this machine offers (one JSON line): the GPU check's first word.
import { probeWebgpuAdapter } from '../../src/main/engine/backends/webgpu.js';

try {
  const a = await probeWebgpuAdapter();
  process.stdout.write(JSON.stringify(a) + '\n');
  process.exit(0);
} catch (err) {
  process.stdout.write(JSON.stringify({ error: (err as Error).message }) + '\n');
  process.exit(1);
}
