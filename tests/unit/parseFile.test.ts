import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { CancelledError, ParseError } from '../../main/engine/errors.ts';
import { findInvalidUtf8 } from '../../main/engine/corpus/loaders/decodeText.ts';
import {
  isSupportedPath,
  parseFile,
  SUPPORTED_EXTENSIONS,
} from '../../main/engine/corpus/loaders/parseFile.ts';
import type { ParsedFile } from '../../main/engine/corpus/loaders/ParsedFile.ts';
import {
  ENCRYPTED_PDF_USER_PASSWORD,
  makeBinaryFile,
  makeCorruptPdf,
  makeDocxZipBomb,
  makeEmptyFile,
  makeEncryptedPdf,
  makeFlashRagCorpus,
  makeImageOnlyPdf,
  makeLatin1TextFile,
  makeSampleDocx,
  makeSampleHtml,
  makeSampleMarkdown,
  makeSamplePdf,
  makeTextFile,
  SAMPLE_DOCX_TITLE,
  SAMPLE_HTML_TITLE,
  SAMPLE_MARKDOWN_TITLE,
  SAMPLE_PDF_PAGES,
  SAMPLE_PDF_TITLE,
} from '../fixtures/makeSampleFiles.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reckon-parse-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const at = (name: string): string => join(dir, name);

async function expectParseError(promise: Promise<ParsedFile>, code: string): Promise<ParseError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ParseError);
  expect((error as ParseError).code).toBe(code);
  return error as ParseError;
}

function onlySection(file: ParsedFile): { title: string; text: string; pageStarts?: number[] } {
  expect(file.sections).toHaveLength(1);
  return file.sections[0]!;
}

describe('isSupportedPath', () => {
  it('accepts the documented extensions in any case and refuses others', () => {
    for (const name of [
      'a.txt',
      'b.MD',
      'c.markdown',
      'd.Html',
      'e.htm',
      'f.pdf',
      'g.docx',
      'h.json',
      'i.jsonl',
      'j.ts',
      'k.py',
      'l.yml',
    ]) {
      expect(isSupportedPath(`/x/${name}`)).toBe(true);
    }
    for (const name of ['a.doc', 'b.xyz', 'c', 'd.png', 'e.zip'])
      expect(isSupportedPath(`/x/${name}`)).toBe(false);
    expect(SUPPORTED_EXTENSIONS).toContain('.pdf');
    expect(SUPPORTED_EXTENSIONS.every((extension) => extension === extension.toLowerCase())).toBe(true);
  });
});

describe('parseFile: text formats', () => {
  it('reads .txt as one cleaned section titled by the file name', async () => {
    const path = await makeTextFile(
      at('notes.txt'),
      '\uFEFFHello\u200B  world\r\n\r\n\r\n\r\nBye\u{E0041}\n',
    );
    const file = await parseFile(path);
    expect(file.kind).toBe('text');
    expect(onlySection(file)).toEqual({ title: 'notes.txt', text: 'Hello world\n\nBye' });
  });

  it('reads .md keeping the markup, titled by the first "# " heading outside code fences', async () => {
    const file = await parseFile(await makeSampleMarkdown(at('notes.md')));
    expect(file.kind).toBe('markdown');
    const section = onlySection(file);
    expect(section.title).toBe(SAMPLE_MARKDOWN_TITLE);
    expect(section.text).toContain('Some **bold** text about the Amazon river.');
    expect(section.text).toContain('- item one\n  - nested item');
  });

  it('titles a .markdown without a level-1 heading by its file name', async () => {
    const file = await parseFile(await makeTextFile(at('plain.markdown'), '## Only a subheading\n\ntext'));
    expect(onlySection(file).title).toBe('plain.markdown');
  });

  it('reads .html: drops script/style/noscript, keeps blocks as lines, decodes entities, uses <title>', async () => {
    const file = await parseFile(await makeSampleHtml(at('page.html')));
    expect(file.kind).toBe('html');
    const section = onlySection(file);
    expect(section.title).toBe(SAMPLE_HTML_TITLE);
    expect(section.text).toBe(
      'Rivers of Europe\n\nThe Danube flows through ten countries & four capitals.\nIt ends in the Black Sea.' +
        '\n\nVienna\nBudapest\n\nRiver Length\nRhine 1,230 km',
    );
    expect(section.text).not.toMatch(/SCRIPT_TEXT|STYLE_TEXT|NOSCRIPT_TEXT|color: red/);
  });

  it('titles an .htm without <title> by its file name and keeps <pre> line breaks', async () => {
    const file = await parseFile(await makeTextFile(at('x.htm'), '<p>one\ntwo</p><pre>a\n    b</pre>'));
    expect(onlySection(file)).toEqual({ title: 'x.htm', text: 'one two\n\na\nb' });
  });

  it('reads source code as kind "code" with indentation kept', async () => {
    const source =
      'export function f(x: number): number {\r\n\tif (x > 0) {\r\n\t\treturn x;\r\n\t}\r\n  return 0;\r\n}\r\n';
    const file = await parseFile(await makeTextFile(at('f.ts'), source));
    expect(file.kind).toBe('code');
    expect(onlySection(file)).toEqual({
      title: 'f.ts',
      text: 'export function f(x: number): number {\n\tif (x > 0) {\n\t\treturn x;\n\t}\n  return 0;\n}',
    });
  });
});

