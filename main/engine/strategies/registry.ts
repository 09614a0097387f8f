/**
 * The strategy registry: the one list of methods Reckon can run. The contract's listStrategies, the
 * CLI (`reckon ask --strategy`, `--option`, `reckon strategies`), the Ask view's picker and options
 * form, the run store and replay all read it. Adding a strategy means adding its folder and one line
 * to REGISTERED_STRATEGIES.
 */
import { z } from 'zod';
import type { StrategyInfo, StrategyOptionInfo } from '../../../preload/contract.ts';
import { ReckonError } from '../errors.ts';
import type { StrategyDescriptor } from './Strategy.ts';
import { pyragStrategy } from './pyrag/pyragStrategy.ts';
import { directStrategy } from './direct/directStrategy.ts';
import { cotStrategy } from './cot/cotStrategy.ts';
import { vanillaRagStrategy } from './vanilla/vanillaRagStrategy.ts';
import { selfAskStrategy } from './self-ask/selfAskStrategy.ts';
import { ircotStrategy } from './ircot/ircotStrategy.ts';
import { iterRetgenStrategy } from './iter-retgen/iterRetgenStrategy.ts';
import { flareStrategy } from './flare/flareStrategy.ts';
import { cocStrategy } from './coc/cocStrategy.ts';
import { programStrategy } from './program/programStrategy.ts';
import { icragStrategy } from './icrag/icragStrategy.ts';

/** Every strategy, in the order pickers list them. One line per strategy. */
export const REGISTERED_STRATEGIES: readonly StrategyDescriptor[] = [
  pyragStrategy,
  directStrategy,
  cotStrategy,
  vanillaRagStrategy,
  selfAskStrategy,
  ircotStrategy,
  iterRetgenStrategy,
  flareStrategy, // FLARE, active retrieval (Jiang et al. 2023)
  cocStrategy, // Chain-of-Code (Li et al. 2023)
  programStrategy, // PROGRAM: typed programs, t-test pruning, evidence locking
  icragStrategy, // ICRAG, "Codifying Natural Language Tasks"
];

const STRATEGY_ID = /^[a-z][a-z0-9-]{0,31}$/;

/** A strategy id the registry does not know; the message lists the ones it does. */
export class UnknownStrategyError extends ReckonError {
  override name = 'UnknownStrategyError';
  constructor(id: string, known: readonly string[]) {
    super('UNKNOWN_STRATEGY', `There is no strategy "${id}". Choose one of: ${known.join(', ')}.`);
  }
}

/** Options a strategy's schema rejects; the message names each bad option and what it takes. */
export class InvalidStrategyOptionsError extends ReckonError {
  override name = 'InvalidStrategyOptionsError';
  constructor(message: string) {
    super('INVALID_STRATEGY_OPTIONS', message);
  }
}

/**
 * A set of strategies by id. The constructor checks every descriptor — a well-formed unique id, and
 * options whose every field has a default and a description — and throws a ReckonError
 * (`INVALID_STRATEGY`) naming what is missing, so a strategy cannot be registered half-documented.
 */
export class StrategyRegistry {
  readonly #byId = new Map<string, StrategyDescriptor>();
  readonly #infos: StrategyInfo[] = [];

