import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { OMISE_EVENT_CATALOGUE, OMISE_EVENT_KEYS, type OmiseEventKey, OmiseWebhookError } from '@omise-webhook/events';
import type { Command } from 'commander';
import { FAKE_OMISE_INFO_PATH, type FakeOmiseInfo } from '../../adapters/fake-omise/fake-omise-info.js';
import { explainOmiseApiError } from '../../adapters/omise-api/explain-api-error.js';
import { DEFAULT_OMISE_VAULT_URL, OmiseApiClient, OmiseApiError } from '../../adapters/omise-api/omise-api-client.js';
import { causeEventViaApi, needsPublicKey } from '../../app/cause-event-via-api.js';
import {
  loadKnownObjects,
  SendFailure,
  type SimulatedDelivery,
  sendSimulatedDelivery,
  simulateDeliveries,
} from '../../app/simulated-deliveries.js';
import { maskSecret } from '../../core/mask-secret.js';
import { systemClock } from '../../core/ports.js';
import {
  parseSetAssignment,
  randomIdSource,
  requireEventKey,
  type SetAssignment,
  type SimulatedCurrency,
  SimulationError,
  seededIdSource,
  VIA_API_SUPPORT,
} from '../../core/simulate/index.js';
import type { StoreLocation } from '../../core/store-location.js';
import { type CliContext, CommandFailure } from '../context.js';
import type { Env } from '../dotenv.js';
import { parseDuration, parsePositiveInt, UsageError, type ValueSource } from '../option-parsers.js';
import { addOptions, type OptionSpec, optionOrigin, resolveOptions } from '../option-spec.js';
import { secretKeyFromEnv, splitSecrets } from '../secrets.js';
import { API_URL_OPTION, logDirOption, resolveStoreLocation, storeOption } from '../shared-options.js';

function parseCurrency(value: string, source: ValueSource): SimulatedCurrency {
  const upper = value.trim().toUpperCase();
  if (upper !== 'THB' && upper !== 'JPY') {
    throw new UsageError(`${source.flag} (${source.env}) got ${JSON.stringify(value)}; expected THB or JPY`);
  }
  return upper;
}

export const TRIGGER_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'to',
    flags: '--to <url>',
    env: 'OMISE_WEBHOOK_TRIGGER_TO',
    description:
      "POST the event here (your own app, or another receiver); without it, serve's address http://127.0.0.1:$PORT$OMISE_WEBHOOK_PATH",
  },
  {
    name: 'secret',
    flags: '--secret <base64>',
    env: 'OMISE_WEBHOOK_SECRET',
    description:
      'sign with this webhook secret (prefer the variable: flags show in `ps`); unsigned when neither is set',
  },
  {
    name: 'set',
    flags: '--set <path=value>',
    env: 'OMISE_WEBHOOK_TRIGGER_SET',
    description:
      'override a field, e.g. data.amount=5000 or data.metadata.order_id=A1 (repeatable; JSON values parse as JSON; new keys only inside metadata; the variable takes several separated by spaces)',
    repeatable: true,
    // Spaces only: a JSON value such as {"a":1,"b":2} has commas of its own.
    envSeparator: /\s+/,
  },
  {
    name: 'count',
    flags: '--count <n>',
    env: 'OMISE_WEBHOOK_TRIGGER_COUNT',
    description: 'how many events to send',
    default: 1,
    parse: parsePositiveInt,
  },
  {
    name: 'object',
    flags: '--object <id>',
    env: 'OMISE_WEBHOOK_TRIGGER_OBJECT',
    description:
      "continue an object's story: its id (chrg_... for charge.complete) or its parent's (chrg_... for refund.create, cust_... for card.update); uses what the store knows about it",
  },
  {
    name: 'currency',
    flags: '--currency <code>',
    env: 'OMISE_WEBHOOK_TRIGGER_CURRENCY',
    description: 'THB (amounts in satang) or JPY (amounts in yen)',
    default: 'THB',
    parse: parseCurrency,
  },
  {
    name: 'print',
    flags: '--print',
    env: 'OMISE_WEBHOOK_TRIGGER_PRINT',
    description: 'print the body exactly as it would be sent, and send nothing',
    default: false,
  },
  {
    name: 'json',
    flags: '--json',
    env: 'OMISE_WEBHOOK_JSON',
    description:
      'one JSON object per line (with --print: {"method","headers","body"}, the whole request; with --list: one per key)',
    default: false,
  },
  {
    name: 'list',
    flags: '--list',
    env: 'OMISE_WEBHOOK_TRIGGER_LIST',
    description: 'list every event key, what it means, and whether --via-api can cause it',
    default: false,
  },
  {
    name: 'viaApi',
    flags: '--via-api',
    env: 'OMISE_WEBHOOK_TRIGGER_VIA_API',
    description:
      'cause the event for real through the Omise test API (needs OMISE_SECRET_KEY, and OMISE_PUBLIC_KEY for card tokens); Omise then delivers it',
    default: false,
  },
  API_URL_OPTION,
  {
    name: 'vaultUrl',
    flags: '--vault-url <url>',
    env: 'OMISE_VAULT_URL',
    description: 'Omise vault base URL, where card tokens are made',
    default: DEFAULT_OMISE_VAULT_URL,
  },
  logDirOption('where `serve` keeps its store (read for --object)'),
  storeOption({ memory: false }),
  {
    name: 'seed',
    flags: '--seed <text>',
    env: 'OMISE_WEBHOOK_TRIGGER_SEED',
    description: 'make the ids reproducible: the same seed gives the same ids',
  },
  {
    name: 'timeoutMs',
    flags: '--timeout <duration>',
    env: 'OMISE_WEBHOOK_TRIGGER_TIMEOUT',
    description: 'how long to wait for each answer',
    default: 10_000,
    defaultDescription: '10s',
    parse: parseDuration,
  },
];

