// IDX (the MNIST format): an images file (N×H×W or N×H×W×C) and a labels file (N), each plain or
// gzipped (detected by the 1f 8b magic). Header problems, truncation, extra bytes and count
// mismatches are fatal: a file that does not hold what its header declares cannot be trusted.
// Declared sizes are checked against the file size (or, for gzip, against the most a gzip file
// of that size can expand to, ~1032:1) before anything is allocated, and decompression stops
// at the declared size, so a zip bomb never allocates more than the header allows.
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { DatasetImportError, describeError, type ProblemLog } from './problems.js';
import type { ImporterContext, RawDataset } from './types.js';
import { sortClassNames } from './util.js';

export const IDX_TYPES: Record<number, { size: number; name: string }> = {
  0x08: { size: 1, name: 'unsigned byte' },
  0x09: { size: 1, name: 'signed byte' },
  0x0b: { size: 2, name: 'short' },
  0x0c: { size: 4, name: 'int' },
  0x0d: { size: 4, name: 'float' },
  0x0e: { size: 8, name: 'double' },
};
/** Largest data part of one IDX file that is read into memory. */
export const MAX_IDX_BYTES = 2 ** 31 - 1;
/** Deflate cannot expand by more than about 1032:1. */
const MAX_GZIP_RATIO = 1032;

export const IMAGES_RE = /images.*idx[34]/i;
export const LABELS_RE = /labels.*idx1/i;

export interface IdxArray {
  typeCode: number;
  dims: number[];
  /** The data part, big-endian as in the file. */
  data: Buffer;
}

interface IdxHeader {
  typeCode: number;
  dims: number[];
  headerBytes: number;
  dataBytes: bigint;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0').toUpperCase()}`;
}

function describeDims(h: IdxHeader): string {
  return `${h.dims.join('×')} ${IDX_TYPES[h.typeCode]!.name} values (${h.dataBytes} bytes)`;
}

/** Parses the header once enough bytes are there: undefined when more are needed. */
function parseHeader(head: Buffer, fail: (reason: string) => never): IdxHeader | undefined {
  if (head.length < 4) return undefined;
  if (head[0] !== 0 || head[1] !== 0) {
    fail(`not an IDX file: it starts with ${hex(head[0]!)} ${hex(head[1]!)}, expected 0x00 0x00 then a type code and a dimension count`);
  }
  const typeCode = head[2]!;
  const type = IDX_TYPES[typeCode];
  if (!type) fail(`unknown IDX type code ${hex(typeCode)}: expected 0x08 (unsigned byte), 0x09, 0x0B, 0x0C, 0x0D (float) or 0x0E`);
  const nd = head[3]!;
  if (nd < 1 || nd > 8) fail(`invalid IDX dimension count ${nd}: expected 1 to 8`);
  const headerBytes = 4 + 4 * nd;
  if (head.length < headerBytes) return undefined;
  const dims: number[] = [];
  let prod = BigInt(type.size);
  for (let i = 0; i < nd; i++) {
    const d = head.readUInt32BE(4 + 4 * i);
    dims.push(d);
    prod *= BigInt(d);
  }
  return { typeCode, dims, headerBytes, dataBytes: prod };
}

/** Reads one IDX file (plain or gzipped); any problem with it is fatal. */
export async function readIdx(file: string, display: string, log: ProblemLog): Promise<IdxArray> {
  const fail = (reason: string): never => log.fail({ file: display, reason });
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    return fail(`cannot read the file: ${describeError(err)}`);
  }
  try {
    const size = (await fh.stat()).size;
    const magic = Buffer.alloc(2);
    await fh.read(magic, 0, 2, 0);
    if (size >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
      await fh.close();
      fh = undefined;
      return await readGzipIdx(file, size, fail);
    }
    const headBuf = Buffer.alloc(Math.min(size, 4 + 4 * 8));
    await fh.read(headBuf, 0, headBuf.length, 0);
    const h = parseHeader(headBuf, fail);
    if (!h) return fail(`truncated IDX header: the file has only ${size} bytes`);
    const available = BigInt(size - h.headerBytes);
    if (h.dataBytes > available) {
      return fail(`truncated: the header declares ${describeDims(h)} but the file holds only ${available} bytes of data`);
    }
    if (h.dataBytes < available) {
      return fail(`the file holds ${available - h.dataBytes} bytes more than its header declares (${describeDims(h)})`);
    }
    if (h.dataBytes > BigInt(MAX_IDX_BYTES)) return fail(`too large: ${describeDims(h)}; at most ${MAX_IDX_BYTES} bytes are supported`);
    const n = Number(h.dataBytes);
    const data = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const { bytesRead } = await fh.read(data, off, n - off, h.headerBytes + off);
      if (bytesRead === 0) return fail(`truncated: read ${off} of ${n} bytes`);
      off += bytesRead;
    }
    return { typeCode: h.typeCode, dims: h.dims, data };
  } catch (err) {
    if (err instanceof DatasetImportError) throw err;
    return fail(`cannot read the file: ${describeError(err)}`);
  } finally {
    await fh?.close();
  }
}

