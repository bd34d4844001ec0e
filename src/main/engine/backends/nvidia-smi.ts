// One place that asks nvidia-smi: the first line of a query, or undefined where there is no
// NVIDIA driver (or it does not answer within 5 s).
import { execFileSync } from 'node:child_process';

export function nvidiaSmiQuery(query: string, format = 'csv,noheader'): string | undefined {
  try {
    const out = execFileSync('nvidia-smi', [`--query-gpu=${query}`, `--format=${format}`], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}
