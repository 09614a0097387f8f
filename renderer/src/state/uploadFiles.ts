/**
 * Files the page holds (dropped, or chosen with a file input) sent to the engine over the bridge:
 * startUpload announces names and sizes (the engine checks its limits before a byte moves), then
 * each file goes in UPLOAD_CHUNK_BYTES pieces, base64, in order. The browser host cannot learn the
 * server-side path of a dropped file, so this is how it adds them; the desktop app uses the files'
 * own paths instead (DesktopBridge.pathForFile).
 */
import { UPLOAD_CHUNK_BYTES, type ReckonBridge } from '../../../preload/contract.ts';

/** A file to upload and its path relative to what was dropped (its bare name for a single file). */
export interface UploadItem {
  file: Blob;
  path: string;
}

/** Options of uploadFiles; all optional. */
export interface UploadFilesOptions {
  /** Stops the upload; the engine deletes what it stored, and the promise rejects with code CANCELLED. */
  signal?: AbortSignal;
  /** Bytes sent so far of the total, after each piece. */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

/**
 * Uploads `items` and resolves the upload's id, ready for finishUpload. Errors are the bridge's
 * (UPLOAD_TOO_LARGE, BAD_UPLOAD_PATH…); a failed or cancelled upload is cancelled on the engine so
 * nothing half-written is left.
 */
export async function uploadFiles(
  bridge: ReckonBridge,
  items: readonly UploadItem[],
  options: UploadFilesOptions = {},
): Promise<string> {
  const { uploadId, totalBytes } = await bridge.invoke('startUpload', {
    files: items.map((item) => ({ path: item.path, size: item.file.size })),
  });
  let sent = 0;
  try {
    for (const [index, item] of items.entries()) {
      for (let offset = 0; offset < item.file.size; offset += UPLOAD_CHUNK_BYTES) {
        if (options.signal?.aborted) throw cancelled();
        const piece = new Uint8Array(
          await item.file.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer(),
        );
        await bridge.invoke('writeUploadChunk', { uploadId, file: index, offset, data: toBase64(piece) });
        sent += piece.length;
        options.onProgress?.(sent, totalBytes);
      }
    }
    if (options.signal?.aborted) throw cancelled();
  } catch (error) {
    await bridge.invoke('cancelUpload', { uploadId }).catch(() => undefined);
    throw error;
  }
  options.onProgress?.(totalBytes, totalBytes);
  return uploadId;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(binary);
}

function cancelled(): Error & { code: string } {
  return Object.assign(new Error('The upload was cancelled; nothing was added.'), { code: 'CANCELLED' });
}