interface TriggerOptions {
  to?: string;
  secret?: string;
  set?: string[];
  count: number;
  object?: string;
  currency: SimulatedCurrency;
  print: boolean;
  json: boolean;
  list: boolean;
  viaApi: boolean;
  apiUrl: string;
  vaultUrl: string;
  logDir: string;
  store: StoreLocation;
  seed?: string;
  timeoutMs: number;
  /** Resolved from --to, its variable, or serve's address (see `triggerTarget`). */
  target: TriggerTarget;
}

/** Where `serve` listens by default, from the same variables `serve` reads. */
export function defaultTriggerUrl(env: Env): string {
  const port = env.PORT && /^\d+$/.test(env.PORT) ? env.PORT : '3000';
  const rawPath = env.OMISE_WEBHOOK_PATH || '/omise/webhook';
  return `http://127.0.0.1:${port}${rawPath.startsWith('/') ? rawPath : `/${rawPath}`}`;
}

/** Where trigger sends, and in words where that came from (shown in --help and beside each send). */
export interface TriggerTarget {
  url: string;
  origin: 'flag' | 'env' | 'serve';
  /** `--to`, `OMISE_WEBHOOK_TRIGGER_TO`, or serve's address and the variables that shaped it. */
  source: string;
}

/**
 * The target when `--to` is not given: OMISE_WEBHOOK_TRIGGER_TO, else the address `serve` listens
 * on, from the same PORT and OMISE_WEBHOOK_PATH it reads (a PORT meant for another app moves it).
 *
 * @example
 * triggerTarget({ PORT: '4000' }).source // "serve's address: port from PORT=4000"
 */
export function triggerTarget(env: Env, to?: string): TriggerTarget {
  if (to !== undefined) return { url: to, origin: 'flag', source: '--to' };
  if (env.OMISE_WEBHOOK_TRIGGER_TO) {
    return { url: env.OMISE_WEBHOOK_TRIGGER_TO, origin: 'env', source: 'from OMISE_WEBHOOK_TRIGGER_TO' };
  }
  const shapedBy = [
    env.PORT && /^\d+$/.test(env.PORT) ? `port from PORT=${env.PORT}` : 'port 3000',
    ...(env.OMISE_WEBHOOK_PATH ? [`path from OMISE_WEBHOOK_PATH=${env.OMISE_WEBHOOK_PATH}`] : []),
  ];
  return { url: defaultTriggerUrl(env), origin: 'serve', source: `serve's address: ${shapedBy.join(', ')}` };
}