describe('parseFile: QA datasets', () => {
  it('reads HotpotQA/2Wiki JSON: one section per distinct paragraph, sentences joined with ""', async () => {
    const records = [
      {
        _id: 'a',
        question: 'q1',
        context: [
          [
            'Scott Derrickson',
            ['Scott Derrickson (born July 16, 1966) is a director.', ' He lives in Los Angeles.'],
          ],
          ['Ed Wood', ['Ed Wood was a filmmaker.']],
        ],
      },
      {
        _id: 'b',
        question: 'q2',
        context: [
          [
            'Scott Derrickson',
            ['Scott Derrickson (born July 16, 1966) is a director.', ' He lives in Los Angeles.'],
          ],
          ['Ed Wood', ['A different Ed Wood paragraph.']],
        ],
      },
    ];
    const file = await parseFile(await makeTextFile(at('hotpot.json'), JSON.stringify(records)));
    expect(file.kind).toBe('qa-dataset');
    expect(file.sections).toEqual([
      {
        title: 'Scott Derrickson',
        text: 'Scott Derrickson (born July 16, 1966) is a director. He lives in Los Angeles.',
      },
      { title: 'Ed Wood', text: 'Ed Wood was a filmmaker.' },
      { title: 'Ed Wood', text: 'A different Ed Wood paragraph.' },
    ]);
  });

  it('reads MuSiQue JSONL paragraphs', async () => {
    const lines = [
      {
        id: '2hop__1',
        paragraphs: [
          { idx: 0, title: 'Port Blair', paragraph_text: 'Port Blair is a capital.', is_supporting: false },
        ],
      },
      {
        id: '2hop__2',
        paragraphs: [
          { idx: 0, title: 'Port Blair', paragraph_text: 'Port Blair is a capital.' },
          { idx: 1, title: 'X', paragraph_text: 'Y.' },
        ],
      },
    ];
    const file = await parseFile(
      await makeTextFile(at('musique.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n')),
    );
    expect(file.kind).toBe('qa-dataset');
    expect(file.sections).toEqual([
      { title: 'Port Blair', text: 'Port Blair is a capital.' },
      { title: 'X', text: 'Y.' },
    ]);
  });

  it('reads a FlashRAG corpus ({id, contents} and {id, title, text}), unquoting titles and deduplicating', async () => {
    const file = await parseFile(await makeFlashRagCorpus(at('corpus.jsonl')));
    expect(file.kind).toBe('qa-dataset');
    expect(file.sections.map((s) => s.title)).toEqual(['Paris', 'Eiffel Tower', 'Seine']);
    expect(file.sections[0]!.text).toBe('Paris is the capital and largest city of France.');
  });

  it('indexes any other JSON/JSONL as plain text', async () => {
    const json = await parseFile(await makeTextFile(at('package.json'), '{"name": "x", "version": "1.0.0"}'));
    expect(json.kind).toBe('text');
    expect(onlySection(json)).toEqual({ title: 'package.json', text: '{"name": "x", "version": "1.0.0"}' });
    const questions = await parseFile(
      await makeTextFile(at('qa.jsonl'), '{"id":"1","question":"Who?","golden_answers":["Me"]}\n'),
    );
    expect(questions.kind).toBe('text');
  });

  it('reports a damaged JSON or JSONL file as failed instead of indexing it as text', async () => {
    await expect(
      parseFile(await makeTextFile(at('broken.jsonl'), '{"contents":"a\\nb"}\nnot json\n')),
    ).rejects.toMatchObject({
      name: 'ParseError',
      code: 'BAD_JSON',
      message: expect.stringContaining('line 2'),
    });
    await expect(
      parseFile(await makeTextFile(at('truncated.json'), '[{"context": [["Paris", ["Paris is')),
    ).rejects.toMatchObject({
      name: 'ParseError',
      code: 'BAD_JSON',
      message: expect.stringMatching(/^"truncated\.json" is not valid JSON: /),
    });
  });
});

