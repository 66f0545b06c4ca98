import { join, resolve } from 'node:path';
import { signOmisePayload } from '@omise-webhook/events';
import type { Writable } from '../adapters/console/console-reporter.js';
import { ConsoleReporter } from '../adapters/console/console-reporter.js';
import { EventFileMirror } from '../adapters/files/event-file-mirror.js';
import { checkpointScope, FileSyncCheckpoint, MemorySyncCheckpoint } from '../adapters/files/sync-checkpoint-file.js';
import {
  generateUiToken,
  type InspectorContext,
  type InspectorStatus,
  isLoopbackHost,
  type RunningInspector,
  startInspectorListener,
} from '../adapters/http/inspector/index.js';
import { RawHttpSender } from '../adapters/http/raw-http-sender.js';
import { type RunningListener, startWebhookListener } from '../adapters/http/webhook-listener.js';
import { OmiseApiClient } from '../adapters/omise-api/omise-api-client.js';
import { MemoryEventStore } from '../adapters/store/memory-event-store.js';
import { SqliteEventStore, type SqliteEventStoreOptions } from '../adapters/store/sqlite-event-store.js';
import { NgrokTunnelProvider } from '../adapters/tunnel/ngrok-tunnel.js';
import {
  DEFAULT_FORWARD_TIMEOUT_MS,
  DEFAULT_RETRY_SCHEDULE_MS,
  FORWARD_CONNECTIONS_PER_TARGET,
  type ForwardRoute,
  forwardRoutesOf,
} from '../core/forwarding.js';
import type { IngestPolicy } from '../core/ingest.js';
import { maskSecret } from '../core/mask-secret.js';
import { Notifier } from '../core/notifier.js';
import {
  type Clock,
  type EventFiles,
  type EventStore,
  type HttpSender,
  type OmiseEventsApi,
  type RecordDeliveryResult,
  systemClock,
  systemTimers,
  type Timers,
  type VerificationMode,
} from '../core/ports.js';
import { RejectionBodyBudget } from '../core/rejection-budget.js';
import { isStorageUnavailable, StorageHealth } from '../core/storage-health.js';
import type { TunnelProvider } from '../core/tunnel.js';
import { BackgroundSync } from './background-sync.js';
import { EventSyncer } from './event-syncer.js';
import { FeedFollower, LocalWrites } from './feed-follower.js';
import { Forwarder } from './forwarder.js';
import { PendingVerifier } from './pending-verifier.js';
import { Receiver } from './receiver.js';
import { Retention } from './retention.js';
import { ConfigError, resolveVerificationPolicy, storeFile } from './server-config.js';
import { TunnelSupervisor } from './tunnel-supervisor.js';

export { forwardRoutesOf } from '../core/forwarding.js';
// Kept in light modules so the CLI can use them without loading the server (SQLite, Hono, ngrok).
export { ConfigError, resolveVerificationPolicy, storeFile } from './server-config.js';

/** `postgres` comes with `databaseUrl`. */
export type StoreChoice = 'sqlite' | 'memory' | 'postgres';

