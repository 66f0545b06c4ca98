import { DEFAULT_OMISE_API_URL } from '../adapters/omise-api/omise-api-client.js';
import type { OptionSpec } from './option-spec.js';

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
