/**
 * PyRAG's insufficiency sentinels: answers that mean "the documents did not say". A sentinel must be
 * the whole answer ("Unknown.") or an unmistakable phrase inside it ("There is not enough information
 * to answer"), never a bare substring — a title such as "Unknown Pleasures" or "None but the Brave"
 * is a real answer.
 */

/** Answers that are a sentinel only when they are the entire (normalized) answer. */
export const WHOLE_ANSWER_SENTINELS: readonly string[] = [
  'unknown',
  'none',
  'n a',
  'na',
  'no answer',
  'noanswer',
  'not known',
  'unclear',
  'not specified',
  'not stated',
  'not mentioned',
  'not provided',
  'not available',
  'no information',
  'insufficient information',
  'not enough information',
  'cannot be determined',
  'cannot answer',
  'i dont know',
  'i do not know',
  'no idea',
];

/** Phrases that mark a sentinel wherever they stand, matched on whole words. */
export const SENTINEL_PHRASES: readonly RegExp[] = [
  /\b(not|insufficient|no) enough information\b/,
  /\binsufficient (information|context|evidence|data)\b/,
  /\b(cannot|can not|cant|unable to) (be )?(answer|determine|determined|tell|find|say)\b/,
  /\b(does|do|did) not (contain|mention|provide|specify|say|state|include|give) (any |enough )?(information|details|mention|answer)?\b/,
  /\bno (relevant )?(information|mention|details) (is |was )?(given|provided|available|found|about|on|regarding)\b/,
  /\b(is|are|was|were) not (mentioned|provided|specified|stated|given|available|known)\b/,
  /\bnot possible to (answer|determine|tell)\b/,
  /\bi (dont|do not) know\b/,
];

/** Lower-cases, drops punctuation and collapses spaces ("I don't know." → "i dont know"). */
export function normalizeForSentinel(answer: string): string {
  return answer
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Returns the sentinel an answer amounts to (the matched text), or undefined for a real answer.
 * An empty answer counts as the sentinel "empty".
 */
export function matchSentinel(answer: string): string | undefined {
  const normalized = normalizeForSentinel(answer);
  if (normalized === '') return 'empty';
  if (WHOLE_ANSWER_SENTINELS.includes(normalized)) return normalized;
  for (const phrase of SENTINEL_PHRASES) {
    const match = phrase.exec(normalized);
    if (match) return match[0];
  }
  return undefined;
}
