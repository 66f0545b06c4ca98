import type { CliContext } from './context.js';

/**
 * The webhook secrets in a comma-separated value (several while one is being rolled), trimmed,
 * empty parts dropped. The first is the one to sign with.
 */
export function splitSecrets(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** The Omise secret key: OMISE_SECRET_KEY, or the original app's OMISE_TEST_SECRET_KEY. */
export function secretKeyFromEnv(env: CliContext['env']): string | undefined {
  return env.OMISE_SECRET_KEY || env.OMISE_TEST_SECRET_KEY || undefined;
}

/** Both secrets every command reads from the environment (and `.env`). */
export function secretsFromEnv(env: CliContext['env']): { secretKey: string | undefined; webhookSecrets: string[] } {
  return { secretKey: secretKeyFromEnv(env), webhookSecrets: splitSecrets(env.OMISE_WEBHOOK_SECRET) };
}
