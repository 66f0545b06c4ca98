import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import pc from 'picocolors';
import { RawHttpSender } from '../../adapters/http/raw-http-sender.js';
import { ReplayError, Replayer } from '../../app/replayer.js';
import { planReplaySends, targetsForKey } from '../../core/forwarding.js';
import { maskSecret } from '../../core/mask-secret.js';
import { type EventStore, type StoredEvent, systemClock } from '../../core/ports.js';
import { WEBHOOK_SECRET_ADVICE } from '../../core/secret-advice.js';
import type { StoreLocation } from '../../core/store-location.js';
import { type CliContext, CommandFailure, useColor } from '../context.js';
import {
  parseDuration,
  parseKeyPattern,
  parsePositiveInt,
  parseSince,
  parseTargetUrl,
  UsageError,
} from '../option-parsers.js';
import { addOptions, type OptionSpec, optionOrigin, resolveOptions } from '../option-spec.js';
import { splitSecrets } from '../secrets.js';
import {
  configuredForwardRoutes,
  forwardTimeoutOption,
  logDirOption,
  storeOption,
  storeWhere,
} from '../shared-options.js';
import { openExistingStore } from './events.js';

const REPLAY_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'to',
    flags: '--to <url>',
    env: 'OMISE_WEBHOOK_REPLAY_TO',
    description: 'send here (repeatable); by default to the forward targets in OMISE_WEBHOOK_FORWARD_TO / _FORWARD',
    repeatable: true,
    parse: parseTargetUrl,
  },
  {
    name: 'resign',
    flags: '--resign',
    env: 'OMISE_WEBHOOK_RESIGN',
    description: 'sign the same bytes again with a fresh timestamp, so a receiver that checks its age accepts it',
    default: false,
  },
  {
    name: 'secret',
    flags: '--secret <secret>',
    env: 'OMISE_WEBHOOK_SECRET',
    description: 'the webhook secret to re-sign with (prefer the variable: flags show in `ps`)',
  },
  {
    name: 'key',
    flags: '--key <pattern>',
    env: 'OMISE_WEBHOOK_KEY',
    description: 'only events with these keys: charge.create, charge.*, or a comma list',
    parse: parseKeyPattern,
  },
  {
    name: 'since',
    flags: '--since <time>',
    env: 'OMISE_WEBHOOK_SINCE',
    description: 'only events received since then: 2026-11-26T07:00:00Z, or a duration ago like 30m, 2h, 7d',
  },
  {
    name: 'duplicate',
    flags: '--duplicate <n>',
    env: 'OMISE_WEBHOOK_DUPLICATE',
    description: 'send each event n times in a row (tests your idempotency)',
    default: 1,
    parse: parsePositiveInt,
  },
  {
    name: 'shuffle',
    flags: '--shuffle',
    env: 'OMISE_WEBHOOK_SHUFFLE',
    description: 'send in random order (tests handlers that assume order)',
    default: false,
  },
  {
    name: 'delayMs',
    flags: '--delay <duration>',
    env: 'OMISE_WEBHOOK_DELAY',
    description: 'wait between sends',
    default: 0,
    defaultDescription: '0',
    parse: parseDuration,
  },
  forwardTimeoutOption({ name: 'timeoutMs', description: 'a target must answer within this time' }),
  logDirOption(),
  storeOption({ memory: false }),
];

interface ReplayCliOptions {
  to?: string[];
  resign: boolean;
  secret?: string;
  key?: string;
  since?: string;
  duplicate: number;
  shuffle: boolean;
  delayMs: number;
  timeoutMs: number;
  logDir: string;
  store: StoreLocation;
}

