// BMP decoding (sharp/libvips cannot read BMP). The header is checked here first so that a
// corrupt or huge file is reported, not allocated; the pixels are decoded by `bmp-ts`.
import { decode } from 'bmp-ts';

/** Same default as sharp's limitInputPixels. */
const MAX_BMP_PIXELS = 0x3fff * 0x3fff;

interface DecodedBmp {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA) */
  channels: 3 | 4;
  data: Buffer;
}

interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  compression: number;
}

/** Reads and checks the header; throws an Error whose message says what is wrong. */
function readBmpHeader(buf: Buffer): BmpHeader {
  if (buf.length < 26 || buf[0] !== 0x42 || buf[1] !== 0x4d) throw new Error('not a BMP file (no "BM" signature)');
  const headerSize = buf.readUInt32LE(14);
  if (headerSize === 12) throw new Error('OS/2 1.x BMP headers are not supported');
  if (![40, 52, 56, 108, 124].includes(headerSize)) throw new Error(`unknown BMP header size ${headerSize}`);
  if (buf.length < 14 + headerSize) throw new Error('truncated BMP header');
  const width = buf.readInt32LE(18);
  const rawHeight = buf.readInt32LE(22);
  const height = Math.abs(rawHeight);
  const bitsPerPixel = buf.readUInt16LE(28);
  const compression = buf.readUInt32LE(30);
  const dataOffset = buf.readUInt32LE(10);
  if (width <= 0 || height === 0) throw new Error(`invalid BMP size ${width}×${rawHeight}`);
  if (width * height > MAX_BMP_PIXELS) throw new Error(`image of ${width}×${height} pixels exceeds the pixel limit (${MAX_BMP_PIXELS})`);
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw new Error(`unsupported BMP depth of ${bitsPerPixel} bits per pixel`);
  if (compression === 1 || compression === 2) throw new Error('RLE-compressed BMP is not supported (expected an uncompressed BMP)');
  if (![0, 3, 6].includes(compression)) throw new Error(`unsupported BMP compression ${compression}`);
  const stride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (dataOffset + stride * height > buf.length) {
    throw new Error(`truncated BMP: ${width}×${height} at ${bitsPerPixel} bits needs ${dataOffset + stride * height} bytes, the file has ${buf.length}`);
  }
  return { width, height, bitsPerPixel, compression };
}

export function decodeBmp(buf: Buffer): DecodedBmp {
  const h = readBmpHeader(buf);
  // bmp-ts's default layout is ABGR per pixel, top row first.
  const dec = decode(buf);
  const n = h.width * h.height;
  const src = dec.data;
  if (dec.width !== h.width || dec.height !== h.height || src.length < n * 4) throw new Error('BMP decoder returned a wrong size');
  const maskAlpha = (dec as unknown as { maskAlpha?: number }).maskAlpha ?? 0;
  let hasAlpha = false;
  if (maskAlpha !== 0 && h.bitsPerPixel >= 16) {
    for (let i = 0; i < n; i++) {
      if (src[i * 4] !== 0) {
        hasAlpha = true;
        break;
      }
    }
  }
  const channels = hasAlpha ? 4 : 3;
  const out = Buffer.allocUnsafe(n * channels);
  for (let i = 0, o = 0; i < n; i++, o += channels) {
    const s = i * 4;
    out[o] = src[s + 3]!;
    out[o + 1] = src[s + 2]!;
    out[o + 2] = src[s + 1]!;
    if (hasAlpha) out[o + 3] = src[s]!;
  }
  return { width: h.width, height: h.height, channels, data: out };
}
