/**
 * FLARE (Jiang et al. 2023, "Active Retrieval Augmented Generation"), the FLARE-direct variant:
 *
 * 1. Optionally retrieve with the question first (`initialRetrieval`, as the paper does).
 * 2. Generate the answer one sentence at a time. At each step the model writes a look-ahead
 *    sentence ŝ (with token probabilities) from the question, the current documents and the answer
 *    so far (a prefill the model continues).
 * 3. If every token of ŝ has probability ≥ θ (`threshold`), ŝ is accepted as it is. Otherwise a
 *    query is formed from ŝ — with the tokens below β (`maskThreshold`) masked out, the paper's
 *    masked-sentence query (`query: 'masked'`), or ŝ whole (`query: 'sentence'`) — the corpus is
 *    searched, and the sentence is written again over the new documents, which then stay the
 *    documents of the following steps until the next retrieval.
 * 4. Stop when the answer is complete (its `<answer>…</answer>` closed, or the model ends) or at
 *    `maxSentences`.
 *
 * Short answer: the generation prompt is the shared answer format (cited reasoning sentences, then
 * `<answer>…</answer>`), so the final answer *sentence* is generated — and checked for confidence,
 * and regenerated after retrieval — like every other sentence, which is what FLARE is for, and it is
 * parsed by the same parseAnswerOutput every method uses, so scoring is identical. Only when the
 * text has no `<answer>` (the cap came first, or the model stopped early) does one reader call
 * (role "answer") over the generated text and every document collected produce it.
 */
import { z } from 'zod';
import { TokenProbabilitiesUnsupportedError } from '../../errors.ts';
import type { ChatMessage, TokenProbability } from '../../models/LlmBackend.ts';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import type { Citation } from '../../../../preload/TraceEvent.ts';
import { answerMessages, callAnswerModel, parseAnswerOutput } from '../answerFormat.ts';
import { citationOf, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';

/** θ: a look-ahead sentence with any token below this probability triggers retrieval (the paper's 0.4). */
export const DEFAULT_FLARE_THRESHOLD = 0.4;
/** β: tokens below this probability are masked out of the query (masked-query variant). */
export const DEFAULT_FLARE_MASK_THRESHOLD = 0.4;
/** Sentences written before the answer is cut off. */
export const DEFAULT_FLARE_MAX_SENTENCES = 8;
/** Token budget of one look-ahead (or regenerated) sentence. */
export const DEFAULT_FLARE_SENTENCE_MAX_TOKENS = 64;

export const flareOptionsSchema = z
  .object({
    threshold: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_FLARE_THRESHOLD)
      .describe(
        'θ: retrieve and regenerate a look-ahead sentence when any of its tokens has a probability below this. Default 0.4.',
      ),
    maskThreshold: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_FLARE_MASK_THRESHOLD)
      .describe('β: tokens below this probability are left out of a masked query. Default 0.4.'),
    query: z
      .enum(['masked', 'sentence'])
      .default('masked')
      .describe(
        'The query formed from a low-confidence sentence: the sentence with its low-probability tokens masked (masked), or the whole sentence (sentence). Default masked.',
      ),
    initialRetrieval: z
      .boolean()
      .default(true)
      .describe('Retrieve with the question before the first sentence, as the paper does. Default true.'),
    maxSentences: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(DEFAULT_FLARE_MAX_SENTENCES)
      .describe('Sentences written before the answer is cut off (then one reader call answers). Default 8.'),
    sentenceMaxTokens: z
      .number()
      .int()
      .min(4)
      .max(1024)
      .default(DEFAULT_FLARE_SENTENCE_MAX_TOKENS)
      .describe('Token budget of one look-ahead or regenerated sentence. Default 64.'),
    answerMaxTokens: z
      .number()
      .int()
      .min(16)
      .max(8192)
      .default(256)
      .describe('Token budget of the reader call made when the text has no <answer>. Default 256.'),
  })
  .strict();
export type FlareOptions = z.output<typeof flareOptionsSchema>;

/** The figures FLARE reports. */
export const FLARE_METRICS = {
  sentences: { label: 'Sentences', description: 'Sentences of the answer written (accepted or regenerated)' },
  retrievals: {
    label: 'Retrievals',
    description: 'Searches made: the initial one with the question and one per low-confidence sentence',
  },
  triggeredSentences: {
    label: 'Low-confidence sentences',
    description: 'Look-ahead sentences with a token below θ, which were regenerated after retrieval',
  },
  minProbability: {
    label: 'Lowest token probability',
    description: 'The lowest token probability seen in any look-ahead sentence',
  },
  capReached: {
    label: 'Sentence cap reached',
    description: 'Whether the answer was cut off at maxSentences',
  },
  answerSource: {
    label: 'Answer from',
    description: 'generation: the <answer> the sentences ended with; reader: one reader call after the loop',
  },
} as const;

/** One sentence of the answer, as the trace step and the citations see it. */
interface SentenceRecord {
  text: string;
  docs: RetrievedDoc[];
  regenerated: boolean;
}

