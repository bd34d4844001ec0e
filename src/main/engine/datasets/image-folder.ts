// Image folders: one subfolder per class (class name = folder name), images inside (nested
// folders count for their class). Decoded and resized with sharp (BMP through bmp-ts).
//
// Defaults:
//  - image size: the most common [H, W] among up to 256 sampled images; when its larger side is
//    over 64 it is scaled down (keeping the aspect ratio) so that the larger side is 64.
//  - grayscale: true when every sampled image is grey (one channel, or R = G = B within ±8 after
//    resizing, checked on up to 64 images), else RGB.
//  - alpha: flattened onto black (transparent pixels become 0), then dropped.
//  - resize: fit 'fill' (aspect ratio not kept); with imageFit 'pad', fit 'contain' (scaled to fit
//    inside, aspect ratio kept, centred on black). EXIF orientation applied, GIF/WebP first frame.
//  - sharp's failOn 'error': truncated or corrupt images are bad, libpng/libjpeg warnings are not.
import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeBmp } from './bmp.js';
import { describeError, type ProblemLog } from './problems.js';
import { minimumLimit, stratifiedSubset } from './split.js';
import type { ImageFit, ImportOptions } from '../../../shared/dataset-types.js';
import type { ImporterContext, RawDataset } from './types.js';
import { mapPool, relPosix, sortClassNames } from './util.js';

type ImageFormat = 'png' | 'jpeg' | 'gif' | 'bmp' | 'webp' | 'tiff';

const FORMAT_NAMES: Record<ImageFormat, string> = { png: 'PNG', jpeg: 'JPEG', gif: 'GIF', bmp: 'BMP', webp: 'WebP', tiff: 'TIFF' };
const EXPECTED = 'expected PNG, JPEG, GIF, BMP, WebP or TIFF';
/** Names skipped silently (compared lower-case), besides dotfiles. */
const IGNORED_NAMES = new Set(['thumbs.db', 'desktop.ini', '__macosx', '@eadir', '$recycle.bin']);
/** Largest default side. */
const DEFAULT_MAX_SIDE = 64;
const SIZE_SAMPLE = 256;
const GREY_SAMPLE = 64;
const GREY_TOLERANCE = 8;
const MAX_X_BYTES = 2 ** 31 - 1;
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || IGNORED_NAMES.has(name.toLowerCase());
}

/** Image format from the first bytes, or undefined when it is none we read. */
function sniffImage(head: Uint8Array): ImageFormat | undefined {
  const b = (i: number) => head[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return 'png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x47 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x38) return 'gif';
  if (b(0) === 0x42 && b(1) === 0x4d) return 'bmp';
  if (b(0) === 0x52 && b(1) === 0x49 && b(2) === 0x46 && b(3) === 0x46 && b(8) === 0x57 && b(9) === 0x45 && b(10) === 0x42 && b(11) === 0x50) return 'webp';
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a && b(3) === 0) || (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0 && b(3) === 0x2a)) return 'tiff';
  return undefined;
}

/** Known kinds of content that are no image we read, by their first bytes as Latin-1 text (a pattern, or a prefix). */
const NOT_IMAGES: [RegExp | string, string][] = [
  [/^version https:\/\/git-lfs/, 'a Git LFS pointer (the image itself was never downloaded: run "git lfs pull")'],
  [/^\s*(<!doctype html|<html)/i, 'a web page (HTML)'],
  [/^\s*(<\?xml[^]*)?<svg/i, 'an SVG drawing, a format not read here'],
  ['PK\x03\x04', 'a ZIP archive'],
  ['\x1f\x8b', 'gzip-compressed data'],
  ['%PDF-', 'a PDF document'],
  [/^[^]{4}ftyp(heic|heix|hevc|heim|heis|mif1|msf1)/, 'a HEIC/HEIF image, a format not read here (convert it to JPEG or PNG)'],
  [/^[^]{4}ftypavi[fs]/, 'an AVIF image, a format not read here (convert it to PNG or JPEG)'],
  [/^[^]{4}ftyp/, 'a video (MP4 or QuickTime)'],
];

/**
 * What the first bytes of a file that is no image we read look like, in a few plain words:
 * "text ("…")", "a ZIP archive", "unknown (it starts with the bytes 00 11 22 33)".
 */
