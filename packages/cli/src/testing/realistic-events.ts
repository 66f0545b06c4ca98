import { readFileSync } from 'node:fs';
import { collectOmiseIds } from '@omise-webhook/events';
import type { NewDelivery } from '../core/ports.js';
import { mulberry32 } from '../core/simulate/ids.js';

const FIXTURES = new URL('../../../events/test/fixtures/', import.meta.url);

/** The library's byte-exact fixtures, used as templates so generated bodies look like Omise's. */
const TEMPLATES = {
  chargeCreate: 'charge.create.json',
  chargeComplete: 'charge.complete.json',
  refundCreate: 'refund.create.json',
  disputeCreate: 'dispute.create.json',
  customerUpdateCard: 'customer.update.card.json',
  customerDestroy: 'customer.destroy.json',
  transferFail: 'transfer.fail.json',
  linkCreate: 'link.create.json',
  scheduleExpiring: 'schedule.expiring.json',
} as const;

type TemplateName = keyof typeof TEMPLATES;

const templateCache = new Map<TemplateName, string>();
function template(name: TemplateName): string {
  let text = templateCache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(TEMPLATES[name], FIXTURES), 'utf8');
    templateCache.set(name, text);
  }
  return text;
}

/** Ids that belong to one event (a fresh one each time) rather than to the story's objects. */
const PER_EVENT_PREFIXES = new Set(['evnt', 'trxn', 'whdl', 'paym', 'occu']);
const ID_IN_TEXT = /\b([a-z]{3,4})_test_[0-9a-z]{10,}\b/g;

/** Numbers in [0, 1) from the simulator's generator, so a seed gives the same events every run. */
function random(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() / 4294967296;
}

export interface RealisticEventsOptions {
  count: number;
  /** Default 1: the same seed gives the same events. */
  seed?: number;
  /** Receipt time of the first event; each next one is a few seconds later. */
  startAt?: Date;
  /** Prefix mixed into every generated id, so two runs never collide. */
  idTag?: string;
}

/**
 * Realistic accepted deliveries, written straight to a store by benchmarks and tests that need
 * many events. Bodies are the library's Omise fixtures with fresh ids, grouped into stories
 * (a charge is created, completes, is sometimes refunded or disputed; a customer's card
 * changes; a transfer fails ...) so object timelines and id search have something real to find.
 *
 * @example
 * for (const delivery of realisticDeliveries({ count: 1000 })) await store.recordDelivery(delivery);
 */
export function* realisticDeliveries(options: RealisticEventsOptions): Generator<NewDelivery> {
  const next = random(options.seed ?? 1);
  const tag = options.idTag ?? '';
  let time = (options.startAt ?? new Date(Date.UTC(2026, 10, 1))).getTime();
  let produced = 0;
  let story = 0;
  let fresh = 0;
  const id = (prefix: string) => `${prefix}_test_${tag}${(++fresh).toString(36).padStart(8, '0')}x`;

  while (produced < options.count) {
    story += 1;
    const storyIds = new Map<string, string>();
    const roll = next();
    const plan: TemplateName[] =
      roll < 0.7
        ? [
            'chargeCreate',
            'chargeComplete',
            ...(next() < 0.3 ? (['refundCreate'] as const) : []),
            ...(next() < 0.03 ? (['disputeCreate'] as const) : []),
          ]
        : roll < 0.82
          ? ['customerUpdateCard', ...(next() < 0.1 ? (['customerDestroy'] as const) : [])]
          : roll < 0.9
            ? ['transferFail']
            : roll < 0.95
              ? ['linkCreate']
              : ['scheduleExpiring'];
    const amount = 1000 + Math.floor(next() * 500_000);
    for (const name of plan) {
      if (produced >= options.count) return;
      produced += 1;
      time += 1000 + Math.floor(next() * 4000);
      const eventIds = new Map<string, string>();
      const body = template(name)
        .replace(ID_IN_TEXT, (_match, prefix: string) => {
          const ids = PER_EVENT_PREFIXES.has(prefix) ? eventIds : storyIds;
          let found = ids.get(prefix);
          if (found === undefined) {
            found = id(prefix);
            ids.set(prefix, found);
          }
          return found;
        })
        .replace(/"amount": \d+/, `"amount": ${amount}`)
        .replace(/(?<![0-9a-z])3947(?![0-9a-z])/g, String(story));
      const parsed = JSON.parse(body) as { id: string; key: string; created_at: string; data: Record<string, unknown> };
      const receivedAt = new Date(time).toISOString();
      yield {
        eventId: parsed.id,
        key: parsed.key,
        livemode: false,
        objectType: typeof parsed.data.object === 'string' ? parsed.data.object : 'unknown',
        objectId: typeof parsed.data.id === 'string' ? parsed.data.id : null,
        relatedIds: collectOmiseIds(parsed.data).filter((found) => found !== parsed.id),
        createdAt: parsed.created_at,
        receivedAt,
        body: Buffer.from(body),
        headers: [
          ['Host', 'hooks.example.co.th'],
          ['User-Agent', 'Omise/2019-05-29'],
          ['Content-Type', 'application/json'],
          ['Omise-Signature-Timestamp', String(Math.floor(time / 1000))],
          ['Omise-Signature', next().toString(16).slice(2).padEnd(64, '0').slice(0, 64)],
          ['Content-Length', String(Buffer.byteLength(body))],
        ],
        verification:
          next() < 0.97
            ? { mode: 'signature', status: 'verified', reason: 'signature matched the webhook secret' }
            : { mode: 'none', status: 'unverified', reason: 'verification is turned off (--verify none)' },
        origin: 'webhook',
      };
    }
  }
}