/** The events asked for: the ids (all must exist), filtered by --key/--since; or every match of --key/--since. */
async function selectEvents(
  store: EventStore,
  ids: string[],
  options: ReplayCliOptions,
  now: number,
): Promise<StoredEvent[]> {
  const since =
    options.since === undefined
      ? null
      : parseSince(options.since, { flag: '--since', env: 'OMISE_WEBHOOK_SINCE' }, now);
  const keep = (event: StoredEvent) =>
    (since === null || Date.parse(event.receivedAt) >= since) &&
    (options.key === undefined || targetsForKey(event.key, [{ pattern: options.key, url: 'x' }]).length > 0);
  if (ids.length > 0) {
    const found = await Promise.all(ids.map((id) => store.getEvent(id)));
    const unknown = ids.filter((_, index) => found[index] === undefined);
    if (unknown.length > 0) {
      throw new UsageError(
        `no stored event has id ${unknown.join(', ')}; \`omise-webhook events list\` shows the ids that are stored`,
      );
    }
    return (found as StoredEvent[]).filter(keep);
  }
  if (options.key === undefined && since === null) {
    throw new UsageError('say which events to replay: event ids (evnt_...), or select them with --key and/or --since');
  }
  const newestFirst: StoredEvent[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.listEvents({
      limit: 500,
      ...(options.key ? { key: options.key } : {}),
      ...(cursor ? { cursor } : {}),
    });
    let older = false;
    for (const event of page.items) {
      if (since !== null && Date.parse(event.receivedAt) < since) {
        older = true;
        break;
      }
      newestFirst.push(event);
    }
    if (older || !page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return newestFirst.reverse();
}

export function registerReplay(program: Command, context: CliContext): void {
  const command = program
    .command('replay')
    .description('send stored events again: verbatim (same bytes and headers) or re-signed with a fresh timestamp')
    .argument('[event-ids...]', 'event ids (evnt_...); or select with --key / --since')
    .addHelpText(
      'after',
      `
Examples:
  omise-webhook replay evnt_test_5xyz --to http://localhost:8080/omise/webhook
  omise-webhook replay evnt_test_5xyz --resign            (to OMISE_WEBHOOK_FORWARD_TO, signed now)
  omise-webhook replay --key 'charge.*' --since 1h --duplicate 3 --shuffle --to http://localhost:8080/omise

Hop-by-hop headers (Connection, Keep-Alive, Transfer-Encoding, ...) are not replayed; Host and
Content-Length are set for the target; Omise-Webhook-Replay says verbatim or resigned.`,
    );
  addOptions(command, REPLAY_OPTIONS);
  command.action(async (ids: string[]) => {
    const options = resolveOptions(command, REPLAY_OPTIONS, context.env) as unknown as ReplayCliOptions;
    const { resign, shuffle } = options;
    const [secret] = splitSecrets(options.secret);
    if (resign && !secret) {
      throw new UsageError(`--resign needs the webhook secret: ${WEBHOOK_SECRET_ADVICE}, or pass --secret`);
    }
    const routes = options.to?.length
      ? options.to.map((url) => ({ pattern: '*', url }))
      : configuredForwardRoutes(context.env);
    if (routes.length === 0) {
      throw new UsageError(
        'nowhere to send: pass --to <url>, or set OMISE_WEBHOOK_FORWARD_TO (as for `serve --forward-to`) in .env',
      );
    }
    const store = await openExistingStore(context, storeWhere(command, context.env, options));
    const sender = new RawHttpSender({ maxSocketsPerHost: 1 });
    try {
      const clock = context.clock ?? systemClock;
      const events = await selectEvents(store, ids, options, clock.now());
      if (events.length === 0) throw new UsageError('no stored event matches --key / --since; nothing to replay');
      const replayer = new Replayer({
        store,
        sender,
        clock,
        timeoutMs: options.timeoutMs,
        routes,
        webhookSecrets: secret ? [secret] : [],
      });
      const items = events.map((event) => ({ item: event, targets: targetsForKey(event.key, routes) }));
      const c = pc.createColors(useColor(context));
      for (const { item, targets } of items) {
        if (targets.length === 0) {
          context.stdout.write(c.yellow(`skipped ${item.eventId}: no forward route matches ${item.key}\n`));
        }
      }
      const sends = planReplaySends({ items, duplicate: options.duplicate, shuffle });
      if (sends.length === 0) throw new UsageError('no forward route matches the selected events; pass --to <url>');
      if (resign) {
        const secretSpec = REPLAY_OPTIONS.find((spec) => spec.name === 'secret') as OptionSpec;
        const from = optionOrigin(command, secretSpec, context.env) === 'flag' ? '--secret' : secretSpec.env;
        context.stderr.write(`re-signing with ${from} ${maskSecret(secret)}\n`);
      }
      let failed = 0;
      const width = String(sends.length).length;
      for (const [index, send] of sends.entries()) {
        if (context.signal.aborted) break;
        if (index > 0 && options.delayMs > 0) {
          await sleep(options.delayMs, undefined, { signal: context.signal }).catch(() => {});
          if (context.signal.aborted) break;
        }
        const prepared = await replayer.prepare(send.item, send.target, {
          resign,
          ...(secret ? { secret } : {}),
          copy: send.copy,
        });
        const attempt = await replayer.send(prepared, send.copy);
        const ok = attempt.outcome === 'delivered';
        if (!ok) failed += 1;
        const result = attempt.status !== null ? String(attempt.status) : `error: ${attempt.error}`;
        const copy = options.duplicate > 1 ? `, copy ${send.copy}/${options.duplicate}` : '';
        context.stdout.write(
          `[${String(index + 1).padStart(width)}/${sends.length}] ${ok ? c.green(`✔ ${result}`) : c.red(`✖ ${result}`)} ${c.dim(`${Math.round(attempt.latencyMs)} ms`)}  ${send.item.eventId} ${send.item.key} → ${send.target} ${c.dim(`(${prepared.mode}${copy})`)}\n`,
        );
      }
      const sent = sends.length;
      if (failed > 0) throw new CommandFailure(`${failed} of ${sent} replay sends did not get a 2xx answer`);
      context.stdout.write(`replayed ${sent} send${sent === 1 ? '' : 's'}: all answered 2xx\n`);
    } catch (error) {
      if (error instanceof ReplayError) throw new UsageError(error.message);
      throw error;
    } finally {
      sender.close();
      await store.close();
    }
  });
}