export function describeContent(head: Uint8Array): string {
  const latin1 = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  for (const [sign, what] of NOT_IMAGES) if (typeof sign === 'string' ? latin1.startsWith(sign) : sign.test(latin1)) return what;
  const text = asText(head);
  if (text !== undefined) {
    const start = text.replace(/\s+/g, ' ').trim();
    return start ? `text (${JSON.stringify(start.length > 24 ? `${start.slice(0, 24)}…` : start)})` : 'blank text';
  }
  const hex = [...head.subarray(0, 4)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  return `unknown (it starts with the bytes ${hex})`;
}

/** The bytes as UTF-8 text when they are printable text (a character cut at the end allowed), else undefined. */
function asText(head: Uint8Array): string | undefined {
  let bytes = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head;
  for (let cut = 0; cut < 4 && bytes.length > 0; cut++, bytes = bytes.subarray(0, bytes.length - 1)) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      continue;
    }
    // eslint-disable-next-line no-control-regex -- control characters are what tells text from binary
    return /[\x00-\x08\x0b\x0e-\x1f\x7f]/.test(text) ? undefined : text;
  }
  return undefined;
}

async function readHead(file: string, bytes = 64): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** An input problem with a reason meant for the user. */
class BadImage extends Error {}

interface FileEntry {
  abs: string;
  rel: string;
  cls: number;
}

interface Probe {
  width: number;
  height: number;
  grey: boolean;
}

async function listClassFiles(root: string, dir: string, out: FileEntry[], cls: number, seen = new Set<string>()): Promise<void> {
  const real = await realpath(dir);
  if (seen.has(real)) return; // a link loop
  seen.add(real);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (isIgnoredName(e.name)) continue;
    const abs = path.join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      try {
        const s = await stat(abs);
        isDir = s.isDirectory();
        isFile = s.isFile();
      } catch {
        isFile = true; // a broken link is reported as unreadable when decoded
      }
    }
    if (isDir) await listClassFiles(root, abs, out, cls, seen);
    else if (isFile) out.push({ abs, rel: relPosix(root, abs), cls });
  }
}

/** Opens an image as a sharp pipeline, with its format checked from the first bytes. */
async function openImage(file: string): Promise<{ img: sharp.Sharp; format: ImageFormat }> {
  let head: Buffer;
  try {
    head = await readHead(file);
  } catch (err) {
    throw new BadImage(`cannot read the file: ${describeError(err)}`);
  }
  const format = sniffImage(head);
  if (!format) {
    // Its content, not its name: a "photo.png" holding text is text.
    const what = head.length === 0 ? 'the file is empty' : `its content is ${describeContent(head)}`;
    throw new BadImage(`not an image: ${what}; ${EXPECTED}`);
  }
  if (format === 'bmp') {
    let bmp;
    try {
      const size = (await stat(file)).size;
      if (size > MAX_FILE_BYTES) throw new Error(`file of ${size} bytes is too large`);
      bmp = decodeBmp(await readFile(file));
    } catch (err) {
      throw new BadImage(`corrupt BMP: ${describeError(err)}`);
    }
    return { img: sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } }), format };
  }
  return { img: sharp(file, { failOn: 'error' }), format };
}

const BLACK = { r: 0, g: 0, b: 0 };

