import type { OmiseWebhookDelivery } from '@omise-webhook/events';

/** What Omise's own delivery log (`webhook_deliveries`) says happened to an event's webhooks. */
export interface DeliveryLogSummary {
  outcome: 'delivered' | 'failed' | 'never';
  /** `delivered 200`, `failed 500 (2 attempts)`, `failed (could not connect)`, `never delivered`. */
  text: string;
  attempts: number;
  /** The HTTP status of the deciding attempt, 0 when the endpoint could not be reached. */
  lastStatus: number | null;
}

/**
 * Reads an event's `webhook_deliveries` the way a person would: did it get through at all?
 *
 * @example
 * summarizeWebhookDeliveries([]).text; // 'never delivered'
 * summarizeWebhookDeliveries([{ status: 503, ... }, { status: 200, ... }]).text; // 'delivered 200 (2 attempts)'
 */
export function summarizeWebhookDeliveries(
  deliveries: readonly OmiseWebhookDelivery[] | undefined,
): DeliveryLogSummary {
  const attempts = deliveries?.length ?? 0;
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (!deliveries || attempts === 0)
    return { outcome: 'never', text: 'never delivered', attempts: 0, lastStatus: null };
  const success = deliveries.find((delivery) => delivery.status >= 200 && delivery.status < 300);
  if (success)
    return { outcome: 'delivered', text: `delivered ${success.status}${tries}`, attempts, lastStatus: success.status };
  const last = deliveries[attempts - 1] as OmiseWebhookDelivery;
  const text = last.status === 0 ? `failed (${last.error ?? 'no answer'})${tries}` : `failed ${last.status}${tries}`;
  return { outcome: 'failed', text, attempts, lastStatus: last.status };
}