export async function runFlare(context: StrategyContext<FlareOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, emit, now, signal, topK } = context;
  if (llm.supportsTokenProbabilities !== true) {
    throw new TokenProbabilitiesUnsupportedError(
      `FLARE needs the probability of every generated token, and the model backend ${llm.id} cannot report them`,
    );
  }
  const phaseMs: Record<string, number> = {};
  const figures = {
    sentences: 0,
    retrievals: 0,
    triggeredSentences: 0,
    minProbability: null as number | null,
    capReached: false,
    answerSource: 'generation' as 'generation' | 'reader',
  };
  const collected = new Map<number, RetrievedDoc>();
  const search = async (query: string): Promise<RetrievedDoc[]> => {
    const docs = await timePhase(phaseMs, 'retrieve', now, () => context.retrieve(query, topK, signal));
    figures.retrievals++;
    for (const doc of docs) if (!collected.has(doc.id)) collected.set(doc.id, doc);
    return docs;
  };

  let docs: RetrievedDoc[] = [];
  if (options.initialRetrieval) {
    docs = await search(question);
    emit({
      type: 'step',
      kind: 'retrieval',
      title: 'Initial retrieval with the question',
      detail: question,
      data: { query: question, retrievedIds: docs.map((doc) => doc.id) },
    });
  }

  const sentences: SentenceRecord[] = [];
  let text = '';
  while (!answerClosed(text)) {
    if (sentences.length >= options.maxSentences) {
      figures.capReached = true;
      break;
    }
    const lookahead = await timePhase(phaseMs, 'generate', now, () =>
      llm.generate({
        role: 'lookahead',
        messages: sentenceMessages(question, docs, text),
        maxTokens: options.sentenceMaxTokens,
        tokenProbabilities: true,
        signal,
      }),
    );
    if (!lookahead.tokens)
      throw new TokenProbabilitiesUnsupportedError(
        `The model backend ${llm.id} returned no token probabilities`,
      );
    const next = firstSentence(lookahead.text, lookahead.tokens);
    if (next.text.trim() === '') break; // The model ended the answer.
    const index = sentences.length + 1;
    // A backend whose token texts do not cover the text (none do so far) leaves nothing to doubt.
    const minProbability = Math.min(1, ...next.tokens.map((token) => token.probability));
    figures.minProbability =
      figures.minProbability === null ? minProbability : Math.min(figures.minProbability, minProbability);
    const lowTokens = next.tokens.filter((token) => token.probability < options.threshold);
    if (lowTokens.length === 0) {
      sentences.push({ text: next.text.trim(), docs, regenerated: false });
      text = appendSentence(text, next.text);
      emit(sentenceStep(index, next.text, minProbability, { triggered: false }));
      continue;
    }

    figures.triggeredSentences++;
    const query = formQuery(next.tokens, options, question);
    docs = await search(query);
    const regenerated = await timePhase(phaseMs, 'generate', now, () =>
      llm.generate({
        role: 'regenerate',
        messages: sentenceMessages(question, docs, text),
        maxTokens: options.sentenceMaxTokens,
        signal,
      }),
    );
    const sentence = firstSentence(regenerated.text).text;
    emit(
      sentenceStep(index, sentence.trim() === '' ? next.text : sentence, minProbability, {
        triggered: true,
        lookahead: next.text.trim(),
        lowTokens,
        query,
        retrievedIds: docs.map((doc) => doc.id),
      }),
    );
    if (sentence.trim() === '') break;
    sentences.push({ text: sentence.trim(), docs, regenerated: true });
    text = appendSentence(text, sentence);
  }
  figures.sentences = sentences.length;

  let parsed = parseAnswerOutput(text);
  let readerDocs: RetrievedDoc[] = [];
  if (!/<answer>/i.test(text)) {
    figures.answerSource = 'reader';
    readerDocs = [...collected.values()];
    parsed = await timePhase(phaseMs, 'answer', now, () =>
      callAnswerModel(llm, readerQuestion(question, text), readerDocs, {
        maxTokens: options.answerMaxTokens,
        signal,
      }),
    );
  }
  return {
    answer: parsed.answer,
    reasoning: text.trim() === '' ? parsed.reasoning : text.replace(/<answer>[\s\S]*$/i, '').trim() || null,
    citations: citationsOf(sentences, readerDocs, parsed.citedDocs),
    failure: null,
    metrics: { phaseMs, program: null, strategy: figures },
  };
}

/** The answer prompt (shared answer format) over `docs`, continuing the answer written so far. */
export function sentenceMessages(
  question: string,
  docs: readonly RetrievedDoc[],
  answerSoFar: string,
): ChatMessage[] {
  const messages = answerMessages(question, docs);
  // A trailing assistant message is a prefill: the model continues the answer from there.
  if (answerSoFar !== '') messages.push({ role: 'assistant', content: answerSoFar });
  return messages;
}

/** The reader call's question when the sentences gave no <answer>: the text so far as given facts. */
function readerQuestion(question: string, text: string): string {
  return text.trim() === '' ? question : `Notes so far: ${text.trim()}\n\nAnswer the question: ${question}`;
}

