import { describe, expect, it } from 'vitest';
import { highlightJs, tokenizeJs } from '../../renderer/src/run/highlightJs.ts';
import {
  formatCallSites,
  formatFigure,
  strategyFigures,
  tokensLabel,
} from '../../renderer/src/run/metricsText.ts';
import { contextSegments } from '../../renderer/src/run/passageText.ts';
import {
  collectOptions,
  draftValue,
  isChanged,
  optionDefaultText,
  parseOptionDraft,
} from '../../renderer/src/state/strategyOptions.ts';
import type { StrategyInfo } from '../../renderer/src/state/types.ts';

describe('highlightJs', () => {
  const source = [
    'const docs = await retrieve("Ed Wood");',
    '/* two',
    'lines */ const q = `Given: ${docs.map((d) => `${d.title}`).join(", ")}.`;',
    'if (docs.length > 1.5e3) console.log(/a+b/g, 0x1f, docs.length / 2);',
    'return await answer(q);',
  ].join('\n');

  it('covers the source exactly, so no character of a program is lost or added', () => {
    expect(
      tokenizeJs(source)
        .map((t) => t.text)
        .join(''),
    ).toBe(source);
  });

  it('splits into numbered lines, block comments included', () => {
    const lines = highlightJs(source);
    expect(lines).toHaveLength(5);
    expect(lines.map((line) => line.map((t) => t.text).join(''))).toEqual(source.split('\n'));
    expect(lines[1]).toEqual([{ kind: 'comment', text: '/* two' }]);
  });

  it('tells the tools, keywords, strings, template interpolations, numbers and regexes apart', () => {
    const kinds = (text: string) =>
      tokenizeJs(source)
        .filter((t) => t.text === text)
        .map((t) => t.kind);
    expect(kinds('retrieve')).toEqual(['tool']);
    expect(kinds('answer')).toEqual(['tool']);
    expect(kinds('await')).toEqual(['keyword', 'keyword']);
    expect(kinds('"Ed Wood"')).toEqual(['string']);
    expect(kinds('1.5e3')).toEqual(['number']);
    expect(kinds('/a+b/g')).toEqual(['regex']);
    expect(kinds('title')).toEqual(['property']);
    // Inside ${…} the code is code again, not string.
    expect(tokenizeJs('`a ${x + 1} b`').map((t) => [t.kind, t.text])).toEqual([
      ['string', '`a '],
      ['punct', '${'],
      ['plain', 'x '],
      ['punct', '+'],
      ['plain', ' '],
      ['number', '1'],
      ['punct', '}'],
      ['string', ' b`'],
    ]);
    // Division is not a regex.
    expect(tokenizeJs('a / 2 / b').some((t) => t.kind === 'regex')).toBe(false);
  });

  it('keeps going on code that does not parse', () => {
    const broken = 'const x = await retrieve("a;\n`unterminated ${';
    expect(
      tokenizeJs(broken)
        .map((t) => t.text)
        .join(''),
    ).toBe(broken);
  });
});

describe('contextSegments', () => {
  const hit = {
    chunkId: 2,
    path: '/d.txt',
    title: 'D',
    text: 'cited text here',
    start: 10,
    end: 25,
    page: null,
    score: 1,
  };

  it('shows the overlap between neighbouring chunks once, never cutting the cited chunk', () => {
    const segments = contextSegments({
      chunk: hit,
      context: [
        { chunkId: 1, text: 'before and cited' },
        { chunkId: 2, text: 'cited text here' },
        { chunkId: 3, text: 'text here and after' },
      ],
    });
    expect(segments).toEqual([
      { chunkId: 1, text: 'before and ', cited: false },
      { chunkId: 2, text: 'cited text here', cited: true },
      { chunkId: 3, text: ' and after', cited: false },
    ]);
  });

  it('falls back to the chunk itself without context', () => {
    expect(contextSegments({ chunk: hit, context: [] })).toEqual([
      { chunkId: 2, text: 'cited text here', cited: true },
    ]);
  });
});

