import { type Command, Option } from 'commander';
import type { Env } from './dotenv.js';
import { parseBoolean, type ValueSource } from './option-parsers.js';

/**
 * A command-line option described as data: its flag, the environment variable that sets it
 * too, its default (shown in --help), and a parser whose error names the bad value.
 * Precedence: flag, then environment (including `.env`), then default.
 */
export interface OptionSpec<T = unknown> {
  /** Property name in the parsed result. */
  name: string;
  /** Commander flags, e.g. `--port <port>` or `--allow-live`. */
  flags: string;
  env: string;
  description: string;
  default?: T;
  /** Shown in --help instead of the raw default. */
  defaultDescription?: string;
  parse?: (value: string, source: ValueSource) => T;
  /** For repeatable options: every occurrence is kept. */
  repeatable?: boolean;
  /** How a repeatable option's environment variable is split; commas and spaces by default. */
  envSeparator?: RegExp;
  choices?: readonly string[];
}

/** How a repeatable option's variable is split when its spec names no separator. */
const DEFAULT_ENV_SEPARATOR = /[\s,]+/;

function longFlag(spec: OptionSpec): string {
  return (spec.flags.split(/[ ,|]+/).find((part) => part.startsWith('--')) ?? spec.flags).replace(/^--no-/, '--');
}

export function addOptions(command: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const option = new Option(spec.flags, `${spec.description} [env: ${spec.env}]`);
    if (spec.default !== undefined && !spec.flags.startsWith('--no-')) {
      option.default(spec.default, spec.defaultDescription);
    }
    if (spec.choices) option.choices(spec.choices);
    if (spec.repeatable) {
      option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    }
    option.attributeName = () => spec.name;
    command.addOption(option);
  }
  return command;
}

/** Applies the environment and the parsers; the result has one property per spec. */
export function resolveOptions(command: Command, specs: readonly OptionSpec[], env: Env): Record<string, unknown> {
  const raw = command.opts();
  const result: Record<string, unknown> = {};
  for (const spec of specs) {
    const source: ValueSource = { flag: longFlag(spec), env: spec.env };
    const origin = command.getOptionValueSource(spec.name);
    const envValue = env[spec.env];
    let value: unknown = raw[spec.name];
    const fromCli = origin === 'cli';
    if (!fromCli && envValue !== undefined && envValue !== '') {
      value = spec.repeatable ? envValue.split(spec.envSeparator ?? DEFAULT_ENV_SEPARATOR).filter(Boolean) : envValue;
      if (spec.flags.includes('<') === false && spec.parse === undefined) {
        // A boolean flag set through the environment: a value that is neither true nor false is
        // refused with its variable's name, never quietly taken as false.
        value = parseBoolean(envValue, source);
      }
    }
    if (spec.parse && typeof value === 'string') value = spec.parse(value, source);
    if (spec.parse && Array.isArray(value))
      value = value.map((item) => (typeof item === 'string' ? spec.parse?.(item, source) : item));
    if (value === undefined && spec.default !== undefined) value = spec.default;
    result[spec.name] = value;
  }
  return result;
}

/**
 * A repeatable option's values from its environment variable alone, split and parsed exactly as
 * `resolveOptions` does, for a command that reuses another command's setting without its flag.
 */
export function repeatableFromEnv<T>(spec: OptionSpec<T>, env: Env): T[] {
  const source: ValueSource = { flag: longFlag(spec), env: spec.env };
  return (env[spec.env] ?? '')
    .split(spec.envSeparator ?? DEFAULT_ENV_SEPARATOR)
    .filter(Boolean)
    .map((item) => (spec.parse ? spec.parse(item, source) : (item as T)));
}

/** Where a resolved option's value came from: the flag, its variable, or the spec's default. */
export type OptionOrigin = 'flag' | 'env' | 'default';

/**
 * Which of flag, variable and default gave an option its value (the precedence of
 * `resolveOptions`), so a message can name the real source instead of guessing.
 *
 * @example
 * optionOrigin(command, spec, env) // 'flag' for `--secret X`, 'env' when only OMISE_WEBHOOK_SECRET is set
 */
export function optionOrigin(command: Command, spec: OptionSpec, env: Env): OptionOrigin {
  if (command.getOptionValueSource(spec.name) === 'cli') return 'flag';
  const envValue = env[spec.env];
  return envValue !== undefined && envValue !== '' ? 'env' : 'default';
}
