// download: save bytes or a Blob as a file through a temporary object URL and link.

export function download(name: string, data: Uint8Array | Blob): void {
  const blob =
    data instanceof Blob ? data : new Blob([data as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

interface DirectoryHandle {
  getFileHandle(
    name: string,
    o: { create: boolean },
  ): Promise<{ createWritable(): Promise<WritableStream<Uint8Array>> }>;
}

/** Whether this browser can write files into a folder the user picks (the File System Access API). */
export function canSaveToFolder(): boolean {
  return typeof (window as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
}

/**
 * Save files together into a folder the user picks (a model and its external data file must sit side
 * by side, under the names the .onnx records), each streamed from its Blob.
 */
export async function saveToFolder(files: readonly { name: string; blob: Blob }[]): Promise<void> {
  const pick = (window as unknown as { showDirectoryPicker(o: { mode: string }): Promise<DirectoryHandle> })
    .showDirectoryPicker;
  const dir = await pick.call(window, { mode: 'readwrite' });
  for (const f of files) {
    const handle = await dir.getFileHandle(f.name, { create: true });
    await f.blob.stream().pipeTo(await handle.createWritable());
  }
}