describe('strategy options form', () => {
  const strategy: Pick<StrategyInfo, 'options'> = {
    options: [
      {
        key: 'maxRepairs',
        type: 'integer',
        default: 3,
        description: 'Repair rounds.',
        minimum: 0,
        maximum: 10,
      },
      { key: 'alpha', type: 'number', default: 0.5, description: 'Weight.', minimum: 0, maximum: 1 },
      { key: 'adaptiveRetrieval', type: 'boolean', default: true, description: 'Boost.' },
      { key: 'library', type: 'enum', default: 'basic', description: 'Types.', values: ['basic', 'all'] },
      { key: 'prefix', type: 'string', default: '', description: 'Prefix.' },
    ],
  };
  const [maxRepairs, alpha, adaptive, library, prefix] = strategy.options as [
    StrategyInfo['options'][number],
    StrategyInfo['options'][number],
    StrategyInfo['options'][number],
    StrategyInfo['options'][number],
    StrategyInfo['options'][number],
  ];

  it('shows the defaults of untouched fields and sends nothing for them', () => {
    expect(strategy.options.map((o) => draftValue(o, {}))).toEqual(['3', '0.5', true, 'basic', '']);
    expect(collectOptions(strategy, {})).toEqual({ options: {}, errors: {} });
    expect(strategy.options.some((o) => isChanged(o, {}))).toBe(false);
  });

  it('sends only the options that differ from their default, typed', () => {
    const drafts = {
      maxRepairs: '1',
      alpha: '0.50',
      adaptiveRetrieval: false,
      library: 'all',
      prefix: 'x',
      other: '9',
    };
    expect(collectOptions(strategy, drafts)).toEqual({
      options: { maxRepairs: 1, adaptiveRetrieval: false, library: 'all', prefix: 'x' },
      errors: {},
    });
    // "0.50" is the default 0.5: not changed, not sent.
    expect(isChanged(alpha, drafts)).toBe(false);
    expect(isChanged(maxRepairs, drafts)).toBe(true);
    // Typed back to the default, it is no longer sent.
    expect(collectOptions(strategy, { maxRepairs: ' 3 ' }).options).toEqual({});
  });

  it('refuses values the option does not take, saying what it takes', () => {
    expect(parseOptionDraft(maxRepairs, '2.5')).toEqual({
      ok: false,
      message: 'Enter a whole number (0 to 10, default 3).',
    });
    expect(parseOptionDraft(maxRepairs, '')).toMatchObject({ ok: false });
    expect(parseOptionDraft(maxRepairs, '11')).toEqual({
      ok: false,
      message: 'Out of range (0 to 10, default 3).',
    });
    expect(parseOptionDraft(alpha, 'abc')).toMatchObject({ ok: false });
    expect(parseOptionDraft(alpha, '1e-1')).toEqual({ ok: true, value: 0.1 });
    expect(parseOptionDraft(library, 'most')).toEqual({ ok: false, message: 'Choose one of basic, all.' });
    const { options, errors } = collectOptions(strategy, { maxRepairs: '-1', library: 'all' });
    expect(options).toEqual({ library: 'all' });
    expect(Object.keys(errors)).toEqual(['maxRepairs']);
    expect(isChanged(maxRepairs, { maxRepairs: '-1' })).toBe(true);
  });

  it('ignores a draft of the wrong kind (a checkbox state for a number field)', () => {
    expect(draftValue(maxRepairs, { maxRepairs: true })).toBe('3');
    expect(draftValue(adaptive, { adaptiveRetrieval: 'false' })).toBe(true);
  });

  it('describes each default with its range', () => {
    expect(optionDefaultText(maxRepairs)).toBe('default 3 · 0 to 10');
    expect(optionDefaultText(adaptive)).toBe('default on');
    expect(optionDefaultText(library)).toBe('default basic');
    expect(optionDefaultText(prefix)).toBe('default (empty)');
  });
});

describe('metrics text', () => {
  const declared = [
    { key: 'boosts', label: 'Boosts', description: 'retrieve() calls boosted' },
    { key: 'boostPath', label: 'Boost path', description: 'Which path fired' },
    { key: 'fallbackProgram', label: 'Fallback program', description: 'Built-in program ran' },
  ];

  it('labels strategy figures as the strategy declares them, in its order, unknown ones by key', () => {
    expect(
      strategyFigures({ extra: 0.125, fallbackProgram: false, boosts: 2, boostPath: 'both' }, declared).map(
        (f) => [f.key, f.label, f.value],
      ),
    ).toEqual([
      ['boosts', 'Boosts', '2'],
      ['boostPath', 'Boost path', 'both'],
      ['fallbackProgram', 'Fallback program', 'no'],
      ['extra', 'extra', '0.13'],
    ]);
    // Without the registry (listStrategies failed) every figure is still shown, by key.
    expect(strategyFigures({ boosts: 1 }, undefined)).toEqual([
      { key: 'boosts', label: 'boosts', description: null, value: '1' },
    ]);
  });

  it('formats figures, call sites and estimated token labels', () => {
    expect([formatFigure(null), formatFigure(true), formatFigure(1234), formatFigure('x')]).toEqual([
      '–',
      'yes',
      '1,234',
      'x',
    ]);
    expect(formatCallSites({ retrieve: 2, answer: 3, search: 1 })).toBe('retrieve 2 · answer 3 · search 1');
    expect(formatCallSites(null)).toBe('–');
    expect(tokensLabel('Prompt tokens', true)).toBe('Prompt tokens (estimated)');
    expect(tokensLabel('Prompt tokens', false)).toBe('Prompt tokens');
  });
});
