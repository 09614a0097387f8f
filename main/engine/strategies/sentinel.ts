/**
 * PyRAG's insufficiency sentinels: answers that mean "the documents did not say". An answer is a
 * sentinel only when it *is* an insufficiency statement — the whole answer is one of the short forms
 * ("Unknown.", "N/A", "I don't know") or the answer as a whole says the information is missing
 * ("There is not enough information to answer", "The documents do not mention his birthplace").
 * A real answer that merely contains such words is not one: "Unknown Pleasures", "None but the
 * Brave", "Can't Find My Way Home", "I Don't Know How to Love Him", "No, the treaty did not include
 * France". tests/unit/sentinel.test.ts pins both sides.
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
  'not found',
  'no information',
  'no info',
  'insufficient information',
  'insufficient context',
  'not enough information',
  'not enough info',
  'not enough context',
  'cannot be determined',
  'can not be determined',
  'cannot determine',
  'cannot answer',
  'cannot say',
  'unable to answer',
  'unable to determine',
  'i dont know',
  'i do not know',
  'dont know',
  'no idea',
  'unknown answer',
  'answer unknown',
  'the answer is unknown',
  'it is unknown',
];

/** Words for "the material the model was given" in insufficiency statements. */
const MATERIAL =
  '(?:the )?(?:provided |given |retrieved |available |above |supplied )?(?:documents?|context|passages?|texts?|sources?|information|excerpts?|evidence|data|search results?)';
/** What may follow a statement: "to answer (the question)", "about X", "on this" … */
const TAIL = '(?: .*)?';

/**
 * Statements that are sentinels when the whole answer matches (anchored at both ends; `TAIL` allows
 * a trailing clause such as "to answer the question" or "about his birthplace").
 */
export const SENTINEL_STATEMENTS: readonly RegExp[] = [
  // "There is not enough information (to answer …)", "Insufficient information (in the documents)"
  new RegExp(
    `^(?:there (?:is|was) )?(?:not enough|insufficient|too little) (?:relevant )?(?:information|context|evidence|data|details)${TAIL}$`,
  ),
  // "There is no information about …", "No information on this"
  /^(?:there (?:is|was) )?no (?:relevant )?(?:information|context|evidence|data|details)(?: (?:about|on|regarding|for|in|to|from|of) .*)?$/,
  // "The documents do not contain/mention/say …", "The context does not provide enough information"
  new RegExp(
    `^${MATERIAL} (?:does|do|did) not (?:contain|mention|provide|specify|say|state|include|give|answer|indicate|reveal|tell)${TAIL}$`,
  ),
  // "The documents don't …" (normalized "dont")
  new RegExp(
    `^${MATERIAL} (?:doesnt|dont|didnt) (?:contain|mention|provide|specify|say|state|include|give|answer|indicate|reveal|tell)${TAIL}$`,
  ),
  // "It cannot be determined (from the documents)", "This can't be answered …"
  /^(?:it|this|that|the answer) (?:cannot|can not|cant|could not|couldnt) be (?:determined|answered|found|inferred|established|known|said)(?: .*)?$/,
  // "Cannot be determined from the given documents"
  /^(?:cannot|can not|cant|could not) be (?:determined|answered|found|inferred|established)(?: .*)?$/,
  // "I cannot determine … from the documents", "Unable to answer based on the context"
  new RegExp(
    `^(?:i )?(?:cannot|can not|cant|could not|am unable to|was unable to|unable to|am not able to) (?:determine|answer|tell|find|say|know|infer)\\b.*\\b(?:documents?|context|passages?|texts?|information|sources?|evidence|provided|given)\\b.*$`,
  ),
  // "The nationality is not mentioned in the text" (a short subject of at most five words)
  new RegExp(
    `^(?:\\S+ ){1,5}(?:is|are|was|were) not (?:mentioned|provided|specified|stated|given|found|included) (?:in|by) ${MATERIAL}${TAIL}$`,
  ),
  // "(The answer is) not mentioned/provided in the documents"
  new RegExp(
    `^(?:the answer |this |it |that )?(?:is |was )?not (?:mentioned|provided|specified|stated|given|found|available|included|known|present) (?:in|by|from) ${MATERIAL}${TAIL}$`,
  ),
  // "No information (is) given/available (about …)" — a title such as "No Information Available
  // (album)" goes on with something other than a preposition.
  /^no (?:relevant )?(?:information|mention|details|data|answer) (?:is |was )?(?:given|provided|available|found|present)(?: (?:about|on|regarding|for|in|to|from|of) .*)?$/,
  // "Not possible to answer/determine (from …)"
  /^(?:it is )?(?:not possible|impossible) to (?:answer|determine|tell|say|know)(?: .*)?$/,
  // "I don't know (the answer)", "I do not know based on the documents" — but not a title that
  // continues with other words ("I Don't Know How to Love Him").
  new RegExp(
    `^i (?:dont|do not) know(?: the answer)?(?: (?:from|based on|given|according to) ${MATERIAL})?$`,
  ),
  // "Unknown (from/based on the documents)", "Unknown based on the provided context"
  new RegExp(`^unknown (?:from|based on|given|according to|in) ${MATERIAL}$`),
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
 * Returns the sentinel an answer amounts to (the normalized answer), or undefined for a real answer.
 * An empty answer counts as the sentinel "empty".
 */
export function matchSentinel(answer: string): string | undefined {
  const normalized = normalizeForSentinel(answer);
  if (normalized === '') return 'empty';
  if (WHOLE_ANSWER_SENTINELS.includes(normalized)) return normalized;
  return SENTINEL_STATEMENTS.some((statement) => statement.test(normalized)) ? normalized : undefined;
}
