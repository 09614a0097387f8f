import { ParseError, ReckonError, throwIfAborted } from '../../errors.ts';
import { cleanText } from '../cleanText.ts';
import { assertTextWithinLimit, type LoaderContext } from './LoaderContext.ts';
import type { ParsedFile } from './ParsedFile.ts';
import { listZipEntries, readZipEntry } from './readZip.ts';

/**
 * How many bytes of XML inside a .docx are accepted per character of the text limit. WordprocessingML
 * spends roughly 5–20 bytes of markup per character of text, but no real document comes near the
 * text limit, so 4× bounds memory (128 MiB of XML at the default limit) without refusing real files.
 */
export const DOCX_MAX_XML_BYTES_PER_TEXT_CHAR = 4;

/** Compound-file (OLE2) signature: Word 97–2003 .doc, and also every password-protected .docx. */
const OLE2_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/**
 * Extracts the text of a Word .docx with mammoth (raw text, paragraphs separated by a blank line) as
 * one section titled by docProps/core.xml's dc:title or `context.fileName`. Before mammoth sees the
 * file, every XML part is inflated here with a hard cap of maxTextChars ×
 * DOCX_MAX_XML_BYTES_PER_TEXT_CHAR (4) bytes in total, enforced on the real inflated size, so a
 * zip bomb fails fast with ParseError `TEXT_TOO_LARGE` instead of exhausting memory. Other failures:
 * `DOCX_CORRUPT` (not a zip, damaged, password-protected or a legacy .doc renamed), `NO_TEXT`.
 * No defaults beyond the limits.
 */
export async function loadDocx(bytes: Buffer, context: LoaderContext): Promise<ParsedFile> {
  if (OLE2_SIGNATURE.every((byte, i) => bytes[i] === byte)) {
    throw corrupt(
      context,
      'it is a password-protected document or an old Word 97–2003 .doc with a .docx name. ' +
        'Open it in Word or LibreOffice, remove the password if any, and save it as .docx',
    );
  }
  let title = context.fileName;
  try {
    const entries = listZipEntries(bytes);
    let budget = context.limits.maxTextChars * DOCX_MAX_XML_BYTES_PER_TEXT_CHAR;
    for (const entry of entries) {
      if (!/\.(xml|rels)$/i.test(entry.name)) continue;
      throwIfAborted(context.signal);
      const xml = readZipEntry(bytes, entry, budget);
      budget -= xml.length;
      if (entry.name === 'docProps/core.xml') title = readCoreTitle(xml.toString('utf8')) ?? title;
    }
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      assertTextWithinLimit(Number.POSITIVE_INFINITY, context);
    }
    if (error instanceof ReckonError) throw error;
    throw corrupt(context, (error as Error).message, error);
  }

  throwIfAborted(context.signal);
  const { default: mammoth } = await import('mammoth');
  let raw: string;
  try {
    raw = (await mammoth.extractRawText({ buffer: bytes })).value;
  } catch (error) {
    throw corrupt(context, error instanceof Error ? error.message : 'mammoth could not read it', error);
  }
  assertTextWithinLimit(raw.length, context);
  const text = cleanText(raw);
  if (text === '') {
    throw new ParseError('NO_TEXT', `"${context.fileName}" contains no text. Nothing was indexed from it.`);
  }
  return { kind: 'docx', sections: [{ title, text }] };
}

function readCoreTitle(coreXml: string): string | undefined {
  const match = /<dc:title[^>]*>([^<]*)<\/dc:title>/.exec(coreXml);
  if (match?.[1] === undefined) return undefined;
  const title = cleanText(
    match[1]
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&'),
  );
  return title === '' ? undefined : title;
}

function corrupt(context: LoaderContext, reason: string, cause?: unknown): ParseError {
  return new ParseError(
    'DOCX_CORRUPT',
    `"${context.fileName}" could not be read as a Word document: ${reason}. If it opens in Word or ` +
      'LibreOffice, save it again as .docx and add the new file.',
    { cause },
  );
}
