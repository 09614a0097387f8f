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

const SAMPLES = 300;

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

const PYRAG_PROMPT_PROGRAMS = [
  [
    'const docs1 = await retrieve("composer of The Planets");',
    'const composer = await answer("Who composed The Planets?", docs1);',
    'const docs2 = await retrieve(`${composer} birthplace city`);',
    'const city = await answer(`In which city was ${composer} born?`, docs2);',
    'return await answer(`Given: The Planets was composed by ${composer}. ${composer} was born in ${city}. Answer the question: In which city was the composer of "The Planets" born?`);',
  ].join('\n'),
  [
    'const [danubeDocs, rhineDocs] = await Promise.all([retrieve("Danube length"), retrieve("Rhine length")]);',
    'const [danube, rhine] = await Promise.all([',
    '  answer("How long is the Danube?", danubeDocs),',
    '  answer("How long is the Rhine?", rhineDocs),',
    ']);',
    'return await answer(`Given: The Danube is ${danube} long. The Rhine is ${rhine} long. Answer the question: Which river is longer, the Danube or the Rhine?`);',
  ].join('\n'),
  'const docs = await retrieve("Who wrote \\"Dune\\"?");\nreturn await answer("Who wrote \\"Dune\\"?", docs);',
];

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

  it("accepts the PyRAG prompt's own examples, so a model that follows them is never pushed off", () => {
    // Copies of the examples in the PyRAG plan prompt (strategies/pyrag/pyragPrompts.ts) and its
    // fallback program, fenced as the prompt asks. Copies, so that refactoring the prompts cannot
    // break this test; keep them in step when the prompt's examples change.
    const programs = PYRAG_PROMPT_PROGRAMS.map((code) => `\`\`\`javascript\n${code}\n\`\`\``);
    const lexical = GbnfGrammar.parse(
      buildProgramGrammar({ toolNames: ['retrieve', 'answer'], fenced: true, declarations: 'lexical' }),
    );
    const withVar = GbnfGrammar.parse(
      buildProgramGrammar({ toolNames: ['retrieve', 'answer'], fenced: true }),
    );
    for (const program of programs) {
      expect(lexical.matches(program), program).toBe(true);
      // Default declarations: the same program with var.
      expect(withVar.matches(program.replace(/\bconst /g, 'var ')), program).toBe(true);
      expect(withVar.matches(program), 'const is lexical only').toBe(false);
    }
  });

  it('rejects what it promises to leave out', () => {
    const grammar = GbnfGrammar.parse(buildProgramGrammar({ toolNames: ['retrieve', 'answer'] }));
    const ok = 'var x = await retrieve("q");\nreturn x;';
    expect(grammar.matches(ok)).toBe(true);
    for (const bad of [
      'var x = 1;', // no final return
      'var if = 1;\nreturn 1;', // reserved word
      'var retrieve = 1;\nreturn 1;', // a tool name
      'var __reckonX = 1;\nreturn 1;', // instrumentation names
      'var x = a ?? b;\nreturn x;',
      'var x = 5.toString();\nreturn x;',
      'var x = "a\u2028b";\nreturn x;',
      'var x = `<think>`;\nreturn x;',
      'var x = list.map(d => await answer(d));\nreturn x;', // await in a plain arrow
      'var x = foo(1);\nreturn x;', // only tools and methods are called
      'var x = 1\nreturn x;', // semicolons are not optional
      'return x;\nreturn y;',
    ]) {
      expect(grammar.matches(bad), bad).toBe(false);
    }
  });

  it('matches every string it samples (the recognizer used above agrees with the sampler)', () => {
    const grammar = GbnfGrammar.parse(
      buildProgramGrammar({ toolNames: ['retrieve', 'answer'], fenced: true }),
    );
    const random = mulberry32(5);
    for (let i = 0; i < 50; i++) {
      const text = grammar.sample(random, { repeat: 0.4 });
      expect(grammar.matches(text), text).toBe(true);
    }
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