/** The list `trigger --list` prints: every key, its meaning, and whether an API call can cause it. */
export function formatKeyList(json: boolean): string {
  if (json) {
    return OMISE_EVENT_KEYS.map((key) => {
      const support = VIA_API_SUPPORT[key];
      return `${JSON.stringify({
        key,
        description: OMISE_EVENT_CATALOGUE[key].description,
        viaApi: support.possible,
        ...(support.possible ? { how: support.how } : { why: support.why }),
      })}\n`;
    }).join('');
  }
  const width = Math.max(...OMISE_EVENT_KEYS.map((key) => key.length)) + 2;
  const lines = [`${'KEY'.padEnd(width)}VIA API  MEANING`];
  for (const key of OMISE_EVENT_KEYS) {
    lines.push(
      `${key.padEnd(width)}${(VIA_API_SUPPORT[key].possible ? 'yes' : 'no').padEnd(9)}${OMISE_EVENT_CATALOGUE[key].description}`,
    );
  }
  const reasons = new Map<string, OmiseEventKey[]>();
  for (const key of OMISE_EVENT_KEYS) {
    const support = VIA_API_SUPPORT[key];
    if (!support.possible) reasons.set(support.why, [...(reasons.get(support.why) ?? []), key]);
  }
  lines.push('', 'Why the keys marked "no" cannot be caused through the API (simulate them instead):');
  for (const [why, keys] of reasons) lines.push(`  ${keys.join(', ')}: ${why}`);
  lines.push(
    '',
    'Every key can be simulated: `omise-webhook trigger <key>` builds a realistic signed event and POSTs it',
    'to the local receiver (or --to). `--via-api` makes Omise (or the fake) cause and deliver it for real.',
  );
  return `${lines.join('\n')}\n`;
}

function usage(error: unknown): never {
  if (error instanceof SimulationError) throw new UsageError(error.message);
  throw error;
}

async function knownObjectsFor(options: TriggerOptions, context: CliContext) {
  const location = options.store;
  if (!options.object) return new Map<string, Record<string, unknown>>();
  // Imported only here: the store loads SQLite (or postgres), which a plain trigger does not need.
  const { openStore, storeFile } = await import('../../app/server.js');
  const logDir = resolve(context.cwd, options.logDir);
  if (location.kind !== 'postgres' && !existsSync(storeFile(logDir))) return new Map<string, Record<string, unknown>>();
  const { store } = await openStore({
    store: location.kind === 'postgres' ? 'postgres' : 'sqlite',
    ...(location.kind === 'postgres' ? { databaseUrl: location.url } : {}),
    logDir,
    maxRejected: 1000,
  });
  try {
    return await loadKnownObjects(store, options.object);
  } finally {
    await store.close();
  }
}

function printRequests(deliveries: SimulatedDelivery[], options: TriggerOptions, context: CliContext): void {
  if (options.json) {
    for (const delivery of deliveries) {
      context.stdout.write(`${JSON.stringify({ method: 'POST', headers: delivery.headers, body: delivery.body })}\n`);
    }
    return;
  }
  // Exactly the bytes that would be sent (no trailing newline, so `--print | curl --data-binary @-`
  // sends what Omise would); several bodies are separated by one newline.
  context.stdout.write(deliveries.map((delivery) => delivery.body).join('\n'));
  if (context.stdout.isTTY) context.stdout.write('\n');
}

async function sendAll(deliveries: SimulatedDelivery[], options: TriggerOptions, context: CliContext): Promise<void> {
  const { url, origin, source } = options.target;
  // Typed by the user: the URL says enough. Otherwise say which setting picked it.
  const from = origin === 'flag' ? '' : ` (${source})`;
  let refused = 0;
  for (const delivery of deliveries) {
    let result: Awaited<ReturnType<typeof sendSimulatedDelivery>>;
    try {
      result = await sendSimulatedDelivery(delivery, { url, fetch: context.fetch, timeoutMs: options.timeoutMs });
    } catch (error) {
      if (!(error instanceof SendFailure)) throw error;
      throw new CommandFailure(
        origin === 'serve'
          ? `${error.message}. Is \`omise-webhook serve\` running? ${url} is ${source}; or send elsewhere with --to (OMISE_WEBHOOK_TRIGGER_TO).`
          : `${error.message}. Check that your app is running and listening at that URL (--to, OMISE_WEBHOOK_TRIGGER_TO).`,
      );
    }
    if (result.status < 200 || result.status >= 300) refused += 1;
    if (options.json) {
      context.stdout.write(
        `${JSON.stringify({ eventId: delivery.eventId, key: delivery.key, objectId: delivery.objectId, url, status: result.status, body: result.body })}\n`,
      );
    } else {
      const signed = isSigned(delivery) ? 'signed' : 'unsigned';
      context.stdout.write(
        `→ POST ${url}${from}  ${delivery.key}  ${delivery.eventId} (${delivery.objectId ?? '-'})  ${signed}\n← ${result.status} ${result.statusText}  ${result.body}\n`,
      );
    }
  }
  if (refused > 0) {
    throw new CommandFailure(
      `${refused} of ${deliveries.length} event(s) were not accepted (answered outside 2xx; see above)${
        deliveries[0] && !isSigned(deliveries[0])
          ? '; they were sent unsigned: set OMISE_WEBHOOK_SECRET (or --secret) to the secret the receiver verifies with'
          : ''
      }`,
    );
  }
}