/** Decodes one image to H×W×C uint8 (C = 1 grey or 3 RGB): stretched ('resize') or fitted inside and centred on black ('pad'). */
async function decodeImage(file: string, height: number, width: number, grey: boolean, fit: ImageFit): Promise<Buffer> {
  const { img, format } = await openImage(file);
  const channels = grey ? 1 : 3;
  try {
    let p = img
      .rotate()
      .flatten({ background: BLACK })
      .resize(width, height, fit === 'pad' ? { fit: 'contain', background: BLACK } : { fit: 'fill' });
    p = grey ? p.toColourspace('b-w') : p.toColourspace('srgb');
    const { data, info } = await p.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.width !== width || info.height !== height || info.channels !== channels || data.length !== width * height * channels) {
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${width}×${height}×${channels}`);
    }
    return data;
  } catch (err) {
    const msg = describeError(err);
    if (/unsupported image format/i.test(msg)) throw new BadImage(`not an image (${EXPECTED}): ${msg}`);
    if (/pixel limit/i.test(msg)) throw new BadImage(`image too large: ${msg}`);
    throw new BadImage(`corrupt ${FORMAT_NAMES[format]}: ${msg}`);
  }
}

async function probeImage(file: string): Promise<Probe | undefined> {
  try {
    const head = await readHead(file);
    const format = sniffImage(head);
    if (!format) return undefined;
    if (format === 'bmp') {
      if (head.length < 30) return undefined;
      const width = head.readInt32LE(18);
      const height = Math.abs(head.readInt32LE(22));
      return width > 0 && height > 0 ? { width, height, grey: false } : undefined;
    }
    const m = await sharp(file).metadata();
    const width = m.autoOrient?.width ?? m.width;
    const height = m.autoOrient?.height ?? m.height;
    if (!width || !height) return undefined;
    return { width, height, grey: (m.channels ?? 3) <= 2 || m.space === 'b-w' || m.space === 'grey16' };
  } catch {
    return undefined; // reported when decoded
  }
}

/** Default target size: the most common size, the larger side capped at 64. */
export function defaultImageSize(sizes: Array<{ width: number; height: number }>): [number, number] {
  if (sizes.length === 0) return [28, 28];
  const counts = new Map<string, { h: number; w: number; n: number; first: number }>();
  sizes.forEach((s, i) => {
    const key = `${s.height}x${s.width}`;
    const e = counts.get(key);
    if (e) e.n++;
    else counts.set(key, { h: s.height, w: s.width, n: 1, first: i });
  });
  const best = [...counts.values()].sort((a, b) => b.n - a.n || a.first - b.first)[0]!;
  const side = Math.max(best.h, best.w);
  if (side <= DEFAULT_MAX_SIDE) return [best.h, best.w];
  const f = DEFAULT_MAX_SIDE / side;
  return [Math.max(1, Math.round(best.h * f)), Math.max(1, Math.round(best.w * f))];
}

function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return items.slice();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.floor((i * items.length) / n)]!);
  return out;
}

function isGreyRgb(data: Buffer): boolean {
  for (let i = 0; i + 2 < data.length; i += 3) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    if (Math.abs(r - g) > GREY_TOLERANCE || Math.abs(g - b) > GREY_TOLERANCE || Math.abs(r - b) > GREY_TOLERANCE) return false;
  }
  return true;
}

function decodeConcurrency(): number {
  return Math.max(2, Math.min(8, os.availableParallelism() * 2));
}

export async function importImageFolder(ctx: ImporterContext): Promise<RawDataset> {
  const { source: root, log } = ctx;
  log.unit = 'file';
  ctx.progress('scanning', 0, 1);
  const classes = await listClasses(root, log);
  const { perClass, unreadable } = await listImages(ctx, classes);
  const { selected, limited } = selectImages(ctx, perClass, classes.length);
  const shape = await imageShape(ctx.options, selected);
  checkCacheLimit(root, log, selected.length, shape);
  const { height, width, channels } = shape;
  const { x, y } = await decodeImages(ctx, selected, shape);
  return {
    kind: 'image-folder',
    inputShape: [height, width, channels],
    featureDtype: 'uint8',
    x,
    y,
    classes,
    scale: 1 / 255,
    unit: 'file',
    classFile: (k) => classes[k]!,
    emptyReason: (k) =>
      unreadable.has(k)
        ? null
        : perClass[k]!.length === 0
          ? `empty class folder: expected image files (${EXPECTED.replace('expected ', '')})`
          : 'no usable images in this class folder',
    limited,
  };
}

/** The class subfolders of the root, sorted; fails when there are none or too many. */
async function listClasses(root: string, log: ProblemLog): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch((err: unknown) =>
    log.fail({ file: root, reason: `cannot read the folder: ${describeError(err)}` }),
  );
  const classDirs: string[] = [];
  let looseImages = 0;
  for (const e of entries) {
    if (isIgnoredName(e.name)) continue;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink())
      isDir = await stat(path.join(root, e.name)).then(
        (s) => s.isDirectory(),
        () => false,
      );
    if (isDir) classDirs.push(e.name);
    else if (/\.(png|jpe?g|gif|bmp|webp|tiff?)$/i.test(e.name)) looseImages++;
  }
  if (classDirs.length === 0) {
    log.fail({
      file: path.basename(root),
      reason:
        looseImages > 0
          ? `no class subfolders: found ${looseImages} image${looseImages === 1 ? '' : 's'} directly in the folder; expected one subfolder per class holding its images`
          : 'no class subfolders: expected one subfolder per class holding its images',
    });
  }
  const classes = sortClassNames(classDirs);
  if (classes.length > 65535) log.fail({ file: path.basename(root), reason: `${classes.length} class folders; at most 65535 are supported` });
  return classes;
}

/** The files of each class, in order; a class folder that cannot be read is reported, and listed in `unreadable`. */
async function listImages(ctx: ImporterContext, classes: string[]): Promise<{ perClass: FileEntry[][]; unreadable: Set<number> }> {
  const { source: root, log } = ctx;
  const perClass: FileEntry[][] = [];
  const unreadable = new Set<number>();
  for (let k = 0; k < classes.length; k++) {
    const files: FileEntry[] = [];
    try {
      await listClassFiles(root, path.join(root, classes[k]!), files, k);
    } catch (err) {
      unreadable.add(k);
      log.bad({ file: classes[k]!, reason: `cannot read the class folder: ${describeError(err)}` }, files.length);
      files.length = 0;
    }
    perClass.push(files);
    ctx.progress('scanning', k + 1, classes.length);
  }
  return { perClass, unreadable };
}

/** All the files, or a stratified subset of options.limit of them (limited: true). */
function selectImages(ctx: ImporterContext, perClass: FileEntry[][], classCount: number): { selected: FileEntry[]; limited: boolean } {
  const { limit } = ctx.options;
  const all = perClass.flat();
  const limited = limit !== undefined && limit < all.length;
  if (!limited) return { selected: all, limited };
  const labels = Uint16Array.from(all, (f) => f.cls);
  const need = minimumLimit(perClass.map((f) => f.length));
  if (limit < need) {
    ctx.log.fail(
      { file: path.basename(ctx.source), reason: `limit ${limit} is too small: at least ${need} samples are needed to keep 2 of each class` },
      'limit',
    );
  }
  const keep = stratifiedSubset(labels, classCount, limit, ctx.seed);
  return { selected: Array.from(keep, (i) => all[i]!), limited: true };
}

interface ImageShape {
  height: number;
  width: number;
  channels: number;
  grey: boolean;
  fit: ImageFit;
}

/** The target shape: options.imageSize and options.grayscale, else defaults from a sample of the images. */
async function imageShape(options: ImportOptions, selected: FileEntry[]): Promise<ImageShape> {
  let size = options.imageSize;
  let grey = options.grayscale;
  const fit = options.imageFit ?? 'resize';
  if (!size || grey === undefined) {
    const sample = spread(selected, SIZE_SAMPLE);
    const probes: Array<Probe | undefined> = new Array(sample.length);
    await mapPool(sample, decodeConcurrency(), async (f, i) => {
      probes[i] = await probeImage(f.abs);
    });
    const ok = probes.filter((p): p is Probe => p !== undefined);
    size ??= defaultImageSize(ok);
    if (grey === undefined) {
      const colour = sample.filter((_, i) => probes[i] && !probes[i]!.grey);
      grey = await sampleIsGrey(colour, size, fit);
    }
  }
  const [height, width] = size;
  return { height, width, channels: grey ? 1 : 3, grey, fit };
}

/** Whether a sample of up to GREY_SAMPLE of these colour images, decoded at this size, is all grey (R = G = B within ±8). */
async function sampleIsGrey(colour: FileEntry[], [h, w]: [number, number], fit: ImageFit): Promise<boolean> {
  const toCheck = spread(colour, GREY_SAMPLE);
  let allGrey = true;
  await mapPool(toCheck, decodeConcurrency(), async (f) => {
    if (!allGrey) return;
    try {
      if (!isGreyRgb(await decodeImage(f.abs, h, w, false, fit))) allGrey = false;
    } catch {
      // reported when decoded
    }
  });
  return allGrey;
}

/** Fails when the decoded images would not fit the cache. */
function checkCacheLimit(root: string, log: ProblemLog, count: number, { height, width, channels }: ImageShape): void {
  const sampleSize = height * width * channels;
  if (count * sampleSize > MAX_X_BYTES) {
    log.fail({
      file: path.basename(root),
      reason: `${count} images of ${height}×${width}×${channels} need ${count * sampleSize} bytes, more than the ${MAX_X_BYTES}-byte cache limit; use a limit or a smaller image size`,
    });
  }
}

/** Decodes the selected images; keeps the decoded ones, in order, and reports the others in order. */
async function decodeImages(ctx: ImporterContext, selected: FileEntry[], shape: ImageShape): Promise<{ x: Uint8Array; y: Uint16Array }> {
  const { height, width, channels, grey, fit } = shape;
  const sampleSize = height * width * channels;
  const total = selected.length;
  const x = new Uint8Array(total * sampleSize);
  const reasons: Array<string | undefined> = new Array(total);
  let done = 0;
  ctx.progress('decoding', 0, total);
  await mapPool(selected, decodeConcurrency(), async (f, i) => {
    try {
      const data = await decodeImage(f.abs, height, width, grey, fit);
      x.set(data, i * sampleSize);
    } catch (err) {
      reasons[i] = err instanceof BadImage ? err.message : `cannot decode: ${describeError(err)}`;
    }
    ctx.progress('decoding', ++done, total);
  });
  let n = 0;
  const y = new Uint16Array(total);
  for (let i = 0; i < total; i++) {
    const f = selected[i]!;
    const reason = reasons[i];
    if (reason !== undefined) {
      ctx.log.bad({ file: f.rel, reason });
      continue;
    }
    if (n !== i) x.copyWithin(n * sampleSize, i * sampleSize, (i + 1) * sampleSize);
    y[n++] = f.cls;
  }
  return { x: x.subarray(0, n * sampleSize), y: y.subarray(0, n) };
}
