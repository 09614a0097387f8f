/**
 * The two host tools most program-writing methods give their programs: `retrieve(query, k?)` and
 * `answer(question, docs?)`. Each is a HostTool: the sandbox hands `validate` fresh JSON copies of
 * the guest's arguments, and what `call` returns goes back into the guest as a JSON copy.
 */
import type { HostCallContext, HostTool, JsonValue, RetrievedDoc } from '../sandbox/SandboxTypes.ts';
import { HostArgumentError } from '../sandbox/sandboxErrors.ts';

/** Largest `k` retrieve() accepts. */
export const MAX_RETRIEVE_K = 50;
/** Most documents one answer() call accepts. */
export const MAX_ANSWER_DOCS = 50;
/** Where a document the program made from a string says it came from. */
export const PROGRAM_DOC_SOURCE = 'program';

export type RetrieveArgs = { query: string; k: number | undefined };
export type AnswerArgs = { question: string; docs: RetrievedDoc[] | undefined };

/** retrieve(query, k?): `search` does the work; k is a whole number from 1 to MAX_RETRIEVE_K (50). */
export function retrieveTool(
  search: (args: RetrieveArgs, context: HostCallContext) => Promise<RetrievedDoc[]>,
): HostTool<RetrieveArgs> {
  return {
    parameters: ['query', 'k'],
    usage: `Call retrieve(query, k) with a query string and an optional whole number k from 1 to ${MAX_RETRIEVE_K}.`,
    validate(args) {
      if (args.length === 0 || args.length > 2)
        throw new HostArgumentError(`expects (query, k?) but was given ${args.length} arguments`);
      const [query, k] = args;
      if (typeof query !== 'string')
        throw new HostArgumentError(`query must be a string, not ${describeJson(query)}`);
      if (
        k !== undefined &&
        k !== null &&
        !(typeof k === 'number' && Number.isInteger(k) && k >= 1 && k <= MAX_RETRIEVE_K)
      ) {
        throw new HostArgumentError(
          `k must be a whole number from 1 to ${MAX_RETRIEVE_K}, not ${describeJson(k)}`,
        );
      }
      return { query, k: typeof k === 'number' ? k : undefined };
    },
    call: (args, context) => search(args, context),
  };
}

/**
 * answer(question, docs?): `respond` does the work. `docs` may be the documents retrieve() returned,
 * a list of strings or one string (strings become documents with id -1 and source "program"), at
 * most MAX_ANSWER_DOCS (50).
 */
export function answerTool(
  respond: (args: AnswerArgs, context: HostCallContext) => Promise<string>,
): HostTool<AnswerArgs> {
  return {
    parameters: ['question', 'docs'],
    usage:
      'Call answer(question, docs) with a question string and, optionally, the documents retrieve() returned, ' +
      `a list of strings or one string (at most ${MAX_ANSWER_DOCS} documents).`,
    validate(args) {
      if (args.length === 0 || args.length > 2)
        throw new HostArgumentError(`expects (question, docs?) but was given ${args.length} arguments`);
      const [question, docs] = args;
      if (typeof question !== 'string')
        throw new HostArgumentError(`question must be a string, not ${describeJson(question)}`);
      return { question, docs: normalizeDocs(docs) };
    },
    call: (args, context) => respond(args, context),
  };
}

/** Turns answer()'s `docs` argument into RetrievedDoc[] (strings become program-made documents). */
function normalizeDocs(docs: JsonValue | undefined): RetrievedDoc[] | undefined {
  if (docs === undefined || docs === null) return undefined;
  if (typeof docs === 'string') return [programDoc(docs)];
  if (!Array.isArray(docs)) {
    throw new HostArgumentError(
      `docs must be a list of documents (as retrieve() returns them), a list of strings or a string, not ${describeJson(docs)}`,
    );
  }
  if (docs.length > MAX_ANSWER_DOCS)
    throw new HostArgumentError(`docs has ${docs.length} documents; pass at most ${MAX_ANSWER_DOCS}`);
  return docs.map((doc, index) => {
    if (typeof doc === 'string') return programDoc(doc);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || typeof doc.text !== 'string')
      throw new HostArgumentError(`docs[${index}] must be a string or a document with a string "text"`);
    return {
      id: optionalField(doc, 'id', 'number', -1, index),
      title: optionalField(doc, 'title', 'string', '', index),
      text: doc.text,
      score: optionalField(doc, 'score', 'number', 0, index),
      source: optionalField(doc, 'source', 'string', PROGRAM_DOC_SOURCE, index),
    };
  });
}

function optionalField<T extends 'number' | 'string'>(
  doc: { [key: string]: JsonValue },
  key: string,
  type: T,
  fallback: T extends 'number' ? number : string,
  index: number,
): T extends 'number' ? number : string {
  const value = Object.hasOwn(doc, key) ? doc[key] : undefined;
  if (value === undefined) return fallback;
  if (typeof value !== type)
    throw new HostArgumentError(`docs[${index}].${key} must be a ${type}, not ${describeJson(value)}`);
  return value as T extends 'number' ? number : string;
}

function programDoc(text: string): RetrievedDoc {
  return { id: -1, title: '', text, score: 0, source: PROGRAM_DOC_SOURCE };
}

function describeJson(value: JsonValue | undefined): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `${typeof value} ${String(value)}`;
}