async function readGzipIdx(file: string, compressedSize: number, fail: (reason: string) => never): Promise<IdxArray> {
  const input = createReadStream(file);
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let head = Buffer.alloc(0);
  let h: IdxHeader | undefined;
  let data: Buffer | undefined;
  let filled = 0;
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      let rest = chunk;
      if (!h) {
        head = Buffer.concat([head, chunk]);
        h = parseHeader(head, fail);
        if (!h) continue;
        const limit = BigInt(compressedSize) * BigInt(MAX_GZIP_RATIO) + 1024n;
        if (h.dataBytes > limit) {
          fail(`the header declares ${describeDims(h)}, more than a ${compressedSize}-byte gzip file can hold: the file is truncated or corrupt`);
        }
        if (h.dataBytes > BigInt(MAX_IDX_BYTES)) fail(`too large: ${describeDims(h)}; at most ${MAX_IDX_BYTES} bytes are supported`);
        data = Buffer.allocUnsafe(Number(h.dataBytes));
        rest = head.subarray(h.headerBytes);
      }
      if (filled + rest.length > data!.length) {
        fail(`the file holds more bytes than its header declares (${describeDims(h)})`);
      }
      rest.copy(data!, filled);
      filled += rest.length;
    }
  } catch (err) {
    if (err instanceof DatasetImportError) throw err;
    const msg = describeError(err);
    fail(/unexpected end of file/i.test(msg)
      ? `truncated gzip data (unexpected end of file after ${total} decompressed bytes)`
      : `corrupt gzip data: ${msg}`);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (!h) fail(`truncated IDX header: the decompressed data has only ${total} bytes`);
  if (filled < data!.length) {
    fail(`truncated: the header declares ${describeDims(h!)} but the decompressed file holds only ${filled} bytes of data`);
  }
  return { typeCode: h!.typeCode, dims: h!.dims, data: data! };
}

export interface IdxPair {
  images: string;
  labels: string;
  /** Folder that problem reports are relative to. */
  base: string;
}

function labelsNameFor(imagesName: string): string {
  return imagesName.replace(/images/i, (m) => (m === 'IMAGES' ? 'LABELS' : m[0] === 'I' ? 'Labels' : 'labels')).replace(/idx[34]/i, 'idx1');
}

/** Finds the images and labels files of an IDX source (synchronous, for detection too). */
export function findIdxPair(source: string, labelsPath: string | undefined, fail: (file: string, reason: string) => never): IdxPair {
  let st;
  try {
    st = statSync(source);
  } catch (err) {
    return fail(source, `cannot read: ${describeError(err)}`);
  }
  if (st.isDirectory()) {
    const names = readdirSync(source).filter((n) => !n.startsWith('.')).sort();
    const images = names.filter((n) => IMAGES_RE.test(n));
    const labels = names.filter((n) => LABELS_RE.test(n));
    if (images.length === 0) return fail(path.basename(source), 'no IDX images file in the folder (expected a name like train-images-idx3-ubyte[.gz])');
    if (images.length > 1) return fail(path.basename(source), `found ${images.length} IDX images files (${images.join(', ')}); import one of them by its path`);
    const img = images[0]!;
    let lab: string | undefined;
    if (labelsPath) lab = path.resolve(labelsPath);
    else {
      const want = labelsNameFor(img);
      const partner = labels.find((l) => l === want) ?? labels.find((l) => l.replace(/\.gz$/i, '') === want.replace(/\.gz$/i, ''));
      if (partner) lab = path.join(source, partner);
      else if (labels.length === 1) lab = path.join(source, labels[0]!);
      else if (labels.length === 0) return fail(img, 'no IDX labels file beside it (expected a name like train-labels-idx1-ubyte[.gz])');
      else return fail(img, `found ${labels.length} IDX labels files (${labels.join(', ')}) and none named ${want}`);
    }
    return { images: path.join(source, img), labels: lab, base: source };
  }
  const dir = path.dirname(source);
  if (labelsPath) return { images: source, labels: path.resolve(labelsPath), base: dir };
  const base = path.basename(source);
  const want = labelsNameFor(base);
  const candidates = [want, want.endsWith('.gz') ? want.slice(0, -3) : `${want}.gz`];
  if (want !== base) {
    for (const c of candidates) if (existsSync(path.join(dir, c))) return { images: source, labels: path.join(dir, c), base: dir };
  }
  return fail(base, `labels file not found: looked for ${want === base ? 'a name with "images" replaced by "labels"' : candidates.join(' or ')} beside it; give the labels file explicitly`);
}

