// IDX (the MNIST format): an images file (N×H×W or N×H×W×C) and a labels file (N), each plain or
// gzipped (detected by the 1f 8b magic). Problems with a header (magic, type code, dimensions,
// a declared size over MAX_IDX_BYTES or, gzipped, over what the file can expand to) are fatal in
// both modes: a plain file shorter than declared is merely truncated. Problems with the data
// after a sound header are bad input: a truncated file (data shorter than declared, or a gzip
// stream that ends early), extra bytes after the declared data, and images/labels files whose
// counts differ. Without skipBad they fail the import; with it the complete records present are
// kept (the first min(images, labels) pairs), the rest are left out and counted in `skipped`, and
// extra bytes are ignored (they count 0: they are not records the header declares). Nothing left
// is fatal. Sizes are checked against the file size (or, for gzip, against the most a gzip file
// of that size can expand to, ~1032:1) before anything is allocated, a plain file is only read up
// to its last complete record, and decompression keeps at most the declared size (extra bytes are
// counted, up to 64 MiB, and dropped), so a zip bomb never allocates more than the header allows.
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { DatasetImportError, describeError, type ProblemLog } from './problems.js';
import type { ImporterContext, RawDataset } from './types.js';
import { sortClassNames } from './util.js';

const IDX_TYPES: Record<number, { size: number; name: string }> = {
  0x08: { size: 1, name: 'unsigned byte' },
  0x09: { size: 1, name: 'signed byte' },
  0x0b: { size: 2, name: 'short' },
  0x0c: { size: 4, name: 'int' },
  0x0d: { size: 4, name: 'float' },
  0x0e: { size: 8, name: 'double' },
};
/** Largest data part of one IDX file that is read into memory. */
const MAX_IDX_BYTES = 2 ** 31 - 1;
/** Deflate cannot expand by more than about 1032:1. */
const MAX_GZIP_RATIO = 1032;
/** Extra decompressed bytes past the declared data are counted up to this many, then reading stops. */
const MAX_COUNTED_EXTRA_BYTES = 64 * 1024 * 1024;

/**
 * The header of an IDX file with these dimensions (big-endian, the layout readIdx expects): for
 * writing IDX pairs (the GPU check's MNIST export, benchmarks and tests). Each dimension is
 * written as an unsigned 32-bit number (negative values wrap, as a damaged file would have them).
 */
export function encodeIdxHeader(typeCode: number, dims: readonly number[]): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h.writeUInt8(typeCode, 2);
  h.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => h.writeUInt32BE(d >>> 0, 4 + 4 * i));
  return h;
}

export const IMAGES_RE = /images.*idx[34]/i;
export const LABELS_RE = /labels.*idx1/i;

interface IdxHeader {
  typeCode: number;
  dims: number[];
  headerBytes: number;
  /** Declared size of the data part. */
  dataBytes: bigint;
  /** Size of one record (dims[1…] values). */
  recordBytes: bigint;
}

/** What is wrong with the data part of a file whose header is sound. */
type IdxDataIssue =
  /** `bytes` of the declared data are there; `streamEnded`: a gzip stream that ends early. */
  | { kind: 'truncated'; bytes: bigint; streamEnded: boolean }
  /** `bytes` more than declared (`atLeast`: counting stopped at MAX_COUNTED_EXTRA_BYTES). */
  | { kind: 'extra'; bytes: bigint; atLeast: boolean };

interface IdxArray extends IdxHeader {
  gzip: boolean;
  /** Complete records present: dims[0] unless truncated. */
  complete: number;
  /**
   * The data of the complete records, big-endian as in the file. Empty when the file has an
   * issue and skipBad is off (the import fails, so the data is not read).
   */
  data: Buffer;
  issue?: IdxDataIssue;
}

interface ReadIdxOptions {
  /** Read the complete records of a truncated file and ignore extra bytes, instead of only noting them. */
  skipBad?: boolean;
  /** Checks a parsed header before any data is read (fails through the log when it is unusable). */
  check?: (h: IdxHeader) => void;
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
  let record = BigInt(type.size);
  for (let i = 0; i < nd; i++) {
    const d = head.readUInt32BE(4 + 4 * i);
    dims.push(d);
    if (i > 0) record *= BigInt(d);
  }
  return { typeCode, dims, headerBytes, dataBytes: record * BigInt(dims[0]!), recordBytes: record };
}

