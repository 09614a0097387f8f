import { describe, expect, it } from 'vitest';
import { answerMessages, parseAnswerOutput } from '../../main/engine/strategies/answerFormat.ts';

describe('parseAnswerOutput', () => {
  it('takes the tagged answer and the cited documents', () => {
    expect(
      parseAnswerOutput(
        'Document [2] says he was born in Denver [2], see also [1].\n<answer>American</answer>',
      ),
    ).toEqual({
      answer: 'American',
      reasoning: 'Document [2] says he was born in Denver [2], see also [1].',
      citedDocs: [2, 1],
    });
  });

  it('accepts an unclosed tag from a cut-off generation and strips quotes', () => {
    expect(parseAnswerOutput('<answer>"Ed Wood"').answer).toBe('Ed Wood');
  });

  it('falls back to the last line without tags', () => {
    expect(parseAnswerOutput('Reasoning here.\nAnswer: 1966')).toEqual({
      answer: '1966',
      reasoning: 'Reasoning here.',
      citedDocs: [],
    });
  });

  it('never throws on empty output', () => {
    expect(parseAnswerOutput('')).toEqual({ answer: '', reasoning: null, citedDocs: [] });
  });
});

describe('answerMessages', () => {
  it('numbers the documents and omits the block when there are none', () => {
    const withDocs = answerMessages('Who?', [{ id: 1, title: 'T', text: 'body', score: 1, source: 's' }]);
    expect(withDocs[1]!.content).toContain('[1] T\nbody');
    expect(answerMessages('Given: x. Answer the question: y?', undefined)[1]!.content).toBe(
      'Question: Given: x. Answer the question: y?',
    );
  });
});

describe('parseAnswerOutput extraction edge cases', () => {
  it.each([
    [
      'a stray <answer> in the reasoning',
      'I will put it in an <answer> tag. [1] says Paris.\n<answer>Paris</answer>',
      'Paris',
    ],
    [
      'two complete tags: the last wins',
      '<answer>London</answer> Wait, [2] corrects it. <answer>Paris</answer>',
      'Paris',
    ],
    ['nested quotes', '<answer>"\'Paris\'"</answer>', 'Paris'],
    ['an unbalanced leading quote', '<answer>"Paris</answer>', 'Paris'],
    ['an unbalanced trailing quote', "<answer>Paris'</answer>", 'Paris'],
    ['curly quotes', '<answer>“Ed Wood”</answer>', 'Ed Wood'],
    ['a trailing period', '<answer>Scott Derrickson.</answer>', 'Scott Derrickson'],
    ['trailing punctuation and a quote', '<answer>"yes!".</answer>', 'yes'],
    ['an abbreviation keeps its period', '<answer>Washington, D.C.</answer>', 'Washington, D.C.'],
    ['Jr. keeps its period', '<answer>Martin Luther King Jr.</answer>', 'Martin Luther King Jr.'],
    ['a closing tag without an opening one is dropped', 'Paris</answer>', 'Paris'],
    ['an unclosed tag after a complete stray one', 'Reasoning <answer> then <answer>Berlin', 'Berlin'],
  ])('%s', (_name, output, expected) => {
    expect(parseAnswerOutput(output).answer).toBe(expected);
  });

  it('keeps the reasoning before the chosen tag, stray tag included', () => {
    const parsed = parseAnswerOutput('I will use an <answer> tag. [1] says Paris.\n<answer>Paris</answer>');
    expect(parsed.reasoning).toBe('I will use an <answer> tag. [1] says Paris.');
    expect(parsed.citedDocs).toEqual([1]);
  });
});
