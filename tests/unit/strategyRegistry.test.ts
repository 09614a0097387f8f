import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Engine } from '../../main/engine/createEngine.ts';
import type { LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { startRun } from '../../main/engine/runs/startRun.ts';
import {
  REGISTERED_STRATEGIES,
  StrategyRegistry,
  strategyRegistry,
} from '../../main/engine/strategies/registry.ts';
import { defineStrategy } from '../../main/engine/strategies/Strategy.ts';
import { strategyOptionValuesSchema } from '../../preload/contract.ts';

/** A toy strategy, as its own folder would export it: echoes the question `times` times. */
const echoStrategy = defineStrategy({
  id: 'echo',
  label: 'Echo',
  description: 'Repeats the question; a test of the registry.',
  options: z
    .object({
      times: z.number().int().min(1).max(5).default(2).describe('How often to repeat. Default 2.'),
      shout: z.boolean().default(false).describe('Upper-case the answer. Default false.'),
    })
    .strict(),
  metrics: { repeats: { label: 'Repeats', description: 'How often the question was repeated' } },
  corpus: 'none',
  async run(context) {
    const text = Array.from({ length: context.options.times }, () => context.question).join(' ');
    context.emit({ type: 'step', kind: 'echo', title: 'Echoed', detail: text });
    return {
      answer: context.options.shout ? text.toUpperCase() : text,
      reasoning: null,
      citations: [],
      failure: null,
      metrics: { phaseMs: {}, program: null, strategy: { repeats: context.options.times } },
    };
  },
});

const noEngine = {} as Engine;
const fakeModel: LlmBackend = {
  id: 'fake',
  parallelism: 1,
  generate: () => Promise.reject(new Error('the toy strategy asks no model')),
  dispose: async () => {},
};

describe('StrategyRegistry', () => {
  it('runs a strategy added with one registration line, options and figures included', async () => {
    // The whole change a new strategy needs: its descriptor and this one line.
    const registry = new StrategyRegistry([...REGISTERED_STRATEGIES, echoStrategy]);
    expect(registry.ids()).toEqual([...REGISTERED_STRATEGIES.map((s) => s.id), 'echo']);
    expect(registry.ids()).toContain('pyrag');
    expect(registry.list().find((s) => s.id === 'echo')).toEqual({
      id: 'echo',
      label: 'Echo',
      description: 'Repeats the question; a test of the registry.',
      corpus: 'none',
      options: [
        {
          key: 'times',
          type: 'integer',
          default: 2,
          description: 'How often to repeat. Default 2.',
          minimum: 1,
          maximum: 5,
        },
        {
          key: 'shout',
          type: 'boolean',
          default: false,
          description: 'Upper-case the answer. Default false.',
        },
      ],
      metrics: [{ key: 'repeats', label: 'Repeats', description: 'How often the question was repeated' }],
    });
    const handle = startRun(
      {
        kind: 'question',
        question: 'hi',
        strategy: 'echo',
        options: { times: 3 },
        model: 'fake',
        corpus: null,
      },
      {
        engine: noEngine,
        strategies: registry,
        llm: async () => ({ backend: fakeModel, release: async () => {} }),
      },
    );
    const result = await handle.done;
    expect(result).toMatchObject({ status: 'succeeded', answer: 'hi hi hi' });
    expect(result.metrics).toMatchObject({ llmCalls: 0, program: null, strategy: { repeats: 3 } });
    expect(result.events.map((e) => e.type)).toContain('step');
    expect(result.events[0]).toMatchObject({ type: 'run-started', strategy: 'echo' });
  });

  it('refuses an unknown strategy or bad options before a run starts', () => {
    const registry = new StrategyRegistry([echoStrategy]);
    const start = (strategy: string, options: Record<string, unknown>) => () =>
      startRun(
        { kind: 'question', question: 'hi', strategy, options, model: 'fake', corpus: null },
        { engine: noEngine, strategies: registry, llm: () => Promise.reject(new Error('not reached')) },
      );
    expect(start('nope', {})).toThrow(/There is no strategy "nope". Choose one of: echo/);
    expect(start('echo', { times: 9 })).toThrow(/"times" .*from 1 to 5, default 2/);
    expect(start('echo', { loud: true })).toThrow(/unknown option "loud" \(echo takes: times, shout\)/);
    expect(registry.parseOptions('echo', {})).toEqual({ times: 2, shout: false });
  });

  it('parses --option pairs by each option’s type', () => {
    const registry = new StrategyRegistry([echoStrategy]);
    expect(registry.parseOptionPairs('echo', ['times=4', 'shout=true'])).toEqual({ times: 4, shout: true });
    expect(() => registry.parseOptionPairs('echo', ['times'])).toThrow(/key=value/);
    expect(() => registry.parseOptionPairs('echo', ['shout=yes'])).toThrow(/true or false/);
    expect(() => registry.parseOptionPairs('echo', ['times=x'])).toThrow(/takes a number/);
  });

  it('refuses a strategy whose option has no default or no description', () => {
    const undocumented = defineStrategy({
      ...echoStrategy,
      id: 'undocumented',
      options: z.object({ times: z.number().default(1) }),
    });
    expect(() => new StrategyRegistry([undocumented])).toThrow(
      /"times" of strategy undocumented needs a description/,
    );
    const noDefault = defineStrategy({
      ...echoStrategy,
      id: 'no-default',
      options: z.object({ times: z.number().describe('How often.') }),
    });
    expect(() => new StrategyRegistry([noDefault])).toThrow(/needs a default/);
    expect(() => new StrategyRegistry([echoStrategy, echoStrategy])).toThrow(/registered twice/);
  });

  it('documents every option of every registered strategy with its default', () => {
    for (const info of strategyRegistry.list()) {
      expect(info.description.length, info.id).toBeGreaterThan(20);
      for (const option of info.options)
        expect(option.description, `${info.id}.${option.key}`).toMatch(/Default/);
    }
  });

  it('parses every strategy’s options to plain values the contract can carry (what Re-run and History restore)', () => {
    for (const info of strategyRegistry.list()) {
      const parsed = strategyRegistry.parseOptions(info.id, {});
      expect(strategyOptionValuesSchema.safeParse(parsed).success, info.id).toBe(true);
    }
  });
});