describe('parseFile: PDF', () => {
  it('extracts the text of each page with pageStarts and the info title', async () => {
    const file = await parseFile(await makeSamplePdf(at('sample.pdf')));
    expect(file.kind).toBe('pdf');
    const section = onlySection(file);
    expect(section.title).toBe(SAMPLE_PDF_TITLE);
    const [page1, page2] = SAMPLE_PDF_PAGES.map((lines) => lines.join('\n'));
    expect(section.text).toBe(`${page1}\n\n${page2}`);
    expect(section.pageStarts).toEqual([0, page1!.length + 2]);
    expect(section.text.slice(section.pageStarts![1]!)).toBe(page2);
  });

  it('fails PDF_CORRUPT on a damaged PDF', async () => {
    const error = await expectParseError(parseFile(await makeCorruptPdf(at('corrupt.pdf'))), 'PDF_CORRUPT');
    expect(error.message).toContain('corrupt.pdf');
  });

  it('fails PDF_CORRUPT on a non-PDF with a .pdf name', async () => {
    await expectParseError(parseFile(await makeTextFile(at('fake.pdf'), 'just some text')), 'PDF_CORRUPT');
  });

  it('fails PDF_ENCRYPTED on a password-protected PDF, which does open with its password', async () => {
    const path = await makeEncryptedPdf(at('encrypted.pdf'));
    const error = await expectParseError(parseFile(path), 'PDF_ENCRYPTED');
    expect(error.message).toMatch(/password/);

    // The fixture is a real encrypted PDF, not merely one pdfjs refuses.
    const { readFile } = await import('node:fs/promises');
    const task = getDocument({
      data: new Uint8Array(await readFile(path)),
      password: ENCRYPTED_PDF_USER_PASSWORD,
      isEvalSupported: false,
      verbosity: 0,
    });
    const document = await task.promise;
    const content = await (await document.getPage(1)).getTextContent();
    expect(content.items.map((item) => ('str' in item ? item.str : '')).join(' ')).toContain(
      'capital of France',
    );
    await task.destroy();
  });

  it('fails NO_TEXT on a PDF without a text layer and suggests OCR', async () => {
    const error = await expectParseError(parseFile(await makeImageOnlyPdf(at('scan.pdf'))), 'NO_TEXT');
    expect(error.message).toMatch(/scanned/);
    expect(error.message).toMatch(/OCR/);
  });

  it('fails TEXT_TOO_LARGE when the extracted text exceeds maxTextChars', async () => {
    await expectParseError(parseFile(at('sample.pdf'), { limits: { maxTextChars: 40 } }), 'TEXT_TOO_LARGE');
  });
});

describe('parseFile: DOCX', () => {
  it('extracts paragraphs and the core-properties title', async () => {
    const file = await parseFile(await makeSampleDocx(at('sample.docx')));
    expect(file.kind).toBe('docx');
    expect(onlySection(file)).toEqual({
      title: SAMPLE_DOCX_TITLE,
      text: 'Reckon sample Word document.\n\nMarie Curie won the Nobel Prize in Physics in 1903 & in Chemistry in 1911.',
    });
  });

  it('fails TEXT_TOO_LARGE on a zip bomb, quickly and without inflating it all', async () => {
    const path = await makeDocxZipBomb(at('bomb.docx'), 32 * 1024 * 1024);
    const { stat } = await import('node:fs/promises');
    expect((await stat(path)).size).toBeLessThan(100 * 1024);
    const started = Date.now();
    const error = await expectParseError(
      parseFile(path, { limits: { maxTextChars: 1024 * 1024 } }),
      'TEXT_TOO_LARGE',
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.message).toMatch(/zip bomb/);
  });

  it('fails TEXT_TOO_LARGE when the extracted text alone is over the limit', async () => {
    await expectParseError(parseFile(at('sample.docx'), { limits: { maxTextChars: 20 } }), 'TEXT_TOO_LARGE');
  });

  it('fails DOCX_CORRUPT on a file that is not a zip', async () => {
    const error = await expectParseError(
      parseFile(await makeTextFile(at('fake.docx'), 'not a zip at all')),
      'DOCX_CORRUPT',
    );
    expect(error.message).toContain('fake.docx');
  });

  it('fails DOCX_CORRUPT on a legacy/password-protected compound file', async () => {
    const ole = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(512)]);
    await writeFile(at('old.docx'), ole);
    const error = await expectParseError(parseFile(at('old.docx')), 'DOCX_CORRUPT');
    expect(error.message).toMatch(/password-protected|97–2003/);
  });
});

