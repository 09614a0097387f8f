/**
 * buildProgramGrammar's promise, checked as a property: random strings drawn from the grammar (by a
 * small GBNF sampler, tests/fixtures/sampleGbnf.ts) all pass prepareProgram, after extractProgram
 * when the grammar asks for a fence. That llama.cpp compiles the grammar and that constrained
 * generation honours it is tested on a real (tiny) model in tests/integration/programGrammar.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ReckonError } from '../../main/engine/errors.ts';
import { extractProgram } from '../../main/engine/programs/extractProgram.ts';
import { prepareProgram } from '../../main/engine/programs/prepareProgram.ts';
import {
  buildProgramGrammar,
  type ProgramGrammarOptions,
} from '../../main/engine/programs/programGrammar.ts';
import { GbnfGrammar } from '../fixtures/sampleGbnf.ts';
import { mulberry32 } from '../fixtures/mulberry32.ts';

const SAMPLES = 500;

interface Outcome {
  ok: number;
  failures: { program: string; message: string }[];
}

function check(options: ProgramGrammarOptions, seed: number, repeat: number): Outcome {
  const grammar = GbnfGrammar.parse(buildProgramGrammar(options));
  const random = mulberry32(seed);
  const outcome: Outcome = { ok: 0, failures: [] };
  for (let i = 0; i < SAMPLES; i++) {
    const text = grammar.sample(random, { repeat });
    let code = text;
    if (options.fenced) {
      const extracted = extractProgram(text);
      if (extracted?.source !== 'fenced') {
        outcome.failures.push({ program: text, message: 'extractProgram found no fenced program' });
        continue;
      }
      code = extracted.code;
    }
    const result = prepareProgram(code, { hostFunctions: options.toolNames });
    if (result.ok) outcome.ok++;
    else outcome.failures.push({ program: text, message: result.error.message });
  }
  return outcome;
}

describe('buildProgramGrammar', () => {
  const cases: { name: string; options: ProgramGrammarOptions }[] = [
    { name: 'PyRAG tools, bare', options: { toolNames: ['retrieve', 'answer'] } },
    { name: 'PyRAG tools, fenced', options: { toolNames: ['retrieve', 'answer'], fenced: true } },
    { name: 'other tools', options: { toolNames: ['search', 'lookup_entity', 'simulate$'], fenced: true } },
    { name: 'no tools', options: { toolNames: [] } },
  ];

  for (const { name, options } of cases) {
    for (const repeat of [0.3, 0.55]) {
      it(`every sampled program passes prepareProgram (${name}, repeat ${repeat})`, () => {
        const outcome = check(options, 7 + Math.round(repeat * 10), repeat);
        expect(outcome.failures.slice(0, 3)).toEqual([]);
        expect(outcome.ok).toBe(SAMPLES);
      });
    }
  }

  it('with lexical declarations, the only failures are names declared twice in one scope', () => {
    const outcome = check({ toolNames: ['retrieve', 'answer'], declarations: 'lexical' }, 99, 0.55);
    const others = outcome.failures.filter((f) => !/has already been declared/.test(f.message));
    expect(others.slice(0, 3)).toEqual([]);
    // The caveat is real: some samples do declare a name twice.
    expect(outcome.failures.length).toBeGreaterThan(0);
    expect(outcome.ok).toBeGreaterThan(SAMPLES / 2);
  });

  it('samples reach the features the grammar promises', () => {
    const grammar = GbnfGrammar.parse(buildProgramGrammar({ toolNames: ['retrieve', 'answer'] }));
    const random = mulberry32(3);
    const all = Array.from({ length: 400 }, () => grammar.sample(random, { repeat: 0.6 })).join('\n');
    for (const feature of [
      'var ',
      'await ',
      'retrieve(',
      'answer(',
      'Promise.all(',
      '${',
      'if (',
      ' else ',
      ' => ',
      ' ? ',
      ' && ',
      '//',
      '[',
      '{',
      'return ',
    ]) {
      expect(all, feature).toContain(feature);
    }
    // Typographic characters do make it into strings, and the ones that break programs never do.
    expect(all).toMatch(/[\u2018-\u201d]/);
    // `<` only as an operator (extractProgram strips `<think>…</think>` before looking for code).
    expect(all).not.toMatch(/[\u2028\u2029\u0085\r]|<(?![ =])/);
  });

  it('wraps the program in a javascript fence when asked', () => {
    const grammar = buildProgramGrammar({ toolNames: ['retrieve', 'answer'], fenced: true });
    expect(grammar).toMatch(/^root ::= "```javascript\\n" program "\\n```"$/m);
    expect(grammar).toContain('( "retrieve" | "answer" )');
  });

  it('is deterministic and names every tool', () => {
    const a = buildProgramGrammar({ toolNames: ['answer', 'retrieve'] });
    expect(buildProgramGrammar({ toolNames: ['answer', 'retrieve'] })).toBe(a);
    expect(a).toContain('"answer"');
    expect(a).toContain('"retrieve"');
    expect(buildProgramGrammar({ toolNames: ['answer', 'retrieve'], fenced: true })).not.toBe(a);
  });

  it('rejects tool names that are not plain identifiers or are reserved words', () => {
    for (const bad of ['', '1x', 'a-b', 'return', 'Promise', '__reckonX', 'retrieve()']) {
      expect(() => buildProgramGrammar({ toolNames: [bad] }), bad).toThrow(ReckonError);
    }
  });
});
