/**
 * What the user dropped onto the page or chose with a file input, as UploadItems: folders walked
 * (webkitGetAsEntry), each file with its path relative to what was dropped. Browser-only (DOM types);
 * the upload itself is uploadFiles.ts.
 */
import type { UploadItem } from './uploadFiles.ts';

/**
 * The files of a drop, folders walked (webkitGetAsEntry), each with its path relative to what was
 * dropped. Where the browser gives no entries (a drop made by a script), the plain file list is used.
 */
export async function droppedFiles(transfer: DataTransfer): Promise<UploadItem[]> {
  const entries = [...transfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((entry) => entry === null)) {
    return [...transfer.files].map((file) => ({ file, path: file.name }));
  }
  const items: UploadItem[] = [];
  for (const entry of entries) await walk(entry!, '', items);
  return items;
}

/** Files chosen with `<input type="file">` (a folder input gives webkitRelativePath). */
export function chosenFiles(files: FileList | null): UploadItem[] {
  return [...(files ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

async function walk(entry: FileSystemEntry, prefix: string, into: UploadItem[]): Promise<void> {
  const entryPath = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) =>
      (entry as FileSystemFileEntry).file(resolve, reject),
    );
    into.push({ file, path: entryPath });
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries answers in batches; an empty batch is the end.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, entryPath, into);
  }
}
