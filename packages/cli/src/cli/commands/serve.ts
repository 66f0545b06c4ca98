import { type Command, Option } from 'commander';
import { isLoopbackHost } from '../../adapters/http/inspector/access-guard.js';
import type { RunningServer, ServerConfig } from '../../app/server.js';
import { pasteInstructions, sentence } from '../../app/tunnel-supervisor.js';
import { formatDuration } from '../../core/format-duration.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, DEFAULT_RETRY_SCHEDULE_MS, forwardRoutesOf } from '../../core/forwarding.js';
import { maskDatabaseUrl } from '../../core/mask-database-url.js';
import { maskSecret } from '../../core/mask-secret.js';
import { WEBHOOK_SECRET_ADVICE } from '../../core/secret-advice.js';
import type { StoreLocation } from '../../core/store-location.js';
import { checkPublicUrl, normaliseTunnelDomain, OMISE_TEST_WEBHOOKS_PAGE } from '../../core/tunnel.js';
import { type CliContext, useColor } from '../context.js';
import {
  parseByteSize,
  parseChoice,
  parseDuration,
  parsePort,
  parsePositiveInt,
  parseRetrySchedule,
  parseUiToken,
  UsageError,
  type ValueSource,
} from '../option-parsers.js';
import { addOptions, type OptionSpec, resolveOptions } from '../option-spec.js';
import { secretsFromEnv } from '../secrets.js';
import {
  API_URL_OPTION,
  FORWARD_LEASE_OPTION,
  FORWARD_OPTION,
  FORWARD_TO_OPTION,
  forwardTimeoutOption,
  logDirOption,
  resolveStoreLocation,
  STORE_POOL_OPTION,
  storeOption,
} from '../shared-options.js';

