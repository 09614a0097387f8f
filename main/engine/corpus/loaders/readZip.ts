import { inflateRawSync } from 'node:zlib';

/** One file inside a zip archive, as listed by its central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate; anything else is unsupported here. */
  method: number;
  /** General-purpose flag bit 0: the entry is encrypted. */
  encrypted: boolean;
  compressedSize: number;
  /** As declared by the archive; a zip bomb may lie, so never trust it for allocation. */
  declaredSize: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_MIN_LENGTH = 22;
const MAX_COMMENT_LENGTH = 0xffff;

/**
 * Lists the entries of a zip archive from its central directory. Throws a plain Error naming what is
 * wrong when the bytes are not a readable zip (callers turn it into their own ParseError). Zip64
 * archives are not supported (not needed for documents under the size limits). No defaults.
 */
export function listZipEntries(zip: Buffer): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  const centralOffset = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  let at = centralOffset;
  for (let i = 0; i < count; i += 1) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw new Error('the zip central directory is damaged');
    }
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const declaredSize = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeaderOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    entries.push({
      name,
      method,
      encrypted: (flags & 1) !== 0,
      compressedSize,
      declaredSize,
      localHeaderOffset,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * Returns the uncompressed bytes of one entry, refusing to produce more than `maxBytes` (the real
 * inflated size is enforced, not the declared one): throws a RangeError with code
 * `ERR_BUFFER_TOO_LARGE` past that. Other problems (encrypted entry, unknown method, bad header,
 * damaged deflate data) throw a plain Error. No defaults.
 */
export function readZipEntry(zip: Buffer, entry: ZipEntry, maxBytes: number): Buffer {
  if (entry.encrypted) throw new Error(`"${entry.name}" is encrypted`);
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== LOCAL_SIGNATURE) {
    throw new Error(`the local header of "${entry.name}" is damaged`);
  }
  const dataStart = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > zip.length) throw new Error(`"${entry.name}" is truncated`);
  const data = zip.subarray(dataStart, dataEnd);
  if (entry.method === 0) {
    if (data.length > maxBytes) {
      throw Object.assign(new RangeError(`"${entry.name}" is larger than ${maxBytes} bytes`), {
        code: 'ERR_BUFFER_TOO_LARGE',
      });
    }
    return Buffer.from(data);
  }
  if (entry.method === 8) return inflateRawSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  throw new Error(`"${entry.name}" uses unsupported compression method ${entry.method}`);
}

function findEndOfCentralDirectory(zip: Buffer): number {
  const lowest = Math.max(0, zip.length - EOCD_MIN_LENGTH - MAX_COMMENT_LENGTH);
  for (let at = zip.length - EOCD_MIN_LENGTH; at >= lowest; at -= 1) {
    if (zip.readUInt32LE(at) === EOCD_SIGNATURE) return at;
  }
  throw new Error('it has no zip end-of-central-directory record');
}
