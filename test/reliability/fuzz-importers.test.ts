// Fuzzing the dataset importers: ≥ 10 000 generated malformed inputs — CSV/TSV files, IDX pairs
// (raw and gzipped) and image folders — made of random bytes, truncated files, huge declared
// sizes, wrong dimensions, wrong types, one-class data, and odd unicode file and folder names.
// Each goes through the real importDataset (detection, parsing, decoding) in a small temporary
// folder and must end in a DatasetImportError whose message and problem list name a file —
// never another exception, never a hang (each import has its own deadline), never output left
// behind. RELIABILITY_SEED=<n> replays a run; RELIABILITY_FUZZ_INPUTS=<n> changes the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { DatasetImportError, importDataset } from '../../src/main/engine/datasets/index.js';
import { encodeIdxHeader } from '../../src/main/engine/datasets/idx.js';
import { removeDir, seededRandom, tempDir, within } from './helpers.js';
import { bmpHeader } from '../unit/datasets/helpers.js';

const INPUTS = Number(process.env.RELIABILITY_FUZZ_INPUTS ?? 10_000);
const PER_INPUT_MS = 10_000;
const CONCURRENCY = 4;

type Rnd = ReturnType<typeof seededRandom>;

/** Names a user's files may have: accents, both unicode normal forms, RTL, emoji, CJK, spaces, quotes, newlines, very long. */
const ODD_NAMES = [
  'café',
  'cafe\u0301',
  'שלום',
  '日本語',
  '🐱 cats',
  'a b',
  "it's",
  '"quoted"',
  'new\nline',
  'tab\there',
  '-dash',
  '%20',
  '\u202eevil',
  'x'.repeat(200),
  'Ω≈ç√',
  'null\u0000'.slice(0, 4),
  '..dots',
  'ends.',
  'back\\slash',
  '?*<>|',
];

function oddName(rnd: Rnd): string {
  return rnd.next() < 0.5 ? rnd.pick(ODD_NAMES) : `n${rnd.int(0, 99999)}`;
}

function randomBytes(rnd: Rnd, max: number): Buffer {
  const n = rnd.int(0, max);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd.int(0, 255);
  return b;
}

function truncate(rnd: Rnd, b: Buffer): Buffer {
  return b.subarray(0, rnd.int(0, Math.max(0, b.length - 1)));
}

/** Flips a few bytes (never none). */
function corrupt(rnd: Rnd, b: Buffer): Buffer {
  const out = Buffer.from(b);
  const n = rnd.int(1, 8);
  for (let i = 0; i < n && out.length; i++) out[rnd.int(0, out.length - 1)] = rnd.int(0, 255);
  return out;
}

// ---- CSV ---------------------------------------------------------------------------------

function validCsvRows(rnd: Rnd, features: number, rowsPerClass: number, classes: string[]): string[] {
  const rows: string[] = [];
  for (const c of classes)
    for (let r = 0; r < rowsPerClass; r++) rows.push([...Array.from({ length: features }, () => (rnd.next() * 10).toFixed(2)), c].join(','));
  return rows;
}

/** A CSV that is broken by construction; returns its bytes. */
function badCsv(rnd: Rnd): Buffer {
  const features = rnd.int(1, 6);
  const header = [...Array.from({ length: features }, (_, i) => `f${i}`), 'label'].join(',');
  const rows = validCsvRows(rnd, features, rnd.int(3, 8), ['a', 'b', rnd.pick(['c', 'ç', '猫', '🐶'])]);
  const i = rnd.int(0, rows.length - 1);
  switch (rnd.int(0, 11)) {
    case 0:
      return randomBytes(rnd, 3000);
    case 1: // a row with one column too few
      rows[i] = rows[i]!.split(',').slice(1).join(',');
      break;
    case 2: // a row with extra columns
      rows[i] = `${rows[i]},9,9`;
      break;
    case 3: // a feature that is no number
      rows[i] = [rnd.pick(['abc', '١٢٣', '1,5', '0x1G', '--1', '∞', '１２', '']), ...rows[i]!.split(',').slice(1)].join(',');
      break;
    case 4: // an overflowing number
      rows[i] = [rnd.pick(['1e999', '-1e400', 'Infinity', 'NaN']), ...rows[i]!.split(',').slice(1)].join(',');
      break;
    case 5: // an unbalanced quote and a NUL
      rows[i] = `"${rows[i]}\u0000`;
      rows[i] = `${rows[i]!.split(',').slice(0, -1).join(',')}`;
      break;
    case 6: // header only
      return Buffer.from(`${header}\n`);
    case 7: // one class only
      return Buffer.from([header, ...validCsvRows(rnd, features, 6, ['only'])].join('\n'));
    case 8: // empty, or only blank lines and a BOM
      return Buffer.from(rnd.pick(['', '\n\n\n', '\ufeff', '\ufeff\n']));
    case 9: // a missing label
      rows[i] = `${rows[i]!.split(',').slice(0, -1).join(',')},`;
      break;
    case 10: // truncated in the middle of a row (one fewer column at least)
      return Buffer.from([header, ...rows, `${rows[0]!.split(',').slice(0, -1).join(',').slice(0, -1)}`].join('\n'));
    default: // random bytes in the middle of an otherwise good file
      return Buffer.concat([
        Buffer.from([header, ...rows.slice(0, i)].join('\n') + '\n'),
        Buffer.concat([Buffer.from('x'), randomBytes(rnd, 200).map((b) => (b === 10 || b === 13 ? 0 : b))]) /* 'x': never a blank line or a number */,
        Buffer.from('\n' + rows.slice(i).join('\n')),
      ]);
  }
  return Buffer.from([header, ...rows].join('\n') + (rnd.next() < 0.5 ? '\n' : ''));
}

