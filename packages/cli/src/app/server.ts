import { join, resolve } from 'node:path';
import { signOmisePayload } from '@omise-webhook/events';
import type { Writable } from '../adapters/console/console-reporter.js';
import { ConsoleReporter, maskSecret } from '../adapters/console/console-reporter.js';
import { EventFileMirror } from '../adapters/files/event-file-mirror.js';
import {
  generateUiToken,
  type InspectorContext,
  type InspectorStatus,
  isLoopbackHost,
  type RunningInspector,
  startInspectorListener,
} from '../adapters/http/inspector/index.js';
import { type RunningListener, startWebhookListener } from '../adapters/http/webhook-listener.js';
import { OmiseApiClient } from '../adapters/omise-api/omise-api-client.js';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import { SqliteEventStore } from '../adapters/store/sqlite-event-store.js';
import type { IngestPolicy } from '../core/ingest.js';
import { Notifier } from '../core/notifier.js';
import { type Clock, type EventStore, systemClock, type VerificationMode } from '../core/ports.js';
import { PendingVerifier } from './pending-verifier.js';
import { Receiver } from './receiver.js';

export type StoreChoice = 'sqlite' | 'memory';

/** Everything `serve` needs, already validated. */
export interface ServerConfig {
  host: string;
  port: number;
  path: string;
  logDir: string;
  store: StoreChoice;
  verify: VerificationMode | 'auto';
  toleranceSec: number;
  allowLive: boolean;
  maxBodyBytes: number;
  maxRejected: number;
  requestTimeoutMs: number;
  files: boolean;
  json: boolean;
  color: boolean;
  apiUrl: string;
  apiRetryIntervalMs: number;
  /** From the environment only: never flags, never printed. */
  secretKey: string | undefined;
  webhookSecrets: string[];
  /** Start the inspector (page + API) on its own listener, apart from the webhook listener. */
  ui: boolean;
  uiHost: string;
  uiPort: number;
  /** Required on every inspector request when set; generated when `uiHost` is not loopback and none is given. */
  uiToken: string | undefined;
}

export interface ServerIo {
  stdout: Writable;
  stderr: Writable;
  clock?: Clock;
  fetch?: typeof fetch;
}

export interface RunningServer {
  config: ServerConfig;
  store: EventStore;
  notifier: Notifier;
  receiver: Receiver;
  listener: RunningListener;
  /** The inspector listener, or null with `ui: false`. */
  inspector: RunningInspector | null;
  mirror: EventFileMirror | null;
  verifier: PendingVerifier | null;
  policy: IngestPolicy;
  /** Stops listening, lets queued files and writes finish, closes the store. */
  close(): Promise<void>;
}

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
    throw new ConfigError(
      `--verify ${mode} needs the webhook secret: set OMISE_WEBHOOK_SECRET in .env to the secret shown on the Omise dashboard (Webhooks, test mode)`,
    );
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

/**
 * A webhook secret that cannot be used would turn every genuine delivery into a 401, so it
 * stops the start instead, saying what is wrong with it (never the secret itself).
 */
