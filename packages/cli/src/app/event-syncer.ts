import { type OmiseWebhookDelivery, safeParseOmiseEvent } from '@omise-webhook/events';
import { eventLookupFields } from '../core/event-lookup-fields.js';
import type { ForwardRoute } from '../core/forwarding.js';
import type { Notifier } from '../core/notifier.js';
import {
  type Clock,
  type EventLog,
  type NewDelivery,
  type OmiseEventsApi,
  type SyncCheckpoint,
  systemClock,
} from '../core/ports.js';
import { omiseTime } from '../core/simulate/ids.js';
import { type DeliveryLogSummary, summarizeWebhookDeliveries } from '../core/webhook-deliveries.js';
import { type RecordEventDependencies, recordEvent } from './record-event.js';

const BEGINNING = '1970-01-01T00:00:00Z';

export interface SyncProgress {
  page: number;
  pages: number;
  /** Events looked at so far. */
  processed: number;
  /** Events the API has in the range. */
  total: number;
  newEvents: number;
  /** True on the last report of a page; the others come as events are stored. */
  pageDone: boolean;
}

export interface SyncedEvent {
  eventId: string;
  key: string;
  createdAt: string | null;
  /** What Omise's delivery log says happened to this event's webhooks. */
  deliveries: DeliveryLogSummary;
}

export interface SyncResult {
  apiUrl: string;
  from: string;
  to: string;
  /** Why `from` is what it is. */
  startedFrom: 'since' | 'checkpoint' | 'beginning';
  pages: number;
  total: number;
  processed: number;
  /** The events this run stored, oldest first. */
  newEvents: SyncedEvent[];
  alreadyStored: number;
  /** Across the new events: how many Omise delivered, failed to deliver, never tried. */
  deliveryTotals: Record<DeliveryLogSummary['outcome'], number>;
  /** True when stopped by the signal before the end: run again to resume. */
  interrupted: boolean;
  /** The checkpoint after this run: every event up to here is stored. */
  syncedThrough: string | null;
}