export const SERVE_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'host',
    flags: '--host <host>',
    env: 'HOST',
    description: 'address the webhook listener binds to',
    default: '127.0.0.1',
  },
  {
    name: 'port',
    flags: '--port <port>',
    env: 'PORT',
    description: 'port of the webhook listener',
    default: 3000,
    parse: parsePort,
  },
  {
    name: 'path',
    flags: '--path <path>',
    env: 'OMISE_WEBHOOK_PATH',
    description: 'route that receives webhooks',
    default: '/omise/webhook',
  },
  logDirOption('where the store and the api/event/<id>.json files live'),
  storeOption({ memory: true }),
  STORE_POOL_OPTION,
  FORWARD_LEASE_OPTION,
  {
    name: 'verify',
    flags: '--verify <mode>',
    env: 'OMISE_WEBHOOK_VERIFY',
    description:
      'auto, signature, api, both or none (auto: signature if OMISE_WEBHOOK_SECRET is set, else api if OMISE_SECRET_KEY is set, else none)',
    default: 'auto',
    parse: parseChoice(['auto', 'signature', 'api', 'both', 'none'] as const),
  },
  {
    name: 'toleranceSec',
    flags: '--tolerance <seconds>',
    env: 'OMISE_WEBHOOK_TOLERANCE',
    description: 'how far a signature timestamp may be from now, either way',
    default: 300,
    parse: parsePositiveInt,
  },
  {
    name: 'allowLive',
    flags: '--allow-live',
    env: 'OMISE_WEBHOOK_ALLOW_LIVE',
    description: 'accept live-mode events (refused by default)',
    default: false,
  },
  {
    name: 'maxBodyBytes',
    flags: '--max-body <size>',
    env: 'OMISE_WEBHOOK_MAX_BODY',
    description: 'largest webhook body accepted',
    default: 1024 * 1024,
    defaultDescription: '1mb',
    parse: parseByteSize,
  },
  {
    name: 'maxRejected',
    flags: '--max-rejected <count>',
    env: 'OMISE_WEBHOOK_MAX_REJECTED',
    description: 'how many rejected requests to keep',
    default: 1000,
    parse: parsePositiveInt,
  },
  {
    name: 'maxRejectedBytes',
    flags: '--max-rejected-bytes <size>',
    env: 'OMISE_WEBHOOK_MAX_REJECTED_BYTES',
    description: 'how many bytes kept rejected requests may take together (each keeps at most 64 KiB of its body)',
    default: 64 * 1024 * 1024,
    defaultDescription: '64MiB',
    parse: parseByteSize,
  },
  {
    name: 'requestTimeoutMs',
    flags: '--request-timeout <duration>',
    env: 'OMISE_WEBHOOK_REQUEST_TIMEOUT',
    description: 'a request must arrive whole within this time',
    default: 10_000,
    defaultDescription: '10s',
    parse: parseDuration,
  },
  {
    name: 'files',
    flags: '--files',
    env: 'OMISE_WEBHOOK_FILES',
    description:
      'write log/api/event/<id>.json files: on by default with sqlite and memory, off with a postgres:// store; --no-files turns them off',
  },
  {
    name: 'json',
    flags: '--json',
    env: 'OMISE_WEBHOOK_JSON',
    description: 'print one JSON object per line instead of coloured text',
    default: false,
  },
  API_URL_OPTION,
  {
    name: 'ui',
    flags: '--no-ui',
    env: 'OMISE_WEBHOOK_UI',
    description: 'do not start the inspector (web page and API) (set the variable to false)',
    default: true,
  },
  {
    name: 'uiHost',
    flags: '--ui-host <host>',
    env: 'OMISE_WEBHOOK_UI_HOST',
    description: 'address the inspector binds to; anything but loopback requires a token',
    default: '127.0.0.1',
  },
  {
    name: 'uiPort',
    flags: '--ui-port <port>',
    env: 'OMISE_WEBHOOK_UI_PORT',
    description: 'port of the inspector (web page and API), separate from the webhook port',
    default: 3001,
    parse: parsePort,
  },
  {
    name: 'uiToken',
    flags: '--ui-token <token>',
    env: 'OMISE_WEBHOOK_UI_TOKEN',
    description:
      'token the inspector requires on every request; generated and printed when --ui-host is not loopback and none is given',
    parse: parseUiToken,
  },
  {
    name: 'apiRetryIntervalMs',
    flags: '--api-retry-interval <duration>',
    env: 'OMISE_WEBHOOK_API_RETRY_INTERVAL',
    description: 'how often to retry API checks that could not be done',
    default: 30_000,
    defaultDescription: '30s',
    parse: parseDuration,
  },
  {
    name: 'tunnel',
    flags: '--tunnel',
    env: 'OMISE_WEBHOOK_TUNNEL',
    description:
      'open an ngrok tunnel to the webhook listener and print the URL to paste into the dashboard (needs NGROK_AUTHTOKEN)',
    default: false,
  },
  {
    name: 'tunnelDomain',
    flags: '--tunnel-domain <domain>',
    env: 'OMISE_WEBHOOK_TUNNEL_DOMAIN',
    description: 'your reserved ngrok domain (e.g. my-app.ngrok-free.app), so the URL stays the same across restarts',
    parse: parseTunnelDomain,
  },
  {
    name: 'publicUrl',
    flags: '--public-url <url>',
    env: 'OMISE_WEBHOOK_PUBLIC_URL',
    description:
      'the https URL of a tunnel you run yourself (ngrok, cloudflared) to this port; the webhook path is added if missing',
  },
  FORWARD_TO_OPTION,
  FORWARD_OPTION,
  forwardTimeoutOption({
    name: 'forwardTimeoutMs',
    description: 'a forward target must answer within this time, or the attempt is retried',
  }),
  {
    name: 'retryScheduleMs',
    flags: '--retry-schedule <waits>',
    env: 'OMISE_WEBHOOK_RETRY_SCHEDULE',
    description: 'waits before each retry of a failed forward (network error, timeout, 5xx), or none',
    default: DEFAULT_RETRY_SCHEDULE_MS,
    defaultDescription: DEFAULT_RETRY_SCHEDULE_MS.map(formatDuration).join(','),
    parse: parseRetrySchedule,
  },
  {
    name: 'retry4xx',
    flags: '--retry-4xx',
    env: 'OMISE_WEBHOOK_RETRY_4XX',
    description: 'retry forwards answered 4xx too (by default a 4xx is final)',
    default: false,
  },
  {
    name: 'retainMs',
    flags: '--retain <duration>',
    env: 'OMISE_WEBHOOK_RETAIN',
    description:
      'remove events (and their files) received longer ago than this, e.g. 7d or 12h, in the background; off by default',
    parse: parseDuration,
  },
  {
    name: 'maxEvents',
    flags: '--max-events <count>',
    env: 'OMISE_WEBHOOK_MAX_EVENTS',
    description:
      'keep at most this many events, removing the oldest (and their files) in the background; off by default',
    parse: parsePositiveInt,
  },
  {
    name: 'syncIntervalMs',
    flags: '--sync <interval>',
    env: 'OMISE_WEBHOOK_SYNC',
    description:
      'also fetch events Omise failed to deliver from its Events API, at start and then every <interval> (e.g. 5m); needs OMISE_SECRET_KEY',
    parse: parseDuration,
  },
];