async function assertUsableSecrets(secrets: string[]): Promise<void> {
  for (const [index, secret] of secrets.entries()) {
    try {
      await signOmisePayload({ payload: '', secret, timestamp: 0 });
    } catch (error) {
      const which = secrets.length > 1 ? `secret #${index + 1} in OMISE_WEBHOOK_SECRET` : 'OMISE_WEBHOOK_SECRET';
      throw new ConfigError(`${which} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

export function openStore(config: Pick<ServerConfig, 'store' | 'logDir' | 'maxRejected'>): EventStore {
  if (config.store === 'memory') return new MemoryEventStore({ maxRejections: config.maxRejected });
  return new SqliteEventStore({
    filename: join(resolve(config.logDir), 'omise-webhook.sqlite'),
    maxRejections: config.maxRejected,
  });
}

/** Says why a listener could not start, naming the flag that changes it. */
function listenError(error: unknown, where: { host: string; port: number; flags: string; hostFlag: string }): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new ConfigError(
      `port ${where.port} on ${where.host} is already in use; stop the other program or choose another with ${where.flags}`,
    );
  }
  if (code === 'EACCES') {
    return new ConfigError(`not allowed to listen on ${where.host}:${where.port}; use a port above 1023`);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new ConfigError(`cannot listen on host ${where.host}: no such address on this machine (${where.hostFlag})`);
  }
  return error;
}

/**
 * Builds the adapters from the configuration and starts the webhook listener.
 * Used by `omise-webhook serve`, by the tests and by the benchmark alike.
 */
export async function startServer(config: ServerConfig, io: ServerIo): Promise<RunningServer> {
  const policy = resolveVerificationPolicy(config);
  await assertUsableSecrets(config.webhookSecrets);
  const clock = io.clock ?? systemClock;
  const store = openStore(config);
  const report = (text: string) => io.stderr.write(`${text}\n`);
  const notifier = new Notifier((error) => report(`omise-webhook: a listener failed: ${String(error)}`));
  const omiseApi = config.secretKey
    ? new OmiseApiClient({
        secretKey: config.secretKey,
        baseUrl: config.apiUrl,
        ...(io.fetch ? { fetch: io.fetch } : {}),
      })
    : undefined;

  const mirror = config.files
    ? new EventFileMirror({
        logDir: resolve(config.logDir),
        onError: (error, eventId) => report(`omise-webhook: could not write the file for ${eventId}: ${String(error)}`),
      })
    : null;
  const reporter = new ConsoleReporter({ out: io.stdout, json: config.json, color: config.color });
  notifier.subscribe((notification) => reporter.report(notification));
  if (mirror) {
    notifier.subscribe((notification) => {
      if (notification.type === 'event.stored' && !notification.duplicate) mirror.enqueue(notification.event);
      if (notification.type === 'event.updated') mirror.enqueue(notification.event);
    });
  }

  const verifier =
    omiseApi && (policy.mode === 'api' || policy.mode === 'both')
      ? new PendingVerifier({ store, omiseApi, notifier, intervalMs: config.apiRetryIntervalMs })
      : null;

  const receiver = new Receiver({ store, policy, notifier, clock, ...(omiseApi ? { omiseApi } : {}) });
  let listener: RunningListener;
  try {
    listener = await startWebhookListener({
      receiver,
      host: config.host,
      port: config.port,
      path: config.path,
      maxBodyBytes: config.maxBodyBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      onError: (error) => report(`omise-webhook: could not handle a webhook: ${String(error)}`),
    });
  } catch (error) {
    await store.close();
    throw listenError(error, {
      host: config.host,
      port: config.port,
      flags: '--port (PORT)',
      hostFlag: '--host / HOST',
    });
  }
  let inspector: RunningInspector | null = null;
  if (config.ui) {
    const context: InspectorContext = {
      store,
      notifier,
      status: (): InspectorStatus => ({
        webhookUrl: listener.url,
        publicUrl: null,
        verificationMode: policy.mode,
        verificationConfigured: policy.mode !== 'none',
        secretKeyMasked: config.secretKey ? maskSecret(config.secretKey) : null,
        allowLive: config.allowLive,
      }),
    };
    try {
      inspector = await startInspectorListener(context, {
        host: config.uiHost,
        port: config.uiPort,
        token: config.uiToken ?? (isLoopbackHost(config.uiHost) ? null : generateUiToken()),
        onError: (error) => report(`omise-webhook: the inspector could not answer a request: ${String(error)}`),
      });
    } catch (error) {
      await listener.close();
      await store.close();
      throw listenError(error, {
        host: config.uiHost,
        port: config.uiPort,
        flags: '--ui-port (OMISE_WEBHOOK_UI_PORT), or turn the inspector off with --no-ui',
        hostFlag: '--ui-host / OMISE_WEBHOOK_UI_HOST',
      });
    }
  }
  verifier?.start();
  if (mirror) {
    // Files missing after a crash between commit and write are rebuilt from the store.
    mirror
      .reconcile(store)
      .catch((error) => report(`omise-webhook: could not rebuild the event files: ${String(error)}`));
  }

  let closing: Promise<void> | null = null;
  return {
    config,
    store,
    notifier,
    receiver,
    listener,
    inspector,
    mirror,
    verifier,
    policy,
    close: () => {
      closing ??= (async () => {
        await inspector?.close();
        await listener.close();
        await verifier?.stop();
        await mirror?.close();
        reporter.flush();
        await store.close();
      })();
      return closing;
    },
  };
}
