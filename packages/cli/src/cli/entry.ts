// The CLI's entry (bin/omise-webhook.js runs its build, dist/entry.js): builds only the command
// that argv names, importing its module on demand, so `--version` and `--help` load no SQLite,
// Hono or ngrok, and `trigger` loads no server. main.ts re-exports `main` and builds the whole
// program at once for the tests.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PACKAGE_DIRECTORY } from '../package-files.js';
import { type CliContext, CommandFailure } from './context.js';
import { type Env, loadDotenv } from './dotenv.js';

/**
 * Errors that mean bad usage or configuration (exit 2), told by name: importing their classes
 * (option-parsers.ts, server-config.ts) would load the option parsers and the library for every `--version`.
 */
const USAGE_ERRORS: ReadonlySet<string> = new Set(['UsageError', 'ConfigError']);

export type RegisterCommand = (program: Command, context: CliContext) => void;

/** Every command, in the order `--help` lists them, each with the module that registers it. */
export const COMMAND_LOADERS: ReadonlyArray<{ name: string; load: () => Promise<RegisterCommand> }> = [
  { name: 'serve', load: async () => (await import('./commands/serve.js')).registerServe },
  { name: 'events', load: async () => (await import('./commands/events.js')).registerEvents },
  { name: 'doctor', load: async () => (await import('./commands/doctor.js')).registerDoctor },
  { name: 'replay', load: async () => (await import('./commands/replay.js')).registerReplay },
  { name: 'forwards', load: async () => (await import('./commands/forwards.js')).registerForwards },
  { name: 'trigger', load: async () => (await import('./commands/trigger.js')).registerTrigger },
  { name: 'sync', load: async () => (await import('./commands/sync.js')).registerSync },
  { name: 'listen', load: async () => (await import('./commands/listen.js')).registerListen },
  { name: 'fake-omise', load: async () => (await import('./commands/fake-omise.js')).registerFakeOmise },
];

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

/**
 * The commands argv needs: the one it names; none for a bare `--version`; every one otherwise
 * (the top-level `--help`, no command, or an unknown one, which commander answers with the list).
 */
export function commandsFor(
  argv: readonly string[],
): ReadonlyArray<{ name: string; load: () => Promise<RegisterCommand> }> {
  let named: string | undefined;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (arg === '--env-file') index += 1;
    else if (!arg.startsWith('-')) {
      named = arg;
      break;
    }
  }
  if (named !== undefined) {
    const command = COMMAND_LOADERS.find((loader) => loader.name === named);
    if (command) return [command];
  } else if (argv.includes('--version') || argv.includes('-V')) return [];
  return COMMAND_LOADERS;
}

/** The program without its commands: name, version, `--env-file`, and output through the context. */
export function createProgram(context: CliContext): Command {
  const version = (JSON.parse(readFileSync(new URL('package.json', PACKAGE_DIRECTORY), 'utf8')) as { version: string })
    .version;
  const program = new Command('omise-webhook')
    .description(
      'Receive, verify, keep, inspect, forward, replay and simulate Omise (Opn Payments) webhooks on your machine.',
    )
    .version(version)
    .option('--env-file <path>', 'read variables from this file instead of ./.env [env: OMISE_WEBHOOK_ENV_FILE]')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
    });
  program.enablePositionalOptions(false);
  return program;
}

/** Registers the commands, then makes each one (and its subcommands) report through the context. */
export function addCommands(program: Command, context: CliContext, commands: readonly RegisterCommand[]): Command {
  for (const register of commands) register(program, context);
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
  const registers = await Promise.all(commandsFor(input.argv).map((command) => command.load()));
  const program = addCommands(createProgram(context), context, registers);
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
    if (error instanceof Error && USAGE_ERRORS.has(error.name)) {
      context.stderr.write(`omise-webhook: ${error.message}\n`);
      return 2;
    }
    context.stderr.write(`omise-webhook: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
