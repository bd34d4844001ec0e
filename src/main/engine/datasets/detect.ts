import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DatasetKind } from '../../../shared/dataset-types.js';
import { IMAGES_RE, LABELS_RE } from './idx.js';
import { DatasetImportError, describeError } from './problems.js';

export const MNIST_SAMPLE_SOURCE = 'sample:mnist';

export function isMnistSample(source: string): boolean {
  return source.trim().toLowerCase() === MNIST_SAMPLE_SOURCE;
}

function fatal(source: string, file: string, reason: string): never {
  throw new DatasetImportError(`Cannot import ${source}: ${file && file !== source ? `${file}: ` : ''}${reason}`, [{ file, reason }]);
}

function readHead(file: string, n: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * What kind of dataset a source is: 'sample:mnist'; a folder holding an IDX images + labels pair;
 * any other folder (one subfolder per class); a .csv / .tsv file; an IDX file (named *idx* or
 * starting with an IDX header, gzipped or not). Throws DatasetImportError when it is none of these.
 */
export function detectSourceKind(source: string): DatasetKind {
  if (isMnistSample(source)) return 'mnist-sample';
  if (/^sample:/i.test(source.trim())) fatal(source, source, `unknown sample: the bundled sample is "${MNIST_SAMPLE_SOURCE}"`);
  let st;
  try {
    st = statSync(source);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    fatal(source, source, code === 'ENOENT' ? 'does not exist' : `cannot read: ${describeError(err)}`);
  }
  if (st.isDirectory()) {
    let names: string[];
    try {
      names = readdirSync(source).filter((n) => !n.startsWith('.'));
    } catch (err) {
      fatal(source, source, `cannot read the folder: ${describeError(err)}`);
    }
    const hasImages = names.some((n) => IMAGES_RE.test(n) && !statSync(path.join(source, n)).isDirectory());
    const hasLabels = names.some((n) => LABELS_RE.test(n) && !statSync(path.join(source, n)).isDirectory());
    return hasImages || hasLabels ? 'idx' : 'image-folder';
  }
  if (!st.isFile()) fatal(source, source, 'not a file or folder');
  const base = path.basename(source).toLowerCase();
  if (/\.(csv|tsv|tab)$/.test(base)) return 'csv';
  if (/idx\d/.test(base)) return 'idx';
  let head: Buffer;
  try {
    head = readHead(source, 4);
  } catch (err) {
    fatal(source, source, `cannot read: ${describeError(err)}`);
  }
  if (head.length === 4 && head[0] === 0 && head[1] === 0 && [0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e].includes(head[2]!) && head[3]! >= 1 && head[3]! <= 8) {
    return 'idx';
  }
  return fatal(
    source,
    path.basename(source),
    'not a dataset: expected a folder with one subfolder per class, a .csv or .tsv file, an IDX images file or folder (e.g. train-images-idx3-ubyte[.gz]), or sample:mnist',
  );
}
