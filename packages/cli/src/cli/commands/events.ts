import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { printableId } from '../../adapters/console/console-reporter.js';
import { describeEvent } from '../../adapters/http/inspector/event-views.js';
import { storeFile } from '../../app/server-config.js';
import type { DifferingBody, EventStore, StoredEvent } from '../../core/ports.js';
import type { StoreLocation } from '../../core/store-location.js';
import { type CliContext, useColor } from '../context.js';
import { parseChoice, parsePositiveInt, UsageError } from '../option-parsers.js';
import { addOptions, type OptionSpec, resolveOptions } from '../option-spec.js';
import { logDirOption, type StoreWhere, storeOption, storeWhere } from '../shared-options.js';

const STORE_OPTIONS: readonly OptionSpec[] = [logDirOption(), storeOption({ memory: false })];

const LIST_OPTIONS: readonly OptionSpec[] = [
  ...STORE_OPTIONS,
  {
    name: 'key',
    flags: '--key <pattern>',
    env: 'OMISE_WEBHOOK_KEY',
    description: 'only these keys: charge.create, charge.*, or a comma list',
  },
  {
    name: 'limit',
    flags: '--limit <n>',
    env: 'OMISE_WEBHOOK_LIMIT',
    description: 'how many, newest first',
    default: 20,
    parse: parsePositiveInt,
  },
  {
    name: 'verification',
    flags: '--verification <status>',
    env: 'OMISE_WEBHOOK_VERIFICATION',
    description: 'verified, unverified, pending or failed',
    parse: parseChoice(['verified', 'unverified', 'pending', 'failed'] as const),
  },
  {
    name: 'q',
    flags: '--q <text>',
    env: 'OMISE_WEBHOOK_QUERY',
    description: 'any Omise id (charge, customer, refund...) or text in the body',
  },
  { name: 'json', flags: '--json', env: 'OMISE_WEBHOOK_JSON', description: 'one JSON object per line', default: false },
];

const SHOW_OPTIONS: readonly OptionSpec[] = [
  ...STORE_OPTIONS,
  {
    name: 'raw',
    flags: '--raw',
    env: 'OMISE_WEBHOOK_RAW',
    description: 'print only the body, byte for byte as received',
    default: false,
  },
  {
    name: 'json',
    flags: '--json',
    env: 'OMISE_WEBHOOK_JSON',
    description: 'print the whole record as JSON',
    default: false,
  },
];

/**
 * Opens the store `serve` writes to: the PostgreSQL database of `--store postgres://...`, or the
 * SQLite file in `logDir` (relative to the command's working directory), refusing to create an
 * empty one in the wrong folder.
 */
export async function openExistingStore(
  context: Pick<CliContext, 'cwd'>,
  where: StoreWhere | string,
): Promise<EventStore> {
  const { logDir, store: location } = typeof where === 'string' ? { logDir: where, store: undefined } : where;
  if (location?.kind === 'postgres') {
    const { openStore } = await import('../../app/server.js');
    const opened = await openStore({ store: 'postgres', databaseUrl: location.url, logDir, maxRejected: 1000 });
    return opened.store;
  }
  const file = storeFile(resolve(context.cwd, logDir));
  if (!existsSync(file)) {
    throw new UsageError(
      `no store at ${file}; run \`omise-webhook serve\` first, or point --log-dir (OMISE_WEBHOOK_LOG_DIR) at the folder it uses`,
    );
  }
  // Imported here, not at the top: the store loads SQLite, which `--help` does not need.
  const { openStore } = await import('../../app/server.js');
  return (await openStore({ store: 'sqlite', logDir: resolve(context.cwd, logDir), maxRejected: 1000 })).store;
}

/** The record as JSON: the body as text, exactly as received. */
export function eventToJson(event: StoredEvent): Record<string, unknown> {
  return {
    id: event.eventId,
    key: event.key,
    livemode: event.livemode,
    objectType: event.objectType,
    objectId: event.objectId,
    createdAt: event.createdAt,
    receivedAt: event.receivedAt,
    lastReceivedAt: event.lastReceivedAt,
    deliveryCount: event.deliveryCount,
    origin: event.origin,
    bodyDiffers: event.differingDeliveries > 0,
    verification: event.verification,
    headers: event.headers,
    body: Buffer.from(event.body).toString('utf8'),
    omiseCopy: event.omiseCopy,
  };
}