// ---- IDX ---------------------------------------------------------------------------------

function idx(typeCode: number, dims: number[], data: Buffer, magic = [0, 0]): Buffer {
  const head = encodeIdxHeader(typeCode, dims);
  head[0] = magic[0]!;
  head[1] = magic[1]!;
  return Buffer.concat([head, data]);
}

/** An images + labels pair, one of them broken by construction. */
function badIdx(rnd: Rnd): { images: Buffer; labels: Buffer } {
  const n = rnd.int(4, 20);
  const h = rnd.int(1, 8);
  const w = rnd.int(1, 8);
  const labelsData = Buffer.from(Array.from({ length: n }, (_, i) => i % 3));
  const imagesData = Buffer.from(Array.from({ length: n * h * w }, () => rnd.int(0, 255)));
  const good = { images: idx(0x08, [n, h, w], imagesData), labels: idx(0x08, [n], labelsData) };
  switch (rnd.int(0, 10)) {
    case 0:
      return { images: randomBytes(rnd, 600), labels: good.labels };
    case 1:
      return { images: good.images, labels: randomBytes(rnd, 100) };
    case 2: // huge declared sizes, little data
      return {
        images: idx(0x08, [rnd.pick([2 ** 31, 2 ** 32 - 1, n]), rnd.pick([65535, 2 ** 20, h]), rnd.pick([65535, 2 ** 31, 2 ** 32 - 1])], randomBytes(rnd, 400)),
        labels: good.labels,
      };
    case 3: // truncated data
      return { images: truncate(rnd, good.images), labels: rnd.next() < 0.5 ? good.labels : truncate(rnd, good.labels) };
    case 4: // wrong type codes
      return {
        images: idx(rnd.pick([0x09, 0x0b, 0x0c, 0x0e, 0x00, 0xff]), [n, h, w], imagesData),
        labels: idx(rnd.pick([0x08, 0x0d]) === 0x08 ? 0x0b : 0x0d, [n], labelsData),
      };
    case 5: // wrong numbers of dimensions
      return {
        images: idx(0x08, rnd.pick([[], [n], [n, h * w], [n, h, w, 5], [n, 1, 1, 1, 1, 1]]), imagesData),
        labels: idx(0x08, rnd.pick([[n], [n, 1], []]), labelsData),
      };
    case 6: // counts that disagree
      return { images: good.images, labels: idx(0x08, [n + rnd.int(1, 5)], Buffer.concat([labelsData, Buffer.alloc(5)])) };
    case 7: // bad magic
      return { images: idx(0x08, [n, h, w], imagesData, [rnd.int(1, 255), rnd.int(0, 255)]), labels: good.labels };
    case 8: // one class only
      return { images: good.images, labels: idx(0x08, [n], Buffer.alloc(n, 7)) };
    case 9: // extra bytes after the data
      return { images: Buffer.concat([good.images, randomBytes(rnd, 50), Buffer.from([1])]), labels: good.labels };
    default: // a zero dimension
      return { images: idx(0x08, [rnd.pick([0, n]), 0, w], Buffer.alloc(0)), labels: good.labels };
  }
}

// ---- image folders -------------------------------------------------------------------------