/** Everything `serve` needs, already validated. */
export interface ServerConfig {
  host: string;
  port: number;
  path: string;
  logDir: string;
  store: StoreChoice;
  /** With `store: 'postgres'`: the database (it holds the password; print it through maskDatabaseUrl). */
  databaseUrl?: string | undefined;
  /** Set when `databaseUrl` came from `DATABASE_URL`, so the banner can say so. */
  databaseUrlFrom?: 'DATABASE_URL' | undefined;
  /** `--store-pool`: the PostgreSQL pool's bound; default 10. */
  storePool?: number | undefined;
  /** `--forward-lease`: how long a claimed forward job is this instance's (PostgreSQL); default 60 s. */
  forwardLeaseMs?: number | undefined;
  /** Names this instance in forward leases and connections; default `hostname:pid:random`. */
  instanceId?: string | undefined;
  /** How often to look for other instances' events besides their notifications; default 1 s. */
  feedPollMs?: number | undefined;
  verify: VerificationMode | 'auto';
  toleranceSec: number;
  allowLive: boolean;
  maxBodyBytes: number;
  maxRejected: number;
  /** `--max-rejected-bytes`: the bytes kept rejections may take together (64 MiB when absent). */
  maxRejectedBytes?: number | undefined;
  requestTimeoutMs: number;
  files: boolean;
  json: boolean;
  color: boolean;
  apiUrl: string;
  apiRetryIntervalMs: number;
  /** `--retain <duration>`: events received longer ago are removed in the background; off when absent. */
  retainMs?: number | undefined;
  /** `--max-events <n>`: beyond the newest n, events are removed in the background; off when absent. */
  maxEvents?: number | undefined;
  /** `--sync <interval>`: fetch missed events from the Events API at start and then this often; off when absent or 0. */
  syncIntervalMs?: number | undefined;
  /** From the environment only: never flags, never printed. */
  secretKey: string | undefined;
  webhookSecrets: string[];
  /** `--tunnel`: open an ngrok tunnel to the webhook listener (never to anything else). */
  tunnel?: boolean;
  /** `--tunnel-domain`: a reserved domain, so the URL to paste stays the same across restarts. */
  tunnelDomain?: string | undefined;
  /** NGROK_AUTHTOKEN, from the environment only. */
  tunnelAuthtoken?: string | undefined;
  /** `--public-url`, already checked: the full webhook URL of a tunnel the user runs themselves. */
  publicUrl?: string | undefined;
  /** `--forward-to`: every accepted event goes to each of these URLs. */
  forwardTo?: string[];
  /** `--forward pattern=url`: events whose key matches go to the URL. */
  forward?: ForwardRoute[];
  /** `--forward-timeout`, default 10 s. */
  forwardTimeoutMs?: number;
  /** `--retry-schedule`, default 5s,30s,2m,10m,1h,6h. */
  retryScheduleMs?: number[];
  /** `--retry-4xx`. */
  retry4xx?: boolean;
  /** Start the inspector (page + API) on its own listener, apart from the webhook listener. */
  ui: boolean;
  uiHost: string;
  uiPort: number;
  /** Required on every inspector request when set; generated when `uiHost` is not loopback and none is given. */
  uiToken: string | undefined;
  /** The inspector's SSE keep-alive interval (`/api/stream`, `/api/feed`), default 15 s; tests shorten it. */
  uiHeartbeatMs?: number;
}

export interface ServerIo {
  stdout: Writable;
  stderr: Writable;
  clock?: Clock;
  /** With `clock`, so retry schedules and the tunnel's reconnect backoff are tested without waiting. */
  timers?: Timers;
  fetch?: typeof fetch;
  /** Default: ngrok. Tests pass the local stand-in. */
  tunnelProvider?: TunnelProvider;
  /** Sends forwarded requests; node:http with raw headers by default. */
  forwardSender?: HttpSender;
  /** The Omise Events API; the HTTP client (with OMISE_SECRET_KEY) by default. */
  omiseApi?: OmiseEventsApi;
  /** The event files; the file mirror under `--log-dir` (with `--files`) by default. */
  eventFiles?: EventFiles;
  /** Tests inject storage faults here (a failing `syncFile`, a short `recoveryProbeMs`). */
  sqliteOptions?: Partial<Pick<SqliteEventStoreOptions, 'syncFile' | 'recoveryProbeMs' | 'recoveryFreeBytes'>>;
}