/** Complete records in `bytes` of data. */
function completeRecords(h: IdxHeader, bytes: bigint): number {
  if (h.recordBytes === 0n) return h.dims[0]!;
  const n = bytes / h.recordBytes;
  return Number(n < BigInt(h.dims[0]!) ? n : BigInt(h.dims[0]!));
}

/**
 * Reads one IDX file (plain or gzipped). Header problems, unreadable files and corrupt gzip data
 * fail through `log`; truncation and extra bytes come back as `issue` for the caller to report.
 */
async function readIdx(file: string, display: string, log: ProblemLog, options: ReadIdxOptions = {}): Promise<IdxArray> {
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
      return await readGzipIdx(file, size, fail, options);
    }
    const headBuf = Buffer.alloc(Math.min(size, 4 + 4 * 8));
    await fh.read(headBuf, 0, headBuf.length, 0);
    const h = parseHeader(headBuf, fail);
    if (!h) return fail(`truncated IDX header: the file has only ${size} bytes`);
    options.check?.(h);
    const available = BigInt(size - h.headerBytes);
    if (h.dataBytes > BigInt(MAX_IDX_BYTES)) {
      return fail(`too large: ${describeDims(h)}; at most ${MAX_IDX_BYTES} bytes are supported (the file holds ${available} bytes of data)`);
    }
    let issue: IdxDataIssue | undefined;
    if (h.dataBytes > available) issue = { kind: 'truncated', bytes: available, streamEnded: false };
    else if (h.dataBytes < available) issue = { kind: 'extra', bytes: available - h.dataBytes, atLeast: false };
    const complete = issue?.kind === 'truncated' ? completeRecords(h, available) : h.dims[0]!;
    if (issue && !options.skipBad) return { ...h, gzip: false, complete, data: Buffer.alloc(0), issue };
    // never more than the file holds: at most min(declared, available) ≤ MAX_IDX_BYTES
    const n = Number(BigInt(complete) * h.recordBytes);
    const data = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const { bytesRead } = await fh.read(data, off, n - off, h.headerBytes + off);
      if (bytesRead === 0) return fail(`the file shrank while it was read: read ${off} of ${n} bytes`);
      off += bytesRead;
    }
    return { ...h, gzip: false, complete, data, ...(issue ? { issue } : {}) };
  } catch (err) {
    if (err instanceof DatasetImportError) throw err;
    return fail(`cannot read the file: ${describeError(err)}`);
  } finally {
    await fh?.close();
  }
}

async function readGzipIdx(file: string, compressedSize: number, fail: (reason: string) => never, options: ReadIdxOptions): Promise<IdxArray> {
  const input = createReadStream(file);
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  let head = Buffer.alloc(0);
  let h: IdxHeader | undefined;
  let data: Buffer | undefined;
  let filled = 0;
  let total = 0;
  let extra = 0;
  let streamEnded = false;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      let rest = chunk;
      if (!h) {
        head = Buffer.concat([head, chunk]);
        h = parseHeader(head, fail);
        if (!h) continue;
        options.check?.(h);
        const limit = BigInt(compressedSize) * BigInt(MAX_GZIP_RATIO) + 1024n;
        if (h.dataBytes > limit) {
          fail(`the header declares ${describeDims(h)}, more than a ${compressedSize}-byte gzip file can hold: the file is truncated or corrupt`);
        }
        if (h.dataBytes > BigInt(MAX_IDX_BYTES)) fail(`too large: ${describeDims(h)}; at most ${MAX_IDX_BYTES} bytes are supported`);
        data = Buffer.allocUnsafe(Number(h.dataBytes));
        rest = head.subarray(h.headerBytes);
      }
      const take = Math.min(rest.length, data!.length - filled);
      rest.copy(data!, filled, 0, take);
      filled += take;
      extra += rest.length - take;
      if (extra >= MAX_COUNTED_EXTRA_BYTES) break;
    }
  } catch (err) {
    if (err instanceof DatasetImportError) throw err;
    const msg = describeError(err);
    if (!/unexpected end of file/i.test(msg)) fail(`corrupt gzip data: ${msg}`);
    if (!h) fail(`truncated IDX header: the gzip stream ends early, after ${total} decompressed bytes`);
    streamEnded = true;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (!h) return fail(`truncated IDX header: the decompressed data has only ${total} bytes`);
  let issue: IdxDataIssue | undefined;
  // a stream that ends early is reported even when all declared data came (its checksum did not)
  if (filled < data!.length || streamEnded) issue = { kind: 'truncated', bytes: BigInt(filled), streamEnded };
  else if (extra > 0) {
    const atLeast = extra >= MAX_COUNTED_EXTRA_BYTES;
    issue = { kind: 'extra', bytes: BigInt(atLeast ? MAX_COUNTED_EXTRA_BYTES : extra), atLeast };
  }
  const complete = issue?.kind === 'truncated' ? completeRecords(h, BigInt(filled)) : h.dims[0]!;
  const kept = issue && !options.skipBad ? Buffer.alloc(0) : data!.subarray(0, Number(BigInt(complete) * h.recordBytes));
  return { ...h, gzip: true, complete, data: kept, ...(issue ? { issue } : {}) };
}

