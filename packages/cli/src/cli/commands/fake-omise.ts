import { signOmisePayload } from '@omise-webhook/events';
import type { Command } from 'commander';
import { startFakeOmise } from '../../adapters/fake-omise/fake-omise-server.js';
import { ConfigError } from '../../app/server-config.js';
import { maskSecret } from '../../core/mask-secret.js';
import { TEST_PUBLIC_KEY, TEST_SECRET_KEY } from '../../core/omise-keys.js';
import type { CliContext } from '../context.js';
import { parsePort, UsageError, type ValueSource } from '../option-parsers.js';
import { addOptions, type OptionSpec, resolveOptions } from '../option-spec.js';
import { secretKeyFromEnv, splitSecrets } from '../secrets.js';

function parseWholeNumber(value: string, source: ValueSource): number {
  if (!/^\d+$/.test(value)) {
    throw new UsageError(
      `${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected a whole number like 0 or 300`,
    );
  }
  return Number(value);
}

function parseWebhookUrl(value: string, source: ValueSource): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected a URL like http://127.0.0.1:3000/omise/webhook`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected an http:// or https:// URL`,
    );
  }
  return value;
}

export const FAKE_OMISE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'port',
    flags: '--port <port>',
    env: 'OMISE_FAKE_PORT',
    description: 'port of the fake API',
    default: 4010,
    parse: parsePort,
  },
  {
    name: 'host',
    flags: '--host <host>',
    env: 'OMISE_FAKE_HOST',
    description: 'address the fake API binds to',
    default: '127.0.0.1',
  },
  {
    name: 'webhookUrl',
    flags: '--webhook-url <url>',
    env: 'OMISE_FAKE_WEBHOOK_URL',
    description:
      'deliver each event caused through the API here, as Omise would (signed with OMISE_WEBHOOK_SECRET when it is set)',
    parse: parseWebhookUrl,
  },
  {
    name: 'seed',
    flags: '--seed <count>',
    env: 'OMISE_FAKE_SEED',
    description:
      'start with this many past events (the 35 keys in turn), whose delivery logs say in turn delivered 200, failed 500, never delivered',
    default: 0,
    parse: parseWholeNumber,
  },
  {
    name: 'state',
    flags: '--state <file>',
    env: 'OMISE_FAKE_STATE',
    description: 'keep the fake account in this JSON file across restarts (default: in memory)',
  },
];

interface FakeOmiseCliOptions {
  port: number;
  host: string;
  webhookUrl?: string;
  seed: number;
  state?: string;
}

export function registerFakeOmise(program: Command, context: CliContext): void {
  const command = program
    .command('fake-omise')
    .description(
      'run a local stand-in for the Omise API (Events API, and the test-mode calls that cause events) for offline work and CI',
    );
  addOptions(command, FAKE_OMISE_OPTIONS);
  command.action(async () => {
    const options = resolveOptions(command, FAKE_OMISE_OPTIONS, context.env) as unknown as FakeOmiseCliOptions;
    const envSecretKey = secretKeyFromEnv(context.env);
    const envPublicKey = context.env.OMISE_PUBLIC_KEY || undefined;
    const warnings: string[] = [];
    const secretKey = envSecretKey && TEST_SECRET_KEY.test(envSecretKey) ? envSecretKey : undefined;
    if (envSecretKey && !secretKey) {
      warnings.push(
        `OMISE_SECRET_KEY (${maskSecret(envSecretKey)}) is not a test secret key; the fake accepts any skey_test_... key instead`,
      );
    }
    const publicKey = envPublicKey && TEST_PUBLIC_KEY.test(envPublicKey) ? envPublicKey : undefined;
    if (envPublicKey && !publicKey) {
      warnings.push(
        `OMISE_PUBLIC_KEY (${maskSecret(envPublicKey)}) is not a test public key; the fake accepts any pkey_test_... key instead`,
      );
    }
    const [webhookSecret] = splitSecrets(context.env.OMISE_WEBHOOK_SECRET);
    if (webhookSecret) {
      try {
        await signOmisePayload({ payload: '', secret: webhookSecret, timestamp: 0 });
      } catch (error) {
        throw new ConfigError(
          `OMISE_WEBHOOK_SECRET cannot be used to sign deliveries: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    let fake: Awaited<ReturnType<typeof startFakeOmise>>;
    try {
      fake = await startFakeOmise({
        port: options.port,
        host: options.host,
        fetch: context.fetch,
        ...(context.clock ? { clock: context.clock } : {}),
        ...(secretKey ? { secretKey } : {}),
        ...(publicKey ? { publicKey } : {}),
        ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
        ...(webhookSecret ? { webhookSecret } : {}),
        ...(options.state ? { stateFile: options.state } : {}),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new ConfigError(
          `port ${options.port} on ${options.host} is already in use; choose another with --port (OMISE_FAKE_PORT)`,
        );
      }
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
        throw new ConfigError(
          `cannot listen on host ${options.host}: no such address on this machine (--host / OMISE_FAKE_HOST)`,
        );
      }
      throw error;
    }
    if (options.seed > 0) fake.seedEvents(options.seed);
    const webhooks = options.webhookUrl
      ? `POST ${options.webhookUrl}, ${webhookSecret ? `signed with OMISE_WEBHOOK_SECRET (${maskSecret(webhookSecret)})` : 'unsigned (OMISE_WEBHOOK_SECRET is not set)'}`
      : 'not delivered (start with --webhook-url to deliver them)';
    const lines = [
      `fake Omise API at ${fake.url} (card tokens: POST ${fake.vaultUrl}/tokens)`,
      `  secret key: ${secretKey ? `only ${maskSecret(secretKey)} (OMISE_SECRET_KEY)` : 'any skey_test_... key'}`,
      `  public key: ${publicKey ? `only ${maskSecret(publicKey)} (OMISE_PUBLIC_KEY)` : 'any pkey_test_... key'}`,
      `  webhooks:   ${webhooks}`,
      `  events:     ${fake.eventIds().length}${options.seed > 0 ? ` (${options.seed} seeded)` : ''}${options.state ? `, kept in ${options.state}` : ''}`,
      ...warnings.map((warning) => `  warning: ${warning}`),
      `point omise-webhook at it: OMISE_API_URL=${fake.url} OMISE_VAULT_URL=${fake.vaultUrl}`,
      'Ctrl-C to stop.',
    ];
    context.stdout.write(`${lines.join('\n')}\n`);
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await fake.deliveriesSettled();
    await fake.close();
  });
}
