import { Parser } from 'htmlparser2';
import { cleanText } from '../cleanText.ts';
import type { LoaderContext } from './LoaderContext.ts';
import type { ParsedFile } from './ParsedFile.ts';

/** Elements whose content is never text a reader sees. */
// prettier-ignore
const SKIPPED_ELEMENTS = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'head', 'iframe', 'object']);

/** Elements that start a new line of text (HTML's block-level and table structure). */
// prettier-ignore
const BLOCK_ELEMENTS = new Set([
  'address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'dd', 'details', 'dialog',
  'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4',
  'h5', 'h6', 'header', 'hgroup', 'hr', 'html', 'legend', 'li', 'main', 'nav', 'ol', 'p', 'pre',
  'section', 'summary', 'table', 'tbody', 'tfoot', 'thead', 'tr', 'ul',
]);

/** Block elements after which a blank line (paragraph break) rather than a line break follows. */
// prettier-ignore
const PARAGRAPH_ELEMENTS = new Set([
  'address', 'article', 'aside', 'blockquote', 'dl', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5',
  'h6', 'header', 'hr', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'table', 'ul',
]);

const VOID_BLOCK_ELEMENTS = new Set(['br', 'hr']);

/** Table cells are separated by a space so that a row reads as one line. */
const CELL_ELEMENTS = new Set(['td', 'th']);

/**
 * Extracts readable text from an HTML document with htmlparser2 (entities decoded): the content of
 * script, style, noscript, template, svg, math, iframe, object and head is dropped; whitespace in
 * text collapses as a browser would (kept inside <pre>); block elements start new lines, headings,
 * paragraphs, lists and tables are separated by blank lines. Returns one section titled by <title>
 * (first one) or `context.fileName`. No defaults.
 */
export function loadHtml(html: string, context: LoaderContext): ParsedFile {
  let skipDepth = 0;
  let preDepth = 0;
  let inTitle = false;
  let titleDone = false;
  let title = '';
  const parts: string[] = [];
  // Line breaks owed before the next text: 1 = new line, 2 = new paragraph. Collected rather than
  // emitted so that nested and adjacent blocks (</li><li>, </p></div>) give one break, not several.
  let pendingBreak = 0;
  const breakLine = (name: string): void => {
    if (BLOCK_ELEMENTS.has(name)) pendingBreak = Math.max(pendingBreak, PARAGRAPH_ELEMENTS.has(name) ? 2 : 1);
  };

  const parser = new Parser(
    {
      onopentag(name) {
        if (name === 'title' && !titleDone) inTitle = true;
        if (SKIPPED_ELEMENTS.has(name)) skipDepth += 1;
        if (name === 'pre') preDepth += 1;
        if (skipDepth > 0) return;
        breakLine(name);
        if (CELL_ELEMENTS.has(name)) parts.push(' ');
      },
      ontext(text) {
        if (inTitle) title += text;
        if (skipDepth > 0) return;
        const visible = preDepth > 0 ? text : text.replace(/[ \t\r\n\f]+/g, ' ');
        if (pendingBreak > 0) {
          if (visible.trim() === '') return;
          parts.push('\n'.repeat(pendingBreak));
          pendingBreak = 0;
        }
        parts.push(visible);
      },
      onclosetag(name) {
        if (name === 'title' && inTitle) {
          inTitle = false;
          titleDone = title.trim() !== '';
        }
        if (name === 'pre' && preDepth > 0) preDepth -= 1;
        if (SKIPPED_ELEMENTS.has(name)) {
          if (skipDepth > 0) skipDepth -= 1;
          return;
        }
        // Void elements (br, hr) get an implied close right after the open; one break is enough.
        if (skipDepth > 0 || VOID_BLOCK_ELEMENTS.has(name)) return;
        breakLine(name);
      },
    },
    { decodeEntities: true, lowerCaseTags: true },
  );
  parser.write(html);
  parser.end();

  const cleanTitle = cleanText(title);
  return {
    kind: 'html',
    sections: [{ title: cleanTitle === '' ? context.fileName : cleanTitle, text: cleanText(parts.join('')) }],
  };
}