/** `--tunnel-domain`: a host name; a pasted `https://name.ngrok-free.app/` is reduced to the host. */
export function parseTunnelDomain(value: string, source: ValueSource): string {
  const checked = normaliseTunnelDomain(value);
  if (!checked.ok)
    throw new UsageError(`${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected ${checked.problem}`);
  return checked.url;
}

/** Checks `--public-url` against the webhook path; returns the exact URL to paste. */
export function resolvePublicUrl(value: string, path: string): string {
  const checked = checkPublicUrl(value, path);
  if (!checked.ok) {
    throw new UsageError(
      `--public-url (OMISE_WEBHOOK_PUBLIC_URL) got ${JSON.stringify(value)}; expected ${checked.problem}`,
    );
  }
  return checked.url;
}

/** Secrets come only from the environment (or .env), never from flags that `ps` would show. */
export function buildServerConfig(command: Command, context: CliContext): ServerConfig {
  const {
    store: storeFlag,
    files,
    ...options
  } = resolveOptions(command, SERVE_OPTIONS, context.env) as Omit<
    ServerConfig,
    'secretKey' | 'webhookSecrets' | 'color' | 'store' | 'files' | 'databaseUrl' | 'databaseUrlFrom'
  > & { store: StoreLocation; files: boolean | undefined };
  if (!options.path.startsWith('/')) options.path = `/${options.path}`;
  if (options.publicUrl !== undefined) {
    if (options.tunnel) {
      throw new UsageError(
        '--tunnel and --public-url (OMISE_WEBHOOK_TUNNEL, OMISE_WEBHOOK_PUBLIC_URL) were both given; use --tunnel to let omise-webhook open ngrok, or --public-url for a tunnel you run yourself',
      );
    }
    options.publicUrl = resolvePublicUrl(options.publicUrl, options.path);
  }
  const location = resolveStoreLocation(command, context.env, storeFlag, { memory: true });
  const forwardTimeoutMs = options.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
  if (location.kind === 'postgres' && (options.forwardLeaseMs ?? 0) <= forwardTimeoutMs) {
    throw new UsageError(
      `--forward-lease (OMISE_WEBHOOK_FORWARD_LEASE) is ${formatDuration(options.forwardLeaseMs ?? 0)} but --forward-timeout is ${formatDuration(forwardTimeoutMs)}; the lease must be longer than the timeout, or another instance could send a forward that is still being sent: raise --forward-lease or lower --forward-timeout`,
    );
  }
  const tunnelAuthtoken = context.env.NGROK_AUTHTOKEN?.trim() || undefined;
  options.forwardTo ??= [];
  options.forward ??= [];
  return {
    ...options,
    store: location.kind,
    ...(location.kind === 'postgres'
      ? { databaseUrl: location.url, ...(location.from ? { databaseUrlFrom: location.from } : {}) }
      : {}),
    // The event files are one developer's convenience; a team's instances share the database instead.
    files: files ?? location.kind !== 'postgres',
    ...secretsFromEnv(context.env),
    tunnelAuthtoken,
    color: useColor(context),
  };
}

