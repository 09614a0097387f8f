import { ParseError } from '../../errors.ts';

/** How many leading bytes are inspected for control characters when deciding "binary or text". */
export const BINARY_SNIFF_BYTES = 8192;
/** Share of control bytes (other than whitespace and ESC) above which a file counts as binary. */
export const BINARY_CONTROL_RATIO = 0.1;

const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes the bytes of a text-kind file (txt, md, html, code, json) as UTF-8, refusing what is not
 * text: NUL bytes or more than BINARY_CONTROL_RATIO (10 %) control bytes in the first
 * BINARY_SNIFF_BYTES (8 KiB) → ParseError `BINARY_FILE`; a UTF-16 byte-order mark or any byte
 * sequence that is not valid UTF-8 → ParseError `INVALID_UTF8`, naming the offset of the first bad
 * byte and how to convert the file. A UTF-8 byte-order mark is dropped. `fileName` is only used in
 * messages.
 */
export function decodeUtf8Text(bytes: Uint8Array, fileName: string): string {
  const utf16 = detectUtf16Bom(bytes);
  if (utf16 !== null) {
    throw new ParseError(
      'INVALID_UTF8',
      `"${fileName}" is ${utf16} text; Reckon reads text files as UTF-8. Convert it, for example with ` +
        `iconv -f ${utf16} -t UTF-8 "${fileName}" > converted.txt, and add the converted file.`,
    );
  }
  if (looksBinary(bytes)) {
    throw new ParseError(
      'BINARY_FILE',
      `"${fileName}" contains binary data (NUL or control bytes), not text. If it is a document, ` +
        'save it as .txt, .md, .html, .pdf or .docx; otherwise remove it from the library.',
    );
  }
  try {
    return UTF8_DECODER.decode(bytes);
  } catch (error) {
    const offset = findInvalidUtf8(bytes);
    const byte = bytes[offset];
    const shown = byte === undefined ? '' : ` (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')})`;
    throw new ParseError(
      'INVALID_UTF8',
      `"${fileName}" is not valid UTF-8: the first invalid byte is at offset ${offset}${shown}. It is ` +
        `probably in a legacy encoding such as Latin-1 or Windows-1252. Convert it, for example with ` +
        `iconv -f WINDOWS-1252 -t UTF-8 "${fileName}" > converted.txt, and add the converted file.`,
      { cause: error },
    );
  }
}

/**
 * Returns the byte offset where the first invalid UTF-8 sequence starts (overlong forms, surrogates,
 * code points above U+10FFFF, stray continuation bytes and truncated sequences all count), or -1
 * when `bytes` is valid UTF-8. No defaults.
 */
export function findInvalidUtf8(bytes: Uint8Array): number {
  const length = bytes.length;
  let i = 0;
  while (i < length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    let continuation: number;
    let secondMin = 0x80;
    let secondMax = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) continuation = 1;
    else if (lead === 0xe0) [continuation, secondMin] = [2, 0xa0];
    else if (lead === 0xed) [continuation, secondMax] = [2, 0x9f];
    else if (lead >= 0xe1 && lead <= 0xef) continuation = 2;
    else if (lead === 0xf0) [continuation, secondMin] = [3, 0x90];
    else if (lead === 0xf4) [continuation, secondMax] = [3, 0x8f];
    else if (lead >= 0xf1 && lead <= 0xf3) continuation = 3;
    else return i;
    if (i + continuation >= length) return i;
    const second = bytes[i + 1]!;
    if (second < secondMin || second > secondMax) return i;
    for (let k = 2; k <= continuation; k += 1) {
      const next = bytes[i + k]!;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += continuation + 1;
  }
  return -1;
}

function detectUtf16Bom(bytes: Uint8Array): 'UTF-16LE' | 'UTF-16BE' | null {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'UTF-16LE';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'UTF-16BE';
  return null;
}

function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.indexOf(0) !== -1) return true;
  const sniff = Math.min(bytes.length, BINARY_SNIFF_BYTES);
  let control = 0;
  for (let i = 0; i < sniff; i += 1) {
    const b = bytes[i]!;
    // \t \n \v \f \r and ESC (ANSI colours in logs) are normal in text.
    if (b < 0x20 && !(b >= 0x09 && b <= 0x0d) && b !== 0x1b) control += 1;
  }
  return sniff > 0 && control / sniff > BINARY_CONTROL_RATIO;
}