/** Whether the answer so far holds a complete <answer>…</answer>. */
function answerClosed(text: string): boolean {
  return /<answer>[\s\S]*?<\/answer>/i.test(text);
}

/** `sentence` after `text`, one space between them. */
function appendSentence(text: string, sentence: string): string {
  const trimmed = sentence.trim();
  return text === '' ? trimmed : `${text} ${trimmed}`;
}

/**
 * Where the first sentence of `text` ends (exclusive): after "</answer>" when the text starts with
 * "<answer>"; otherwise at the first of a sentence-ending ".", "!" or "?" (with closing quotes or
 * brackets) followed by whitespace or the end, a line break, or the start of "<answer>" — the
 * reasoning sentence before the answer ends there. The whole text when none comes.
 */
export function sentenceEnd(text: string): number {
  const start = text.length - text.trimStart().length;
  const body = text.slice(start);
  if (/^<answer>/i.test(body)) {
    const close = body.toLowerCase().indexOf('</answer>');
    return close === -1 ? text.length : start + close + '</answer>'.length;
  }
  const candidates: number[] = [];
  const stop = /[.!?]["'”’)\]]*(?=\s|$)/.exec(body);
  if (stop) candidates.push(stop.index + stop[0].length);
  const newline = body.indexOf('\n');
  if (newline > 0) candidates.push(newline);
  const tag = body.toLowerCase().indexOf('<answer>');
  if (tag > 0) candidates.push(tag);
  return candidates.length === 0 ? text.length : start + Math.min(...candidates);
}

/**
 * The first sentence of a generation and, when given, the tokens that carry it (each token that
 * starts before the sentence's end; a token that straddles it is kept whole, since its probability
 * was for all of it).
 */
export function firstSentence(
  text: string,
  tokens: readonly TokenProbability[] = [],
): { text: string; tokens: TokenProbability[] } {
  const end = sentenceEnd(text);
  const kept: TokenProbability[] = [];
  let at = 0;
  for (const token of tokens) {
    if (at >= end) break;
    kept.push(token);
    at += token.text.length;
  }
  return { text: text.slice(0, end), tokens: kept };
}

/**
 * The query for a low-confidence sentence: with `query: 'masked'` its tokens below `maskThreshold`
 * are removed (the paper's masked-sentence query, so retrieval is not misled by what the model was
 * unsure of), with 'sentence' it is used whole. Answer tags and citation marks are dropped; when
 * nothing is left, the question is the query.
 */
export function formQuery(
  tokens: readonly TokenProbability[],
  options: Pick<FlareOptions, 'query' | 'maskThreshold'>,
  question: string,
): string {
  const kept =
    options.query === 'masked'
      ? tokens.filter((token) => token.probability >= options.maskThreshold)
      : tokens;
  const query = kept
    .map((token) => token.text)
    .join('')
    .replace(/<\/?answer>/gi, ' ')
    .replace(/\[\d{1,2}\]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return /[\p{L}\p{N}]/u.test(query) ? query : question;
}

function sentenceStep(
  index: number,
  sentence: string,
  minProbability: number,
  info: {
    triggered: boolean;
    lookahead?: string;
    lowTokens?: TokenProbability[];
    query?: string;
    retrievedIds?: number[];
  },
): { type: 'step'; kind: string; title: string; detail: string; data: Record<string, unknown> } {
  return {
    type: 'step',
    kind: 'sentence',
    title: info.triggered
      ? `Sentence ${index}: low confidence (${minProbability.toFixed(2)}) → retrieved with "${info.query ?? ''}" (${(info.retrievedIds ?? []).map((id) => `#${id}`).join(', ') || 'nothing found'}), regenerated`
      : `Sentence ${index}: accepted (lowest token probability ${minProbability.toFixed(2)})`,
    detail: sentence.trim(),
    data: {
      index,
      sentence: sentence.trim(),
      minProbability,
      triggeredRetrieval: info.triggered,
      ...(info.triggered
        ? {
            lookahead: info.lookahead,
            lowConfidenceTokens: info.lowTokens,
            query: info.query,
            retrievedIds: info.retrievedIds,
          }
        : {}),
    },
  };
}

/**
 * The chunks the answer relied on: the documents a sentence cites as [n] (numbered as in the prompt
 * it was written from), all documents of a regenerated sentence that cites none, and the documents
 * the reader cited.
 */
function citationsOf(
  sentences: readonly SentenceRecord[],
  readerDocs: readonly RetrievedDoc[],
  readerCited: readonly number[],
): Citation[] {
  const seen = new Map<number, Citation>();
  const add = (doc: RetrievedDoc | undefined): void => {
    if (doc && doc.id >= 0 && !seen.has(doc.id)) seen.set(doc.id, citationOf(doc));
  };
  for (const sentence of sentences) {
    const cited = [...sentence.text.matchAll(/\[(\d{1,2})\]/g)].map((m) => sentence.docs[Number(m[1]) - 1]);
    if (cited.length > 0) cited.forEach(add);
    else if (sentence.regenerated) sentence.docs.forEach(add);
  }
  for (const n of readerCited) add(readerDocs[n - 1]);
  return [...seen.values()];
}