export interface RunningServer {
  config: ServerConfig;
  store: EventStore;
  /** With PostgreSQL, who this instance is in forward leases; null for a store of its own. */
  instanceId: string | null;
  notifier: Notifier;
  receiver: Receiver;
  listener: RunningListener;
  /** The inspector listener, or null with `ui: false`. */
  inspector: RunningInspector | null;
  /** The event files (`--files`), or null when off. */
  mirror: EventFiles | null;
  verifier: PendingVerifier | null;
  /** Delivers forward jobs; also `forwardAttemptsFor(eventId)` and `replay(eventId, options)` for the inspector. */
  forwarder: Forwarder;
  /** The background sync (`--sync`), or null when off or when OMISE_SECRET_KEY is missing. */
  sync: BackgroundSync | null;
  /** Removes old events (`--retain`, `--max-events`), or null when neither is set. */
  retention: Retention | null;
  policy: IngestPolicy;
  /** Set with `--tunnel`: the tunnel's status, and `subscribe()` for its changes. */
  tunnel: TunnelSupervisor | null;
  /**
   * The exact URL to paste into the Omise dashboard: `--public-url`, or the tunnel's
   * `https://.../omise/webhook` while it is open (it follows reconnects); null otherwise.
   */
  readonly publicUrl: string | null;
  /** Stops listening, lets queued files and writes finish, closes the store. */
  close(): Promise<void>;
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

/** An open store, and what team mode needs from a shared one. */
export interface OpenedStore {
  store: EventStore;
  /** Set for a store other processes write too (PostgreSQL). */
  shared: {
    instanceId: string;
    /** Calls the listener when any instance may have stored an event; returns the way to stop. */
    watchFeed(listener: () => void): () => void;
  } | null;
}

/**
 * Opens the configured store. PostgreSQL is imported only here, so commands and starts that do
 * not use it never load the `postgres` package.
 *
 * @example
 * const { store } = await openStore({ store: 'sqlite', logDir: './log', maxRejected: 1000 });
 */
export async function openStore(
  config: Pick<ServerConfig, 'store' | 'logDir' | 'maxRejected' | 'maxRejectedBytes'> &
    Partial<
      Pick<ServerConfig, 'retainMs' | 'maxEvents' | 'databaseUrl' | 'storePool' | 'forwardLeaseMs' | 'instanceId'>
    >,
  sqliteOptions: ServerIo['sqliteOptions'] = {},
): Promise<OpenedStore> {
  const bounds = {
    maxRejections: config.maxRejected,
    ...(config.maxRejectedBytes !== undefined ? { maxRejectedBytes: config.maxRejectedBytes } : {}),
  };
  if (config.store === 'memory') return { store: new MemoryEventStore(bounds), shared: null };
  if (config.store === 'postgres') {
    if (!config.databaseUrl) throw new ConfigError('store "postgres" needs the database URL (--store postgres://...)');
    const { openPostgresStore } = await import('../adapters/store/postgres/index.js');
    // Unreachable, refused credentials, a newer schema: the adapter's message says which, hides the
    // password and says what to do; it stops the start like any setting that cannot work (exit 2).
    const store = await openPostgresStore({
      url: config.databaseUrl,
      ...bounds,
      ...(config.storePool !== undefined ? { maxConnections: config.storePool } : {}),
      ...(config.forwardLeaseMs !== undefined ? { forwardLeaseMs: config.forwardLeaseMs } : {}),
      ...(config.instanceId !== undefined ? { instanceId: config.instanceId } : {}),
    }).catch((error: unknown) => {
      throw new ConfigError(error instanceof Error ? error.message : String(error), { cause: error });
    });
    return {
      store,
      shared: { instanceId: store.instanceId, watchFeed: (listener) => store.watchFeed(listener) },
    };
  }
  const store = new SqliteEventStore({
    filename: storeFile(config.logDir),
    ...bounds,
    ...(config.retainMs !== undefined || config.maxEvents !== undefined ? { pruning: true } : {}),
    ...sqliteOptions,
  });
  return { store, shared: null };
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
  const timers = io.timers ?? systemTimers;
  const opened = await openStore(config, io.sqliteOptions);
  const shared = opened.shared;
  // With other instances on the store, this instance's own new events are told apart from theirs.
  const localWrites = shared ? new LocalWrites() : null;
  const store = localWrites ? localWrites.track(opened.store) : opened.store;
  const report = (text: string) => io.stderr.write(`${text}\n`);
  // A store without a disk (memory) never faults; the listener and the files still ask it.
  const health = store.health ?? new StorageHealth({ where: 'the event store' });
  health.subscribe((fault) => {
    if (fault) report(`omise-webhook: ${fault.message}`);
    else report('omise-webhook: the event store can be written again; webhooks are acknowledged again');
  });
  if (health.fault) report(`omise-webhook: ${health.fault.message}`);
  /** Reports a background failure, except refusals for a storage fault (reported once, above). */
  const reportFailure = (what: string) => (error: unknown) => {
    if (!isStorageUnavailable(error)) report(`omise-webhook: ${what}: ${String(error)}`);
  };
  const notifier = new Notifier(reportFailure('a listener failed'));
  const omiseApi: OmiseEventsApi | undefined = config.secretKey
    ? (io.omiseApi ??
      new OmiseApiClient({
        secretKey: config.secretKey,
        baseUrl: config.apiUrl,
        ...(io.fetch ? { fetch: io.fetch } : {}),
      }))
    : undefined;

  const mirror: EventFiles | null = config.files
    ? (io.eventFiles ??
      new EventFileMirror({
        logDir: resolve(config.logDir),
        store,
        onError: (error, eventId) => report(`omise-webhook: could not write the file for ${eventId}: ${String(error)}`),
        // The store needs the space more: files wait while it cannot write, and leave it 4 MiB.
        paused: () => health.fault !== null,
        reserveBytes: 4 * 1024 * 1024,
        clock,
        timers,
        onStorageFault: (fault) =>
          report(
            fault
              ? `omise-webhook: event files cannot be written (${String(fault)}); they are written once space is freed (--log-dir)`
              : 'omise-webhook: event files are being written again',
          ),
      }))
    : null;
  const reporter = new ConsoleReporter({ out: io.stdout, json: config.json, color: config.color });
  // The console lists what this instance received; other instances' events show in the inspector.
  notifier.subscribe((notification) => {
    if (notification.type !== 'event.stored' || !notification.fromOtherInstance) reporter.report(notification);
  });
  if (mirror) {
    notifier.subscribe((notification) => {
      // With --files on a shared store, the files cover every instance's events.
      if (notification.type === 'event.stored' && !notification.duplicate) mirror.enqueue(notification.event);
      if (notification.type === 'event.updated') mirror.enqueue(notification.event);
    });
  }

  const verifier =
    omiseApi && (policy.mode === 'api' || policy.mode === 'both')
      ? new PendingVerifier({ store, omiseApi, notifier, intervalMs: config.apiRetryIntervalMs, clock, timers })
      : null;

  const forwardRoutes = forwardRoutesOf(config);
  const forwarder = new Forwarder({
    store,
    notifier,
    sender: io.forwardSender ?? new RawHttpSender({ maxSocketsPerHost: FORWARD_CONNECTIONS_PER_TARGET }),
    routes: forwardRoutes,
    plan: { scheduleMs: config.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS, retry4xx: config.retry4xx ?? false },
    timeoutMs: config.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS,
    clock,
    timers,
    webhookSecrets: config.webhookSecrets,
    onError: reportFailure('forwarding failed'),
  });
  // Forwarding starts at commit, before the sync that acknowledges the event (see EventStore).
  // Without targets nothing is told, so the store is free to batch commits while it syncs.
  const onCommitted =
    forwardRoutes.length > 0 ? (result: RecordDeliveryResult) => forwarder.eventCommitted(result) : undefined;
  const receiver = new Receiver({
    store,
    policy,
    notifier,
    clock,
    forwardRoutes,
    rejectionBodyBudget: new RejectionBodyBudget({ clock }),
    ...(onCommitted ? { onCommitted } : {}),
    ...(omiseApi ? { omiseApi } : {}),
  });
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
      storageFault: () => health.fault,
      clock,
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
  // Assigned once the tunnel is set up below; the inspector reads it lazily.
  let tunnel: TunnelSupervisor | null = null;
  const publicUrl = () => config.publicUrl ?? tunnel?.publicUrl ?? null;
  if (config.ui) {
    const context: InspectorContext = {
      store,
      notifier,
      status: (): InspectorStatus => ({
        webhookUrl: listener.url,
        publicUrl: publicUrl(),
        verificationMode: policy.mode,
        verificationConfigured: policy.mode !== 'none',
        secretKeyMasked: config.secretKey ? maskSecret(config.secretKey) : null,
        allowLive: config.allowLive,
      }),
      forwardAttemptsFor: (eventId) => forwarder.forwardAttemptsFor(eventId),
      replay: (eventId, options) => forwarder.replay(eventId, options),
      // A new event (not another delivery of a stored one) is a new place in the feed; with a
      // shared store, so is any other instance's commit.
      watchFeed: (listener) => {
        const stopLocal = notifier.subscribe((notification) => {
          if (notification.type === 'event.stored' && !notification.duplicate && !notification.fromOtherInstance) {
            listener();
          }
        });
        const stopShared = shared?.watchFeed(listener);
        return () => {
          stopLocal();
          stopShared?.();
        };
      },
    };
    try {
      inspector = await startInspectorListener(context, {
        host: config.uiHost,
        port: config.uiPort,
        token: config.uiToken ?? (isLoopbackHost(config.uiHost) ? null : generateUiToken()),
        ...(config.uiHeartbeatMs !== undefined ? { heartbeatMs: config.uiHeartbeatMs } : {}),
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
  tunnel = config.tunnel
    ? new TunnelSupervisor({
        provider: io.tunnelProvider ?? new NgrokTunnelProvider(),
        host: config.host,
        port: listener.port,
        path: config.path,
        localUrl: listener.url,
        ...(config.tunnelDomain ? { domain: config.tunnelDomain } : {}),
        ...(config.tunnelAuthtoken ? { authtoken: config.tunnelAuthtoken } : {}),
        ...(io.timers ? { timers: io.timers } : {}),
        report,
      })
    : null;
  // Whatever happens to the tunnel, the receiver keeps running locally: start() never rejects.
  await tunnel?.start();
  forwarder.start();
  let sync: BackgroundSync | null = null;
  if (config.syncIntervalMs && omiseApi && config.secretKey) {
    // On PostgreSQL too: each instance keeps where its own sync got to in its log dir.
    const checkpoint =
      config.store !== 'memory'
        ? new FileSyncCheckpoint({
            file: join(resolve(config.logDir), 'sync-checkpoint.json'),
            scope: checkpointScope(config.apiUrl, config.secretKey),
          })
        : new MemorySyncCheckpoint();
    const syncer = new EventSyncer({
      store,
      api: omiseApi,
      checkpoint,
      clock,
      notifier,
      forwardRoutes,
      ...(onCommitted ? { onCommitted } : {}),
    });
    sync = new BackgroundSync({ syncer, intervalMs: config.syncIntervalMs, report, timers });
    sync.start();
  }
  const retention =
    config.retainMs !== undefined || config.maxEvents !== undefined
      ? new Retention({
          store,
          clock,
          timers,
          retainMs: config.retainMs,
          maxEvents: config.maxEvents,
          report,
          ...(mirror ? { onRemoved: (eventIds: readonly string[]) => mirror.removeFiles(eventIds) } : {}),
        })
      : null;
  retention?.start();
  const follower = shared
    ? new FeedFollower({
        store,
        watch: (listener) =>
          shared.watchFeed(() => {
            // Jobs another instance queued (or whose lease ran out) are claimed now, not at the next poll.
            forwarder.kick();
            listener();
          }),
        isOwn: (eventId) => localWrites?.takeOwn(eventId) ?? false,
        publish: (event) =>
          notifier.publish({ type: 'event.stored', event, duplicate: false, fromOtherInstance: true }),
        ...(config.feedPollMs !== undefined ? { pollMs: config.feedPollMs } : {}),
        timers,
        onError: reportFailure('could not read the events other instances stored'),
      })
    : null;
  await follower?.start();
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
    instanceId: shared?.instanceId ?? null,
    notifier,
    receiver,
    listener,
    inspector,
    mirror,
    verifier,
    forwarder,
    sync,
    retention,
    policy,
    tunnel,
    get publicUrl() {
      return publicUrl();
    },
    close: () => {
      closing ??= (async () => {
        await tunnel?.close();
        await inspector?.close();
        await listener.close();
        await sync?.stop();
        await retention?.stop();
        await follower?.stop();
        await verifier?.stop();
        await forwarder.stop();
        // Events answered in the last turn are told to the mirror and the console before they close.
        notifier.flush();
        await mirror?.close();
        reporter.flush();
        await store.close();
      })();
      return closing;
    },
  };
}
