import { describe, expect, it } from 'vitest';
import { INLINE_VALUE_CHARS, programDecorations } from '../../renderer/src/run/programDecorations.ts';
import type { ExecutionEntry, ProgramAttempt, ToolResult } from '../../renderer/src/run/runState.ts';
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

describe('programDecorations', () => {
  const code = [
    'const docs = await retrieve("Ed Wood");',
    'const who = await answer("Who?", docs); const again = await answer("Who?", docs);',
    'const rate = hourlyRate("Ed");',
    'return who;',
  ].join('\n');
  const program: ProgramAttempt = { attempt: 1, purpose: 'user', code, at: 0, syntaxError: null };
  const result = (cached: boolean): ToolResult => ({
    durationMs: 1,
    summary: 'x',
    cached,
    chunks: null,
    answer: null,
    error: null,
  });
  const execution: ExecutionEntry = {
    execution: 2,
    programAttempt: 1,
    boosted: [],
    at: 0,
    toolCalls: [
      {
        execution: 2,
        callIndex: 0,
        tool: 'retrieve',
        args: ['Ed Wood'],
        line: 1,
        at: 0,
        result: result(true),
      },
      { execution: 2, callIndex: 1, tool: 'answer', args: ['Who?'], line: 2, at: 0, result: result(false) },
      { execution: 2, callIndex: 2, tool: 'answer', args: ['Who?'], line: 2, at: 0, result: result(true) },
      {
        execution: 2,
        callIndex: 3,
        tool: 'simulate',
        args: ['hourlyRate', ['Ed']],
        line: 3,
        at: 0,
        result: null,
      },
    ],
    bindings: [
      { name: 'docs', preview: '[3 documents]', line: 1, seq: 1 },
      { name: 'who', preview: 'x'.repeat(200), line: 2, seq: 2 },
      { name: 'again', preview: '"Ed"', line: 2, seq: 3 },
      { name: 'ghost', preview: '1', line: 40, seq: 4 },
    ],
    logs: [],
    runtimeError: { kind: 'RuntimeError', errorName: 'TypeError', message: 'boom', line: 4 },
  };
  const marks = programDecorations({
    program,
    execution,
    executing: { line: 2, inFlight: false },
    focusLine: 3,
    cachedFrom: 'run r-1',
  });

  it('marks every line of the program, and only those', () => {
    expect(marks.lines.map((l) => [l.line, l.executing, l.error, l.focus, l.hasCall])).toEqual([
      [1, null, false, false, true],
      [2, 'last', false, false, true],
      [3, null, false, true, true],
      [4, null, true, false, false],
    ]);
  });

  it('marks cached and simulated calls where they are on their line, the second of two on a line after the first', () => {
    const line2 = code.split('\n')[1]!;
    expect(marks.calls.map(({ line, from, to, kind }) => [line, from, to, kind])).toEqual([
      [1, 19, 28, 'cached'],
      [2, line2.lastIndexOf('answer('), line2.lastIndexOf('answer(') + 7, 'cached'],
      [3, 13, 24, 'simulated'],
    ]);
    expect(marks.calls[0]!.title).toContain('run r-1');
  });

  it('puts binding values at the end of their lines, truncated, with the whole values as the title', () => {
    expect(marks.values.map((v) => v.line)).toEqual([1, 2]);
    const [, two] = marks.values;
    expect(two!.text).toBe(`who = ${'x'.repeat(INLINE_VALUE_CHARS)}…  ·  again = "Ed"`);
    expect(two!.title).toBe(`who = ${'x'.repeat(200)}\nagain = "Ed"`);
  });

  it('notes errors under their line, or under the code when they have none', () => {
    expect(marks.notes).toEqual([{ line: 4, text: 'RuntimeError (TypeError): boom', column: null }]);
    const broken = programDecorations({
      program: { ...program, syntaxError: { message: 'Unexpected token', line: null, column: null } },
      execution: null,
      executing: null,
      focusLine: null,
      cachedFrom: 'x',
    });
    expect(broken.notes).toEqual([{ line: null, text: 'SyntaxError: Unexpected token', column: null }]);
    expect(broken.calls).toEqual([]);
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
