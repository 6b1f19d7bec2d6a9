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
