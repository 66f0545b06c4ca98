// The parts of the server's configuration the CLI needs before (or without) starting a server:
// kept apart from server.ts so `--help`, `doctor` and `trigger` do not load SQLite, Hono or ngrok.
import { join, resolve } from 'node:path';
import type { IngestPolicy } from '../core/ingest.js';
import type { VerificationMode } from '../core/ports.js';
import { WEBHOOK_SECRET_ADVICE } from '../core/secret-advice.js';
import type { ServerConfig } from './server.js';

/** A bad flag or environment value, or a listener that cannot start: the CLI exits 2 and says which. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Picks the verification mode from what is configured, or checks a forced one can work. */
export function resolveVerificationPolicy(config: ServerConfig): IngestPolicy {
  const hasSecret = config.webhookSecrets.length > 0;
  const hasKey = Boolean(config.secretKey);
  let mode: VerificationMode;
  if (config.verify === 'auto') mode = hasSecret ? 'signature' : hasKey ? 'api' : 'none';
  else mode = config.verify;
  if ((mode === 'signature' || mode === 'both') && !hasSecret) {
    throw new ConfigError(`--verify ${mode} needs the webhook secret: ${WEBHOOK_SECRET_ADVICE}`);
  }
  if ((mode === 'api' || mode === 'both') && !hasKey) {
    throw new ConfigError(
      `--verify ${mode} needs your secret key: set OMISE_SECRET_KEY in .env to the skey_test_... key from the Omise dashboard (Keys)`,
    );
  }
  return {
    mode,
    modeSource: config.verify === 'auto' ? 'configured' : 'forced',
    webhookSecrets: config.webhookSecrets,
    toleranceSec: config.toleranceSec,
    allowLive: config.allowLive,
  };
}

/** The SQLite file of the store kept in a log directory. */
export function storeFile(logDir: string): string {
  return join(resolve(logDir), 'omise-webhook.sqlite');
}