/** A sync that stopped on an error; what it did before is kept (and checkpointed). */
export class SyncFailed extends Error {
  override readonly name = 'SyncFailed';
  constructor(
    readonly reason: unknown,
    readonly partial: SyncResult,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

export interface EventSyncerOptions extends Pick<RecordEventDependencies, 'onCommitted'> {
  /** Looked up before fetching an event, written through recordEvent. */
  store: Pick<EventLog, 'getEvent' | 'recordDelivery'>;
  api: OmiseEventsApi;
  checkpoint: SyncCheckpoint;
  clock?: Clock;
  /** Told about each stored event, like a received one (console line, file, inspector). */
  notifier?: Notifier;
  /**
   * `serve`'s forward routes: a synced event goes to the developer's app like a received one,
   * since the app missed it too.
   */
  forwardRoutes?: readonly ForwardRoute[];
  /** Events per `GET /events` page; Omise allows at most 100. */
  pageSize?: number;
  /** How many new events to fetch (`GET /events/:id`) at once. */
  concurrency?: number;
}

export interface SyncRunOptions {
  /** ISO 8601: fetch events created since then, instead of since the checkpoint. */
  since?: string;
  signal?: AbortSignal;
  onProgress?: (progress: SyncProgress) => void;
  onEvent?: (event: SyncedEvent) => void;
}

/**
 * Fetches the events the Omise Events API has and stores those the store does not, as if they had
 * been delivered: with Omise's exact text as the body, marked `origin: 'sync'` and verified by the
 * API. Pages through `GET /events` oldest first from the checkpoint (or `since`) up to the moment
 * the run began, so the pages do not shift while new events arrive, and moves the checkpoint on as
 * each page is stored. An interrupted run loses nothing: the next one starts from the checkpoint and
 * dedupes by event id.
 *
 * @example
 * const syncer = new EventSyncer({ store, api, checkpoint });
 * const result = await syncer.sync({ onProgress: (p) => console.error(`${p.processed}/${p.total}`) });
 */
export class EventSyncer {
  readonly #options: EventSyncerOptions;
  #running: Promise<SyncResult> | null = null;

  constructor(options: EventSyncerOptions) {
    this.#options = options;
  }

  /** Runs one sync; while one is running, returns that one instead of starting another. */
  sync(options: SyncRunOptions = {}): Promise<SyncResult> {
    this.#running ??= this.#run(options).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #run(options: SyncRunOptions): Promise<SyncResult> {
    const { store, api, checkpoint } = this.#options;
    const clock = this.#options.clock ?? systemClock;
    const pageSize = Math.min(this.#options.pageSize ?? 100, 100);
    const concurrency = this.#options.concurrency ?? 4;
    const saved = await checkpoint.load();
    const from = options.since ?? saved ?? BEGINNING;
    // A --since later than the checkpoint skips events before it; the checkpoint must not jump past them.
    const mayAdvance = options.since === undefined || saved === null || Date.parse(options.since) <= Date.parse(saved);
    const result: SyncResult = {
      apiUrl: api.baseUrl,
      from,
      to: omiseTime(clock.now()),
      startedFrom: options.since !== undefined ? 'since' : saved !== null ? 'checkpoint' : 'beginning',
      pages: 0,
      total: 0,
      processed: 0,
      newEvents: [],
      alreadyStored: 0,
      deliveryTotals: { delivered: 0, failed: 0, never: 0 },
      interrupted: false,
      syncedThrough: saved,
    };
    let lastDone: string | null = null;
    const remember = async () => {
      if (mayAdvance && lastDone !== null && (result.syncedThrough === null || lastDone > result.syncedThrough)) {
        await checkpoint.save(lastDone);
        result.syncedThrough = lastDone;
      }
    };
    try {
      let offset = 0;
      for (;;) {
        if (options.signal?.aborted) {
          result.interrupted = true;
          break;
        }
        const { data: page } = await api.listEvents({
          from,
          to: result.to,
          offset,
          limit: pageSize,
          order: 'chronological',
        });
        result.pages += 1;
        result.total = page.total;
        const report = (pageDone: boolean) =>
          options.onProgress?.({
            page: result.pages,
            pages: Math.max(1, Math.ceil(page.total / pageSize)),
            processed: result.processed,
            total: page.total,
            newEvents: result.newEvents.length,
            pageDone,
          });
        const items = page.data as Array<{ id?: unknown; created_at?: unknown; created?: unknown }>;
        for (let start = 0; start < items.length && !result.interrupted; start += concurrency) {
          const chunk = items.slice(start, start + concurrency);
          const fresh = await Promise.all(
            chunk.map(async (item) => {
              const id = String(item.id);
              if (await store.getEvent(id)) return null;
              return (await api.getEvent(id)).text;
            }),
          );
          for (const [index, item] of chunk.entries()) {
            if (options.signal?.aborted) {
              result.interrupted = true;
              break;
            }
            const text = fresh[index];
            if (text === null || text === undefined) result.alreadyStored += 1;
            else await this.#store(String(item.id), text, clock, result, options);
            result.processed += 1;
            const createdAt = item.created_at ?? item.created;
            if (typeof createdAt === 'string') lastDone = omiseTime(Date.parse(createdAt));
          }
          report(false);
        }
        report(true);
        await remember();
        offset += items.length;
        if (result.interrupted || items.length === 0 || offset >= page.total) break;
      }
    } catch (error) {
      await remember();
      throw new SyncFailed(error, result);
    }
    await remember();
    return result;
  }

  async #store(
    eventId: string,
    text: string,
    clock: Clock,
    result: SyncResult,
    options: SyncRunOptions,
  ): Promise<void> {
    const parsed = safeParseOmiseEvent(text);
    if (!parsed.ok) {
      throw new Error(
        `the Omise API answered GET /events/${eventId} with something that is not an event: ${parsed.error.message}`,
      );
    }
    const event = parsed.event;
    const now = new Date(clock.now()).toISOString();
    // Not `{ ...eventLookupFields(event), receivedAt, ... }`:
    // a spread followed by more properties gives every object its own hidden class
    // (docs/architecture.md, "Hot-path objects").
    const delivery: NewDelivery = {
      receivedAt: now,
      ...eventLookupFields(event),
      body: Buffer.from(text, 'utf8'),
      headers: [],
      verification: {
        mode: 'api',
        status: 'verified',
        reason: `fetched from the Omise API (GET ${result.apiUrl}/events/${event.id}) by sync; it was not received as a webhook`,
      },
      omiseCopy: { body: text, fetchedAt: now, differences: [] },
      origin: 'sync',
    };
    const { duplicate } = await recordEvent(this.#options, delivery);
    if (duplicate) {
      // Received as a webhook while this sync was fetching it: the store kept this copy as a
      // redelivery (origin sync), and the report counts it as already stored, not as synced.
      result.alreadyStored += 1;
      return;
    }
    const synced: SyncedEvent = {
      eventId: event.id,
      key: event.key,
      createdAt: delivery.createdAt,
      deliveries: summarizeWebhookDeliveries(event.webhook_deliveries as OmiseWebhookDelivery[] | undefined),
    };
    result.newEvents.push(synced);
    result.deliveryTotals[synced.deliveries.outcome] += 1;
    options.onEvent?.(synced);
  }
}