  constructor(descriptors: readonly StrategyDescriptor[]) {
    for (const descriptor of descriptors) {
      if (!STRATEGY_ID.test(descriptor.id))
        throw new ReckonError(
          'INVALID_STRATEGY',
          `Strategy id "${descriptor.id}" must be lower-case letters, digits and dashes.`,
        );
      if (this.#byId.has(descriptor.id))
        throw new ReckonError('INVALID_STRATEGY', `Strategy "${descriptor.id}" is registered twice.`);
      this.#byId.set(descriptor.id, descriptor);
      this.#infos.push(describeStrategy(descriptor));
    }
  }

  /** The ids, in registry order. */
  ids(): string[] {
    return [...this.#byId.keys()];
  }

  /** The descriptor of `id`; throws UnknownStrategyError (`UNKNOWN_STRATEGY`) when there is none. */
  get(id: string): StrategyDescriptor {
    const descriptor = this.#byId.get(id);
    if (!descriptor) throw new UnknownStrategyError(id, this.ids());
    return descriptor;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Every strategy as plain data (id, label, description, options with defaults, figures). */
  list(): StrategyInfo[] {
    return this.#infos.map((info) => structuredClone(info));
  }

  /**
   * `values` checked against the strategy's options schema and completed with the defaults. Throws
   * UnknownStrategyError, or InvalidStrategyOptionsError naming each unknown or invalid option.
   */
  parseOptions(id: string, values: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
    const descriptor = this.get(id);
    const parsed = descriptor.options.safeParse(values);
    if (parsed.success) return parsed.data as Record<string, unknown>;
    const info = this.#infos.find((candidate) => candidate.id === id)!;
    const problems = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} (${id} takes: ${info.options.map((option) => option.key).join(', ')})`;
      }
      const key = String(issue.path[0] ?? '');
      const option = info.options.find((candidate) => candidate.key === key);
      return `"${key}" ${issue.message.toLowerCase()}${option ? ` (${describeRange(option)})` : ''}`;
    });
    throw new InvalidStrategyOptionsError(`Invalid options for strategy ${id}: ${problems.join('; ')}.`);
  }

  /**
   * Turns `key=value` strings (the CLI's `--option`) into typed values by each option's declared
   * type: numbers for integer/number options, true/false for booleans, the text otherwise. Throws
   * InvalidStrategyOptionsError for a malformed pair or an unknown key; parseOptions checks ranges.
   */
  parseOptionPairs(id: string, pairs: readonly string[]): Record<string, number | boolean | string> {
    const info = this.#infos.find((candidate) => candidate.id === this.get(id).id)!;
    const values: Record<string, number | boolean | string> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw new InvalidStrategyOptionsError(
          `--option takes key=value, for example maxRepairs=1; got "${pair}".`,
        );
      const key = pair.slice(0, eq).trim();
      const raw = pair.slice(eq + 1).trim();
      const option = info.options.find((candidate) => candidate.key === key);
      if (!option) {
        throw new InvalidStrategyOptionsError(
          `Strategy ${id} has no option "${key}"; it takes: ${info.options.map((o) => o.key).join(', ')}.`,
        );
      }
      values[key] = coerceOption(option, raw);
    }
    return values;
  }
}

/** The registry of REGISTERED_STRATEGIES. */
export const strategyRegistry = new StrategyRegistry(REGISTERED_STRATEGIES);

/** A descriptor as plain data; throws INVALID_STRATEGY for an option without default or description. */
export function describeStrategy(descriptor: StrategyDescriptor): StrategyInfo {
  const schema = z.toJSONSchema(descriptor.options, { io: 'input' }) as {
    properties?: Record<string, Record<string, unknown>>;
  };
  const options: StrategyOptionInfo[] = Object.entries(schema.properties ?? {}).map(([key, property]) => {
    const fail = (what: string): never => {
      throw new ReckonError(
        'INVALID_STRATEGY',
        `Option "${key}" of strategy ${descriptor.id} needs ${what}.`,
      );
    };
    const description =
      typeof property.description === 'string' ? property.description : fail('a description (.describe)');
    const value = property.default;
    if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string')
      return fail('a default (.default) that is a number, boolean or string');
    const values = Array.isArray(property.enum) ? property.enum.map(String) : undefined;
    const type: StrategyOptionInfo['type'] = values
      ? 'enum'
      : property.type === 'integer' || property.type === 'number' || property.type === 'boolean'
        ? property.type
        : 'string';
    return {
      key,
      type,
      default: value,
      description,
      ...(typeof property.minimum === 'number' ? { minimum: property.minimum } : {}),
      ...(typeof property.maximum === 'number' ? { maximum: property.maximum } : {}),
      ...(values ? { values } : {}),
    };
  });
  return {
    id: descriptor.id,
    label: descriptor.label,
    description: descriptor.description,
    corpus: descriptor.corpus,
    options,
    metrics: Object.entries(descriptor.metrics).map(([key, info]) => ({ key, ...info })),
  };
}

function coerceOption(option: StrategyOptionInfo, raw: string): number | boolean | string {
  if (option.type === 'integer' || option.type === 'number') {
    const value = Number(raw);
    if (raw === '' || !Number.isFinite(value))
      throw new InvalidStrategyOptionsError(
        `Option "${option.key}" takes a number (${describeRange(option)}); got "${raw}".`,
      );
    return value;
  }
  if (option.type === 'boolean') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new InvalidStrategyOptionsError(`Option "${option.key}" takes true or false; got "${raw}".`);
  }
  return raw;
}

/** "a whole number from 0 to 10, default 3" and the like. */
export function describeRange(option: StrategyOptionInfo): string {
  const kind =
    option.type === 'integer'
      ? 'a whole number'
      : option.type === 'number'
        ? 'a number'
        : option.type === 'boolean'
          ? 'true or false'
          : option.type === 'enum'
            ? `one of ${option.values!.join(', ')}`
            : 'text';
  const range =
    option.minimum !== undefined && option.maximum !== undefined
      ? ` from ${option.minimum} to ${option.maximum}`
      : option.minimum !== undefined
        ? ` ≥ ${option.minimum}`
        : option.maximum !== undefined
          ? ` ≤ ${option.maximum}`
          : '';
  return `${kind}${range}, default ${String(option.default)}`;
}