const OMISE_DELIVERS = 'Omise delivers it to the webhook URL set on its dashboard (test mode).';

/**
 * What happens to a caused event next, in one sentence. Omise's own API is never asked
 * (it has no such route); any other base URL is asked whether it is `omise-webhook fake-omise`,
 * which answers `GET /fake-omise` with where it delivers.
 */
export async function whoDelivers(apiUrl: string, doFetch: typeof fetch): Promise<string> {
  if (new URL(apiUrl).hostname.endsWith('omise.co')) return OMISE_DELIVERS;
  let info: Partial<FakeOmiseInfo>;
  try {
    const response = await doFetch(`${apiUrl.replace(/\/+$/, '')}${FAKE_OMISE_INFO_PATH}`, {
      signal: AbortSignal.timeout(2000),
    });
    info = response.ok ? ((await response.json()) as Partial<FakeOmiseInfo>) : {};
  } catch {
    return OMISE_DELIVERS;
  }
  if (info.object !== 'fake_omise') return OMISE_DELIVERS;
  if (typeof info.webhook_url !== 'string') {
    return `The fake Omise API at ${apiUrl} only records it (GET /events): it was started without --webhook-url (OMISE_FAKE_WEBHOOK_URL), so it delivers nothing.`;
  }
  return `The fake Omise API at ${apiUrl} delivers it now to ${info.webhook_url} (the URL it was started with, --webhook-url), ${info.signed ? 'signed with its OMISE_WEBHOOK_SECRET' : 'unsigned: it has no OMISE_WEBHOOK_SECRET'}.`;
}

async function triggerViaApi(key: OmiseEventKey, options: TriggerOptions, context: CliContext): Promise<void> {
  if (options.print)
    throw new UsageError('--print cannot be combined with --via-api: with --via-api, Omise makes the event');
  if ((options.set?.length ?? 0) > 0 || options.object) {
    throw new UsageError('--set and --object only shape simulated events; with --via-api the event is made by Omise');
  }
  const support = VIA_API_SUPPORT[key];
  if (!support.possible) {
    throw new UsageError(
      `${key} cannot be triggered through the Omise API: ${support.why}. Run \`omise-webhook trigger ${key}\` (without --via-api) to send a simulated one.`,
    );
  }
  const secretKey = secretKeyFromEnv(context.env);
  if (!secretKey) {
    throw new UsageError(
      '--via-api needs your test secret key: set OMISE_SECRET_KEY=skey_test_... in .env (dashboard: Keys, test mode)',
    );
  }
  if (secretKey.startsWith('skey_live_')) {
    throw new UsageError(
      `--via-api refuses a live key (OMISE_SECRET_KEY is ${maskSecret(secretKey)}): it would move real money. Use your test key, skey_test_...`,
    );
  }
  const publicKey = context.env.OMISE_PUBLIC_KEY || undefined;
  if (needsPublicKey(key) && !publicKey) {
    throw new UsageError(
      `--via-api ${key} starts with a card token, made with your public key: set OMISE_PUBLIC_KEY=pkey_test_... in .env (dashboard: Keys, test mode)`,
    );
  }
  const api = new OmiseApiClient({
    secretKey,
    baseUrl: options.apiUrl,
    vaultUrl: options.vaultUrl,
    fetch: context.fetch,
    ...(publicKey ? { publicKey } : {}),
  });
  const clock = context.clock ?? systemClock;
  const deliveredBy = await whoDelivers(api.baseUrl, context.fetch);
  for (let index = 0; index < options.count; index++) {
    try {
      const caused = await causeEventViaApi({
        api,
        key,
        currency: options.currency,
        clock,
        onStep: (text) => {
          if (!options.json) context.stdout.write(`  ${text}\n`);
        },
      });
      if (options.json) {
        context.stdout.write(
          `${JSON.stringify({ key, objectId: caused.objectId, eventId: caused.eventId, apiUrl: api.baseUrl })}\n`,
        );
      } else if (caused.eventId) {
        context.stdout.write(`caused ${key}: event ${caused.eventId} about ${caused.objectId}. ${deliveredBy}\n`);
      } else {
        context.stdout.write(
          `caused ${key} for ${caused.objectId}, but the event did not show up in GET /events yet; \`omise-webhook sync\` fetches it later.\n`,
        );
      }
    } catch (error) {
      if (error instanceof OmiseApiError) {
        throw new CommandFailure(
          explainOmiseApiError(error, { apiUrl: api.baseUrl, vaultUrl: api.vaultUrl, secretKey }),
        );
      }
      throw error;
    }
  }
}

