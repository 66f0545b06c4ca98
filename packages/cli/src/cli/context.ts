import type { Writable } from '../adapters/console/console-reporter.js';
import type { Clock } from '../core/ports.js';
import type { TunnelProvider } from '../core/tunnel.js';
import type { Env } from './dotenv.js';

/** Everything a command may touch from the outside world, injected so tests never use process.*. */
export interface CliContext {
  argv: string[];
  /** The environment with `.env` merged in. */
  env: Env;
  cwd: string;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  /** Aborted to stop long-running commands (Ctrl-C in the real CLI). */
  signal: AbortSignal;
  fetch: typeof fetch;
  /** The tunnel for `serve --tunnel`; default ngrok. Tests pass the local stand-in. */
  tunnelProvider?: TunnelProvider;
  /** The clock for commands that stamp times (trigger, sync, serve); the system clock when absent. */
  clock?: Clock;
  /** Set by `main` once `.env` has been read. */
  dotenv: { file: string | null; names: string[]; error: string | null };
}

/** Colour only for terminals, and never when NO_COLOR is set. */
export function useColor(context: CliContext, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  if (context.env.NO_COLOR !== undefined && context.env.NO_COLOR !== '') return false;
  if (context.env.FORCE_COLOR !== undefined && context.env.FORCE_COLOR !== '0') return true;
  return Boolean(context[stream].isTTY);
}

/**
 * A command that ran but did not succeed (a refused webhook, an API error, an interruption,
 * a problem `doctor` found): `main` prints the message, if any, and returns the exit code,
 * without a stack trace. An empty message means the command has already said everything.
 */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