export function registerEvents(program: Command, context: CliContext): void {
  const events = program.command('events').description('read the events `serve` has stored');

  const list = events.command('list').description('list stored events, newest first');
  addOptions(list, LIST_OPTIONS);
  list.action(async () => {
    const options = resolveOptions(list, LIST_OPTIONS, context.env) as {
      logDir: string;
      store: StoreLocation;
      key?: string;
      limit: number;
      verification?: 'verified';
      q?: string;
      json: boolean;
    };
    const store = await openExistingStore(context, storeWhere(list, context.env, options));
    try {
      const page = await store.listEvents({
        limit: options.limit,
        ...(options.key ? { key: options.key } : {}),
        ...(options.verification ? { verification: options.verification } : {}),
        ...(options.q ? { q: options.q } : {}),
      });
      const c = pc.createColors(useColor(context));
      if (options.json) {
        for (const event of page.items) {
          const { body: _body, headers: _headers, omiseCopy: _copy, ...summary } = eventToJson(event);
          context.stdout.write(`${JSON.stringify(summary)}\n`);
        }
        return;
      }
      if (page.items.length === 0) {
        context.stdout.write('no events stored yet that match; send one with `omise-webhook trigger charge.create`\n');
        return;
      }
      for (const event of page.items) {
        const dup = event.deliveryCount > 1 ? c.yellow(` ×${event.deliveryCount}`) : '';
        const differs = event.differingDeliveries > 0 ? c.red(' body differs') : '';
        context.stdout.write(
          `${c.dim(event.receivedAt)}  ${c.bold(printableId(event.key).padEnd(20))} ${printableId(event.eventId)}  ${c.cyan(printableId(event.objectId) ?? '-')}  ${event.verification.status}${dup}${differs}\n`,
        );
      }
      if (page.nextCursor) context.stdout.write(c.dim(`(more: raise --limit)\n`));
    } finally {
      await store.close();
    }
  });

  const show = events
    .command('show')
    .description('show one stored event: headers, verification and the raw body')
    .argument('<id>', 'event id (evnt_...)');
  addOptions(show, SHOW_OPTIONS);
  show.action(async (id: string) => {
    const options = resolveOptions(show, SHOW_OPTIONS, context.env) as {
      logDir: string;
      store: StoreLocation;
      raw: boolean;
      json: boolean;
    };
    const store = await openExistingStore(context, storeWhere(show, context.env, options));
    try {
      const event = await store.getEvent(id);
      if (!event) {
        throw new UsageError(
          `no stored event has id ${id}; \`omise-webhook events list\` shows the ids that are stored`,
        );
      }
      if (options.raw) {
        context.stdout.write(Buffer.from(event.body));
        return;
      }
      const differing = event.differingDeliveries > 0 ? await store.listDifferingBodies(event.eventId) : [];
      if (options.json) {
        const record = eventToJson(event);
        if (event.differingDeliveries > 0) {
          record.differingDeliveries = event.differingDeliveries;
          record.differingBodies = describeEvent(event, [], differing).differingBodies;
        }
        context.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
        return;
      }
      const lines = [
        `${event.key}  ${event.eventId}`,
        `object:       ${event.objectType} ${event.objectId ?? ''}`,
        `received:     ${event.receivedAt}${event.deliveryCount > 1 ? ` (delivered ${event.deliveryCount} times, last ${event.lastReceivedAt})` : ''}`,
        `verification: ${event.verification.status} (${event.verification.mode}): ${event.verification.reason}`,
      ];
      if (event.omiseCopy) {
        lines.push(
          `omise copy:   fetched ${event.omiseCopy.fetchedAt}; ${event.omiseCopy.differences.length === 0 ? 'same as received' : `differs at ${event.omiseCopy.differences.join(', ')}`}`,
        );
      }
      if (event.differingDeliveries > 0) lines.push(...describeDiffering(event, differing));
      lines.push('headers:');
      for (const [name, value] of event.headers) lines.push(`  ${name}: ${value}`);
      lines.push('body:', Buffer.from(event.body).toString('utf8'));
      context.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await store.close();
    }
  });
}

/**
 * `events show` lines for an id delivered again with another body: how many times, and for each
 * kept body what differs from the first copy (shown below as `body:`).
 */
function describeDiffering(event: StoredEvent, differing: DifferingBody[]): string[] {
  const n = event.differingDeliveries;
  const lines = [
    `BODY DIFFERS: ${n} later deliver${n === 1 ? 'y' : 'ies'} of this id carried a different body than the first copy (shown under body:)`,
  ];
  if (differing.length === 0) {
    lines.push('  their bodies were not kept (received by a version that did not keep them)');
    return lines;
  }
  for (const [index, view] of describeEvent(event, [], differing).differingBodies.entries()) {
    lines.push(
      `  #${index + 1}: ${view.size} bytes, sha256 ${view.sha256}, ${view.deliveries} deliver${view.deliveries === 1 ? 'y' : 'ies'}, first ${view.firstReceivedAt}${view.truncated ? ' (only the first 64 KiB kept)' : ''}`,
    );
    if (view.differences) lines.push(`     differs at ${view.differences.join(', ') || '(formatting only)'}`);
    if (view.diff !== null) for (const line of view.diff.split('\n')) lines.push(`     ${line}`);
  }
  const kept = differing.reduce((sum, body) => sum + body.deliveries, 0);
  if (kept < n)
    lines.push(`  ${n - kept} more carried other bodies, not kept (at most 5 distinct bodies are kept per event)`);
  return lines;
}