async function triggerSimulated(key: OmiseEventKey, options: TriggerOptions, context: CliContext): Promise<void> {
  let assignments: SetAssignment[] = [];
  try {
    assignments = (options.set ?? []).map(parseSetAssignment);
  } catch (error) {
    usage(error);
  }
  const [webhookSecret] = splitSecrets(options.secret);
  const known = await knownObjectsFor(options, context);
  const startsFresh = options.object !== undefined && !known.has(options.object);
  let deliveries: SimulatedDelivery[] = [];
  try {
    deliveries = await simulateDeliveries({
      key,
      count: options.count,
      ids: options.seed ? seededIdSource(options.seed) : randomIdSource(),
      clock: context.clock ?? systemClock,
      currency: options.currency,
      known,
      assignments,
      ...(options.object ? { objectId: options.object } : {}),
      ...(webhookSecret ? { webhookSecret } : {}),
    });
  } catch (error) {
    if (error instanceof OmiseWebhookError) {
      throw new UsageError(`the webhook secret (OMISE_WEBHOOK_SECRET or --secret) cannot be used: ${error.message}`);
    }
    usage(error);
  }
  const first = deliveries[0];
  if (first && first.adjusted.length > 0) {
    context.stderr.write(
      `omise-webhook: to keep the charge consistent with --set data.status, also set ${first.adjusted.join(', ')} (--set any of them to choose otherwise)\n`,
    );
  }
  for (const warning of new Set(deliveries.flatMap((delivery) => delivery.warnings))) {
    context.stderr.write(`omise-webhook: warning: ${warning}\n`);
  }
  if (startsFresh) {
    context.stderr.write(
      `omise-webhook: no stored event mentions ${options.object}; starting its story fresh with that id\n`,
    );
  }
  if (options.print) {
    printRequests(deliveries, options, context);
    return;
  }
  if (!webhookSecret && !options.json) {
    context.stderr.write(
      'omise-webhook: sending unsigned (no OMISE_WEBHOOK_SECRET or --secret); a receiver that checks signatures will answer 401\n',
    );
  }
  await sendAll(deliveries, options, context);
}

export function registerTrigger(program: Command, context: CliContext): void {
  const command = program
    .command('trigger')
    .description(
      'send a realistic, signed Omise event for any of the 35 keys to the local receiver (or --to), or cause it for real with --via-api',
    )
    .argument('[key]', 'event key, e.g. charge.create (see --list)');
  // --help shows the target this environment gives, and which setting gave it.
  const helpTarget = triggerTarget(context.env);
  const specs = TRIGGER_OPTIONS.map((spec) =>
    // In the description: addOptions shows a default only for options that have a value default.
    spec.name === 'to'
      ? { ...spec, description: `${spec.description}; now ${helpTarget.url} (${helpTarget.source})` }
      : spec,
  );
  addOptions(command, specs);
  command.action(async (keyArgument: string | undefined) => {
    const resolved = resolveOptions(command, specs, context.env);
    const toSpec = specs.find((spec) => spec.name === 'to') as OptionSpec;
    const fromFlag = optionOrigin(command, toSpec, context.env) === 'flag';
    const options = {
      ...resolved,
      target: triggerTarget(context.env, fromFlag ? (resolved.to as string) : undefined),
    } as unknown as TriggerOptions;
    options.store = resolveStoreLocation(command, context.env, options.store, { memory: false });
    if (options.list) {
      context.stdout.write(formatKeyList(options.json));
      return;
    }
    if (!keyArgument) {
      throw new UsageError(
        'trigger needs an event key, e.g. `omise-webhook trigger charge.create`; `omise-webhook trigger --list` shows all 35',
      );
    }
    let key: OmiseEventKey;
    try {
      key = requireEventKey(keyArgument.trim());
    } catch (error) {
      usage(error);
    }
    if (options.viaApi) await triggerViaApi(key, options, context);
    else await triggerSimulated(key, options, context);
  });
}

function isSigned(delivery: { headers: ReadonlyArray<readonly [string, string]> }): boolean {
  return delivery.headers.some(([name]) => name === 'Omise-Signature');
}
