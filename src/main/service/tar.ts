// A minimal ustar writer for exporting a model folder as one download (model.json, weights.bin,
// evaluation.json): every system can unpack a tar, and it needs no dependency.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface TarEntry {
  /** '/'-separated path inside the archive. */
  name: string;
  data: Buffer;
  mtime?: Date;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(entry: TarEntry): Buffer {
  const h = Buffer.alloc(512, 0);
  let name = entry.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    // ustar splits long names at a '/' into prefix (≤155) and name (≤100).
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`path too long for a tar archive: ${entry.name}`);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(entry.data.length, 12), 124, 'ascii');
  h.write(octal(Math.floor((entry.mtime ?? new Date()).getTime() / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e), e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad, 0));
  }
  parts.push(Buffer.alloc(1024, 0)); // two empty blocks end the archive
  return Buffer.concat(parts);
}

/** The regular files of `dir` (recursively), named `${prefix}/${relative path}`. */
export function folderEntries(dir: string, prefix: string): TarEntry[] {
  const out: TarEntry[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = statSync(full);
      const r = rel ? `${rel}/${name}` : name;
      if (st.isDirectory()) walk(full, r);
      else if (st.isFile()) out.push({ name: `${prefix}/${r}`, data: readFileSync(full), mtime: st.mtime });
    }
  };
  walk(dir, '');
  return out;
}