function describeVerification(server: RunningServer): string[] {
  const { policy, config } = server;
  switch (policy.mode) {
    case 'signature':
      return [
        `verification: signature (OMISE_WEBHOOK_SECRET ${maskSecret(config.webhookSecrets[0])}${config.webhookSecrets.length > 1 ? ` and ${config.webhookSecrets.length - 1} more` : ''}, tolerance ${config.toleranceSec}s)`,
      ];
    case 'api':
      return [`verification: Omise API (OMISE_SECRET_KEY ${maskSecret(config.secretKey)} at ${config.apiUrl})`];
    case 'both':
      return [`verification: signature and Omise API (${maskSecret(config.secretKey)} at ${config.apiUrl})`];
    case 'none':
      return policy.modeSource === 'forced'
        ? ['verification: OFF (--verify none): every well-formed event is accepted']
        : [
            'verification: none configured, so events are accepted and marked unverified.',
            `  To verify signatures, ${WEBHOOK_SECRET_ADVICE};`,
            '  to check each event with the Omise API instead, put your test secret key there as',
            '  OMISE_SECRET_KEY=skey_test_...',
          ];
  }
}

/** `300000` -> `5m`: the shortest exact way to write a duration. */
function describeForwarding(server: RunningServer): string[] {
  const { config } = server;
  const routes = forwardRoutesOf(config);
  if (routes.length === 0) return [];
  const schedule = config.retryScheduleMs ?? [];
  return [
    ...routes.map((route) => `forwarding: ${route.pattern === '*' ? 'every event' : route.pattern} -> ${route.url}`),
    `  retries: ${schedule.length === 0 ? 'none' : schedule.map(formatDuration).join(', ')}; 4xx ${config.retry4xx ? 'retried' : 'final'}; timeout ${formatDuration(config.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS)}`,
  ];
}

/**
 * Where to open the inspector. A generated token is printed once, in the URL, since it is
 * the only way in; a token the user chose is theirs to add and is shown masked.
 */
function describeInspector(server: RunningServer): string[] {
  const { inspector, config } = server;
  if (!inspector) return ['inspector: off (--no-ui)'];
  if (!inspector.token) return [`inspector: ${inspector.url} (live list, search, details; this machine only)`];
  const exposed = isLoopbackHost(config.uiHost)
    ? ''
    : ` (listening on ${config.uiHost}: reachable from other machines)`;
  if (config.uiToken) {
    return [
      `inspector: ${inspector.url}${exposed}`,
      `  it requires the token from --ui-token / OMISE_WEBHOOK_UI_TOKEN (${maskSecret(config.uiToken)}): open ${inspector.url}?token=<your token>`,
    ];
  }
  return [
    `inspector: ${inspector.url}?token=${inspector.token}${exposed}`,
    '  the token was generated for this run; set --ui-token (OMISE_WEBHOOK_UI_TOKEN) to keep one across restarts',
  ];
}

/** The store as the banner names it: never the database password. */
function describeStore(server: RunningServer): string {
  const { config } = server;
  if (config.store === 'postgres') {
    const where = maskDatabaseUrl(config.databaseUrl ?? '');
    // A DATABASE_URL is often the user's own app's database: say where this one came from.
    const from =
      config.databaseUrlFrom === 'DATABASE_URL'
        ? ' (from DATABASE_URL; --store or OMISE_WEBHOOK_STORE chooses another, --store sqlite keeps events in the log dir)'
        : '';
    return `${where}${from} (instance ${server.instanceId}; forwards leased for ${formatDuration(config.forwardLeaseMs ?? 60_000)})`;
  }
  return config.store === 'sqlite' ? `${config.logDir}/omise-webhook.sqlite` : 'memory (forgotten on exit)';
}

/** `--retain` as it was likely written: whole days as `7d`, otherwise as any duration. */
function formatRetention(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : formatDuration(ms);
}

