/**
 * The answer normalization of the official HotpotQA, 2WikiMultihopQA, MuSiQue, SQuAD and FlashRAG
 * scripts (`normalize_answer`), reproduced character for character, Python semantics included:
 * `str.lower()`, then every character of `string.punctuation` deleted, then the whole words a / an /
 * the replaced by a space (`re.sub(r'\b(a|an|the)\b', ' ', …)`, whose `\b` is Unicode-aware in
 * Python 3), then `' '.join(text.split())` (which splits on Python's whitespace, not JavaScript's).
 */

/** Python's `string.punctuation`: the 32 ASCII punctuation characters, nothing else. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/**
 * Python 3 `\b(a|an|the)\b` on a str pattern: a word character is a Unicode letter or number or "_"
 * (JavaScript's `\b` is ASCII-only, so "éthe" would wrongly lose its "the").
 */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * The characters Python's `str.split()` splits on (`str.isspace()`): JavaScript's `\s` less U+FEFF,
 * plus the information separators U+001C–U+001F and NEL U+0085.
 */
const PYTHON_WHITESPACE =
  // eslint-disable-next-line no-control-regex -- Python counts these control characters as whitespace
  /[\t\n\v\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** `normalize_answer(s)` of the official scripts: lowercase, drop ASCII punctuation, drop articles, collapse whitespace. */
export function normalizeAnswer(text: string): string {
  const withoutArticles = text.toLowerCase().replace(ASCII_PUNCTUATION, '').replace(ARTICLES, ' ');
  return answerTokensOfNormalized(withoutArticles).join(' ');
}

/** The whitespace tokens of a normalized answer (`normalize_answer(s).split()`). */
export function answerTokens(text: string): string[] {
  return answerTokensOfNormalized(normalizeAnswer(text));
}

function answerTokensOfNormalized(text: string): string[] {
  return text.split(PYTHON_WHITESPACE).filter((token) => token !== '');
}