interface ImageKit {
  png: Buffer;
  jpeg: Buffer;
}

/** A PNG signature and IHDR declaring a huge image, then nothing useful. */
function hugePng(rnd: Rnd): Buffer {
  const ihdr = Buffer.alloc(25);
  ihdr.writeUInt32BE(13, 0);
  ihdr.write('IHDR', 4, 'ascii');
  ihdr.writeUInt32BE(rnd.pick([2 ** 31 - 1, 1_000_000, 65535]), 8);
  ihdr.writeUInt32BE(rnd.pick([2 ** 31 - 1, 1_000_000, 65535]), 12);
  ihdr[16] = 8;
  ihdr[17] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ihdr, randomBytes(rnd, 64)]);
}

/**
 * Class folders → files; at least one file is broken, or there is only one class. `lenient`:
 * the broken file is a JPEG with damaged or missing entropy-coded data, which the importer
 * decodes as far as it can by design (sharp failOn 'error': a camera's truncated JPEG still
 * gives a usable picture), so importing it is allowed.
 */
function badImageFolder(rnd: Rnd, kit: ImageKit): { classes: Map<string, Map<string, Buffer>>; lenient: boolean } {
  const classes = new Map<string, Map<string, Buffer>>();
  const nClasses = rnd.int(1, 3);
  for (let c = 0; c < nClasses; c++) {
    const files = new Map<string, Buffer>();
    for (let f = 0; f < rnd.int(2, 4); f++) files.set(`${oddName(rnd)}-${f}.png`, kit.png);
    classes.set(`c${c} ${oddName(rnd)}`, files); // not hidden ('.…' folders are ignored by design)
  }
  if (nClasses === 1 && rnd.next() < 0.5) return { classes, lenient: false }; // one class: no classifier to train
  const target = [...classes.values()][rnd.int(0, classes.size - 1)]!;
  // (Not starting with '.': hidden files are ignored by design, so they would break nothing.)
  const name = `bad ${oddName(rnd)}.${rnd.pick(['png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp', 'tif'])}`;
  let lenient = false;
  switch (rnd.int(0, 6)) {
    case 0:
      target.set(name, randomBytes(rnd, 2000));
      break;
    case 1: {
      const jpeg = rnd.next() < 0.5;
      // A PNG cut after its IDAT chunk (only IEND missing) has all its pixels: cut before that.
      target.set(name, jpeg ? truncate(rnd, kit.jpeg) : kit.png.subarray(0, rnd.int(0, Math.floor(kit.png.length * 0.7))));
      lenient = jpeg;
      break;
    }
    case 2:
      target.set(name, corrupt(rnd, kit.jpeg).subarray(0, Math.floor(kit.jpeg.length * 0.7)));
      lenient = true;
      break;
    case 3: // a BMP declaring a huge or negative or zero size
      target.set(name, bmpHeader(rnd.pick([2 ** 30, -5, 0, 1 << 20]), rnd.pick([2 ** 30, 0, -(2 ** 31), 3]), rnd.pick([24, 32, 7, 0]), rnd.int(0, 64)));
      break;
    case 4:
      target.set(name, hugePng(rnd));
      break;
    case 5: // an empty file
      target.set(name, Buffer.alloc(0));
      break;
    default: // an empty class folder beside the others
      classes.set(`empty ${oddName(rnd)}`, new Map());
  }
  return { classes, lenient };
}

// ---- the fuzz loop ---------------------------------------------------------------------------

type Kind = 'csv' | 'idx' | 'images';

/** Writes one generated input under `dir`; returns the source to import and whether it may import (see badImageFolder). */
function writeInput(rnd: Rnd, kit: ImageKit, kind: Kind, dir: string): { source: string; lenient: boolean } {
  mkdirSync(dir, { recursive: true });
  if (kind === 'csv') {
    const file = path.join(dir, `${oddName(rnd).replace(/[/]/g, '_')}.${rnd.pick(['csv', 'tsv', 'CSV'])}`);
    writeFileSync(file, badCsv(rnd));
    return { source: file, lenient: false };
  }
  if (kind === 'idx') {
    const pair = badIdx(rnd);
    const gz = rnd.next() < 0.25;
    const prefix = oddName(rnd).replace(/[/]/g, '_');
    const images = path.join(dir, `${prefix}-images-idx3-ubyte${gz ? '.gz' : ''}`);
    const labels = path.join(dir, `${prefix}-labels-idx1-ubyte${gz ? '.gz' : ''}`);
    // A gzipped file is sometimes cut short too.
    const pack = (b: Buffer) => (gz ? (rnd.next() < 0.3 ? truncate(rnd, gzipSync(b)) : gzipSync(b)) : b);
    writeFileSync(images, pack(pair.images));
    writeFileSync(labels, pack(pair.labels));
    return { source: rnd.next() < 0.5 ? images : dir, lenient: false };
  }
  const { classes, lenient } = badImageFolder(rnd, kit);
  for (const [cls, files] of classes) {
    const cdir = path.join(dir, cls.replace(/[/]/g, '_'));
    mkdirSync(cdir, { recursive: true });
    for (const [name, bytes] of files) writeFileSync(path.join(cdir, name.replace(/[/]/g, '_')), bytes);
  }
  return { source: dir, lenient };
}

