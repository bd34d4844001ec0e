// `npm run bench:report`: the Auto-tune benchmark's tables in docs/benchmarks.md, generated from
// its raw results (docs/bench-results/<date>/tuner/*.jsonl, the newest file of each workload and
// backend) between the markers below. `--check` changes nothing and fails when the document does
// not hold what the results give (the tests run it), so no figure there is copied by hand.
//
//   npm run bench:report [-- --results docs/bench-results] [--doc docs/benchmarks.md] [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { allFiles, newestFiles, renderTunerReport, replaceBetweenMarkers } from './tuner/report-doc.js';

const { values: args } = parseArgs({
  options: {
    results: { type: 'string', default: path.join('docs', 'bench-results') },
    doc: { type: 'string', default: path.join('docs', 'benchmarks.md') },
    check: { type: 'boolean' },
  },
});

const files = newestFiles(args.results, path.dirname(args.doc));
const doc = readFileSync(args.doc, 'utf8');
const updated = replaceBetweenMarkers(doc, renderTunerReport(files, allFiles(args.results, path.dirname(args.doc))), args.doc);
if (args.check) {
  if (updated !== doc) {
    process.stderr.write(`${args.doc} does not hold what the Auto-tune benchmark's results give: run npm run bench:report\n`);
    process.exitCode = 1;
  } else process.stdout.write(`${args.doc}: the Auto-tune benchmark's tables match ${files.length} results file(s)\n`);
} else {
  writeFileSync(args.doc, updated);
  process.stdout.write(`${args.doc}: the Auto-tune benchmark's tables from ${files.length} results file(s)\n`);
}
