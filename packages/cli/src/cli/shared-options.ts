import { DEFAULT_OMISE_API_URL } from '../adapters/omise-api/omise-api-client.js';
import { formatDuration } from '../core/format-duration.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, type ForwardRoute, forwardRoutesOf } from '../core/forwarding.js';
import type { Env } from './dotenv.js';
import { parseDuration, parseForwardRoute, parseTargetUrl } from './option-parsers.js';
import { type OptionSpec, repeatableFromEnv } from './option-spec.js';

/** `--log-dir` (OMISE_WEBHOOK_LOG_DIR): every command that reads or writes the store. */
export function logDirOption(description = 'where `serve` keeps its store'): OptionSpec {
  return { name: 'logDir', flags: '--log-dir <dir>', env: 'OMISE_WEBHOOK_LOG_DIR', description, default: './log' };
}

/** `--api-url` (OMISE_API_URL): every command that talks to the Omise API. */
export const API_URL_OPTION: OptionSpec = {
  name: 'apiUrl',
  flags: '--api-url <url>',
  env: 'OMISE_API_URL',
  description: 'Omise API base URL (point it at `omise-webhook fake-omise` for offline work)',
  default: DEFAULT_OMISE_API_URL,
};

/** `--forward-to` (OMISE_WEBHOOK_FORWARD_TO): `serve` forwards every event there; `replay` sends there by default. */
export const FORWARD_TO_OPTION: OptionSpec<string> = {
  name: 'forwardTo',
  flags: '--forward-to <url>',
  env: 'OMISE_WEBHOOK_FORWARD_TO',
  description:
    'forward every accepted event to this URL, byte for byte (repeatable; the variable takes a comma/space list)',
  repeatable: true,
  parse: parseTargetUrl,
};

/** `--forward <pattern=url>` (OMISE_WEBHOOK_FORWARD): routes by event key, read by `serve` and `replay`. */
export const FORWARD_OPTION: OptionSpec<ForwardRoute> = {
  name: 'forward',
  flags: '--forward <pattern=url>',
  env: 'OMISE_WEBHOOK_FORWARD',
  description:
    "forward events whose key matches, e.g. 'charge.*=http://localhost:8080/omise' (repeatable; the variable takes a space/semicolon list)",
  repeatable: true,
  envSeparator: /[\s;]+/,
  parse: parseForwardRoute,
};

/** `--forward-timeout` (OMISE_WEBHOOK_FORWARD_TIMEOUT), with the one default `serve` and `replay` share. */
export function forwardTimeoutOption(options: { name: string; description: string }): OptionSpec<number> {
  const { name, description } = options;
  return {
    name,
    flags: '--forward-timeout <duration>',
    env: 'OMISE_WEBHOOK_FORWARD_TIMEOUT',
    description,
    default: DEFAULT_FORWARD_TIMEOUT_MS,
    defaultDescription: formatDuration(DEFAULT_FORWARD_TIMEOUT_MS),
    parse: parseDuration,
  };
}

/** The forward routes `serve` would use, from the environment (and `.env`) alone. */
export function configuredForwardRoutes(env: Env): ForwardRoute[] {
  return forwardRoutesOf({
    forwardTo: repeatableFromEnv(FORWARD_TO_OPTION, env),
    forward: repeatableFromEnv(FORWARD_OPTION, env),
  });
}
