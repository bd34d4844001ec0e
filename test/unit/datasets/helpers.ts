// Fixture builders for the dataset tests: everything is generated into os.tmpdir().
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { DatasetImportError } from '../../../src/main/engine/datasets/index.js';
import { encodeIdxHeader } from '../../../src/main/engine/datasets/idx.js';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';

const made: string[] = [];

/** A fresh temporary folder, removed by cleanupTmp(). */
export function tmpDir(prefix = 'ab-ds-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTmp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function write(file: string, data: string | Uint8Array): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  return file;
}

/** Lists a folder (names only), sorted. */
export function ls(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** PNG from raw pixels (channels 1 = grey, 3 = RGB, 4 = RGBA). */
export async function png(width: number, height: number, channels: 1 | 3 | 4, pixels: number[] | Uint8Array): Promise<Buffer> {
  const img = sharp(Buffer.from(pixels), { raw: { width, height, channels } });
  return (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}

export async function jpeg(width: number, height: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** A GIF of several frames, each filled with one grey level. */
export async function gif(width: number, height: number, levels: number[]): Promise<Buffer> {
  const frames = Buffer.concat(levels.map((v) => Buffer.alloc(width * height * 4).fill(Buffer.from([v, v, v, 255]))));
  return sharp(frames, { raw: { width, height: height * levels.length, channels: 4, pageHeight: height } })
    .gif()
    .toBuffer();
}

/**
 * A BMP file of `dataBytes` zero pixel bytes behind the file header and a BITMAPINFOHEADER that
 * declares width × height at `bpp` bits, uncompressed (whatever those say: fuzzers lie in them).
 */
export function bmpHeader(width: number, height: number, bpp: number, dataBytes: number): Buffer {
  const buf = Buffer.alloc(54 + dataBytes);
  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(54 + dataBytes, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  return buf;
}

/** A 24-bit bottom-up BMP (BITMAPINFOHEADER) from RGB pixels, top row first. */
export function bmp24(width: number, height: number, rgb: number[]): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const dataSize = stride * height;
  const buf = bmpHeader(width, height, 24, dataSize);
  buf.writeUInt32LE(dataSize, 34);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      buf[row + x * 3] = rgb[i + 2]!;
      buf[row + x * 3 + 1] = rgb[i + 1]!;
      buf[row + x * 3 + 2] = rgb[i]!;
    }
  }
  return buf;
}

/** An IDX file: header (type code, dims) + big-endian data. */
export function idx(typeCode: number, dims: number[], values: ArrayLike<number>): Buffer {
  const size = typeCode === 0x0d ? 4 : 1;
  const data = Buffer.alloc(values.length * size);
  for (let i = 0; i < values.length; i++) {
    if (typeCode === 0x0d) data.writeFloatBE(values[i]!, 4 * i);
    else data[i] = values[i]!;
  }
  return Buffer.concat([encodeIdxHeader(typeCode, dims), data]);
}

export const gz = (b: Buffer): Buffer => gzipSync(b);

/** Leftovers of an import beside `outDir` (temporary folders). */
export function leftovers(parent: string): string[] {
  return readdirSync(parent).filter((n) => n.includes('.importing-'));
}

/** Awaits an import that must fail, and returns its DatasetImportError. */
export async function rejects(p: Promise<unknown>): Promise<DatasetImportError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DatasetImportError, `expected DatasetImportError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the import to fail');
}
