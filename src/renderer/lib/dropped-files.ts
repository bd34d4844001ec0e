// Files dropped onto the browser page: a dropped folder arrives as a directory entry that must be
// walked, and its files lack webkitRelativePath (only <input webkitdirectory> sets it). The upload
// needs the relative paths (class subfolders), so each file gets them here.

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
export async function filesFromDrop(dt: DataTransfer): Promise<{ files: File[]; label: string }> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) {
    const files = [...dt.files];
    return { files, label: files.length === 1 ? files[0]!.name : `${files.length} files` };
  }
  const files: File[] = [];
  for (const e of entries) await walk(e, '', files);
  const label = entries.length === 1 ? entries[0]!.name : `${entries.length} items`;
  return { files, label };
}
