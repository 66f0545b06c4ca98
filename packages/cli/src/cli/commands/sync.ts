import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EventFileMirror } from '../../adapters/files/event-file-mirror.js';
import { checkpointScope, FileSyncCheckpoint } from '../../adapters/files/sync-checkpoint-file.js';
import { explainOmiseApiError } from '../../adapters/omise-api/explain-api-error.js';
import { OmiseApiClient } from '../../adapters/omise-api/omise-api-client.js';
import { EventSyncer, SyncFailed, type SyncResult } from '../../app/event-syncer.js';
import { maskSecret } from '../../core/mask-secret.js';
import { Notifier } from '../../core/notifier.js';
import { systemClock } from '../../core/ports.js';
import { omiseTime } from '../../core/simulate/ids.js';
import type { StoreLocation } from '../../core/store-location.js';
import { type CliContext, CommandFailure } from '../context.js';
import { parseSince, UsageError } from '../option-parsers.js';
import { addOptions, type OptionSpec, optionOrigin, resolveOptions } from '../option-spec.js';
import { createProgressReporter } from '../progress.js';
import { secretKeyFromEnv } from '../secrets.js';
import { API_URL_OPTION, logDirOption, storeOption, storeWhere } from '../shared-options.js';

const FILES_OPTION: OptionSpec = {
  name: 'files',
  flags: '--no-files',
  env: 'OMISE_WEBHOOK_FILES',
  description:
    'do not write log/api/event/<id>.json files (set the variable to false; with a postgres:// store they are off unless the variable is true)',
  default: true,
};

export const SYNC_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'since',
    flags: '--since <time>',
    env: 'OMISE_WEBHOOK_SYNC_SINCE',
    description:
      'fetch events created since then: a date or time (2024-01-31, 2024-01-31T09:00:00Z) or a duration ago (90m, 36h, 7d); default: since the last sync (everything the first time)',
  },
  logDirOption('where `serve` keeps its store (created if missing)'),
  storeOption({ memory: false }),
  API_URL_OPTION,
  FILES_OPTION,
  {
    name: 'allowLive',
    flags: '--allow-live',
    env: 'OMISE_WEBHOOK_ALLOW_LIVE',
    description: 'allow a live secret key (live events are refused by default)',
    default: false,
  },
  {
    name: 'json',
    flags: '--json',
    env: 'OMISE_WEBHOOK_JSON',
    description: 'one JSON object per new event, then a summary object',
    default: false,
  },
];

interface SyncOptions {
  since?: string;
  logDir: string;
  store: StoreLocation;
  apiUrl: string;
  files: boolean;
  allowLive: boolean;
  json: boolean;
}

function writeReport(result: SyncResult, options: SyncOptions, context: CliContext): void {
  if (options.json) {
    context.stdout.write(
      `${JSON.stringify({
        type: 'summary',
        apiUrl: result.apiUrl,
        from: result.from,
        to: result.to,
        pages: result.pages,
        total: result.total,
        processed: result.processed,
        new: result.newEvents.length,
        alreadyStored: result.alreadyStored,
        deliveryLog: result.deliveryTotals,
        interrupted: result.interrupted,
        syncedThrough: result.syncedThrough,
      })}\n`,
    );
    return;
  }
  const width = Math.max(20, ...result.newEvents.map((event) => event.key.length));
  for (const event of result.newEvents) {
    context.stdout.write(
      `${event.eventId}  ${event.key.padEnd(width)}  ${event.createdAt ?? '-'}  ${event.deliveries.text}\n`,
    );
  }
  const range = `${result.apiUrl}/events from ${result.from} to ${result.to}`;
  context.stdout.write(
    `synced ${range}: ${result.processed} event(s) in ${result.pages} page(s); ${result.newEvents.length} new, ${result.alreadyStored} already stored\n`,
  );
  if (result.newEvents.length > 0) {
    const totals = result.deliveryTotals;
    context.stdout.write(
      `Omise's delivery log for the new events: ${totals.delivered} delivered, ${totals.failed} failed, ${totals.never} never delivered\n`,
    );
  }
}

