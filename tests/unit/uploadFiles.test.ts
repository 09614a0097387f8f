import { describe, expect, it } from 'vitest';
import { UPLOAD_CHUNK_BYTES, type ReckonBridge } from '../../preload/contract.ts';
import { uploadFiles } from '../../renderer/src/state/uploadFiles.ts';

/** A bridge that records the upload commands it is sent and answers them as the engine would. */
function recordingBridge(options: { failAt?: number } = {}) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const bridge: ReckonBridge = {
    invoke: ((name: string, input: Record<string, unknown>) => {
      calls.push({ name, input });
      if (name === 'startUpload') {
        const files = input.files as { size: number }[];
        return Promise.resolve({ uploadId: 'up-1', totalBytes: files.reduce((sum, f) => sum + f.size, 0) });
      }
      if (name === 'writeUploadChunk') {
        if (calls.filter((c) => c.name === 'writeUploadChunk').length === options.failAt) {
          return Promise.reject(Object.assign(new Error('the disk is full'), { code: 'STORAGE_FULL' }));
        }
        return Promise.resolve({ receivedBytes: 0 });
      }
      return Promise.resolve({ ok: true });
    }) as ReckonBridge['invoke'],
    on: () => () => {},
  };
  return { bridge, calls };
}

describe('uploadFiles', () => {
  it('announces the files, then sends each in order in pieces of at most UPLOAD_CHUNK_BYTES', async () => {
    const { bridge, calls } = recordingBridge();
    const big = new Uint8Array(UPLOAD_CHUNK_BYTES + 10).fill(65);
    const progress: number[] = [];
    const id = await uploadFiles(
      bridge,
      [
        { file: new Blob([big]), path: 'dir/big.txt' },
        { file: new Blob(['hé']), path: 'small.txt' },
      ],
      { onProgress: (sent) => progress.push(sent) },
    );
    expect(id).toBe('up-1');
    expect(calls[0]).toEqual({
      name: 'startUpload',
      input: {
        files: [
          { path: 'dir/big.txt', size: UPLOAD_CHUNK_BYTES + 10 },
          { path: 'small.txt', size: 3 },
        ],
      },
    });
    const pieces = calls.filter((c) => c.name === 'writeUploadChunk').map((c) => c.input);
    expect(pieces.map((p) => [p.file, p.offset])).toEqual([
      [0, 0],
      [0, UPLOAD_CHUNK_BYTES],
      [1, 0],
    ]);
    expect(Buffer.from(pieces[2]!.data as string, 'base64').toString('utf8')).toBe('hé');
    expect(Buffer.from(pieces[1]!.data as string, 'base64')).toHaveLength(10);
    expect(progress.at(-1)).toBe(UPLOAD_CHUNK_BYTES + 13);
    expect(calls.some((c) => c.name === 'cancelUpload')).toBe(false);
  });

  it('cancels the upload on the engine when a piece fails or the user stops it', async () => {
    const failing = recordingBridge({ failAt: 1 });
    await expect(
      uploadFiles(failing.bridge, [{ file: new Blob(['abc']), path: 'a.txt' }]),
    ).rejects.toMatchObject({
      code: 'STORAGE_FULL',
    });
    expect(failing.calls.at(-1)).toEqual({ name: 'cancelUpload', input: { uploadId: 'up-1' } });

    const stopped = recordingBridge();
    const controller = new AbortController();
    controller.abort();
    await expect(
      uploadFiles(stopped.bridge, [{ file: new Blob(['abc']), path: 'a.txt' }], {
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(stopped.calls.map((c) => c.name)).toEqual(['startUpload', 'cancelUpload']);
  });
});