describe('parseFile: failures', () => {
  it('fails EMPTY_FILE on a 0-byte file', async () => {
    await expectParseError(parseFile(await makeEmptyFile(at('empty.txt'))), 'EMPTY_FILE');
  });

  it('fails FILE_TOO_LARGE before reading a file over maxFileBytes', async () => {
    const path = await makeTextFile(at('big.txt'), 'x'.repeat(2000));
    const error = await expectParseError(
      parseFile(path, { limits: { maxFileBytes: 1000 } }),
      'FILE_TOO_LARGE',
    );
    expect(error.message).toMatch(/limit/);
  });

  it('fails BINARY_FILE on binary bytes named .txt', async () => {
    await expectParseError(parseFile(await makeBinaryFile(at('binary.txt'))), 'BINARY_FILE');
  });

  it('fails BINARY_FILE on control-character soup without NULs', async () => {
    await writeFile(
      at('controls.txt'),
      Buffer.from(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 0x01 : 0x41))),
    );
    await expectParseError(parseFile(at('controls.txt')), 'BINARY_FILE');
  });

  it('fails INVALID_UTF8 on Latin-1 text, naming the byte offset and iconv', async () => {
    const error = await expectParseError(
      parseFile(await makeLatin1TextFile(at('latin1.txt'))),
      'INVALID_UTF8',
    );
    expect(error.message).toContain('offset 3');
    expect(error.message).toContain('0xE9');
    expect(error.message).toContain('iconv');
  });

  it('fails INVALID_UTF8 on UTF-16 with a BOM, suggesting the right conversion', async () => {
    await writeFile(
      at('utf16.txt'),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi', 'utf16le')]),
    );
    const error = await expectParseError(parseFile(at('utf16.txt')), 'INVALID_UTF8');
    expect(error.message).toContain('UTF-16LE');
  });

  it('fails TEXT_TOO_LARGE on text over maxTextChars', async () => {
    await expectParseError(
      parseFile(await makeTextFile(at('long.txt'), 'y'.repeat(500)), { limits: { maxTextChars: 100 } }),
      'TEXT_TOO_LARGE',
    );
  });

  it('fails NO_TEXT on a text file with only invisible characters', async () => {
    await expectParseError(parseFile(await makeTextFile(at('blank.txt'), '\u200B \n\t\u2060\n')), 'NO_TEXT');
  });

  it('fails UNSUPPORTED_TYPE on unknown extensions without touching the file', async () => {
    const error = await expectParseError(parseFile(at('does-not-exist.xyz')), 'UNSUPPORTED_TYPE');
    expect(error.message).toContain('.xyz');
  });

  it('fails FILE_NOT_FOUND on a missing file', async () => {
    await expectParseError(parseFile(at('missing.txt')), 'FILE_NOT_FOUND');
  });

  it('throws CancelledError when the signal has fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(parseFile(at('notes.txt'), { signal: controller.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
  });
});

describe('findInvalidUtf8', () => {
  const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
  it('returns -1 for valid UTF-8, including 4-byte sequences', () => {
    expect(findInvalidUtf8(Buffer.from('aé€😀'))).toBe(-1);
  });
  it('finds stray, overlong, surrogate, out-of-range and truncated sequences', () => {
    expect(findInvalidUtf8(bytes(0x61, 0x80))).toBe(1);
    expect(findInvalidUtf8(bytes(0xc0, 0xaf))).toBe(0);
    expect(findInvalidUtf8(bytes(0xe0, 0x80, 0xaf))).toBe(0);
    expect(findInvalidUtf8(bytes(0x61, 0xed, 0xa0, 0x80))).toBe(1);
    expect(findInvalidUtf8(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(0);
    expect(findInvalidUtf8(bytes(0x61, 0x62, 0xe2, 0x82))).toBe(2);
  });
});

describe('joinSentences', () => {
  it('restores HotpotQA paragraphs exactly and spaces 2WikiMultihopQA sentences', async () => {
    const { joinSentences } = await import('../../main/engine/corpus/loaders/loadQaDataset.ts');
    expect(joinSentences(['Ed Wood was a filmmaker.', ' He was American.'])).toBe(
      'Ed Wood was a filmmaker. He was American.',
    );
    expect(joinSentences(['Hardy was an English cricketer.', 'He played for Kent.'])).toBe(
      'Hardy was an English cricketer. He played for Kent.',
    );
    expect(joinSentences([])).toBe('');
  });
});
