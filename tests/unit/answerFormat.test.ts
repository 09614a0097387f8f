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
