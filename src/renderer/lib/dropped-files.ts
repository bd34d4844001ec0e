// Files dropped onto the page. The DataTransfer is only readable during the drop event, so
// captureDrop() takes what is needed synchronously; the folder walk happens afterwards. A dropped
// folder arrives as a directory entry, and its files lack webkitRelativePath (only
// <input webkitdirectory> sets it) — the upload needs those paths (class subfolders), so each
// file gets its path here.

export interface CapturedDrop {
  /** Directory and file entries, when the browser gives them (Chromium does). */
  entries: FileSystemEntry[];
  /** The dropped files themselves (top level only). */
  files: File[];
}

/** Call inside the drop event handler. */
export function captureDrop(dt: DataTransfer): CapturedDrop {
  const entries = [...dt.items].map((i) => (i.kind === 'file' ? i.webkitGetAsEntry() : null)).filter((e): e is FileSystemEntry => e !== null);
  return { entries, files: [...dt.files] };
}

async function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  const out: FileSystemEntry[] = [];
  // readEntries returns at most ~100 entries per call: read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function withRelativePath(file: File, relativePath: string): File {
  // The property is a read-only getter on File.prototype; an own property shadows it.
  Object.defineProperty(file, 'webkitRelativePath', { value: relativePath, configurable: true });
  return file;
}

async function walk(entry: FileSystemEntry, prefix: string, out: File[]): Promise<void> {
  const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    out.push(withRelativePath(await fileOf(entry as FileSystemFileEntry), rel));
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, rel, out);
  }
}

/** The dropped files with their paths relative to what was dropped, and a label for the user. */
export async function filesFromDrop(drop: CapturedDrop): Promise<{ files: File[]; label: string }> {
  if (drop.entries.length === 0) {
    return { files: drop.files, label: drop.files.length === 1 ? drop.files[0]!.name : `${drop.files.length} files` };
  }
  const files: File[] = [];
  for (const e of drop.entries) await walk(e, '', files);
  const label = drop.entries.length === 1 ? drop.entries[0]!.name : `${drop.entries.length} items`;
  return { files, label };
}
