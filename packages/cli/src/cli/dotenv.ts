import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

export type Env = Record<string, string | undefined>;

export interface LoadedEnv {
  env: Env;
  /** The `.env` file that was read, or null when there was none. */
  file: string | null;
  /** Names set by the file (values never reported, they may be secrets). */
  names: string[];
  /** Set when the file exists but cannot be read. */
  error: string | null;
}

/**
 * Reads `.env` from the working directory like the original app did. Variables already in
 * the environment win over the file, so `FOO=1 omise-webhook serve` overrides it.
 */
export function loadDotenv(options: { cwd: string; env: Env; file?: string }): LoadedEnv {
  const path = resolve(options.cwd, options.file ?? '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.file === undefined)
      return { env: { ...options.env }, file: null, names: [], error: null };
    return {
      env: { ...options.env },
      file: path,
      names: [],
      error: code === 'ENOENT' ? `${path} does not exist` : `${path} cannot be read (${code})`,
    };
  }
  const fromFile = parseEnv(text) as Record<string, string>;
  const env: Env = { ...fromFile, ...options.env };
  // An empty value in the environment (e.g. exported but blank) should not hide the file's.
  for (const [name, value] of Object.entries(fromFile)) if (options.env[name] === '') env[name] = value;
  return { env, file: path, names: Object.keys(fromFile), error: null };
}