interface IdxPair {
  images: string;
  labels: string;
  /** Folder that problem reports are relative to. */
  base: string;
}

function labelsNameFor(imagesName: string): string {
  return imagesName.replace(/images/i, (m) => (m === 'IMAGES' ? 'LABELS' : m[0] === 'I' ? 'Labels' : 'labels')).replace(/idx[34]/i, 'idx1');
}

/** Finds the images and labels files of an IDX source (synchronous, for detection too). */
function findIdxPair(source: string, labelsPath: string | undefined, fail: (file: string, reason: string) => never): IdxPair {
  let st;
  try {
    st = statSync(source);
  } catch (err) {
    return fail(source, `cannot read: ${describeError(err)}`);
  }
  if (st.isDirectory()) {
    const names = readdirSync(source)
      .filter((n) => !n.startsWith('.'))
      .sort();
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
  return fail(
    base,
    `labels file not found: looked for ${want === base ? 'a name with "images" replaced by "labels"' : candidates.join(' or ')} beside it; give the labels file explicitly`,
  );
}

function display(file: string, base: string): string {
  const r = path.relative(base, file);
  return r.startsWith('..') || path.isAbsolute(r) ? file : r.split(path.sep).join('/');
}

function plural(n: number | bigint, one: string, many: string): string {
  return `${n} ${BigInt(n) === 1n ? one : many}`;
}

function checkImagesHeader(h: IdxHeader, name: string, log: ProblemLog): void {
  const fail = (reason: string): never => log.fail({ file: name, reason });
  if (h.typeCode !== 0x08 && h.typeCode !== 0x0d) {
    fail(`unsupported type code ${hex(h.typeCode)} (${IDX_TYPES[h.typeCode]!.name}) for images: expected 0x08 (unsigned byte) or 0x0D (float)`);
  }
  if (h.dims.length !== 3 && h.dims.length !== 4) {
    fail(`expected an images file of 3 dimensions (N×H×W) or 4 (N×H×W×C), found ${h.dims.length} (${h.dims.join('×')})`);
  }
  const [count, height, width, channels = 1] = h.dims as [number, number, number, number?];
  if (count === 0) fail('the file holds no images');
  if (height === 0 || width === 0 || channels === 0) fail(`invalid image size ${h.dims.slice(1).join('×')}`);
  if (channels > 4) fail(`${channels} channels per pixel: expected 1 to 4`);
}

function checkLabelsHeader(h: IdxHeader, name: string, log: ProblemLog): void {
  if (h.typeCode !== 0x08 || h.dims.length !== 1) {
    log.fail({
      file: name,
      reason: `expected a labels file of unsigned bytes with 1 dimension (type 0x08), found type ${hex(h.typeCode)} with ${h.dims.length} dimensions`,
    });
  }
}

/** The report of a truncated file or one with extra bytes; `skipBad` adds what was done about it. */
function describeIssue(a: IdxArray, issue: IdxDataIssue, one: string, many: string, skipBad: boolean): string {
  const n = a.dims[0]!;
  const declared = `${plural(n, one, many)}${a.dims.length > 1 ? ` of ${a.dims.slice(1).join('×')}` : ''} (${a.dataBytes} bytes of data)`;
  if (issue.kind === 'extra') {
    const where = a.gzip ? 'the decompressed data' : 'the file';
    const records =
      !issue.atLeast && a.recordBytes > 0n && issue.bytes % a.recordBytes === 0n
        ? `, as much as ${issue.bytes / a.recordBytes} more ${issue.bytes === a.recordBytes ? one : many}`
        : '';
    return (
      `${where} holds ${issue.atLeast ? 'at least ' : ''}${plural(issue.bytes, 'byte', 'bytes')} more than the ` +
      `${describeDims(a)} its header declares${records}${skipBad ? `; ${issue.bytes === 1n ? 'it was' : 'they were'} ignored` : ''}`
    );
  }
  if (a.complete === n) {
    return (
      `truncated: the gzip stream ends early, after all the ${declared} the header declares but before its checksum` +
      (skipBad ? `; the ${many} were kept unchecked` : '')
    );
  }
  const where = !a.gzip ? 'the file holds only' : issue.streamEnded ? 'the gzip stream ends early, after' : 'the decompressed data holds only';
  const missing = n - a.complete;
  return (
    `truncated: the header declares ${declared} but ${where} ${a.complete} complete ${a.complete === 1 ? 'one' : 'ones'} ` +
    `(${plural(issue.bytes, 'byte', 'bytes')} of data)` +
    (skipBad && a.complete > 0 ? `; the other ${missing} ${missing === 1 ? 'was' : 'were'} left out` : '')
  );
}

export async function importIdx(ctx: ImporterContext): Promise<RawDataset> {
  const { log } = ctx;
  const skipBad = ctx.options.skipBad === true;
  log.unit = 'sample';
  const { images, labels, imagesName, labelsName } = await readIdxPair(ctx, skipBad);
  // Sample i is kept when both its image and its label are complete.
  const count = Math.min(images.complete, labels.complete);
  reportPairIssues(log, pairIssues(images, labels, imagesName, labelsName, skipBad && count > 0), count, skipBad);
  const [, height, width, channels = 1] = images.dims as [number, number, number, number?];
  const sampleSize = height * width * channels;
  const features = imageFeatures(images, count, sampleSize, imagesName, log);
  const { classes, y } = labelClasses(labels.data.subarray(0, count));
  return {
    kind: 'idx',
    inputShape: [height, width, channels],
    featureDtype: images.typeCode === 0x08 ? 'uint8' : 'float32',
    ...(features.keep ? keepSamples(features.x, y, features.keep, sampleSize) : { x: features.x, y }),
    classes,
    scale: images.typeCode === 0x08 ? 1 / 255 : 1,
    unit: 'sample',
    classFile: () => labelsName,
  };
}

/** Finds and reads the images and labels files, with their names for problem reports. */
async function readIdxPair(ctx: ImporterContext, skipBad: boolean): Promise<{ images: IdxArray; labels: IdxArray; imagesName: string; labelsName: string }> {
  const { log } = ctx;
  const pair = findIdxPair(ctx.source, ctx.options.labelsPath, (file, reason) => log.fail({ file, reason }));
  const imagesName = display(pair.images, pair.base);
  const labelsName = display(pair.labels, pair.base);
  ctx.progress('decoding', 0, 2);
  const images = await readIdx(pair.images, imagesName, log, { skipBad, check: (h) => checkImagesHeader(h, imagesName, log) });
  ctx.progress('decoding', 1, 2);
  const labels = await readIdx(pair.labels, labelsName, log, { skipBad, check: (h) => checkLabelsHeader(h, labelsName, log) });
  ctx.progress('decoding', 2, 2);
  return { images, labels, imagesName, labelsName };
}

interface PairIssue {
  file: string;
  reason: string;
  /** Samples it leaves out. */
  leftOut: number;
}

/**
 * The data issues of the pair: images truncated or with extra bytes, the same for labels, and
 * a count mismatch. Each sample left out is counted once, by the first of: images truncated,
 * labels truncated, no partner (mismatch). `kept`: skipBad is on and some samples are left, so
 * the reports say what was done about them.
 */
function pairIssues(images: IdxArray, labels: IdxArray, imagesName: string, labelsName: string, kept: boolean): PairIssue[] {
  const nImages = images.dims[0]!;
  const nLabels = labels.dims[0]!;
  const count = Math.min(images.complete, labels.complete);
  const issues: PairIssue[] = [];
  let counted = 0;
  if (images.issue) {
    const leftOut = nImages - images.complete;
    counted += leftOut;
    issues.push({ file: imagesName, reason: describeIssue(images, images.issue, 'image', 'images', kept), leftOut });
  }
  if (labels.issue) {
    const leftOut = Math.max(0, Math.min(nLabels, images.complete) - labels.complete);
    counted += leftOut;
    issues.push({ file: labelsName, reason: describeIssue(labels, labels.issue, 'label', 'labels', kept), leftOut });
  }
  if (nImages !== nLabels) {
    const unpaired = Math.abs(nImages - nLabels);
    const what = nImages > nLabels ? plural(unpaired, 'image', 'images') : plural(unpaired, 'label', 'labels');
    issues.push({
      file: labelsName,
      reason:
        `count mismatch: ${imagesName} holds ${plural(nImages, 'image', 'images')} but ${labelsName} holds ${plural(nLabels, 'label', 'labels')}` +
        (kept ? `; the ${what} without a partner ${unpaired === 1 ? 'was' : 'were'} left out` : ''),
      leftOut: Math.max(nImages, nLabels) - count - counted,
    });
  }
  return issues;
}

/** Reports the pair's issues: fatal when no sample is left, else bad inputs that fail the import without skipBad. */
function reportPairIssues(log: ProblemLog, issues: PairIssue[], count: number, skipBad: boolean): void {
  if (count === 0) {
    // nothing usable is left (a count of 0 in the images header failed already)
    for (const { file, reason } of issues) log.fatal({ file, reason });
    throw log.error();
  }
  for (const { file, reason, leftOut } of issues) log.bad({ file, reason }, leftOut);
  if (issues.length > 0 && !skipBad) {
    log.unit = 'file';
    throw log.error();
  }
}

/**
 * The first `count` images' values: the file's bytes as they are for unsigned bytes; for floats,
 * float32 values, each image with a NaN or an infinity reported, and `keep` (the others) when any was.
 */
function imageFeatures(
  images: IdxArray,
  count: number,
  sampleSize: number,
  imagesName: string,
  log: ProblemLog,
): { x: Uint8Array; keep?: undefined } | { x: Float32Array; keep?: Uint32Array } {
  const imageData = images.data.subarray(0, count * sampleSize * IDX_TYPES[images.typeCode]!.size);
  if (images.typeCode === 0x08) return { x: new Uint8Array(imageData.buffer, imageData.byteOffset, imageData.length) };
  const f = new Float32Array(count * sampleSize);
  const dv = new DataView(imageData.buffer, imageData.byteOffset, imageData.length);
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
  return good.length < count ? { x: f, keep: Uint32Array.from(good) } : { x: f };
}

/** The label values as class names (sorted) and each label's class index. */
function labelClasses(labelData: Buffer): { classes: string[]; y: Uint16Array } {
  const values = new Set<number>(labelData);
  const classes = sortClassNames([...values].map(String));
  const index = new Map(classes.map((c, k) => [Number(c), k]));
  return { classes, y: Uint16Array.from(labelData, (v) => index.get(v)!) };
}

/** The samples `keep` (features and labels), in order. */
function keepSamples(x: Float32Array, y: Uint16Array, keep: Uint32Array, sampleSize: number): { x: Float32Array; y: Uint16Array } {
  const nx = new Float32Array(keep.length * sampleSize);
  keep.forEach((i, n) => nx.set(x.subarray(i * sampleSize, (i + 1) * sampleSize), n * sampleSize));
  return { x: nx, y: Uint16Array.from(keep, (i) => y[i]!) };
}
