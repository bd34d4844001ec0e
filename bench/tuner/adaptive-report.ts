// Prints the adaptive benchmark's tables from its results files (bench/tuner/adaptive.ts):
// `node dist/bench/tuner/adaptive-report.js docs/bench-results/<date>/adaptive/*.jsonl`.
import { readFileSync } from 'node:fs';
import { adaptiveRecordSchema, adaptiveTable } from './adaptive.js';

for (const file of process.argv.slice(2)) {
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const r = adaptiveRecordSchema.safeParse(JSON.parse(l));
      if (!r.success) throw new Error(`${file}:${i + 1}: not an adaptive-benchmark record`);
      return r.data;
    });
  process.stdout.write(adaptiveTable(records) + '\n');
}
