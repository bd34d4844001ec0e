// Exporting a model folder as one download (model.json, weights.bin, evaluation.json): every
// system can unpack a tar.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import tarStream from 'tar-stream';

interface TarEntry {
  /** '/'-separated path inside the archive. */
  name: string;
  data: Buffer;
  mtime?: Date;
}

/** A tar archive (ustar, via tar-stream) of these entries, in order. */
export async function tarArchive(entries: readonly TarEntry[]): Promise<Buffer> {
  const archive = tarStream.pack();
  const chunks: Buffer[] = [];
  archive.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const e of entries) archive.entry({ name: e.name, size: e.data.length, mode: 0o644, mtime: e.mtime ?? new Date() }, e.data);
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
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

/** The regular files of a tar archive, in order (other entries — folders, links — are skipped). */
export async function tarEntries(archive: Buffer): Promise<TarEntry[]> {
  const extract = tarStream.extract();
  const out: TarEntry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') out.push({ name: header.name, data: Buffer.concat(chunks), ...(header.mtime ? { mtime: header.mtime } : {}) });
      next();
    });
    stream.resume();
  });
  extract.end(archive);
  await done;
  return out;
}
