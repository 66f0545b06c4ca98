import type { Command } from 'commander';
import { maskSecret } from '../../adapters/console/console-reporter.js';
import { isLoopbackHost } from '../../adapters/http/inspector/index.js';
import { DEFAULT_OMISE_API_URL } from '../../adapters/omise-api/omise-api-client.js';
import { type RunningServer, type ServerConfig, startServer } from '../../app/server.js';
import { type CliContext, useColor } from '../context.js';
import {
  parseBoolean,
  parseByteSize,
  parseChoice,
  parseDuration,
  parsePort,
  parsePositiveInt,
  parseUiToken,
} from '../option-parsers.js';
import { addOptions, type OptionSpec, resolveOptions } from '../option-spec.js';

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
  {
    name: 'logDir',
    flags: '--log-dir <dir>',
    env: 'OMISE_WEBHOOK_LOG_DIR',
    description: 'where the store and the api/event/<id>.json files live',
    default: './log',
  },
  {
    name: 'store',
    flags: '--store <kind>',
    env: 'OMISE_WEBHOOK_STORE',
    description: 'sqlite (kept in the log dir) or memory (forgotten on exit)',
    default: 'sqlite',
    parse: parseChoice(['sqlite', 'memory'] as const),
  },
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
    flags: '--no-files',
    env: 'OMISE_WEBHOOK_FILES',
    description: 'do not write log/api/event/<id>.json files (set the variable to false)',
    default: true,
  },
  {
    name: 'json',
    flags: '--json',
    env: 'OMISE_WEBHOOK_JSON',
    description: 'print one JSON object per line instead of coloured text',
    default: false,
  },
  {
    name: 'apiUrl',
    flags: '--api-url <url>',
    env: 'OMISE_API_URL',
    description: 'Omise API base URL (point it at `omise-webhook fake-omise` for offline work)',
    default: DEFAULT_OMISE_API_URL,
  },
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
];

/** Secrets come only from the environment (or .env), never from flags that `ps` would show. */
export function secretsFromEnv(env: CliContext['env']): { secretKey: string | undefined; webhookSecrets: string[] } {
  const secretKey = env.OMISE_SECRET_KEY || env.OMISE_TEST_SECRET_KEY || undefined;
  const webhookSecrets = (env.OMISE_WEBHOOK_SECRET ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { secretKey, webhookSecrets };
}

export function buildServerConfig(command: Command, context: CliContext): ServerConfig {
  const options = resolveOptions(command, SERVE_OPTIONS, context.env) as Omit<
    ServerConfig,
    'secretKey' | 'webhookSecrets' | 'color'
  >;
  if (!options.path.startsWith('/')) options.path = `/${options.path}`;
  if (typeof options.allowLive === 'string')
    options.allowLive = parseBoolean(options.allowLive, { flag: '--allow-live', env: 'OMISE_WEBHOOK_ALLOW_LIVE' });
  return { ...options, ...secretsFromEnv(context.env), color: useColor(context) };
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
            '  To verify signatures, copy the webhook secret from the Omise dashboard (Webhooks, test mode)',
            '  into .env as OMISE_WEBHOOK_SECRET=...; to check each event with the Omise API instead,',
            '  put your test secret key there as OMISE_SECRET_KEY=skey_test_...',
          ];
  }
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

/** Prints what is running and where; never a secret in full. */
export function startupBanner(server: RunningServer, context: CliContext): string {
  const { config } = server;
  const lines = [
    `omise-webhook is receiving Omise webhooks at POST ${server.listener.url}`,
    ...describeVerification(server),
    `store: ${config.store === 'sqlite' ? `${config.logDir}/omise-webhook.sqlite` : 'memory (forgotten on exit)'}${config.files ? `; files: ${config.logDir}/api/event/<id>.json` : ''}`,
    `live mode: ${config.allowLive ? 'ACCEPTED (--allow-live)' : 'refused (test mode only)'}`,
    ...describeInspector(server),
  ];
  if (context.dotenv.file) lines.push(`read ${context.dotenv.names.length} variable(s) from ${context.dotenv.file}`);
  if (context.dotenv.error) lines.push(`warning: ${context.dotenv.error}`);
  lines.push(
    'Omise only delivers to public HTTPS URLs: expose this port with a tunnel (e.g. `ngrok http 3000`) and paste',
    `  https://<your-tunnel>${config.path} into the Omise dashboard (Webhooks, test mode). Ctrl-C to stop.`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerServe(program: Command, context: CliContext): void {
  const command = program.command('serve').description('receive Omise webhooks: verify, store, and show each one');
  addOptions(command, SERVE_OPTIONS);
  command.action(async () => {
    const config = buildServerConfig(command, context);
    const server = await startServer(config, { stdout: context.stdout, stderr: context.stderr, fetch: context.fetch });
    context.stderr.write(startupBanner(server, context));
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    context.stderr.write('omise-webhook: stopping; finishing writes...\n');
    await server.close();
  });
}