test(`importers reject ${INPUTS} malformed inputs with a clear error naming the file`, { timeout: 240_000 }, async () => {
  const rnd = seededRandom();
  console.log(`# seed ${rnd.seed}`);
  const root = tempDir('autobatch-fuzz-');
  const kit: ImageKit = {
    png: await sharp({ create: { width: 6, height: 5, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .png()
      .toBuffer(),
    jpeg: await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 90, g: 20, b: 230 } } })
      .jpeg()
      .toBuffer(),
  };
  const counts: Record<Kind, number> = { csv: 0, idx: 0, images: 0 };
  const slowest = { ms: 0, kind: '' };
  const started = performance.now();
  let next = 0;
  let decodedLeniently = 0;
  try {
    let stop = false; // after a failure the other workers stop, so nothing is written after the clean-up
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        try {
          while (next < INPUTS && !stop) {
            const i = next++;
            // Image folders cost the most (a folder, several files, decoding): fewer of them.
            const kind: Kind = rnd.next() < 0.45 ? 'csv' : rnd.next() < 0.6 ? 'idx' : 'images';
            counts[kind]++;
            // Sometimes the source path itself has odd characters.
            const dir = path.join(root, `${i}${rnd.next() < 0.2 ? ` ${rnd.pick(['é', '🐱', 'שלום', 'a b'])}` : ''}`);
            const { source, lenient } = writeInput(rnd, kit, kind, dir);
            const out = path.join(root, `out-${i}`);
            const t0 = performance.now();
            let err: unknown;
            let listing = '';
            try {
              await within(importDataset(source, {}, out), PER_INPUT_MS, `importing fuzz input ${i} (${kind}, ${source})`);
              listing = JSON.stringify(readdirSync(dir, { recursive: true }));
              if (kind === 'csv') listing += ` ${JSON.stringify(readFileSync(source, 'latin1').slice(0, 600))}`;
            } catch (e) {
              err = e;
            }
            const ms = performance.now() - t0;
            if (ms > slowest.ms) Object.assign(slowest, { ms, kind });
            const what = `input ${i} (${kind}) ${JSON.stringify(source)}`;
            if (err === undefined && lenient) {
              decodedLeniently++;
              removeDir(out);
              removeDir(dir);
              continue;
            }
            assert.ok(err !== undefined, `${what} was imported, but it is malformed: ${listing}`);
            assert.ok(err instanceof DatasetImportError, `${what}: not a DatasetImportError: ${String((err as Error)?.stack ?? err)}`);
            assert.ok(err.message.length > 10 && !/undefined|\[object /.test(err.message), `${what}: unclear message: ${err.message}`);
            assert.ok(err.problems.length >= 1, `${what}: no problem listed`);
            assert.ok(
              err.problems.some((p) => p.file.length > 0),
              `${what}: no problem names a file: ${JSON.stringify(err.problems)}`,
            );
            for (const p of err.problems) assert.ok(typeof p.reason === 'string' && p.reason.length > 0, `${what}: a problem without a reason`);
            assert.ok(!existsSync(out), `${what}: output left behind`);
            removeDir(dir);
          }
        } catch (err) {
          stop = true;
          throw err;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `# ${INPUTS} inputs (csv ${counts.csv}, idx ${counts.idx}, image folders ${counts.images}) in ${seconds.toFixed(1)} s; slowest ${slowest.ms.toFixed(0)} ms (${slowest.kind}); ${decodedLeniently} damaged JPEGs decoded as far as they go (by design)`,
    );
    assert.deepEqual(
      readdirSync(root).filter((n) => n.includes('.importing-')),
      [],
      'no temporary folders left',
    );
  } finally {
    removeDir(root);
  }
});