function display(file: string, base: string): string {
  const r = path.relative(base, file);
  return r.startsWith('..') || path.isAbsolute(r) ? file : r.split(path.sep).join('/');
}

export async function importIdx(ctx: ImporterContext): Promise<RawDataset> {
  const { log } = ctx;
  log.unit = 'sample';
  const pair = findIdxPair(ctx.source, ctx.options.labelsPath, (file, reason) => log.fail({ file, reason }));
  const imagesName = display(pair.images, pair.base);
  const labelsName = display(pair.labels, pair.base);
  ctx.progress('decoding', 0, 2);
  const images = await readIdx(pair.images, imagesName, log);
  ctx.progress('decoding', 1, 2);
  const labels = await readIdx(pair.labels, labelsName, log);
  ctx.progress('decoding', 2, 2);

  if (images.typeCode !== 0x08 && images.typeCode !== 0x0d) {
    log.fail({ file: imagesName, reason: `unsupported type code ${hex(images.typeCode)} (${IDX_TYPES[images.typeCode]!.name}) for images: expected 0x08 (unsigned byte) or 0x0D (float)` });
  }
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    log.fail({ file: imagesName, reason: `expected an images file of 3 dimensions (N×H×W) or 4 (N×H×W×C), found ${images.dims.length} (${images.dims.join('×')})` });
  }
  const [count, height, width, channels = 1] = images.dims as [number, number, number, number?];
  if (count === 0) log.fail({ file: imagesName, reason: 'the file holds no images' });
  if (height === 0 || width === 0 || channels === 0) log.fail({ file: imagesName, reason: `invalid image size ${images.dims.slice(1).join('×')}` });
  if (channels > 4) log.fail({ file: imagesName, reason: `${channels} channels per pixel: expected 1 to 4` });
  if (labels.typeCode !== 0x08 || labels.dims.length !== 1) {
    log.fail({ file: labelsName, reason: `expected a labels file of unsigned bytes with 1 dimension (type 0x08), found type ${hex(labels.typeCode)} with ${labels.dims.length} dimensions` });
  }
  if (labels.dims[0] !== count) {
    log.fail({ file: labelsName, reason: `count mismatch: ${imagesName} holds ${count} images but ${labelsName} holds ${labels.dims[0]} labels` });
  }

  const sampleSize = height * width * channels;
  let x: Uint8Array | Float32Array;
  let keep: Uint32Array | undefined;
  if (images.typeCode === 0x08) {
    x = new Uint8Array(images.data.buffer, images.data.byteOffset, images.data.length);
  } else {
    const f = new Float32Array(count * sampleSize);
    const dv = new DataView(images.data.buffer, images.data.byteOffset, images.data.length);
    const good: number[] = [];
    for (let i = 0; i < count; i++) {
      let finite = true;
      for (let j = i * sampleSize; j < (i + 1) * sampleSize; j++) {
        const v = dv.getFloat32(j * 4, false);
        if (!Number.isFinite(v)) finite = false;
        f[j] = v;
      }
      if (finite) good.push(i);
      else log.bad({ file: imagesName, reason: `image ${i} (0-based) holds NaN or infinite values` });
    }
    x = f;
    if (good.length < count) keep = Uint32Array.from(good);
  }

  const values = new Set<number>(labels.data);
  const classes = sortClassNames([...values].map(String));
  const index = new Map(classes.map((c, k) => [Number(c), k]));
  let y = Uint16Array.from(labels.data, (v) => index.get(v)!);
  if (keep) {
    const fx = x as Float32Array;
    const nx = new Float32Array(keep.length * sampleSize);
    keep.forEach((i, n) => nx.set(fx.subarray(i * sampleSize, (i + 1) * sampleSize), n * sampleSize));
    x = nx;
    y = Uint16Array.from(keep, (i) => y[i]!);
  }
  return {
    kind: 'idx',
    inputShape: [height, width, channels],
    featureDtype: images.typeCode === 0x08 ? 'uint8' : 'float32',
    x,
    y,
    classes,
    scale: images.typeCode === 0x08 ? 1 / 255 : 1,
    unit: 'sample',
    classFile: () => labelsName,
  };
}