/** Prints what is running and where; never a secret in full. */
export function startupBanner(server: RunningServer, context: CliContext): string {
  const { config } = server;
  const lines = [
    `omise-webhook is receiving Omise webhooks at POST ${server.listener.url}`,
    ...describeVerification(server),
    `store: ${describeStore(server)}${config.files ? `; files: ${config.logDir}/api/event/<id>.json` : ''}`,
    `live mode: ${config.allowLive ? 'ACCEPTED (--allow-live)' : 'refused (test mode only)'}`,
    ...describeForwarding(server),
    ...describeInspector(server),
  ];
  if (config.syncIntervalMs) {
    lines.push(
      server.sync
        ? `sync: every ${formatDuration(config.syncIntervalMs)}, events missing here are fetched from ${config.apiUrl}/events and stored`
        : 'sync: OFF: --sync needs your secret key to read the Omise Events API; set OMISE_SECRET_KEY=skey_test_... in .env',
    );
  }
  if (config.retainMs !== undefined || config.maxEvents !== undefined) {
    const rules = [
      ...(config.retainMs !== undefined ? [`older than ${formatRetention(config.retainMs)}`] : []),
      ...(config.maxEvents !== undefined ? [`beyond the newest ${config.maxEvents}`] : []),
    ];
    lines.push(`retention: events ${rules.join(' or ')} are removed with their files, in the background`);
  }
  if (context.dotenv.file) lines.push(`read ${context.dotenv.names.length} variable(s) from ${context.dotenv.file}`);
  if (context.dotenv.error) lines.push(`warning: ${context.dotenv.error}`);
  lines.push(...describePublicUrl(server));
  lines.push('Ctrl-C to stop.');
  return `${lines.join('\n')}\n`;
}

/** The public side: the URL to paste and where, or why there is none and what to do. */
export function describePublicUrl(server: RunningServer): string[] {
  const { config, tunnel } = server;
  if (config.publicUrl) {
    return [
      `public URL (--public-url, your own tunnel to port ${server.listener.port}): ${config.publicUrl}`,
      `  ${pasteInstructions(config.publicUrl)}`,
    ];
  }
  if (!tunnel) {
    return [
      'Omise only delivers to public HTTPS URLs: run with --tunnel (ngrok, needs NGROK_AUTHTOKEN), or expose this port',
      `  yourself (e.g. \`ngrok http ${server.listener.port}\`) and paste https://<your-tunnel>${config.path} into the Omise dashboard`,
      `  → Webhooks (test mode): ${OMISE_TEST_WEBHOOKS_PAGE} (tell omise-webhook the URL with --public-url).`,
    ];
  }
  const status = tunnel.status;
  const domain = config.tunnelDomain ? ` for ${config.tunnelDomain}` : '';
  switch (status.state) {
    case 'open':
      return [
        `public URL (${status.provider} tunnel${domain} to port ${server.listener.port} only): ${status.webhookUrl}`,
        `  ${pasteInstructions(status.webhookUrl as string)}`,
      ];
    case 'opening':
      return [`tunnel: still opening the ${status.provider} tunnel${domain}; the URL to paste will be printed here.`];
    default: {
      const lines = [
        `tunnel: could not open the ${status.provider} tunnel${domain}: ${status.reason}.`,
        `  To fix: ${sentence(status.fix ?? 'see the message above')}`,
      ];
      lines.push(
        status.retryInMs === null
          ? '  Receiving locally only; restart once fixed.'
          : `  Receiving locally meanwhile; trying again in ${Math.round(status.retryInMs / 100) / 10}s.`,
      );
      return lines;
    }
  }
}

export function registerServe(program: Command, context: CliContext): void {
  const command = program.command('serve').description('receive Omise webhooks: verify, store, and show each one');
  addOptions(command, SERVE_OPTIONS);
  // The negation of --files; both set `files`, and neither leaves it to the store's default.
  command.addOption(
    new Option(
      '--no-files',
      'do not write the event files (the default with a postgres:// store; or set the variable to false) [env: OMISE_WEBHOOK_FILES]',
    ),
  );
  command.action(async () => {
    const config = buildServerConfig(command, context);
    // Imported here, not at the top: the server loads SQLite, Hono and ngrok, which `serve --help` does not need.
    const { startServer } = await import('../../app/server.js');
    const server = await startServer(config, {
      stdout: context.stdout,
      stderr: context.stderr,
      fetch: context.fetch,
      ...(context.clock ? { clock: context.clock } : {}),
      ...(context.tunnelProvider ? { tunnelProvider: context.tunnelProvider } : {}),
    });
    context.stderr.write(startupBanner(server, context));
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    context.stderr.write('omise-webhook: stopping; finishing writes...\n');
    const files = server.mirror?.waitingFiles ?? 0;
    if (files > 100) {
      context.stderr.write(
        `omise-webhook: writing about ${files} event files first (Ctrl-C again to skip them; the next start rebuilds them)\n`,
      );
    }
    await server.close();
  });
}
