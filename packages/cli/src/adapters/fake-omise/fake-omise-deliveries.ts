/**
 * The fake's webhook deliveries: each event caused through the API is recorded and, with a
 * webhook URL, POSTed there (signed when there is a secret), one at a time, in order, and the
 * attempt is recorded as Omise's `webhook_deliveries` report it.
 */
import { formatOmiseJson, type OmiseEventDataMap, type OmiseEventKey, signOmisePayload } from '@omise-webhook/events';
import type { Clock } from '../../core/ports.js';
import { wrapEvent } from '../../core/simulate/event-builders.js';
import { type IdSource, omiseDeliveryTime } from '../../core/simulate/ids.js';
import type { FakeEventRecord, FakeOmiseState } from './fake-omise-state.js';

export interface FakeOmiseDeliveriesOptions {
  state: FakeOmiseState;
  ids: IdSource;
  clock: Clock;
  /** Where events are delivered; without it they are only recorded. */
  webhookUrl?: string | undefined;
  /** Sign deliveries with this base64 webhook secret; unsigned without one. */
  webhookSecret?: string | undefined;
  fetch: typeof fetch;
  deliveryTimeoutMs?: number | undefined;
}

/**
 * Records events and delivers them in order.
 *
 * @example
 * const deliveries = new FakeOmiseDeliveries({ state, ids, clock, webhookUrl, fetch });
 * deliveries.record('customer.create', customer);
 * await deliveries.settled();
 */
export class FakeOmiseDeliveries {
  readonly #options: FakeOmiseDeliveriesOptions;
  #chain: Promise<void> = Promise.resolve();

  constructor(options: FakeOmiseDeliveriesOptions) {
    this.#options = options;
  }

  /** Records an event; delivers it when a webhook URL is configured, one at a time, in order. */
  record<K extends OmiseEventKey>(key: K, data: OmiseEventDataMap[K]): FakeEventRecord {
    const event = wrapEvent(key, structuredClone(data), {
      id: this.#options.ids.next('evnt'),
      now: this.#options.clock.now(),
    });
    const stored = this.#options.state.addEvent(event as unknown as FakeEventRecord['event']);
    const webhookUrl = this.#options.webhookUrl;
    if (webhookUrl) {
      // The body Omise sends is the event as it is at that moment: no deliveries recorded yet.
      const payload = formatOmiseJson(event);
      this.#chain = this.#chain.then(() => this.#deliver(stored, payload, webhookUrl));
    }
    return stored;
  }

  /** Resolves once every queued delivery has been attempted and recorded. */
  async settled(): Promise<void> {
    // New deliveries may be queued while earlier ones run; wait until the chain stops growing.
    let current: Promise<void>;
    do {
      current = this.#chain;
      await current;
    } while (current !== this.#chain);
  }

  async #deliver(record: FakeEventRecord, payload: string, webhookUrl: string): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.#options.webhookSecret) {
      const signed = await signOmisePayload({
        payload,
        secret: this.#options.webhookSecret,
        timestamp: Math.floor(this.#options.clock.now() / 1000),
      });
      Object.assign(headers, signed.headers);
    }
    let status = 0;
    let error: string | null = null;
    try {
      const response = await this.#options.fetch(webhookUrl, {
        method: 'POST',
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.#options.deliveryTimeoutMs ?? 10_000),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch (cause) {
      const reason =
        cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
      error = `could not deliver: ${reason}`;
    }
    this.#options.state.addDelivery(record.event.id, {
      object: 'webhook_delivery',
      id: this.#options.ids.next('whdl'),
      uri: webhookUrl,
      status,
      key: record.event.key,
      error,
      payload,
      created_at: omiseDeliveryTime(this.#options.clock.now()),
    });
  }
}
