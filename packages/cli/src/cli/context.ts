import type { Writable } from '../adapters/console/console-reporter.js';
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
 * Thrown by a command that has already said everything it needs to and only wants `main` to
 * return this exit status (e.g. `doctor` found a problem): no message is printed for it.
 */
export class CommandExit extends Error {
  override readonly name = 'CommandExit';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
