import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../app/server.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEvents } from './commands/events.js';
import { registerFakeOmise } from './commands/fake-omise.js';
import { registerForwards } from './commands/forwards.js';
import { registerReplay } from './commands/replay.js';
import { registerServe } from './commands/serve.js';
import { registerSync } from './commands/sync.js';
import { registerTrigger } from './commands/trigger.js';
import { type CliContext, CommandFailure } from './context.js';
import { type Env, loadDotenv } from './dotenv.js';
import { UsageError } from './option-parsers.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export type MainInput = Omit<CliContext, 'env' | 'dotenv' | 'signal' | 'fetch'> & {
  env: Env;
  signal?: AbortSignal;
  fetch?: typeof fetch;
};

/** `--env-file <path>` is read before anything else, since it decides the other options' environment. */
function envFileFromArgv(argv: string[], env: Env): string | undefined {
  const index = argv.findIndex((arg) => arg === '--env-file' || arg.startsWith('--env-file='));
  if (index === -1) return env.OMISE_WEBHOOK_ENV_FILE || undefined;
  const arg = argv[index] as string;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
}

export function buildProgram(context: CliContext): Command {
  const program = new Command('omise-webhook')
    .description(
      'Receive, verify, keep, inspect, forward, replay and simulate Omise (Opn Payments) webhooks on your machine.',
    )
    .version(VERSION)
    .option('--env-file <path>', 'read variables from this file instead of ./.env [env: OMISE_WEBHOOK_ENV_FILE]')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  program.enablePositionalOptions(false);
  registerServe(program, context);
  registerEvents(program, context);
  registerDoctor(program, context);
  registerReplay(program, context);
  registerForwards(program, context);
  registerTrigger(program, context);
  registerSync(program, context);
  registerFakeOmise(program, context);
  for (const command of program.commands) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
    for (const sub of command.commands) {
      sub.exitOverride();
      sub.configureOutput({
        writeOut: (text) => context.stdout.write(text),
        writeErr: (text) => context.stderr.write(text),
      });
    }
  }
  return program;
}

/**
 * Runs the CLI with everything injected; returns the exit code instead of exiting.
 * 0 success, 1 failure at run time, 2 bad usage or configuration.
 */
export async function main(input: MainInput): Promise<number> {
  const loaded = loadDotenv({ cwd: input.cwd, env: input.env, file: envFileFromArgv(input.argv, input.env) });
  const context: CliContext = {
    ...input,
    env: loaded.env,
    dotenv: { file: loaded.file, names: loaded.names, error: loaded.error },
    signal: input.signal ?? new AbortController().signal,
    fetch: input.fetch ?? fetch,
  };
  const program = buildProgram(context);
  try {
    await program.parseAsync(input.argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return 0;
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CommandFailure) {
      if (error.message) context.stderr.write(`omise-webhook: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof UsageError || error instanceof ConfigError) {
      context.stderr.write(`omise-webhook: ${error.message}\n`);
      return 2;
    }
    context.stderr.write(`omise-webhook: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