export function registerSync(program: Command, context: CliContext): void {
  const command = program
    .command('sync')
    .description(
      'fetch events from the Omise Events API and store those not stored yet (missed webhooks), with what Omise says happened to each delivery',
    );
  addOptions(command, SYNC_OPTIONS);
  command.action(async () => {
    const options = resolveOptions(command, SYNC_OPTIONS, context.env) as unknown as SyncOptions;
    const { allowLive } = options;
    const secretKey = secretKeyFromEnv(context.env);
    if (!secretKey) {
      throw new UsageError(
        'sync reads the Omise Events API with your secret key: set OMISE_SECRET_KEY=skey_test_... in .env (dashboard: Keys, test mode)',
      );
    }
    if (secretKey.startsWith('skey_live_') && !allowLive) {
      throw new UsageError(
        `OMISE_SECRET_KEY is a live key (${maskSecret(secretKey)}); sync stores live events only with --allow-live (OMISE_WEBHOOK_ALLOW_LIVE=true)`,
      );
    }
    const clock = context.clock ?? systemClock;
    const since =
      options.since === undefined
        ? undefined
        : omiseTime(parseSince(options.since, { flag: '--since', env: 'OMISE_WEBHOOK_SYNC_SINCE' }, clock.now()));
    const logDir = resolve(context.cwd, options.logDir);
    mkdirSync(logDir, { recursive: true });
    // Imported here, not at the top: the store loads SQLite, which `sync --help` does not need.
    const { openStore } = await import('../../app/server.js');
    const where = storeWhere(command, context.env, options);
    const { store } = await openStore({
      store: where.store.kind === 'postgres' ? 'postgres' : 'sqlite',
      ...(where.store.kind === 'postgres' ? { databaseUrl: where.store.url } : {}),
      logDir,
      maxRejected: 1000,
    });
    // As with `serve`: a shared database gets the event files only when asked for (--files is serve's).
    const files =
      options.files &&
      (where.store.kind !== 'postgres' || optionOrigin(command, FILES_OPTION, context.env) !== 'default');
    const mirror = files ? new EventFileMirror({ logDir, store }) : null;
    const notifier = new Notifier();
    if (mirror) {
      notifier.subscribe((notification) => {
        if (notification.type === 'event.stored' && !notification.duplicate) mirror.enqueue(notification.event);
      });
    }
    const api = new OmiseApiClient({ secretKey, baseUrl: options.apiUrl, fetch: context.fetch });
    const checkpoint = new FileSyncCheckpoint({
      file: join(logDir, 'sync-checkpoint.json'),
      scope: checkpointScope(api.baseUrl, secretKey),
    });
    const syncer = new EventSyncer({ store, api, checkpoint, clock, notifier });
    const progress = createProgressReporter(context.stderr);
    try {
      const saved = await checkpoint.load();
      if (!options.json) {
        const start =
          since !== undefined
            ? `since ${since} (--since)`
            : saved !== null
              ? `since ${saved} (where the last sync got to)`
              : 'from the beginning: the first sync for this store (limit it with --since)';
        context.stderr.write(`syncing ${api.baseUrl}/events ${start} into ${logDir}\n`);
      }
      let result: SyncResult;
      try {
        result = await syncer.sync({
          ...(since !== undefined ? { since } : {}),
          signal: context.signal,
          onProgress: (update) => progress.update(update),
          onEvent: (event) => {
            if (options.json) {
              context.stdout.write(
                `${JSON.stringify({ type: 'event', id: event.eventId, key: event.key, createdAt: event.createdAt, deliveries: event.deliveries })}\n`,
              );
            }
          },
        });
      } catch (error) {
        progress.done();
        if (!(error instanceof SyncFailed)) throw error;
        writeReport(error.partial, options, context);
        const kept = error.partial.newEvents.length;
        throw new CommandFailure(
          `sync stopped: ${explainOmiseApiError(error.reason, { apiUrl: api.baseUrl, secretKey })}${
            kept > 0 ? ` ${kept} new event(s) were stored before it.` : ''
          } Run \`omise-webhook sync\` again to carry on${error.partial.syncedThrough ? ` from ${error.partial.syncedThrough}` : ''}.`,
        );
      }
      progress.done();
      writeReport(result, options, context);
      if (result.interrupted) {
        throw new CommandFailure(
          `sync interrupted after ${result.processed} of ${result.total} event(s); ${result.newEvents.length} new event(s) were stored. Run \`omise-webhook sync\` again to resume${result.syncedThrough ? ` from ${result.syncedThrough}` : ''}.`,
          130,
        );
      }
    } finally {
      // The last events' notifications may still be queued (Notifier.publishSoon).
      notifier.flush();
      await mirror?.close();
      await store.close();
    }
  });
}
