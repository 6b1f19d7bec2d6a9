/**
 * The files of a drop, folders included: a dropped folder (DataTransferItem.webkitGetAsEntry) is walked
 * for every file in it and its subfolders, so a model's folder (the .onnx beside its external data)
 * arrives as its files. The entries must be taken while the drop event runs: the browser empties the
 * DataTransfer after it.
 */
function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** A directory reader answers in batches (Chromium: 100 entries); an empty batch ends it. */
async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const out: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return out;
    out.push(...batch);
  }
}

async function walk(entry: FileSystemEntry): Promise<File[]> {
  if (entry.isFile) return [await entryFile(entry as FileSystemFileEntry)];
  if (!entry.isDirectory) return [];
  const children = await readAll(entry as FileSystemDirectoryEntry);
  return (await Promise.all(children.map(walk))).flat();
}

/** Call in the drop handler itself; the promise resolves with every file, a folder's walked. */
export function filesOfDrop(data: DataTransfer): Promise<File[]> {
  const entries = [...data.items].map((i) => i.webkitGetAsEntry?.() ?? null);
  const files = [...data.files];
  if (!entries.some((e) => e?.isDirectory)) return Promise.resolve(files);
  return Promise.all(entries.map((e) => (e ? walk(e) : Promise.resolve([])))).then((f) => f.flat());
}
